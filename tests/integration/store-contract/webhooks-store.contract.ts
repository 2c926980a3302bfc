import { describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../../src/domain/audit/audit-event.js';
import type { WebhookDelivery, WebhookEndpoint } from '../../../src/domain/webhooks/webhook.js';
import type { StoreFactory } from '../../support/stores.js';
import { useFreshStore } from './contract-support.js';

const AT = '2026-03-01T12:00:00Z';

function endpoint(id: string, organizationId: string | null, overrides: Partial<WebhookEndpoint> = {}): WebhookEndpoint {
  return { endpointId: `webhook-endpoint-test-${id}`, organizationId, url: `https://hooks.example/${id}`, description: id, createdAt: AT, disabledAt: null, ...overrides };
}

function event(id: string, organizationId: string | null): AuditEvent {
  return {
    eventId: `audit-event-test-0190f3c2-0000-7000-8000-00000000000${id}`,
    type: 'impersonation.token_minted',
    occurredAt: AT,
    requestId: 'request-id-test-1',
    actor: { type: 'cli' },
    organizationId,
    memberId: null,
    impersonatorId: 'support-17',
    client: null,
    details: { reason: 'Ticket 4711' },
  };
}

const ANY = { perEndpoint: 10, skipEndpoints: [] };

function delivery(id: string, endpointId: string, eventId: string, overrides: Partial<WebhookDelivery> = {}): WebhookDelivery {
  return {
    deliveryId: `webhook-delivery-test-${id}`,
    endpointId,
    eventId,
    eventType: 'impersonation.token_minted',
    organizationId: null,
    payload: '{"type":"impersonation.token_minted"}',
    status: 'pending',
    attempts: 0,
    nextAttemptAt: AT,
    lastAttemptAt: null,
    lastStatusCode: null,
    lastError: null,
    createdAt: AT,
    deliveredAt: null,
    ...overrides,
  };
}

/** The WebhooksStore port (src/domain/webhooks/webhook.ts) against one adapter. */
export function describeWebhooksStoreContract(factory: StoreFactory): void {
  describe('WebhooksStore', () => {
    const store = useFreshStore(factory);

    it('keeps endpoints with their sealed secret, lists them by owner and counts the enabled ones', async () => {
      const webhooks = store().webhooks;
      await webhooks.insertEndpoint(endpoint('project', null), 'sealed-1');
      await webhooks.insertEndpoint(endpoint('acme', 'organization-test-acme', { createdAt: '2026-03-01T12:00:01Z' }), 'sealed-2');
      await webhooks.insertEndpoint(endpoint('other', 'organization-test-other'), 'sealed-3');
      expect(await webhooks.findEndpoint('webhook-endpoint-test-acme')).toEqual({ endpoint: endpoint('acme', 'organization-test-acme', { createdAt: '2026-03-01T12:00:01Z' }), sealedSecret: 'sealed-2' });
      expect((await webhooks.listEndpoints({ organizationId: null })).map((entry) => entry.endpointId)).toEqual(['webhook-endpoint-test-project']);
      expect((await webhooks.listEndpoints({ organizationId: 'all' }))[0]?.endpointId).toBe('webhook-endpoint-test-acme');
      expect((await webhooks.listReceivingEndpoints('organization-test-acme')).map((entry) => entry.endpoint.endpointId).sort()).toEqual([
        'webhook-endpoint-test-acme',
        'webhook-endpoint-test-project',
      ]);
      expect((await webhooks.listReceivingEndpoints(null)).map((entry) => entry.endpoint.endpointId)).toEqual(['webhook-endpoint-test-project']);

      const disabled = await webhooks.disableEndpoint('webhook-endpoint-test-acme', '2026-03-01T13:00:00Z');
      expect(disabled?.disabledAt).toBe('2026-03-01T13:00:00Z');
      expect((await webhooks.disableEndpoint('webhook-endpoint-test-acme', '2026-03-01T14:00:00Z'))?.disabledAt).toBe('2026-03-01T13:00:00Z');
      expect(await webhooks.countEnabledEndpoints('organization-test-acme')).toBe(0);
      expect(await webhooks.countEnabledEndpoints(null)).toBe(1);
      expect((await webhooks.listReceivingEndpoints('organization-test-acme')).map((entry) => entry.endpoint.endpointId)).toEqual(['webhook-endpoint-test-project']);
      expect(await webhooks.disableEndpoint('webhook-endpoint-test-none', AT)).toBeUndefined();
    });

    it('takes outbox entries once, oldest first, with their audit events', async () => {
      const first = event('1', 'organization-test-acme');
      const second = event('2', null);
      await store().transaction(async (tx) => {
        await tx.audit.appendEvent(second);
        await tx.audit.appendEvent(first);
        await tx.webhooks.enqueueEvent(second.eventId, AT);
        await tx.webhooks.enqueueEvent(first.eventId, AT);
      });
      const taken = await store().transaction((tx) => tx.webhooks.takeOutbox(1));
      expect(taken).toEqual([first]);
      expect(await store().transaction((tx) => tx.webhooks.takeOutbox(10))).toEqual([second]);
      expect(await store().transaction((tx) => tx.webhooks.takeOutbox(10))).toEqual([]);
    });

    it('inserts one delivery per endpoint and event, claims due ones with a lease, and records an attempt only under its claim', async () => {
      const webhooks = store().webhooks;
      await webhooks.insertEndpoint(endpoint('project', null), 'sealed');
      const endpointId = 'webhook-endpoint-test-project';
      expect(await webhooks.insertDelivery(delivery('1', endpointId, 'audit-event-test-1'))).toBe(true);
      expect(await webhooks.insertDelivery(delivery('2', endpointId, 'audit-event-test-1'))).toBe(false);
      expect(await webhooks.insertDelivery(delivery('3', endpointId, 'audit-event-test-3', { nextAttemptAt: '2026-03-01T12:10:00Z' }))).toBe(true);

      const claimed = await webhooks.claimDueDeliveries('2026-03-01T12:00:05Z', '2026-03-01T12:01:05Z', 10, ANY);
      expect(claimed.map((entry) => [entry.deliveryId, entry.nextAttemptAt])).toEqual([['webhook-delivery-test-1', '2026-03-01T12:01:05Z']]);
      expect(await webhooks.claimDueDeliveries('2026-03-01T12:00:06Z', '2026-03-01T12:01:06Z', 10, ANY)).toEqual([]);

      const outcome = { status: 'pending' as const, attempts: 1, at: '2026-03-01T12:00:07Z', nextAttemptAt: '2026-03-01T12:00:12Z', statusCode: 500, error: 'HTTP 500' };
      expect(await webhooks.recordAttempt('webhook-delivery-test-1', outcome)).toBe(true);
      // The same claim cannot record twice.
      expect(await webhooks.recordAttempt('webhook-delivery-test-1', outcome)).toBe(false);
      expect(await webhooks.recordAttempt('webhook-delivery-test-1', { ...outcome, status: 'delivered', attempts: 2, nextAttemptAt: null, statusCode: 204, error: null })).toBe(true);
      expect(await webhooks.findDelivery('webhook-delivery-test-1')).toMatchObject({ status: 'delivered', attempts: 2, lastStatusCode: 204, lastError: null, deliveredAt: '2026-03-01T12:00:07Z', nextAttemptAt: null });
      expect(await webhooks.claimDueDeliveries('2026-03-01T13:00:00Z', '2026-03-01T13:01:00Z', 10, ANY)).toEqual([expect.objectContaining({ deliveryId: 'webhook-delivery-test-3' })]);
    });

    it('never hands one due delivery to two concurrent claims', async () => {
      await store().webhooks.insertEndpoint(endpoint('project', null), 'sealed');
      for (let index = 0; index < 20; index += 1) await store().webhooks.insertDelivery(delivery(`c${index}`, 'webhook-endpoint-test-project', `audit-event-test-c${index}`));
      const claims = await Promise.all(Array.from({ length: 4 }, () => store().webhooks.claimDueDeliveries('2026-03-01T12:00:05Z', '2026-03-01T12:01:05Z', 8, ANY)));
      const ids = claims.flat().map((entry) => entry.deliveryId);
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids.length).toBeLessThanOrEqual(20);
    });

    it("claims at most `perEndpoint` of each endpoint's due deliveries, oldest first, and none of the skipped endpoints'", async () => {
      const webhooks = store().webhooks;
      for (const id of ['x', 'y', 'z']) await webhooks.insertEndpoint(endpoint(id, null), 'sealed');
      // x has the oldest five; y and z one each, due later.
      for (let index = 0; index < 5; index += 1) await webhooks.insertDelivery(delivery(`x${index}`, 'webhook-endpoint-test-x', `audit-event-test-x${index}`, { nextAttemptAt: `2026-03-01T11:00:0${index}Z` }));
      await webhooks.insertDelivery(delivery('y0', 'webhook-endpoint-test-y', 'audit-event-test-y0', { nextAttemptAt: '2026-03-01T11:30:00Z' }));
      await webhooks.insertDelivery(delivery('z0', 'webhook-endpoint-test-z', 'audit-event-test-z0', { nextAttemptAt: '2026-03-01T11:40:00Z' }));
      const claim = (limit: number, perEndpoint: number, skipEndpoints: string[]) =>
        webhooks.claimDueDeliveries('2026-03-01T12:00:00Z', '2026-03-01T12:01:00Z', limit, { perEndpoint, skipEndpoints }).then((claimed) => claimed.map((entry) => entry.deliveryId));

      expect(await claim(10, 1, ['webhook-endpoint-test-z'])).toEqual(['webhook-delivery-test-x0', 'webhook-delivery-test-y0']);
      expect(await claim(1, 2, [])).toEqual(['webhook-delivery-test-x1']);
      expect(await claim(10, 2, [])).toEqual(['webhook-delivery-test-x2', 'webhook-delivery-test-x3', 'webhook-delivery-test-z0']);
      expect(await claim(10, 2, ['webhook-endpoint-test-x'])).toEqual([]);
      expect(await claim(10, 2, [])).toEqual(['webhook-delivery-test-x4']);
    });

    it('deletes finished deliveries created before a time, in batches, and keeps pending ones', async () => {
      const webhooks = store().webhooks;
      await webhooks.insertEndpoint(endpoint('project', null), 'sealed');
      const old = { createdAt: '2026-01-01T00:00:00Z' };
      await webhooks.insertDelivery(delivery('1', 'webhook-endpoint-test-project', 'audit-event-test-1', { ...old, status: 'delivered', deliveredAt: old.createdAt }));
      await webhooks.insertDelivery(delivery('2', 'webhook-endpoint-test-project', 'audit-event-test-2', { ...old, status: 'failed', attempts: 8 }));
      await webhooks.insertDelivery(delivery('3', 'webhook-endpoint-test-project', 'audit-event-test-3', { ...old, status: 'failed', attempts: 8 }));
      await webhooks.insertDelivery(delivery('4', 'webhook-endpoint-test-project', 'audit-event-test-4', { ...old, status: 'pending' }));
      await webhooks.insertDelivery(delivery('5', 'webhook-endpoint-test-project', 'audit-event-test-5', { status: 'delivered', createdAt: '2026-02-01T00:00:00Z' }));
      expect(await webhooks.deleteFinishedDeliveries('2026-02-01T00:00:00Z', 2)).toBe(2);
      expect(await webhooks.deleteFinishedDeliveries('2026-02-01T00:00:00Z', 2)).toBe(1);
      expect(await webhooks.deleteFinishedDeliveries('2026-02-01T00:00:00Z', 2)).toBe(0);
      expect((await webhooks.listDeliveries({ limit: 10 })).map((entry) => entry.deliveryId).sort()).toEqual(['webhook-delivery-test-4', 'webhook-delivery-test-5']);
    });

    it("lists deliveries newest first, by endpoint, by its owner's endpoints and by status", async () => {
      const webhooks = store().webhooks;
      await webhooks.insertEndpoint(endpoint('project', null), 'sealed');
      await webhooks.insertEndpoint(endpoint('acme', 'organization-test-acme'), 'sealed');
      await webhooks.insertDelivery(delivery('1', 'webhook-endpoint-test-project', 'audit-event-test-1'));
      await webhooks.insertDelivery(delivery('2', 'webhook-endpoint-test-acme', 'audit-event-test-1', { createdAt: '2026-03-01T12:00:01Z', status: 'failed' }));
      expect((await webhooks.listDeliveries({ limit: 10 })).map((entry) => entry.deliveryId)).toEqual(['webhook-delivery-test-2', 'webhook-delivery-test-1']);
      expect((await webhooks.listDeliveries({ owner: 'organization-test-acme', limit: 10 })).map((entry) => entry.deliveryId)).toEqual(['webhook-delivery-test-2']);
      expect((await webhooks.listDeliveries({ owner: null, limit: 10 })).map((entry) => entry.deliveryId)).toEqual(['webhook-delivery-test-1']);
      expect((await webhooks.listDeliveries({ status: 'pending', limit: 10 })).map((entry) => entry.deliveryId)).toEqual(['webhook-delivery-test-1']);
      expect((await webhooks.listDeliveries({ endpointId: 'webhook-endpoint-test-acme', limit: 1 })).map((entry) => entry.deliveryId)).toEqual(['webhook-delivery-test-2']);
    });
  });
}
