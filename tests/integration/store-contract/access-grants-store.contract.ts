import { describe, expect, it } from 'vitest';
import type { AccessGrant } from '../../../src/domain/impersonation/access-grant.js';
import type { StoreFactory } from '../../support/stores.js';
import { useFreshStore } from './contract-support.js';

const MINE = 'organization-test-mine';
const THEIRS = 'organization-test-theirs';
const ADMIN = { type: 'member_session', projectId: 'project-test-1', organizationId: MINE, memberId: 'member-test-admin', memberSessionId: 'session-test-admin' } as const;

/** Minutes after 2026-02-01T00:00:00Z, as stored timestamps. */
function at(minutes: number): string {
  return new Date(Date.UTC(2026, 1, 1) + minutes * 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

let count = 0;
function aGrant(overrides: Partial<AccessGrant> = {}): AccessGrant {
  count += 1;
  return {
    grantId: `access-grant-test-${String(count).padStart(4, '0')}`,
    organizationId: MINE,
    status: 'open',
    memberIds: null,
    durationMinutes: 60,
    reason: 'Ticket 4711',
    requestedBy: ADMIN,
    requestedAt: at(count),
    openedBy: ADMIN,
    openedAt: at(count),
    expiresAt: at(count + 60),
    closedBy: null,
    closedAt: null,
    ...overrides,
  };
}

/** The AccessGrantsStore port (src/domain/impersonation/access-grant.ts) against one adapter. */
export function describeAccessGrantsStoreContract(factory: StoreFactory): void {
  describe('AccessGrantsStore', () => {
    const store = useFreshStore(factory);

    it('keeps a grant as given, actors and member list included', async () => {
      const grants = store().accessGrants;
      const requested = aGrant({ status: 'requested', memberIds: ['member-test-ann', 'member-test-bob'], requestedBy: { type: 'project', projectId: 'project-test-1' }, openedBy: null, openedAt: null, expiresAt: null });
      await grants.insertGrant(requested);
      expect(await grants.findGrant(requested.grantId)).toEqual(requested);
      expect(await store().transaction((tx) => tx.accessGrants.findGrant(requested.grantId, 'for_update'))).toEqual(requested);
      expect(await grants.findGrant('access-grant-test-unknown')).toBeUndefined();
    });

    it('finds the open, unexpired grants covering a member, oldest first', async () => {
      const grants = store().accessGrants;
      const everyone = aGrant({ openedAt: at(1), expiresAt: at(100) });
      const annOnly = aGrant({ memberIds: ['member-test-ann'], openedAt: at(2), expiresAt: at(100) });
      const bobOnly = aGrant({ memberIds: ['member-test-bob'], openedAt: at(0), expiresAt: at(100) });
      const ended = aGrant({ openedAt: at(0), expiresAt: at(10) });
      const revoked = aGrant({ status: 'revoked', openedAt: at(0), expiresAt: at(100), closedAt: at(5), closedBy: ADMIN });
      const requested = aGrant({ status: 'requested', openedBy: null, openedAt: null, expiresAt: null });
      const theirs = aGrant({ organizationId: THEIRS, openedAt: at(0) });
      for (const grant of [everyone, annOnly, bobOnly, ended, revoked, requested, theirs]) await grants.insertGrant(grant);
      const ids = async (memberId: string, now: string) => (await grants.findCoveringGrants(MINE, memberId, now)).map((grant) => grant.grantId);
      expect(await ids('member-test-ann', at(20))).toEqual([everyone.grantId, annOnly.grantId]);
      expect(await ids('member-test-bob', at(5))).toEqual([bobOnly.grantId, ended.grantId, everyone.grantId]);
      expect(await ids('member-test-cat', at(100))).toEqual([]);
      expect(await store().transaction((tx) => tx.accessGrants.findCoveringGrants(MINE, 'member-test-ann', at(20), 'for_share'))).toHaveLength(2);
    });

    it('moves a grant only from the states given (and, when asked, only while unexpired), writing only the given columns; concurrent moves: one wins', async () => {
      const grants = store().accessGrants;
      const requested = aGrant({ status: 'requested', openedBy: null, openedAt: null, expiresAt: null });
      await grants.insertGrant(requested);
      expect(await grants.transitionGrant(requested.grantId, { from: ['open'] }, 'revoked', { closedBy: ADMIN, closedAt: at(1) })).toBeUndefined();
      const moves = await Promise.all([
        grants.transitionGrant(requested.grantId, { from: ['requested'] }, 'open', { openedBy: ADMIN, openedAt: at(3), expiresAt: at(63) }),
        grants.transitionGrant(requested.grantId, { from: ['requested'] }, 'denied', { closedBy: ADMIN, closedAt: at(3) }),
      ]);
      expect(moves.filter((moved) => moved !== undefined)).toHaveLength(1);
      const opened = aGrant({ expiresAt: at(30) });
      await grants.insertGrant(opened);
      expect(await grants.transitionGrant(opened.grantId, { from: ['open'], unexpiredAt: at(30) }, 'revoked', { closedBy: ADMIN, closedAt: at(30) })).toBeUndefined();
      const revoked = await grants.transitionGrant(opened.grantId, { from: ['open'], unexpiredAt: at(29) }, 'revoked', { closedBy: { type: 'cli' }, closedAt: at(29) });
      expect(revoked).toEqual({ ...opened, status: 'revoked', closedBy: { type: 'cli' }, closedAt: at(29) });
      expect(await grants.findGrant(opened.grantId)).toEqual(revoked);
    });

    it('lists grants newest first, by organization and by state (expired: open past its end)', async () => {
      const grants = store().accessGrants;
      const older = aGrant({ requestedAt: at(1), expiresAt: at(10) });
      const newer = aGrant({ requestedAt: at(2), expiresAt: at(100) });
      const denied = aGrant({ status: 'denied', requestedAt: at(3), openedBy: null, openedAt: null, expiresAt: null, closedBy: ADMIN, closedAt: at(4) });
      const theirs = aGrant({ organizationId: THEIRS, requestedAt: at(4) });
      for (const grant of [older, newer, denied, theirs]) await grants.insertGrant(grant);
      const ids = async (filter: { organizationId?: string; state?: 'open' | 'expired' | 'denied' }, limit = 10) =>
        (await grants.listGrants({ ...filter, now: at(20), limit })).map((grant) => grant.grantId);
      expect(await ids({})).toEqual([theirs.grantId, denied.grantId, newer.grantId, older.grantId]);
      expect(await ids({ organizationId: MINE })).toEqual([denied.grantId, newer.grantId, older.grantId]);
      expect(await ids({ organizationId: MINE, state: 'open' })).toEqual([newer.grantId]);
      expect(await ids({ organizationId: MINE, state: 'expired' })).toEqual([older.grantId]);
      expect(await ids({ state: 'denied' })).toEqual([denied.grantId]);
      expect(await ids({ organizationId: MINE }, 2)).toEqual([denied.grantId, newer.grantId]);
    });
  });
}
