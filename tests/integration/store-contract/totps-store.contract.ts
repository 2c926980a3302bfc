import { describe, expect, it } from 'vitest';
import type { MemberTotp, RecoveryCode } from '../../../src/domain/mfa/totp-registration.js';
import type { StoreFactory } from '../../support/stores.js';
import { useFreshStore } from './contract-support.js';

const NOW = '2026-03-01T12:00:00Z';
const at = (minutes: number): string => new Date(Date.parse(NOW) + minutes * 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
/** A 30-second step of about now (what verifyTotp returns): larger than 2^31, as every real step is not. */
const STEP = Math.floor(Date.parse(NOW) / 30_000);

function aTotp(overrides: Partial<MemberTotp> = {}): MemberTotp {
  return {
    totpId: 'member-totp-test-1',
    memberId: 'member-test-1',
    organizationId: 'organization-test-1',
    sealedSecret: 'v1.sealed-secret',
    status: 'pending',
    createdAt: NOW,
    expiresAt: at(60),
    activatedAt: null,
    lastUsedStep: null,
    ...overrides,
  };
}

function codesOf(totp: MemberTotp, count = 3, prefix = 'a'): RecoveryCode[] {
  return Array.from({ length: count }, (_, position) => ({
    recoveryCodeId: `totp-recovery-code-test-${prefix}${position}`,
    totpId: totp.totpId,
    memberId: totp.memberId,
    organizationId: totp.organizationId,
    sealedCode: `v1.sealed-code-${prefix}${position}`,
    position,
    createdAt: NOW,
    usedAt: null,
  }));
}

/** The TotpsStore port against one adapter: one registration per member, steps and codes accepted once, even concurrently. */
export function describeTotpsStoreContract(factory: StoreFactory): void {
  describe('TotpsStore', () => {
    const store = useFreshStore(factory);

    it('keeps one registration per member with its codes in order; saving again replaces both', async () => {
      const first = aTotp();
      await store().totps.saveTotp(first, codesOf(first).reverse());
      expect(await store().totps.findTotp('member-test-1')).toEqual(first);
      expect((await store().totps.listRecoveryCodes(first.totpId)).map((code) => code.position)).toEqual([0, 1, 2]);
      expect(await store().totps.listRecoveryCodes(first.totpId)).toEqual(codesOf(first));
      const second = aTotp({ totpId: 'member-totp-test-2', status: 'active', expiresAt: null, activatedAt: at(1), lastUsedStep: STEP });
      await store().totps.saveTotp(second, codesOf(second, 2, 'b'));
      expect(await store().totps.findTotp('member-test-1')).toEqual(second);
      expect(await store().totps.listRecoveryCodes(first.totpId)).toEqual([]);
      expect(await store().totps.listRecoveryCodes(second.totpId)).toHaveLength(2);
      expect(await store().totps.findTotp('member-test-2')).toBeUndefined();
    });

    it('accepts a step only when it is newer than the last one accepted, and activates a pending registration', async () => {
      const totp = aTotp();
      await store().totps.saveTotp(totp, []);
      expect(await store().totps.acceptStep(totp.totpId, STEP, at(1))).toBe(true);
      expect(await store().totps.findTotp(totp.memberId)).toEqual({ ...totp, status: 'active', expiresAt: null, activatedAt: at(1), lastUsedStep: STEP });
      expect(await store().totps.acceptStep(totp.totpId, STEP, at(2))).toBe(false);
      expect(await store().totps.acceptStep(totp.totpId, STEP - 1, at(2))).toBe(false);
      expect(await store().totps.acceptStep(totp.totpId, STEP + 1, at(2))).toBe(true);
      // Activated once: a later code keeps its first activation time.
      expect(await store().totps.findTotp(totp.memberId)).toMatchObject({ status: 'active', activatedAt: at(1), lastUsedStep: STEP + 1 });
      expect(await store().totps.acceptStep('member-totp-test-none', STEP + 5, at(2))).toBe(false);
    });

    it('accepts no step of a pending registration that lapsed', async () => {
      const totp = aTotp({ expiresAt: at(5) });
      await store().totps.saveTotp(totp, []);
      expect(await store().totps.acceptStep(totp.totpId, STEP, at(5))).toBe(false);
      expect(await store().totps.findTotp(totp.memberId)).toEqual(totp);
    });

    it('lets exactly one of concurrent acceptances of the same step through', async () => {
      const totp = aTotp();
      await store().totps.saveTotp(totp, []);
      const results = await Promise.all(Array.from({ length: 8 }, () => store().totps.acceptStep(totp.totpId, STEP, at(1))));
      expect(results.filter(Boolean)).toHaveLength(1);
    });

    it('spends a recovery code once, even concurrently, and replaces a registration’s codes', async () => {
      const totp = aTotp({ status: 'active', expiresAt: null, activatedAt: NOW });
      const codes = codesOf(totp);
      await store().totps.saveTotp(totp, codes);
      const results = await Promise.all(Array.from({ length: 8 }, () => store().totps.useRecoveryCode(codes[1]?.recoveryCodeId ?? '', at(1))));
      expect(results.filter(Boolean)).toHaveLength(1);
      expect((await store().totps.listRecoveryCodes(totp.totpId)).map((code) => code.usedAt)).toEqual([null, at(1), null]);
      expect(await store().totps.useRecoveryCode(codes[1]?.recoveryCodeId ?? '', at(2))).toBe(false);
      const fresh = codesOf(totp, 4, 'c');
      await store().totps.replaceRecoveryCodes(totp.totpId, fresh);
      expect(await store().totps.listRecoveryCodes(totp.totpId)).toEqual(fresh);
      expect(await store().totps.useRecoveryCode(codes[0]?.recoveryCodeId ?? '', at(3))).toBe(false);
    });

    it('deletes a member’s registration with its codes, and an organization’s', async () => {
      const first = aTotp();
      const other = aTotp({ totpId: 'member-totp-test-2', memberId: 'member-test-2' });
      const elsewhere = aTotp({ totpId: 'member-totp-test-3', memberId: 'member-test-3', organizationId: 'organization-test-2' });
      for (const totp of [first, other, elsewhere]) await store().totps.saveTotp(totp, codesOf(totp, 2, totp.totpId.slice(-1)));
      expect(await store().totps.deleteTotp('member-test-1')).toBe(true);
      expect(await store().totps.deleteTotp('member-test-1')).toBe(false);
      expect(await store().totps.findTotp('member-test-1')).toBeUndefined();
      expect(await store().totps.listRecoveryCodes(first.totpId)).toEqual([]);
      await store().totps.deleteTotpsForOrganization('organization-test-1');
      expect(await store().totps.findTotp('member-test-2')).toBeUndefined();
      expect(await store().totps.listRecoveryCodes(other.totpId)).toEqual([]);
      expect(await store().totps.findTotp('member-test-3')).toEqual(elsewhere);
      expect(await store().totps.listRecoveryCodes(elsewhere.totpId)).toHaveLength(2);
    });
  });
}
