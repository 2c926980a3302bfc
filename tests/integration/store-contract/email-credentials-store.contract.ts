import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createOneTimeCode, digestOneTimeCode, oneTimeCodeMatches } from '../../../src/crypto/one-time-code.js';
import { createOpaqueToken } from '../../../src/crypto/opaque-token.js';
import type { EmailCredential } from '../../../src/domain/email-sign-in/email-credential.js';
import { cryptoRandom } from '../../../src/platform/random.js';
import { aMember } from '../../support/builders/member-builder.js';
import { anOrganization } from '../../support/builders/organization-builder.js';
import type { StoreFactory } from '../../support/stores.js';
import { useFreshStore } from './contract-support.js';

const NOW = '2026-03-01T12:00:00Z';
const at = (minutes: number): string => new Date(Date.parse(NOW) + minutes * 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z');

function aCredential(overrides: Partial<EmailCredential> = {}): EmailCredential {
  return {
    credentialId: `email-credential-test-${randomUUID()}`,
    kind: 'magic_link',
    purpose: 'login',
    organizationId: 'organization-test-1',
    memberId: 'member-test-1',
    emailAddress: 'ada@example.com',
    pkceCodeChallenge: null,
    createdAt: NOW,
    expiresAt: at(60),
    consumedAt: null,
    failedAttempts: 0,
    ...overrides,
  };
}

/** The EmailCredentialsStore port, and the members store's sign-in updates, against one adapter. */
export function describeEmailCredentialsStoreContract(factory: StoreFactory): void {
  describe('EmailCredentialsStore', () => {
    const store = useFreshStore(factory);

    async function insertLink(overrides: Partial<EmailCredential> = {}) {
      const token = createOpaqueToken(cryptoRandom);
      const credential = aCredential(overrides);
      await store().emailCredentials.insertCredential(credential, { lookupId: token.lookupId, digest: token.digest });
      return { credential, token };
    }

    async function insertCode(overrides: Partial<EmailCredential> = {}) {
      const credential = aCredential({ kind: 'email_otp', ...overrides });
      const code = createOneTimeCode(cryptoRandom);
      await store().emailCredentials.insertCredential(credential, { lookupId: null, digest: digestOneTimeCode(credential.credentialId, code) });
      return { credential, code };
    }

    it('finds a magic link by its lookup id with its digest, and stores neither the token nor its secret part', async () => {
      const { credential, token } = await insertLink({ pkceCodeChallenge: 'x'.repeat(43) });
      expect(await store().emailCredentials.findCredentialByLookupId(token.lookupId)).toEqual({ credential, digest: token.digest });
      expect(await store().emailCredentials.findCredentialByLookupId('unknown-look')).toBeUndefined();
    });

    it('finds the newest unspent code of a kind for an address and organization (null for discovery), and only that one', async () => {
      const older = await insertCode({ createdAt: at(-2) });
      const newer = await insertCode({ createdAt: at(-1) });
      await insertCode({ organizationId: 'organization-test-2' });
      const discovery = await insertCode({ kind: 'discovery_email_otp', organizationId: null, memberId: null });
      const found = await store().emailCredentials.findLatestCode('email_otp', 'organization-test-1', 'ada@example.com');
      expect(found?.credential).toEqual(newer.credential);
      expect(oneTimeCodeMatches(newer.credential.credentialId, newer.code, found?.digest ?? Buffer.alloc(0))).toBe(true);
      expect(oneTimeCodeMatches(older.credential.credentialId, newer.code, found?.digest ?? Buffer.alloc(0))).toBe(false);
      expect((await store().emailCredentials.findLatestCode('discovery_email_otp', null, 'ada@example.com'))?.credential).toEqual(discovery.credential);
      expect(await store().emailCredentials.findLatestCode('email_otp', 'organization-test-1', 'bob@example.com')).toBeUndefined();
    });

    it('voidCodes spends every unspent code of that kind, address and organization, and no other', async () => {
      const first = await insertCode();
      const otherOrganization = await insertCode({ organizationId: 'organization-test-2' });
      await store().emailCredentials.voidCodes('email_otp', 'organization-test-1', 'ada@example.com', NOW);
      expect(await store().emailCredentials.findLatestCode('email_otp', 'organization-test-1', 'ada@example.com')).toBeUndefined();
      expect((await store().emailCredentials.findLatestCode('email_otp', 'organization-test-2', 'ada@example.com'))?.credential).toEqual(otherOrganization.credential);
      expect(await store().emailCredentials.consumeCredential(first.credential.credentialId, NOW)).toBe(false);
    });

    it('consumeCredential spends an unspent, unexpired credential once; never an expired or spent one', async () => {
      const live = await insertLink();
      const expired = await insertLink({ expiresAt: at(-1) });
      expect(await store().emailCredentials.consumeCredential(live.credential.credentialId, NOW)).toBe(true);
      expect(await store().emailCredentials.consumeCredential(live.credential.credentialId, at(1))).toBe(false);
      expect((await store().emailCredentials.findCredentialByLookupId(live.token.lookupId))?.credential.consumedAt).toBe(NOW);
      expect(await store().emailCredentials.consumeCredential(expired.credential.credentialId, NOW)).toBe(false);
    });

    it('lets exactly one of 16 concurrent consumptions win', async () => {
      const { credential } = await insertLink();
      const consume = () => store().transaction((tx) => tx.emailCredentials.consumeCredential(credential.credentialId, NOW));
      const results = await Promise.all(Array.from({ length: 16 }, consume));
      expect(results.filter(Boolean)).toHaveLength(1);
    });

    it('recordFailedAttempt counts wrong codes and voids the code at the limit; a spent code counts nothing', async () => {
      const { credential } = await insertCode();
      const limits = store().emailCredentials;
      expect(await limits.recordFailedAttempt(credential.credentialId, 3, NOW)).toBe(1);
      expect(await limits.recordFailedAttempt(credential.credentialId, 3, NOW)).toBe(2);
      expect((await limits.findLatestCode('email_otp', 'organization-test-1', 'ada@example.com'))?.credential.failedAttempts).toBe(2);
      expect(await limits.recordFailedAttempt(credential.credentialId, 3, at(1))).toBe(3);
      expect(await limits.findLatestCode('email_otp', 'organization-test-1', 'ada@example.com')).toBeUndefined();
      expect(await limits.recordFailedAttempt(credential.credentialId, 3, at(2))).toBeUndefined();
    });

    it('counts every one of 10 concurrent wrong guesses, voiding the code exactly at the limit', async () => {
      const { credential } = await insertCode();
      const guess = () => store().transaction((tx) => tx.emailCredentials.recordFailedAttempt(credential.credentialId, 5, NOW));
      const counts = await Promise.all(Array.from({ length: 10 }, guess));
      expect(counts.filter((count) => count !== undefined).sort()).toEqual([1, 2, 3, 4, 5]);
      expect(await store().emailCredentials.consumeCredential(credential.credentialId, NOW)).toBe(false);
    });

    it('deleteExpiredCredentials deletes those that expired before the time given, spent or not, and counts them', async () => {
      const old = await insertLink({ expiresAt: at(-120) });
      const oldSpent = await insertCode({ expiresAt: at(-61), consumedAt: at(-90) });
      const recent = await insertLink({ expiresAt: at(-30) });
      const live = await insertLink();
      expect(await store().emailCredentials.deleteExpiredCredentials(at(-60))).toBe(2);
      expect(await store().emailCredentials.findCredentialByLookupId(old.token.lookupId)).toBeUndefined();
      expect(await store().emailCredentials.consumeCredential(oldSpent.credential.credentialId, NOW)).toBe(false);
      expect(await store().emailCredentials.findCredentialByLookupId(recent.token.lookupId)).toBeDefined();
      expect(await store().emailCredentials.findCredentialByLookupId(live.token.lookupId)).toBeDefined();
    });

    it('deleteExpiredIntermediateSessions deletes those that expired before the time given, and counts them', async () => {
      const intermediate = (expiresAt: string) => {
        const token = createOpaqueToken(cryptoRandom);
        const session = {
          intermediateSessionId: `intermediate-session-test-${randomUUID()}`,
          organizationId: null,
          memberId: null,
          emailAddress: 'ada@example.com',
          authenticationFactors: [],
          createdAt: at(-200),
          expiresAt,
          consumedAt: null,
        };
        return { token, session };
      };
      const old = intermediate(at(-120));
      const recent = intermediate(at(-30));
      for (const { token, session } of [old, recent]) await store().sessions.insertIntermediateSession(session, { lookupId: token.lookupId, digest: token.digest });
      expect(await store().sessions.deleteExpiredIntermediateSessions(at(-60))).toBe(1);
      expect(await store().sessions.findIntermediateSessionByTokenLookupId(old.token.lookupId)).toBeUndefined();
      expect((await store().sessions.findIntermediateSessionByTokenLookupId(recent.token.lookupId))?.intermediateSession).toEqual(recent.session);
    });

    it('deletes a member’s or an organization’s credentials and leaves the others', async () => {
      const ada = await insertLink({ memberId: 'member-test-ada' });
      const bob = await insertLink({ memberId: 'member-test-bob' });
      const elsewhere = await insertLink({ organizationId: 'organization-test-9', memberId: 'member-test-cyd' });
      await store().emailCredentials.deleteCredentialsForMember('member-test-ada');
      expect(await store().emailCredentials.findCredentialByLookupId(ada.token.lookupId)).toBeUndefined();
      expect(await store().emailCredentials.findCredentialByLookupId(bob.token.lookupId)).toBeDefined();
      await store().emailCredentials.deleteCredentialsForOrganization('organization-test-1');
      expect(await store().emailCredentials.findCredentialByLookupId(bob.token.lookupId)).toBeUndefined();
      expect(await store().emailCredentials.findCredentialByLookupId(elsewhere.token.lookupId)).toBeDefined();
    });
  });

  describe('MembersStore sign-in updates', () => {
    const store = useFreshStore(factory);

    async function world() {
      const organization = anOrganization();
      await store().organizations.insertOrganization(organization);
      const insert = async (overrides: Parameters<typeof aMember>[0]) => {
        const member = aMember(overrides);
        await store().members.insertMember(member);
        return member;
      };
      const id = organization.organizationId;
      return {
        organization,
        pending: await insert({ organizationId: id, status: 'pending' }),
        invited: await insert({ organizationId: id, status: 'invited' }),
        active: await insert({ organizationId: id, status: 'active', emailAddressVerified: true }),
        unverified: await insert({ organizationId: id, status: 'active' }),
        deleted: await insert({ organizationId: id, status: 'deleted' }),
      };
    }

    it('markSignedInByEmail activates pending and invited members and verifies the address; returns the member as stored', async () => {
      const { organization, pending, invited, unverified } = await world();
      for (const member of [pending, invited, unverified]) {
        const signedIn = await store().members.markSignedInByEmail(organization.organizationId, member.memberId, NOW);
        expect(signedIn).toEqual({ ...member, status: 'active', emailAddressVerified: true, updatedAt: NOW });
        expect(await store().members.findMemberById(member.memberId)).toEqual(signedIn);
      }
    });

    it('markSignedInByEmail leaves an active, verified member untouched, and answers undefined for a deleted, unknown or other organization’s member', async () => {
      const { organization, active, deleted } = await world();
      expect(await store().members.markSignedInByEmail(organization.organizationId, active.memberId, NOW)).toEqual(active);
      expect(await store().members.markSignedInByEmail(organization.organizationId, deleted.memberId, NOW)).toBeUndefined();
      expect(await store().members.findMemberById(deleted.memberId)).toEqual(deleted);
      expect(await store().members.markSignedInByEmail(organization.organizationId, 'member-test-unknown', NOW)).toBeUndefined();
      expect(await store().members.markSignedInByEmail('organization-test-other', active.memberId, NOW)).toBeUndefined();
    });

    it('markInvited turns only a pending member into an invited one', async () => {
      const { organization, pending, active, invited } = await world();
      expect(await store().members.markInvited(organization.organizationId, pending.memberId, NOW)).toEqual({ ...pending, status: 'invited', updatedAt: NOW });
      expect(await store().members.markInvited(organization.organizationId, active.memberId, NOW)).toEqual(active);
      expect(await store().members.markInvited(organization.organizationId, invited.memberId, NOW)).toEqual(invited);
    });
  });
}
