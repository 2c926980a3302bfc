import { createHash, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { OpaqueToken } from '../../../src/crypto/opaque-token.js';
import type { Member } from '../../../src/domain/members/member.js';
import type { Organization } from '../../../src/domain/organizations/organization.js';
import type { IntermediateSession } from '../../../src/domain/sessions/intermediate-session.js';
import type { MemberSession } from '../../../src/domain/sessions/session.js';
import { aMember } from '../../support/builders/member-builder.js';
import { anOrganization } from '../../support/builders/organization-builder.js';
import { aSession, aSessionToken } from '../../support/builders/session-builder.js';
import type { StoreFactory } from '../../support/stores.js';
import { openWithRawAccess, useFreshStore } from './contract-support.js';

/** Minutes relative to NOW, as stored timestamps. */
function at(minutes: number): string {
  return new Date(Date.UTC(2026, 1, 1) + minutes * 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
const NOW = at(0);

/** A session that runs from `startMinutes` to `endMinutes` around NOW. */
function window(startMinutes: number, endMinutes: number): Pick<MemberSession, 'startedAt' | 'lastAccessedAt' | 'expiresAt'> {
  return { startedAt: at(startMinutes), lastAccessedAt: at(startMinutes), expiresAt: at(endMinutes) };
}

interface World {
  /** Two members of the first organization, one of the second. */
  readonly first: Organization;
  readonly second: Organization;
  readonly ada: Member;
  readonly bob: Member;
  readonly cyd: Member;
}

/** The SessionsStore port (src/domain/sessions/sessions-store.ts) against one adapter, with an isolation case per method. */
export function describeSessionsStoreContract(factory: StoreFactory): void {
  describe('SessionsStore', () => {
    const store = useFreshStore(factory);

    async function world(): Promise<World> {
      const first = anOrganization();
      const second = anOrganization();
      const ada = aMember({ organizationId: first.organizationId, assignedRoles: ['stytch_admin'] });
      const bob = aMember({ organizationId: first.organizationId });
      const cyd = aMember({ organizationId: second.organizationId });
      for (const organization of [first, second]) await store().organizations.insertOrganization(organization);
      for (const member of [ada, bob, cyd]) await store().members.insertMember(member);
      return { first, second, ada, bob, cyd };
    }

    async function insert(member: Member, overrides: Partial<MemberSession> = {}): Promise<{ session: MemberSession; token: OpaqueToken }> {
      const session = aSession({ organizationId: member.organizationId, memberId: member.memberId, ...window(-10, 50), ...overrides });
      const token = aSessionToken();
      await store().sessions.insertSession(session, { lookupId: token.lookupId, digest: token.digest });
      return { session, token };
    }

    async function stored(memberSessionId: string): Promise<MemberSession | undefined> {
      return (await store().sessions.findSessionById(memberSessionId))?.session;
    }

    describe('insertSession and findSessionByTokenLookupId', () => {
      it('round-trips every field and returns the session with its member, organization and token digest', async () => {
        const { first, ada } = await world();
        const { session, token } = await insert(ada, {
          customClaims: { plan: 'pro', nested: { list: [1, 'two', null, { three: true }] }, 'ünïcode': 'é' },
          attributes: { ipAddress: '2001:db8::1', userAgent: 'Mozilla/5.0 (X11; "quoted") ✓' },
          roles: ['stytch_member', 'stytch_admin'],
          authenticationFactors: [
            {
              type: 'impersonated',
              deliveryMethod: 'impersonation',
              createdAt: at(-10),
              lastAuthenticatedAt: at(-10),
              updatedAt: at(-10),
              detail: { name: 'impersonated_factor', fields: { impersonator_id: 'user-1', impersonator_email_address: 'support@example.com' } },
            },
            { type: 'password', deliveryMethod: 'knowledge', createdAt: at(-9), lastAuthenticatedAt: at(-9), updatedAt: at(-9) },
          ],
        });
        const found = await store().sessions.findSessionByTokenLookupId(token.lookupId);
        expect(found).toEqual({ session, member: ada, organization: first, tokenDigest: expect.any(Buffer) });
        expect(found?.tokenDigest.equals(token.digest)).toBe(true);
      });

      it('returns revoked and expired sessions too, and undefined for an unknown lookup id', async () => {
        const { ada } = await world();
        const revoked = await insert(ada, { revokedAt: at(-1) });
        const expired = await insert(ada, window(-90, -30));
        expect((await store().sessions.findSessionByTokenLookupId(revoked.token.lookupId))?.session).toEqual(revoked.session);
        expect((await store().sessions.findSessionByTokenLookupId(expired.token.lookupId))?.session).toEqual(expired.session);
        expect(await store().sessions.findSessionByTokenLookupId(aSessionToken().lookupId)).toBeUndefined();
      });

      it('refuses a second session with the same token lookup id, keeping the first', async () => {
        const { ada, bob } = await world();
        const { session, token } = await insert(ada);
        const other = aSession({ organizationId: bob.organizationId, memberId: bob.memberId });
        await expect(store().sessions.insertSession(other, { lookupId: token.lookupId, digest: aSessionToken().digest })).rejects.toThrow();
        expect(await stored(other.memberSessionId)).toBeUndefined();
        expect((await store().sessions.findSessionByTokenLookupId(token.lookupId))?.session).toEqual(session);
      });

      it('isolation: each token resolves to its own session, member and organization', async () => {
        const { first, second, ada, cyd } = await world();
        const mine = await insert(ada);
        const theirs = await insert(cyd);
        const foundTheirs = await store().sessions.findSessionByTokenLookupId(theirs.token.lookupId);
        expect(foundTheirs).toMatchObject({ session: theirs.session, member: cyd, organization: second });
        expect(foundTheirs?.tokenDigest.equals(theirs.token.digest)).toBe(true);
        expect(foundTheirs?.tokenDigest.equals(mine.token.digest)).toBe(false);
        expect(await store().sessions.findSessionByTokenLookupId(mine.token.lookupId)).toMatchObject({ member: ada, organization: first });
      });
    });

    describe('findSessionById', () => {
      it('returns the session with its member and organization whatever its state, and undefined for an unknown id', async () => {
        const { first, ada } = await world();
        const live = await insert(ada);
        const revoked = await insert(ada, { revokedAt: at(-1) });
        expect(await store().sessions.findSessionById(live.session.memberSessionId)).toEqual({ session: live.session, member: ada, organization: first });
        expect((await store().sessions.findSessionById(revoked.session.memberSessionId))?.session).toEqual(revoked.session);
        expect(await store().sessions.findSessionById('session-test-00000000-0000-4000-8000-000000000000')).toBeUndefined();
      });

      it('isolation: a session of another organization comes back with that organization and member', async () => {
        const { second, cyd, ada } = await world();
        await insert(ada);
        const theirs = await insert(cyd);
        expect(await store().sessions.findSessionById(theirs.session.memberSessionId)).toEqual({ session: theirs.session, member: cyd, organization: second });
      });
    });

    describe('listLiveSessions', () => {
      it('lists the member live sessions oldest first, leaving out revoked and expired ones (expiry at now included)', async () => {
        const { first, ada } = await world();
        const newest = await insert(ada, window(-1, 59));
        const oldest = await insert(ada, window(-30, 30));
        const middle = await insert(ada, window(-5, 1));
        await insert(ada, { ...window(-20, 40), revokedAt: at(-2) });
        await insert(ada, window(-60, -1));
        await insert(ada, window(-60, 0));
        const listed = await store().sessions.listLiveSessions(first.organizationId, ada.memberId, NOW);
        expect(listed).toEqual([oldest.session, middle.session, newest.session]);
      });

      it('returns [] when the member has no live session', async () => {
        const { first, bob } = await world();
        expect(await store().sessions.listLiveSessions(first.organizationId, bob.memberId, NOW)).toEqual([]);
      });

      it("isolation: leaves out other members' sessions and finds nothing under another organization id", async () => {
        const { first, second, ada, bob, cyd } = await world();
        const adas = await insert(ada);
        await insert(bob);
        await insert(cyd);
        expect(await store().sessions.listLiveSessions(first.organizationId, ada.memberId, NOW)).toEqual([adas.session]);
        expect(await store().sessions.listLiveSessions(second.organizationId, ada.memberId, NOW)).toEqual([]);
        expect(await store().sessions.listLiveSessions(first.organizationId, cyd.memberId, NOW)).toEqual([]);
      });
    });

    describe('updateSession', () => {
      it('writes expiry, factors, custom claims, roles and last access', async () => {
        const { ada } = await world();
        const { session } = await insert(ada);
        const changed: MemberSession = {
          ...session,
          expiresAt: at(500),
          lastAccessedAt: at(-3),
          customClaims: { added: { deep: true } },
          roles: ['stytch_member', 'stytch_admin'],
          authenticationFactors: [...session.authenticationFactors, { type: 'totp', deliveryMethod: 'authenticator_app', createdAt: NOW, lastAuthenticatedAt: NOW, updatedAt: NOW }],
        };
        await store().sessions.updateSession(changed);
        expect(await stored(session.memberSessionId)).toEqual(changed);
      });

      it('never un-revokes a session, nor moves its start, member or organization', async () => {
        const { first, second, ada, cyd } = await world();
        const { session } = await insert(ada, { revokedAt: at(-1) });
        await store().sessions.updateSession({ ...session, revokedAt: null, startedAt: at(-100), memberId: cyd.memberId, organizationId: second.organizationId });
        expect(await stored(session.memberSessionId)).toEqual(session);
        expect(await store().sessions.listLiveSessions(second.organizationId, cyd.memberId, NOW)).toEqual([]);
        expect(await store().sessions.listLiveSessions(first.organizationId, ada.memberId, NOW)).toEqual([]);
      });

      it('is a no-op for an unknown session and leaves other sessions alone', async () => {
        const { ada, cyd } = await world();
        const other = await insert(cyd);
        const ghost = aSession({ organizationId: ada.organizationId, memberId: ada.memberId });
        await store().sessions.updateSession(ghost);
        expect(await stored(ghost.memberSessionId)).toBeUndefined();
        expect(await stored(other.session.memberSessionId)).toEqual(other.session);
      });
    });

    describe('touchSession', () => {
      it('moves last_accessed_at forward only, changes nothing else, and leaves other sessions alone (isolation)', async () => {
        const { ada, cyd } = await world();
        const { session } = await insert(ada, window(-10, 50));
        const other = await insert(cyd, window(-10, 50));
        await store().sessions.touchSession(session.memberSessionId, at(-2));
        expect(await stored(session.memberSessionId)).toEqual({ ...session, lastAccessedAt: at(-2) });
        await store().sessions.touchSession(session.memberSessionId, at(-5));
        expect(await stored(session.memberSessionId)).toEqual({ ...session, lastAccessedAt: at(-2) });
        await store().sessions.touchSession('session-test-unknown', at(1));
        expect(await stored(other.session.memberSessionId)).toEqual(other.session);
      });
    });

    describe('revokeSession', () => {
      it('revokes a live session once: true, then false; false for expired and unknown sessions', async () => {
        const { first, ada } = await world();
        const live = await insert(ada);
        const expired = await insert(ada, window(-90, -30));
        expect(await store().sessions.revokeSession(live.session.memberSessionId, NOW)).toBe(true);
        expect(await stored(live.session.memberSessionId)).toEqual({ ...live.session, revokedAt: NOW });
        expect(await store().sessions.revokeSession(live.session.memberSessionId, at(1))).toBe(false);
        expect((await stored(live.session.memberSessionId))?.revokedAt).toBe(NOW);
        expect(await store().sessions.revokeSession(expired.session.memberSessionId, NOW)).toBe(false);
        expect(await stored(expired.session.memberSessionId)).toEqual(expired.session);
        expect(await store().sessions.revokeSession('session-test-unknown', NOW)).toBe(false);
        expect(await store().sessions.listLiveSessions(first.organizationId, ada.memberId, NOW)).toEqual([]);
      });

      it("isolation: leaves every other session live, the member's own and other organizations'", async () => {
        const { first, second, ada, cyd } = await world();
        const target = await insert(ada);
        const sibling = await insert(ada);
        const theirs = await insert(cyd);
        expect(await store().sessions.revokeSession(target.session.memberSessionId, NOW)).toBe(true);
        expect(await store().sessions.listLiveSessions(first.organizationId, ada.memberId, NOW)).toEqual([sibling.session]);
        expect(await store().sessions.listLiveSessions(second.organizationId, cyd.memberId, NOW)).toEqual([theirs.session]);
      });
    });

    describe('revokeSessionsForMember', () => {
      it('revokes exactly the member live sessions and returns their ids; [] when there are none', async () => {
        const { ada } = await world();
        const one = await insert(ada);
        const two = await insert(ada);
        const alreadyRevoked = await insert(ada, { revokedAt: at(-1) });
        const expired = await insert(ada, window(-90, -30));
        const revoked = await store().sessions.revokeSessionsForMember(ada.memberId, NOW);
        expect([...revoked].sort()).toEqual([one.session.memberSessionId, two.session.memberSessionId].sort());
        expect(await stored(one.session.memberSessionId)).toEqual({ ...one.session, revokedAt: NOW });
        expect(await stored(alreadyRevoked.session.memberSessionId)).toEqual(alreadyRevoked.session);
        expect(await stored(expired.session.memberSessionId)).toEqual(expired.session);
        expect(await store().sessions.revokeSessionsForMember(ada.memberId, at(1))).toEqual([]);
      });

      it("isolation: leaves other members' sessions, in the same and in other organizations, live", async () => {
        const { first, second, ada, bob, cyd } = await world();
        await insert(ada);
        const bobs = await insert(bob);
        const cyds = await insert(cyd);
        expect(await store().sessions.revokeSessionsForMember(ada.memberId, NOW)).toHaveLength(1);
        expect(await store().sessions.listLiveSessions(first.organizationId, bob.memberId, NOW)).toEqual([bobs.session]);
        expect(await store().sessions.listLiveSessions(second.organizationId, cyd.memberId, NOW)).toEqual([cyds.session]);
      });
    });

    describe('revokeSessionsForOrganization', () => {
      it('revokes exactly the organization live sessions, of every member, and returns their ids; [] when none', async () => {
        const { first, second, ada, bob, cyd } = await world();
        const adas = await insert(ada);
        const bobs = await insert(bob);
        const alreadyRevoked = await insert(bob, { revokedAt: at(-1) });
        await insert(ada, window(-90, -30));
        const cyds = await insert(cyd);
        const revoked = await store().sessions.revokeSessionsForOrganization(first.organizationId, NOW);
        expect([...revoked].sort()).toEqual([adas.session.memberSessionId, bobs.session.memberSessionId].sort());
        expect(await stored(alreadyRevoked.session.memberSessionId)).toEqual(alreadyRevoked.session);
        expect(await store().sessions.listLiveSessions(second.organizationId, cyd.memberId, NOW)).toEqual([cyds.session]);
        expect(await store().sessions.revokeSessionsForOrganization(first.organizationId, at(1))).toEqual([]);
        expect(await store().sessions.revokeSessionsForOrganization('organization-test-unknown', NOW)).toEqual([]);
      });
    });

    describe('OrganizationsStore.deleteOrganization', () => {
      it("removes the organization's sessions and leaves other organizations' sessions", async () => {
        const { first, second, ada, cyd } = await world();
        const adas = await insert(ada);
        const revoked = await insert(ada, { revokedAt: at(-1) });
        const cyds = await insert(cyd);
        await store().organizations.deleteOrganization(first.organizationId);
        expect(await stored(adas.session.memberSessionId)).toBeUndefined();
        expect(await stored(revoked.session.memberSessionId)).toBeUndefined();
        expect(await store().sessions.findSessionByTokenLookupId(adas.token.lookupId)).toBeUndefined();
        expect(await store().sessions.listLiveSessions(second.organizationId, cyd.memberId, NOW)).toEqual([cyds.session]);
      });
    });

    /** An intermediate session of `member` from `startMinutes`, lasting 10 minutes, with its token. */
    async function insertIntermediate(member: Member, startMinutes = -2): Promise<{ intermediate: IntermediateSession; token: OpaqueToken }> {
      const factor = aSession({ organizationId: member.organizationId, memberId: member.memberId }).authenticationFactors;
      const intermediate: IntermediateSession = {
        intermediateSessionId: `intermediate-session-test-${randomUUID()}`,
        organizationId: member.organizationId,
        memberId: member.memberId,
        emailAddress: member.emailAddress,
        authenticationFactors: factor,
        createdAt: at(startMinutes),
        expiresAt: at(startMinutes + 10),
        consumedAt: null,
      };
      const token = aSessionToken();
      await store().sessions.insertIntermediateSession(intermediate, { lookupId: token.lookupId, digest: token.digest });
      return { intermediate, token };
    }

    async function storedIntermediate(token: OpaqueToken): Promise<IntermediateSession | undefined> {
      return (await store().sessions.findIntermediateSessionByTokenLookupId(token.lookupId))?.intermediateSession;
    }

    describe('intermediate sessions', () => {
      it('round-trip every field with the token digest, whatever their state; undefined for an unknown lookup id', async () => {
        const { ada } = await world();
        const { intermediate, token } = await insertIntermediate(ada);
        const found = await store().sessions.findIntermediateSessionByTokenLookupId(token.lookupId);
        expect(found).toEqual({ intermediateSession: intermediate, tokenDigest: expect.any(Buffer) });
        expect(found?.tokenDigest.equals(token.digest)).toBe(true);
        expect(await store().sessions.findIntermediateSessionForUpdate(intermediate.intermediateSessionId)).toEqual(intermediate);
        const expired = await insertIntermediate(ada, -30);
        expect(await storedIntermediate(expired.token)).toEqual(expired.intermediate);
        expect(await store().sessions.findIntermediateSessionByTokenLookupId(aSessionToken().lookupId)).toBeUndefined();
        expect(await store().sessions.findIntermediateSessionForUpdate('intermediate-session-test-unknown')).toBeUndefined();
      });

      it('refuse a second intermediate session with the same token lookup id, keeping the first', async () => {
        const { ada, bob } = await world();
        const { intermediate, token } = await insertIntermediate(ada);
        const other: IntermediateSession = { ...intermediate, intermediateSessionId: 'intermediate-session-test-other', memberId: bob.memberId };
        await expect(store().sessions.insertIntermediateSession(other, { lookupId: token.lookupId, digest: aSessionToken().digest })).rejects.toThrow();
        expect(await store().sessions.findIntermediateSessionForUpdate(other.intermediateSessionId)).toBeUndefined();
        expect(await storedIntermediate(token)).toEqual(intermediate);
      });

      it('are consumed once: true, then false; false when expired (at its expiry included) or unknown', async () => {
        const { ada } = await world();
        const live = await insertIntermediate(ada);
        const expired = await insertIntermediate(ada, -10);
        expect(await store().sessions.consumeIntermediateSession(live.intermediate.intermediateSessionId, NOW)).toBe(true);
        expect(await storedIntermediate(live.token)).toEqual({ ...live.intermediate, consumedAt: NOW });
        expect(await store().sessions.consumeIntermediateSession(live.intermediate.intermediateSessionId, at(1))).toBe(false);
        expect((await storedIntermediate(live.token))?.consumedAt).toBe(NOW);
        expect(await store().sessions.consumeIntermediateSession(expired.intermediate.intermediateSessionId, NOW)).toBe(false);
        expect(await storedIntermediate(expired.token)).toEqual(expired.intermediate);
        expect(await store().sessions.consumeIntermediateSession('intermediate-session-test-unknown', NOW)).toBe(false);
      });

      it('let exactly one of two concurrent consumptions win', async () => {
        const { ada } = await world();
        const { intermediate } = await insertIntermediate(ada);
        const consume = () => store().transaction((tx) => tx.sessions.consumeIntermediateSession(intermediate.intermediateSessionId, NOW));
        expect((await Promise.all([consume(), consume()])).sort()).toEqual([false, true]);
      });

      it('take new factors only while usable, and leave other intermediate sessions alone (isolation)', async () => {
        const { ada, cyd } = await world();
        const mine = await insertIntermediate(ada);
        const theirs = await insertIntermediate(cyd);
        const factors = [...mine.intermediate.authenticationFactors, { type: 'password', deliveryMethod: 'knowledge', createdAt: NOW, lastAuthenticatedAt: NOW, updatedAt: NOW }];
        expect(await store().sessions.updateIntermediateSessionFactors(mine.intermediate.intermediateSessionId, factors, NOW)).toBe(true);
        expect(await storedIntermediate(mine.token)).toEqual({ ...mine.intermediate, authenticationFactors: factors });
        expect(await storedIntermediate(theirs.token)).toEqual(theirs.intermediate);
        expect(await store().sessions.consumeIntermediateSession(mine.intermediate.intermediateSessionId, NOW)).toBe(true);
        expect(await store().sessions.updateIntermediateSessionFactors(mine.intermediate.intermediateSessionId, [], at(1))).toBe(false);
        expect(await store().sessions.updateIntermediateSessionFactors(theirs.intermediate.intermediateSessionId, [], at(8))).toBe(false);
        expect((await storedIntermediate(mine.token))?.authenticationFactors).toEqual(factors);
        expect(await storedIntermediate(theirs.token)).toEqual(theirs.intermediate);
      });

      it("are deleted with their member (deleteIntermediateSessionsForMember), spent or not, leaving other members' alone", async () => {
        const { ada, bob } = await world();
        const live = await insertIntermediate(ada);
        const spent = await insertIntermediate(ada);
        await store().sessions.consumeIntermediateSession(spent.intermediate.intermediateSessionId, NOW);
        const bobs = await insertIntermediate(bob);
        await store().sessions.deleteIntermediateSessionsForMember(ada.memberId);
        expect(await storedIntermediate(live.token)).toBeUndefined();
        expect(await storedIntermediate(spent.token)).toBeUndefined();
        expect(await storedIntermediate(bobs.token)).toEqual(bobs.intermediate);
      });

      it("are deleted with their organization (deleteOrganization), leaving other organizations' alone", async () => {
        const { first, ada, cyd } = await world();
        const adas = await insertIntermediate(ada);
        const cyds = await insertIntermediate(cyd);
        await store().organizations.deleteOrganization(first.organizationId);
        expect(await storedIntermediate(adas.token)).toBeUndefined();
        expect(await storedIntermediate(cyds.token)).toEqual(cyds.intermediate);
      });

      it('store the lookup id and the SHA-256 digest only: no column holds the token or its secret part', async () => {
        const raw = await openWithRawAccess(factory);
        try {
          const organization = anOrganization();
          const member = aMember({ organizationId: organization.organizationId });
          await raw.store.organizations.insertOrganization(organization);
          await raw.store.members.insertMember(member);
          const token = aSessionToken();
          const intermediate: IntermediateSession = {
            intermediateSessionId: 'intermediate-session-test-raw',
            organizationId: organization.organizationId,
            memberId: member.memberId,
            emailAddress: member.emailAddress,
            authenticationFactors: [],
            createdAt: NOW,
            expiresAt: at(10),
            consumedAt: null,
          };
          await raw.store.sessions.insertIntermediateSession(intermediate, { lookupId: token.lookupId, digest: token.digest });
          const rows = await raw.db.selectFrom('intermediate_sessions').selectAll().execute();
          expect(rows).toHaveLength(1);
          const row = rows[0] as Record<string, unknown>;
          expect(row.token_lookup_id).toBe(token.token.slice(0, 12));
          expect(Buffer.from(String(row.token_digest), 'base64url').equals(createHash('sha256').update(token.token).digest())).toBe(true);
          for (const [column, value] of Object.entries(row)) {
            for (const secret of [token.token, token.token.slice(12)]) expect(String(value), `column ${column}`).not.toContain(secret);
          }
        } finally {
          await raw.close();
        }
      });
    });

    describe('token storage', () => {
      it('stores the lookup id and the SHA-256 digest only: no column holds the token, its secret part or its bytes', async () => {
        const raw = await openWithRawAccess(factory);
        try {
          const organization = anOrganization();
          const member = aMember({ organizationId: organization.organizationId });
          await raw.store.organizations.insertOrganization(organization);
          await raw.store.members.insertMember(member);
          const token = aSessionToken();
          await raw.store.sessions.insertSession(aSession({ organizationId: organization.organizationId, memberId: member.memberId }), {
            lookupId: token.lookupId,
            digest: token.digest,
          });
          const rows = await raw.db.selectFrom('sessions').selectAll().execute();
          expect(rows).toHaveLength(1);
          const row = rows[0] as Record<string, unknown>;
          expect(row.token_lookup_id).toBe(token.token.slice(0, 12));
          expect(Buffer.from(String(row.token_digest), 'base64url').equals(createHash('sha256').update(token.token).digest())).toBe(true);
          const secrets = [token.token, token.token.slice(12), Buffer.from(token.token, 'base64url').toString('hex'), Buffer.from(token.token, 'base64url').toString('base64')];
          for (const [column, value] of Object.entries(row)) {
            for (const secret of secrets) expect(String(value), `column ${column}`).not.toContain(secret);
          }
        } finally {
          await raw.close();
        }
      });
    });
  });
}
