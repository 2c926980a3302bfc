import { describe, expect, it } from 'vitest';
import type { StoredPassword } from '../../../src/domain/passwords/stored-password.js';
import type { StoreFactory } from '../../support/stores.js';
import { useFreshStore } from './contract-support.js';

const NOW = '2026-03-01T12:00:00Z';
const at = (minutes: number): string => new Date(Date.parse(NOW) + minutes * 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
/** A threshold no test here reaches, unless it means to. */
const NO_LOCK = { threshold: 1000, expiresAt: at(60) };

function aPassword(overrides: Partial<StoredPassword> = {}): StoredPassword {
  return {
    memberPasswordId: 'member-password-test-1',
    memberId: 'member-test-1',
    organizationId: 'organization-test-1',
    hashType: 'argon_2id',
    hash: '$argon2id$v=19$m=1024,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo',
    config: null,
    createdAt: NOW,
    updatedAt: NOW,
    ...overrides,
  };
}

/** The PasswordsStore port against one adapter: passwords by member and by id, and failed attempts counted atomically. */
export function describePasswordsStoreContract(factory: StoreFactory): void {
  describe('PasswordsStore', () => {
    const store = useFreshStore(factory);

    it('keeps one password per member, found by member and by id, with its migrated configuration', async () => {
      const migrated = aPassword({ hashType: 'md_5', hash: '5f4dcc3b5aa765d61d8327deb882cf99', config: { type: 'salted_digest', config: { prependSalt: 'a', appendSalt: 'b' } } });
      await store().passwords.savePassword(migrated);
      expect(await store().passwords.findPassword('member-test-1')).toEqual(migrated);
      expect(await store().passwords.findPasswordById('member-password-test-1')).toEqual(migrated);
      const replaced = aPassword({ updatedAt: at(1) });
      await store().passwords.savePassword(replaced);
      expect(await store().passwords.findPassword('member-test-1')).toEqual(replaced);
      expect(await store().passwords.findPassword('member-test-2')).toBeUndefined();
    });

    it('replaces a hash only while it is still the one expected', async () => {
      const stored = aPassword();
      await store().passwords.savePassword(stored);
      const rehash = { hashType: 'argon_2id' as const, hash: '$argon2id$v=19$m=19456,t=2,p=1$bmV3c2FsdA$bmV3aGFzaA', config: null };
      expect(await store().passwords.replaceHash(stored.memberPasswordId, { ...stored, hash: 'another' }, rehash, at(1))).toBe(false);
      expect(await store().passwords.replaceHash(stored.memberPasswordId, stored, rehash, at(1))).toBe(true);
      expect(await store().passwords.findPassword(stored.memberId)).toMatchObject({ hash: rehash.hash, updatedAt: at(1) });
    });

    it('deletes a member’s password, and an organization’s passwords and failures', async () => {
      await store().passwords.savePassword(aPassword());
      await store().passwords.savePassword(aPassword({ memberPasswordId: 'member-password-test-2', memberId: 'member-test-2' }));
      expect(await store().passwords.deletePassword('member-test-1')).toBe(true);
      expect(await store().passwords.deletePassword('member-test-1')).toBe(false);
      await store().passwords.countAttempt('organization-test-1', 'ada@example.com', NOW, NO_LOCK);
      await store().passwords.countAttempt('organization-test-2', 'ada@example.com', NOW, NO_LOCK);
      await store().passwords.deletePasswordsForOrganization('organization-test-1');
      expect(await store().passwords.findPassword('member-test-2')).toBeUndefined();
      expect(await store().passwords.findFailures('organization-test-1', 'ada@example.com')).toBeUndefined();
      expect(await store().passwords.findFailures('organization-test-2', 'ada@example.com')).toMatchObject({ failedAttempts: 1 });
    });

    it('counts concurrent attempts without losing one, keeps the count while locked and starts again after the lock', async () => {
      const counts = await Promise.all(Array.from({ length: 10 }, () => store().passwords.countAttempt('organization-test-1', 'ada@example.com', NOW, NO_LOCK)));
      expect(counts.map((failures) => failures.failedAttempts).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      const locked = { organizationId: 'organization-test-1', emailAddress: 'ada@example.com', failedAttempts: 10, lockedAt: NOW, lockExpiresAt: at(60) };
      await store().passwords.saveFailures(locked, NOW);
      expect(await store().passwords.countAttempt('organization-test-1', 'ada@example.com', at(30), NO_LOCK)).toEqual(locked);
      expect(await store().passwords.countAttempt('organization-test-1', 'ada@example.com', at(61), NO_LOCK)).toEqual({ ...locked, failedAttempts: 1, lockedAt: null, lockExpiresAt: null });
    });

    it('starts a lock at the attempt that takes the count past the threshold, so the count never stays past it unlocked', async () => {
      const lock = { threshold: 2, expiresAt: at(60) };
      expect(await store().passwords.countAttempt('organization-test-1', 'bob@example.com', NOW, lock)).toMatchObject({ failedAttempts: 1, lockExpiresAt: null });
      expect(await store().passwords.countAttempt('organization-test-1', 'bob@example.com', NOW, lock)).toMatchObject({ failedAttempts: 2, lockExpiresAt: null });
      expect(await store().passwords.countAttempt('organization-test-1', 'bob@example.com', NOW, lock)).toMatchObject({ failedAttempts: 3, lockedAt: NOW, lockExpiresAt: at(60) });
      // Held: the count stays; ended: it starts again.
      expect(await store().passwords.countAttempt('organization-test-1', 'bob@example.com', at(1), lock)).toMatchObject({ failedAttempts: 3, lockExpiresAt: at(60) });
      expect(await store().passwords.countAttempt('organization-test-1', 'bob@example.com', at(61), lock)).toMatchObject({ failedAttempts: 1, lockExpiresAt: null });
    });

    it('forgets failures untouched since a time, but not a lock that still holds then', async () => {
      await store().passwords.countAttempt('organization-test-1', 'old@example.com', NOW, NO_LOCK);
      await store().passwords.countAttempt('organization-test-1', 'recent@example.com', at(120), NO_LOCK);
      await store().passwords.saveFailures({ organizationId: 'organization-test-1', emailAddress: 'locked@example.com', failedAttempts: 10, lockedAt: NOW, lockExpiresAt: at(600) }, NOW);
      expect(await store().passwords.deleteStaleFailures(at(60))).toBe(1);
      expect(await store().passwords.findFailures('organization-test-1', 'old@example.com')).toBeUndefined();
      expect(await store().passwords.findFailures('organization-test-1', 'recent@example.com')).toBeDefined();
      expect(await store().passwords.findFailures('organization-test-1', 'locked@example.com')).toBeDefined();
    });
  });
}
