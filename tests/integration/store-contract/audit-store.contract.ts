import { describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../../src/domain/audit/audit-event.js';
import type { StoreFactory } from '../../support/stores.js';
import { useFreshStore } from './contract-support.js';

let sequence = 0;

function anEvent(overrides: Partial<AuditEvent> = {}): AuditEvent {
  sequence += 1;
  return {
    eventId: `audit-event-test-${String(sequence).padStart(6, '0')}`,
    type: 'organization.updated',
    occurredAt: '2026-01-01T00:00:00Z',
    requestId: `request-id-test-${sequence}`,
    actor: { type: 'project', projectId: 'project-test-1' },
    organizationId: 'organization-test-1',
    memberId: null,
    impersonatorId: null,
    client: null,
    details: {},
    ...overrides,
  };
}

/** The AuditStore port (src/domain/audit/audit-store.ts) against one adapter. */
export function describeAuditStoreContract(factory: StoreFactory): void {
  describe('AuditStore', () => {
    const store = useFreshStore(factory);

    describe('appendEvent', () => {
      it('round-trips every field: actor and details as JSON, null organization and member ids', async () => {
        const withEverything = anEvent({
          type: 'member.updated',
          memberId: 'member-test-1',
          impersonatorId: 'support-17',
          client: { ipAddress: '203.0.113.9', userAgent: 'curl/8' },
          actor: { type: 'project', projectId: 'project-test-xyz' },
          details: { fields: ['name', 'roles'], previous: null, verified: false, count: 2 },
        });
        const systemEvent = anEvent({ type: 'project.created', organizationId: null, memberId: null, actor: { type: 'system' } });
        await store().audit.appendEvent(withEverything);
        await store().audit.appendEvent(systemEvent);
        const events = await store().audit.listEvents({ organizationId: null, limit: 10 });
        expect(events).toContainEqual(withEverything);
        expect(events).toContainEqual(systemEvent);
        expect(events).toHaveLength(2);
      });

      it('keeps events append-only: a second event with the same id is refused and the first is unchanged', async () => {
        const original = anEvent();
        await store().audit.appendEvent(original);
        await expect(store().audit.appendEvent({ ...original, type: 'organization.deleted' })).rejects.toThrow();
        expect(await store().audit.listEvents({ organizationId: null, limit: 10 })).toEqual([original]);
      });
    });

    describe('listEvents', () => {
      it('returns [] when there are no events', async () => {
        expect(await store().audit.listEvents({ organizationId: null, limit: 10 })).toEqual([]);
        expect(await store().audit.listEvents({ organizationId: 'organization-test-1', limit: 10 })).toEqual([]);
      });

      it('lists newest first, breaking ties on occurredAt by event id, up to the limit', async () => {
        const oldest = anEvent({ occurredAt: '2026-01-01T00:00:00Z' });
        const tiedFirst = anEvent({ occurredAt: '2026-01-01T00:00:05Z' });
        const tiedSecond = anEvent({ occurredAt: '2026-01-01T00:00:05Z' });
        const newest = anEvent({ occurredAt: '2026-01-01T00:00:09Z' });
        for (const event of [tiedSecond, newest, oldest, tiedFirst]) await store().audit.appendEvent(event);
        expect(await store().audit.listEvents({ organizationId: null, limit: 10 })).toEqual([newest, tiedSecond, tiedFirst, oldest]);
        expect(await store().audit.listEvents({ organizationId: null, limit: 2 })).toEqual([newest, tiedSecond]);
      });

      it('isolation: an organization sees only its own events; null lists every event', async () => {
        const mine = anEvent({ organizationId: 'organization-test-mine' });
        const theirs = anEvent({ organizationId: 'organization-test-theirs' });
        const global = anEvent({ organizationId: null, type: 'project.created' });
        for (const event of [mine, theirs, global]) await store().audit.appendEvent(event);
        expect(await store().audit.listEvents({ organizationId: 'organization-test-mine', limit: 10 })).toEqual([mine]);
        expect(await store().audit.listEvents({ organizationId: 'organization-test-unknown', limit: 10 })).toEqual([]);
        expect(await store().audit.listEvents({ organizationId: null, limit: 10 })).toHaveLength(3);
      });
    });
  });
}
