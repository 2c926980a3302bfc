import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { createOpaqueToken, type OpaqueToken } from '../../../src/crypto/opaque-token.js';
import type { ImpersonatedSession, ImpersonationToken } from '../../../src/domain/impersonation/impersonation.js';
import { cryptoRandom } from '../../../src/platform/random.js';
import { openStore } from '../../../src/storage/open-store.js';
import type { Store } from '../../../src/storage/store.js';
import type { StoreFactory } from '../../support/stores.js';
import { openWithRawAccess, useFreshStore } from './contract-support.js';

/** Minutes relative to NOW, as stored timestamps. */
function at(minutes: number): string {
  return new Date(Date.UTC(2026, 1, 1) + minutes * 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
const NOW = at(0);
/** The policy's parts an organization that never set them has. */
const DEFAULT_PARTS = { accessMode: 'open', delegated: 'members', notifyMember: false, notifyAdmins: false, chosenByOrganization: false } as const;
const MINE = 'organization-test-mine';
const THEIRS = 'organization-test-theirs';

function aToken(overrides: Partial<ImpersonationToken> = {}): ImpersonationToken {
  return {
    tokenId: `impersonation-token-test-${randomUUID()}`,
    organizationId: MINE,
    memberId: 'member-test-ann',
    impersonatorId: 'support-17',
    impersonatorEmailAddress: 'sam@support.example',
    reason: 'Ticket 4711: cannot see invoices',
    memberEmailAddress: 'ann@acme.example',
    createdAt: at(-1),
    expiresAt: at(4),
    redeemedAt: null,
    memberSessionId: null,
    revokedAt: null,
    grantId: null,
    kind: 'support',
    permissionMask: null,
    ...overrides,
  };
}

let started = 0;
/** An open impersonated session; each call starts one second after the previous, so listings have an order. */
function aSession(overrides: Partial<ImpersonatedSession> = {}): ImpersonatedSession {
  started += 1;
  return {
    memberSessionId: `session-test-${randomUUID()}`,
    tokenId: `impersonation-token-test-${randomUUID()}`,
    organizationId: MINE,
    memberId: 'member-test-ann',
    impersonatorId: 'support-17',
    impersonatorEmailAddress: 'sam@support.example',
    reason: 'Ticket 4711',
    startedAt: new Date(Date.UTC(2026, 1, 1) - 10 * 60_000 + started * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    expiresAt: at(50),
    endedAt: null,
    endReason: null,
    grantId: null,
    kind: 'support',
    permissionMask: null,
    ...overrides,
  };
}

/** The ImpersonationStore port (src/domain/impersonation/impersonation-store.ts) against one adapter. */
export function describeImpersonationStoreContract(factory: StoreFactory): void {
  describe('ImpersonationStore', () => {
    const store = useFreshStore(factory);
    const cleanups: (() => Promise<void>)[] = [];
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    });

    async function mint(overrides: Partial<ImpersonationToken> = {}): Promise<{ token: ImpersonationToken; secret: OpaqueToken }> {
      const token = aToken(overrides);
      const secret = createOpaqueToken(cryptoRandom);
      await store().impersonation.insertToken(token, { lookupId: secret.lookupId, digest: secret.digest });
      return { token, secret };
    }

    async function insertSessions(...sessions: ImpersonatedSession[]): Promise<void> {
      for (const session of sessions) await store().impersonation.insertImpersonatedSession(session);
    }

    describe('insertToken and findTokenByLookupId', () => {
      it('round-trips every field and the digest; an unknown lookup id gives undefined', async () => {
        const { token, secret } = await mint();
        const found = await store().impersonation.findTokenByLookupId(secret.lookupId);
        expect(found?.token).toEqual(token);
        expect(found?.digest.equals(secret.digest)).toBe(true);
        expect(await store().impersonation.findTokenByLookupId('AAAAAAAAAAAA')).toBeUndefined();
      });

      it('isolation: each lookup id finds its own token, with its own organization, and no other', async () => {
        const mine = await mint({ organizationId: MINE });
        const theirs = await mint({ organizationId: THEIRS, memberId: 'member-test-bob', impersonatorId: 'support-99' });
        expect((await store().impersonation.findTokenByLookupId(mine.secret.lookupId))?.token).toEqual(mine.token);
        expect((await store().impersonation.findTokenByLookupId(theirs.secret.lookupId))?.token).toEqual(theirs.token);
      });

      it('refuses a second token with the same lookup id and keeps the first', async () => {
        const { token, secret } = await mint();
        await expect(store().impersonation.insertToken(aToken(), { lookupId: secret.lookupId, digest: createOpaqueToken(cryptoRandom).digest })).rejects.toThrow();
        expect((await store().impersonation.findTokenByLookupId(secret.lookupId))?.token).toEqual(token);
      });

      it('stores the lookup id and digest only: no column of the row holds the token or its secret part', async () => {
        const raw = await openWithRawAccess(factory);
        cleanups.push(raw.close);
        const secret = createOpaqueToken(cryptoRandom);
        await raw.store.impersonation.insertToken(aToken(), { lookupId: secret.lookupId, digest: secret.digest });
        const rows = await raw.db.selectFrom('impersonation_tokens').selectAll().execute();
        expect(rows).toHaveLength(1);
        const row = rows[0] as Record<string, unknown>;
        expect(row.token_lookup_id).toBe(secret.token.slice(0, 12));
        const bytes = Buffer.from(secret.token, 'base64url');
        for (const [column, value] of Object.entries(row)) {
          for (const part of [secret.token, secret.token.slice(12), bytes.toString('hex'), bytes.toString('base64')]) {
            expect(String(value), `column ${column}`).not.toContain(part);
          }
        }
      });
    });

    describe('redeemToken', () => {
      it('returns true exactly once, recording when and which session; the second call returns false and changes nothing', async () => {
        const { token, secret } = await mint();
        expect(await store().impersonation.redeemToken(token.tokenId, NOW, 'session-test-first')).toBe(true);
        const redeemed = { ...token, redeemedAt: NOW, memberSessionId: 'session-test-first' };
        expect((await store().impersonation.findTokenByLookupId(secret.lookupId))?.token).toEqual(redeemed);
        expect(await store().impersonation.redeemToken(token.tokenId, at(1), 'session-test-second')).toBe(false);
        expect((await store().impersonation.findTokenByLookupId(secret.lookupId))?.token).toEqual(redeemed);
      });

      it('returns false for a token expired at `at` (expiry included) and leaves it unredeemed', async () => {
        const { token, secret } = await mint({ expiresAt: NOW });
        expect(await store().impersonation.redeemToken(token.tokenId, NOW, 'session-test-late')).toBe(false);
        expect(await store().impersonation.redeemToken(token.tokenId, at(3), 'session-test-later')).toBe(false);
        expect((await store().impersonation.findTokenByLookupId(secret.lookupId))?.token).toEqual(token);
        // One second before its expiry it is still good.
        const { token: fresh } = await mint({ expiresAt: '2026-02-01T00:01:00Z' });
        expect(await store().impersonation.redeemToken(fresh.tokenId, '2026-02-01T00:00:59Z', 'session-test-just-in-time')).toBe(true);
      });

      it('returns false for an unknown token id', async () => {
        await mint();
        expect(await store().impersonation.redeemToken('impersonation-token-test-unknown', NOW, 'session-test-x')).toBe(false);
      });

      it("isolation: redeeming one organization's token leaves another organization's token unredeemed", async () => {
        const mine = await mint({ organizationId: MINE });
        const theirs = await mint({ organizationId: THEIRS });
        expect(await store().impersonation.redeemToken(mine.token.tokenId, NOW, 'session-test-mine')).toBe(true);
        expect((await store().impersonation.findTokenByLookupId(theirs.secret.lookupId))?.token).toEqual(theirs.token);
      });

      it('lets exactly one of 20 concurrent transactions redeem a token (two stores on one database on PostgreSQL)', async () => {
        const opened = await factory.open();
        cleanups.push(opened.cleanup);
        const writers: Store[] = [opened.store];
        if (opened.databaseUrl !== undefined) {
          const second = await openStore({ databaseUrl: opened.databaseUrl, sqliteFile: ':memory:' });
          cleanups.push(() => second.close());
          writers.push(second);
        }
        const token = aToken();
        const secret = createOpaqueToken(cryptoRandom);
        await opened.store.impersonation.insertToken(token, { lookupId: secret.lookupId, digest: secret.digest });
        const outcomes = await Promise.all(
          Array.from({ length: 20 }, (_, index) =>
            (writers[index % writers.length] as Store).transaction(async (tx) => {
              // The service reads before it redeems; under a race most contenders read the token unredeemed.
              await tx.impersonation.findTokenByLookupId(secret.lookupId);
              return tx.impersonation.redeemToken(token.tokenId, NOW, `session-test-contender-${index}`);
            }),
          ),
        );
        expect(outcomes.filter((won) => won)).toHaveLength(1);
        const winner = outcomes.indexOf(true);
        for (const writer of writers) {
          expect((await writer.impersonation.findTokenByLookupId(secret.lookupId))?.token.memberSessionId).toBe(`session-test-contender-${winner}`);
        }
      });
    });

    describe('insertImpersonatedSession and listActiveImpersonatedSessions', () => {
      it('round-trips every field, oldest first; [] when none match', async () => {
        expect(await store().impersonation.listActiveImpersonatedSessions({}, NOW)).toEqual([]);
        const first = aSession();
        const second = aSession({ reason: 'Ticket 1: ünïcode "quoted"' });
        await insertSessions(second, first);
        expect(await store().impersonation.listActiveImpersonatedSessions({}, NOW)).toEqual([first, second]);
        expect(await store().impersonation.listActiveImpersonatedSessions({ memberSessionId: 'session-test-unknown' }, NOW)).toEqual([]);
      });

      it('matches every selector field given, alone and combined, across organizations, members and impersonators', async () => {
        const annBySam = aSession({ organizationId: MINE, memberId: 'member-test-ann', impersonatorId: 'sam' });
        const bobBySam = aSession({ organizationId: MINE, memberId: 'member-test-bob', impersonatorId: 'sam' });
        const annByKim = aSession({ organizationId: MINE, memberId: 'member-test-ann', impersonatorId: 'kim' });
        const theirsBySam = aSession({ organizationId: THEIRS, memberId: 'member-test-cyd', impersonatorId: 'sam' });
        await insertSessions(annBySam, bobBySam, annByKim, theirsBySam);
        const list = (selector: Parameters<Store['impersonation']['listActiveImpersonatedSessions']>[0]) =>
          store().impersonation.listActiveImpersonatedSessions(selector, NOW);
        expect(await list({ memberSessionId: bobBySam.memberSessionId })).toEqual([bobBySam]);
        expect(await list({ organizationId: MINE })).toEqual([annBySam, bobBySam, annByKim]);
        expect(await list({ organizationId: THEIRS })).toEqual([theirsBySam]);
        expect(await list({ memberId: 'member-test-ann' })).toEqual([annBySam, annByKim]);
        const by = (...ids: string[]) => ({ ids, emailAddresses: [] });
        expect(await list({ impersonator: by('sam') })).toEqual([annBySam, bobBySam, theirsBySam]);
        expect(await list({ organizationId: MINE, impersonator: by('sam') })).toEqual([annBySam, bobBySam]);
        expect(await list({ memberId: 'member-test-ann', impersonator: by('kim') })).toEqual([annByKim]);
        expect(await list({ impersonator: by('kim', 'sam'), memberId: 'member-test-ann' })).toEqual([annBySam, annByKim]);
        // An identity with no names matches nobody, never everybody.
        expect(await list({ impersonator: by() })).toEqual([]);
        expect(await list({ organizationId: THEIRS, memberId: 'member-test-ann' })).toEqual([]);
        expect(await list({ organizationId: THEIRS, memberSessionId: annBySam.memberSessionId })).toEqual([]);
      });

      it('an impersonator identity matches by id or by email address, either one', async () => {
        const byOperatorId = aSession({ impersonatorId: 'operator-test-1', impersonatorEmailAddress: 'pat@ops.example' });
        const byAddressAsId = aSession({ impersonatorId: 'pat@ops.example', impersonatorEmailAddress: 'pat@ops.example' });
        const byStaffId = aSession({ impersonatorId: 'staff-9', impersonatorEmailAddress: 'pat@ops.example' });
        const someoneElse = aSession({ impersonatorId: 'staff-10', impersonatorEmailAddress: 'kim@ops.example' });
        await insertSessions(byOperatorId, byAddressAsId, byStaffId, someoneElse);
        const list = (ids: string[], emailAddresses: string[]) => store().impersonation.listActiveImpersonatedSessions({ impersonator: { ids, emailAddresses } }, NOW);
        expect(await list(['operator-test-1'], [])).toEqual([byOperatorId]);
        expect(await list([], ['pat@ops.example'])).toEqual([byOperatorId, byAddressAsId, byStaffId]);
        expect(await list(['staff-10'], ['pat@ops.example'])).toEqual([byOperatorId, byAddressAsId, byStaffId, someoneElse]);
      });

      it('leaves out sessions that ended and sessions expired at `now` (expiry included)', async () => {
        const live = aSession();
        const ended = aSession({ endedAt: at(-1), endReason: 'revoked' });
        const expiresNow = aSession({ expiresAt: NOW });
        const expired = aSession({ expiresAt: at(-5) });
        await insertSessions(live, ended, expiresNow, expired);
        expect(await store().impersonation.listActiveImpersonatedSessions({}, NOW)).toEqual([live]);
        expect(await store().impersonation.listActiveImpersonatedSessions({ memberSessionId: expiresNow.memberSessionId }, at(-1))).toEqual([expiresNow]);
      });

      it('refuses a second session for the same member session id or the same token', async () => {
        const session = aSession();
        await insertSessions(session);
        await expect(store().impersonation.insertImpersonatedSession(aSession({ memberSessionId: session.memberSessionId }))).rejects.toThrow();
        await expect(store().impersonation.insertImpersonatedSession(aSession({ tokenId: session.tokenId }))).rejects.toThrow();
        expect(await store().impersonation.listActiveImpersonatedSessions({}, NOW)).toEqual([session]);
      });
    });

    describe('endImpersonatedSessions', () => {
      it('ends the given sessions and returns only the ones this call ended; a second call returns []', async () => {
        const first = aSession();
        const second = aSession();
        const untouched = aSession();
        await insertSessions(first, second, untouched);
        const ids = [first.memberSessionId, second.memberSessionId, 'session-test-unknown'];
        const ended = await store().impersonation.endImpersonatedSessions(ids, NOW, 'revoked');
        const sorted = [...ended].sort((a, b) => a.startedAt.localeCompare(b.startedAt));
        expect(sorted).toEqual([first, second].map((session) => ({ ...session, endedAt: NOW, endReason: 'revoked' })));
        expect(await store().impersonation.endImpersonatedSessions(ids, at(1), 'expired')).toEqual([]);
        expect(await store().impersonation.listActiveImpersonatedSessions({}, NOW)).toEqual([untouched]);
        expect(await store().impersonation.endImpersonatedSessions([], NOW, 'revoked')).toEqual([]);
      });

      it("isolation: ending one organization's session leaves another organization's running", async () => {
        const mine = aSession({ organizationId: MINE });
        const theirs = aSession({ organizationId: THEIRS });
        await insertSessions(mine, theirs);
        expect(await store().impersonation.endImpersonatedSessions([mine.memberSessionId], NOW, 'revoked')).toHaveLength(1);
        expect(await store().impersonation.listActiveImpersonatedSessions({}, NOW)).toEqual([theirs]);
      });

      it('ends a session whose expiry passed but was not yet recorded, with the reason given', async () => {
        const expired = aSession({ expiresAt: at(-1) });
        await insertSessions(expired);
        expect(await store().impersonation.endImpersonatedSessions([expired.memberSessionId], NOW, 'expired')).toEqual([
          { ...expired, endedAt: NOW, endReason: 'expired' },
        ]);
      });
    });

    describe('listUnrecordedExpiries', () => {
      it('lists sessions expired at `now` (expiry included) and not yet ended, soonest expiry first, at most `limit`', async () => {
        expect(await store().impersonation.listUnrecordedExpiries(NOW, 10)).toEqual([]);
        const live = aSession({ expiresAt: at(1) });
        const expiresNow = aSession({ expiresAt: NOW });
        const long = aSession({ expiresAt: at(-30) });
        const recorded = aSession({ expiresAt: at(-20), endedAt: at(-20), endReason: 'expired' });
        const revoked = aSession({ expiresAt: at(-10), endedAt: at(-40), endReason: 'revoked' });
        const theirs = aSession({ organizationId: THEIRS, expiresAt: at(-5) });
        await insertSessions(live, expiresNow, long, recorded, revoked, theirs);
        expect(await store().impersonation.listUnrecordedExpiries(NOW, 10)).toEqual([long, theirs, expiresNow]);
        expect(await store().impersonation.listUnrecordedExpiries(NOW, 2)).toEqual([long, theirs]);
        await store().impersonation.endImpersonatedSessions([long.memberSessionId], NOW, 'expired');
        expect(await store().impersonation.listUnrecordedExpiries(NOW, 10)).toEqual([theirs, expiresNow]);
      });
    });

    describe('findPolicy and updatePolicy', () => {
      it('gives undefined before a policy is set, creates it (allowed, no URL, for parts not given), then changes only the parts given', async () => {
        expect(await store().impersonation.findPolicy(MINE)).toBeUndefined();
        const first = { organizationId: MINE, enabled: true, ...DEFAULT_PARTS, redirectUrl: 'https://mine.example/login?x=1', updatedAt: at(-5) };
        expect(await store().impersonation.updatePolicy(MINE, { redirectUrl: first.redirectUrl }, at(-5))).toEqual(first);
        expect(await store().impersonation.findPolicy(MINE)).toEqual(first);
        const second = { ...first, enabled: false, accessMode: 'off', updatedAt: NOW };
        expect(await store().impersonation.updatePolicy(MINE, { enabled: false }, NOW)).toEqual(second);
        expect(await store().impersonation.updatePolicy(MINE, { redirectUrl: null }, at(1))).toEqual({ ...second, redirectUrl: null, updatedAt: at(1) });
        expect(await store().impersonation.findPolicy(MINE)).toEqual({ ...second, redirectUrl: null, updatedAt: at(1) });
      });

      it("isolation: an organization's policy is not another organization's", async () => {
        const mine = { organizationId: MINE, enabled: false, ...DEFAULT_PARTS, accessMode: 'off', redirectUrl: null, updatedAt: NOW };
        const theirs = { organizationId: THEIRS, enabled: true, ...DEFAULT_PARTS, redirectUrl: 'https://theirs.example/', updatedAt: NOW };
        await store().impersonation.updatePolicy(MINE, { enabled: false }, NOW);
        expect(await store().impersonation.findPolicy(THEIRS)).toBeUndefined();
        await store().impersonation.updatePolicy(THEIRS, { enabled: true, redirectUrl: theirs.redirectUrl }, NOW);
        await store().impersonation.updatePolicy(MINE, { enabled: true }, NOW);
        expect(await store().impersonation.findPolicy(THEIRS)).toEqual(theirs);
        expect(await store().impersonation.findPolicy(MINE)).toEqual({ ...mine, enabled: true, accessMode: 'open' });
      });

      it('writes the access mode with enabled; enabled: true turns off into open and leaves by_grant alone; the other parts only when given', async () => {
        const byGrant = await store().impersonation.updatePolicy(MINE, { accessMode: 'by_grant', notifyMember: true }, NOW);
        expect(byGrant).toEqual({ organizationId: MINE, ...DEFAULT_PARTS, enabled: true, accessMode: 'by_grant', notifyMember: true, redirectUrl: null, updatedAt: NOW });
        expect(await store().impersonation.updatePolicy(MINE, { enabled: true, delegated: 'off' }, at(1))).toEqual({ ...byGrant, delegated: 'off', updatedAt: at(1) });
        expect(await store().impersonation.updatePolicy(MINE, { enabled: false, notifyAdmins: true }, at(2))).toEqual({ ...byGrant, delegated: 'off', enabled: false, accessMode: 'off', notifyAdmins: true, updatedAt: at(2) });
        expect(await store().impersonation.updatePolicy(MINE, { enabled: true }, at(3))).toEqual({ ...byGrant, delegated: 'off', accessMode: 'open', notifyAdmins: true, updatedAt: at(3) });
        expect(await store().impersonation.updatePolicy(THEIRS, { enabled: false }, at(3))).toMatchObject({ enabled: false, accessMode: 'off', delegated: 'members' });
      });
    });

    describe('revokeUnredeemedTokens', () => {
      it('revokes the matching unredeemed, unexpired tokens once, returns them, and a revoked token no longer redeems', async () => {
        const ann = await mint({ memberId: 'member-test-ann' });
        const bob = await mint({ memberId: 'member-test-bob' });
        const redeemed = await mint({ memberId: 'member-test-ann' });
        await store().impersonation.redeemToken(redeemed.token.tokenId, NOW, 'session-test-r');
        const expired = await mint({ memberId: 'member-test-ann', expiresAt: NOW });
        const revoked = await store().impersonation.revokeUnredeemedTokens({ memberId: 'member-test-ann' }, NOW);
        expect(revoked).toEqual([{ ...ann.token, revokedAt: NOW }]);
        expect((await store().impersonation.findTokenByLookupId(ann.secret.lookupId))?.token.revokedAt).toBe(NOW);
        expect(await store().impersonation.redeemToken(ann.token.tokenId, NOW, 'session-test-after')).toBe(false);
        expect(await store().impersonation.revokeUnredeemedTokens({ memberId: 'member-test-ann' }, at(1))).toEqual([]);
        for (const untouched of [bob, expired]) expect((await store().impersonation.findTokenByLookupId(untouched.secret.lookupId))?.token).toEqual(untouched.token);
        expect((await store().impersonation.findTokenByLookupId(redeemed.secret.lookupId))?.token.revokedAt).toBeNull();
      });

      it('narrows by token id, organization and impersonator identity; an empty identity revokes nothing', async () => {
        const mine = await mint({ organizationId: MINE, impersonatorId: 'operator-test-1', impersonatorEmailAddress: 'pat@ops.example' });
        const legacy = await mint({ organizationId: THEIRS, impersonatorId: 'pat@ops.example', impersonatorEmailAddress: 'pat@ops.example' });
        const other = await mint({ organizationId: MINE, impersonatorId: 'kim', impersonatorEmailAddress: 'kim@ops.example' });
        expect(await store().impersonation.revokeUnredeemedTokens({ impersonator: { ids: [], emailAddresses: [] } }, NOW)).toEqual([]);
        expect(await store().impersonation.revokeUnredeemedTokens({ tokenId: other.token.tokenId, organizationId: THEIRS }, NOW)).toEqual([]);
        const byPat = await store().impersonation.revokeUnredeemedTokens({ impersonator: { ids: ['operator-test-1'], emailAddresses: ['pat@ops.example'] } }, NOW);
        expect(byPat.map((token) => token.tokenId).sort()).toEqual([mine.token.tokenId, legacy.token.tokenId].sort());
        expect(await store().impersonation.revokeUnredeemedTokens({ tokenId: other.token.tokenId }, NOW)).toEqual([{ ...other.token, revokedAt: NOW }]);
      });

      it('races a redemption on one row: exactly one of them wins (two stores on one database on PostgreSQL)', async () => {
        const opened = await factory.open();
        cleanups.push(opened.cleanup);
        const second = opened.databaseUrl === undefined ? opened.store : await openStore({ databaseUrl: opened.databaseUrl, sqliteFile: ':memory:' });
        if (second !== opened.store) cleanups.push(() => second.close());
        for (let round = 0; round < 10; round += 1) {
          const token = aToken();
          const secret = createOpaqueToken(cryptoRandom);
          await opened.store.impersonation.insertToken(token, { lookupId: secret.lookupId, digest: secret.digest });
          const [redeemed, revoked] = await Promise.all([
            opened.store.transaction((tx) => tx.impersonation.redeemToken(token.tokenId, NOW, `session-test-${round}`)),
            second.transaction((tx) => tx.impersonation.revokeUnredeemedTokens({ tokenId: token.tokenId }, NOW)),
          ]);
          expect([redeemed, revoked.length === 1]).toContain(true);
          expect(redeemed && revoked.length === 1).toBe(false);
        }
      });
    });
  });
}
