import { describe, expect, it } from 'vitest';
import type { SmsCode } from '../../../src/domain/mfa/sms-code.js';
import type { StoreFactory } from '../../support/stores.js';
import { useFreshStore } from './contract-support.js';

const NOW = '2026-03-01T12:00:00Z';
const at = (minutes: number): string => new Date(Date.parse(NOW) + minutes * 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z');

function aCode(overrides: Partial<SmsCode> = {}): SmsCode {
  return {
    smsCodeId: 'sms-code-test-1',
    memberId: 'member-test-1',
    organizationId: 'organization-test-1',
    phoneNumber: '+14155550100',
    digest: 'a'.repeat(64),
    failedAttempts: 0,
    createdAt: NOW,
    expiresAt: at(2),
    consumedAt: null,
    ...overrides,
  };
}

/** The SmsCodesStore port against one adapter: one code per member, replaced whole; attempts and spending are atomic. */
export function describeSmsCodesStoreContract(factory: StoreFactory): void {
  describe('SmsCodesStore', () => {
    const store = useFreshStore(factory);

    it('keeps one code per member: a new one replaces the earlier, spent or not', async () => {
      const first = aCode();
      await store().transaction((tx) => tx.smsCodes.replaceSmsCode(first));
      expect(await store().transaction((tx) => tx.smsCodes.findSmsCodeForUpdate('member-test-1'))).toEqual(first);
      await store().transaction((tx) => tx.smsCodes.consumeSmsCode(first.smsCodeId, at(1)));
      const second = aCode({ smsCodeId: 'sms-code-test-2', phoneNumber: '+14155550101', digest: 'b'.repeat(64), createdAt: at(1), expiresAt: at(3) });
      await store().transaction((tx) => tx.smsCodes.replaceSmsCode(second));
      expect(await store().transaction((tx) => tx.smsCodes.findSmsCodeForUpdate('member-test-1'))).toEqual(second);
      expect(await store().transaction((tx) => tx.smsCodes.findSmsCodeForUpdate('member-test-2'))).toBeUndefined();
    });

    it('counts concurrent wrong attempts without losing one', async () => {
      await store().smsCodes.replaceSmsCode(aCode());
      const counts = await Promise.all(Array.from({ length: 8 }, () => store().smsCodes.countFailedAttempt('sms-code-test-1')));
      expect([...counts].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
      expect(await store().smsCodes.countFailedAttempt('sms-code-test-missing')).toBe(0);
    });

    it('spends a code once: of concurrent spends exactly one succeeds', async () => {
      await store().smsCodes.replaceSmsCode(aCode());
      const spent = await Promise.all(Array.from({ length: 5 }, () => store().smsCodes.consumeSmsCode('sms-code-test-1', at(1))));
      expect(spent.filter(Boolean)).toHaveLength(1);
      expect(await store().transaction((tx) => tx.smsCodes.findSmsCodeForUpdate('member-test-1'))).toMatchObject({ consumedAt: at(1) });
      expect(await store().smsCodes.consumeSmsCode('sms-code-test-missing', at(1))).toBe(false);
    });

    it('deletes a member’s code, and every code of an organization, and nothing else', async () => {
      await store().smsCodes.replaceSmsCode(aCode());
      await store().smsCodes.replaceSmsCode(aCode({ smsCodeId: 'sms-code-test-2', memberId: 'member-test-2' }));
      await store().smsCodes.replaceSmsCode(aCode({ smsCodeId: 'sms-code-test-3', memberId: 'member-test-3', organizationId: 'organization-test-2' }));
      await store().smsCodes.deleteSmsCode('member-test-1');
      expect(await store().smsCodes.findSmsCodeForUpdate('member-test-1')).toBeUndefined();
      expect(await store().smsCodes.findSmsCodeForUpdate('member-test-2')).toBeDefined();
      await store().smsCodes.deleteSmsCodesForOrganization('organization-test-1');
      expect(await store().smsCodes.findSmsCodeForUpdate('member-test-2')).toBeUndefined();
      expect(await store().smsCodes.findSmsCodeForUpdate('member-test-3')).toMatchObject({ organizationId: 'organization-test-2' });
    });
  });
}
