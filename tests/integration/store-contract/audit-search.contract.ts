import { describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../../src/domain/audit/audit-event.js';
import type { AuditEventFilter } from '../../../src/domain/audit/audit-store.js';
import { IdGenerator } from '../../../src/platform/ids.js';
import { cryptoRandom } from '../../../src/platform/random.js';
import type { StoreFactory } from '../../support/stores.js';
import { useFreshStore } from './contract-support.js';

const MINE = 'organization-test-mine';
const THEIRS = 'organization-test-theirs';
const WRITE_TIME = new Date('2026-02-01T00:00:00Z');

/** AuditStore.searchEvents (src/domain/audit/audit-store.ts) against one adapter. */
export function describeAuditSearchContract(factory: StoreFactory): void {
  describe('AuditStore.searchEvents', () => {
    const store = useFreshStore(factory);

    /**
     * Events as the AuditRecorder writes them: ids from IdGenerator.nextTimeOrdered, all in one
     * millisecond, so only the id's counter says which was written first.
     */
    function writer(): (overrides?: Partial<AuditEvent>) => Promise<AuditEvent> {
      const ids = new IdGenerator(cryptoRandom, 'test');
      return async (overrides = {}) => {
        const event: AuditEvent = {
          eventId: ids.nextTimeOrdered('audit-event', WRITE_TIME),
          type: 'impersonation.token_minted',
          occurredAt: '2026-02-01T00:00:00Z',
          requestId: 'request-id-test-1',
          actor: { type: 'project', projectId: 'project-test-1' },
          organizationId: MINE,
          memberId: 'member-test-ann',
          impersonatorId: 'support-17',
          client: null,
          details: {},
          ...overrides,
        };
        await store().audit.appendEvent(event);
        return event;
      };
    }

    function search(filter: AuditEventFilter, limit = 100, afterEventId: string | null = null): Promise<AuditEvent[]> {
      return store().audit.searchEvents(filter, { limit, afterEventId });
    }

    it('returns [] when nothing is stored or nothing matches', async () => {
      expect(await search({})).toEqual([]);
      const write = writer();
      await write();
      expect(await search({ organizationId: 'organization-test-unknown' })).toEqual([]);
      expect(await search({ typePrefix: 'member.' })).toEqual([]);
    });

    it('returns events in the order they were written (event id order), whatever their occurredAt', async () => {
      const write = writer();
      const first = await write({ occurredAt: '2026-02-01T00:00:09Z' });
      const second = await write({ occurredAt: '2026-02-01T00:00:01Z', type: 'impersonation.session_expired' });
      const third = await write({ occurredAt: '2026-02-01T00:00:05Z' });
      expect(await search({})).toEqual([first, second, third]);
    });

    it('round-trips impersonatorId and client, and null for both', async () => {
      const write = writer();
      const withClient = await write({ impersonatorId: 'support-17', client: { ipAddress: '2001:db8::7', userAgent: 'Mozilla/5.0 "quoted" ✓' } });
      const without = await write({ impersonatorId: null, client: null, type: 'member.updated' });
      expect(await search({})).toEqual([withClient, without]);
    });

    it('matches typePrefix as a literal, case-sensitive prefix: LIKE metacharacters (_ % \\) match only themselves', async () => {
      const write = writer();
      const minted = await write({ type: 'impersonation.token_minted' });
      const refused = await write({ type: 'impersonation.mint_refused' });
      const revoked = await write({ type: 'session.revoked' });
      const externalId = await write({ type: 'organization.external_id_deleted' });
      await write({ type: 'organization.updated' });
      expect(await search({ typePrefix: 'impersonation.' })).toEqual([minted, refused]);
      expect(await search({ typePrefix: 'impersonation.token_' })).toEqual([minted]);
      expect(await search({ typePrefix: 'session.revoked' })).toEqual([revoked]);
      expect(await search({ typePrefix: 'organization.external_id' })).toEqual([externalId]);
      expect(await search({ typePrefix: '' })).toHaveLength(5);
      for (const prefix of ['impersonation_', 'session_', '%', 'session%', '_', 'impersonation.%', 'organization.external_id\\', '\\', 'IMPERSONATION.', 'Session.']) {
        expect(await search({ typePrefix: prefix }), `typePrefix ${JSON.stringify(prefix)}`).toEqual([]);
      }
    });

    it('filters by organization, member and impersonator, each alone and together (other organizations never leak in)', async () => {
      const write = writer();
      const annBySam = await write({ organizationId: MINE, memberId: 'member-test-ann', impersonatorId: 'sam' });
      const bobByKim = await write({ organizationId: MINE, memberId: 'member-test-bob', impersonatorId: 'kim' });
      const cydBySam = await write({ organizationId: THEIRS, memberId: 'member-test-cyd', impersonatorId: 'sam' });
      const project = await write({ organizationId: null, memberId: null, impersonatorId: null, type: 'project.created' });
      expect(await search({ organizationId: MINE })).toEqual([annBySam, bobByKim]);
      expect(await search({ organizationId: THEIRS })).toEqual([cydBySam]);
      expect(await search({ memberId: 'member-test-bob' })).toEqual([bobByKim]);
      expect(await search({ impersonator: { ids: ['sam'], emailAddresses: [] } })).toEqual([annBySam, cydBySam]);
      expect(await search({ organizationId: MINE, impersonator: { ids: ['sam'], emailAddresses: [] } })).toEqual([annBySam]);
      expect(await search({ organizationId: THEIRS, memberId: 'member-test-ann' })).toEqual([]);
      expect(await search({ organizationId: MINE, memberId: 'member-test-ann', impersonator: { ids: ['sam'], emailAddresses: [] }, typePrefix: 'impersonation.' })).toEqual([annBySam]);
      expect(await search({})).toEqual([annBySam, bobByKim, cydBySam, project]);
    });

    it('finds an impersonator by their ids and by every id recorded on tokens with their addresses; an empty identity matches nothing', async () => {
      const write = writer();
      const token = (impersonatorId: string, impersonatorEmailAddress: string) =>
        store().impersonation.insertToken(
          {
            tokenId: `impersonation-token-test-${impersonatorId}-${impersonatorEmailAddress}`,
            organizationId: MINE,
            memberId: 'member-test-ann',
            impersonatorId,
            impersonatorEmailAddress,
            reason: 'Ticket 1',
            memberEmailAddress: 'ann@acme.example',
            createdAt: '2026-02-01T00:00:00Z',
            expiresAt: '2026-02-01T00:05:00Z',
            redeemedAt: null,
            memberSessionId: null,
            revokedAt: null,
            grantId: null,
            kind: 'support',
            permissionMask: null,
          },
          { lookupId: `${impersonatorId}-${impersonatorEmailAddress}`.slice(0, 40), digest: Buffer.alloc(32, 1) },
        );
      await token('staff-9', 'pat@ops.example');
      await token('pat@ops.example', 'pat@ops.example');
      await token('kim', 'kim@ops.example');
      const byStaffId = await write({ impersonatorId: 'staff-9' });
      const byAddress = await write({ impersonatorId: 'pat@ops.example' });
      const byOperatorId = await write({ impersonatorId: 'operator-test-pat' });
      const kim = await write({ impersonatorId: 'kim' });
      await write({ impersonatorId: null });
      expect(await search({ impersonator: { ids: [], emailAddresses: ['pat@ops.example'] } })).toEqual([byStaffId, byAddress]);
      expect(await search({ impersonator: { ids: ['operator-test-pat'], emailAddresses: ['pat@ops.example'] } })).toEqual([byStaffId, byAddress, byOperatorId]);
      expect(await search({ impersonator: { ids: [], emailAddresses: ['pat@ops.example', 'kim@ops.example'] } })).toEqual([byStaffId, byAddress, kim]);
      expect(await search({ impersonator: { ids: ['kim'], emailAddresses: ['nobody@ops.example'] } })).toEqual([kim]);
      expect(await search({ impersonator: { ids: [], emailAddresses: ['nobody@ops.example'] } })).toEqual([]);
      expect(await search({ impersonator: { ids: [], emailAddresses: [] } })).toEqual([]);
      expect(await search({ organizationId: THEIRS, impersonator: { ids: [], emailAddresses: ['pat@ops.example'] } })).toEqual([]);
    });

    it('bounds occurredAt: since is inclusive, until is exclusive', async () => {
      const write = writer();
      const nine = await write({ occurredAt: '2026-02-01T09:00:00Z' });
      const ten = await write({ occurredAt: '2026-02-01T10:00:00Z' });
      const eleven = await write({ occurredAt: '2026-02-01T11:00:00Z' });
      const twelve = await write({ occurredAt: '2026-02-01T12:00:00Z' });
      expect(await search({ since: '2026-02-01T10:00:00Z' })).toEqual([ten, eleven, twelve]);
      expect(await search({ until: '2026-02-01T11:00:00Z' })).toEqual([nine, ten]);
      expect(await search({ since: '2026-02-01T10:00:00Z', until: '2026-02-01T12:00:00Z' })).toEqual([ten, eleven]);
      expect(await search({ since: '2026-02-01T10:00:00Z', until: '2026-02-01T10:00:00Z' })).toEqual([]);
      expect(await search({ since: '2026-02-01T12:00:01Z' })).toEqual([]);
    });

    it('pages with limit and afterEventId: every event exactly once, in write order, then []', async () => {
      const write = writer();
      const written: AuditEvent[] = [];
      for (let index = 0; index < 7; index += 1) written.push(await write({ requestId: `request-id-test-${index}` }));
      const pages: AuditEvent[][] = [];
      let after: string | null = null;
      for (;;) {
        const page: AuditEvent[] = await search({}, 3, after);
        if (page.length === 0) break;
        pages.push(page);
        after = (page[page.length - 1] as AuditEvent).eventId;
      }
      expect(pages.map((page) => page.length)).toEqual([3, 3, 1]);
      expect(pages.flat()).toEqual(written);
      expect(await search({}, 1)).toEqual([written[0]]);
      expect(await search({}, 100, (written[4] as AuditEvent).eventId)).toEqual(written.slice(5));
    });

    it('applies afterEventId together with the filters', async () => {
      const write = writer();
      const mineFirst = await write({ organizationId: MINE });
      await write({ organizationId: THEIRS });
      const mineSecond = await write({ organizationId: MINE });
      const theirs = await write({ organizationId: THEIRS });
      expect(await search({ organizationId: MINE }, 100, mineFirst.eventId)).toEqual([mineSecond]);
      expect(await search({ organizationId: MINE }, 100, mineSecond.eventId)).toEqual([]);
      expect(await search({ organizationId: THEIRS }, 100, mineFirst.eventId)).toHaveLength(2);
      expect(await search({ organizationId: THEIRS }, 100, mineSecond.eventId)).toEqual([theirs]);
    });
  });
}
