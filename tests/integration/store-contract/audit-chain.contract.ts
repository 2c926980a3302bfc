import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chainHash, GENESIS_HASH, type ChainedAuditRecord } from '../../../src/domain/audit/audit-chain.js';
import { AuditChainVerifier } from '../../../src/domain/audit/audit-chain-verifier.js';
import type { AuditEvent, AuditEventType } from '../../../src/domain/audit/audit-event.js';
import type { Database } from '../../../src/storage/database.js';
import type { Store } from '../../../src/storage/store.js';
import type { StoreFactory } from '../../support/stores.js';
import { openWithRawAccess } from './contract-support.js';

let sequence = 0;

/** Each call a new organization id, so the tests of one database never share a chain. */
function anOrganizationId(): string {
  sequence += 1;
  return `organization-test-chain-${sequence}-${Math.random().toString(16).slice(2, 8)}`;
}

function anEvent(organizationId: string | null, type: AuditEventType = 'impersonation.token_minted', details: Record<string, unknown> = {}): AuditEvent {
  sequence += 1;
  return {
    eventId: `audit-event-test-chain-${String(sequence).padStart(6, '0')}-${Math.random().toString(16).slice(2, 8)}`,
    type,
    occurredAt: `2026-01-01T00:00:${String(sequence % 60).padStart(2, '0')}Z`,
    requestId: `request-id-test-${sequence}`,
    actor: { type: 'project', projectId: 'project-test-1' },
    organizationId,
    memberId: null,
    impersonatorId: 'support-17',
    client: { ipAddress: '203.0.113.9', userAgent: 'Mozilla/5.0 é' },
    details: { reason: 'Ticket 4711', ...details },
  };
}

/** The AuditStore's chaining and outbox (appendEvent's options) and the AuditChainStore port, against one adapter. */
export function describeAuditChainContract(factory: StoreFactory): void {
  describe('AuditStore.appendEvent chaining and AuditChainStore', () => {
    let opened: { store: Store; db: Kysely<Database>; close: () => Promise<void> };
    const store = (): Store => opened.store;
    const chainOf = async (chainId: string): Promise<ChainedAuditRecord[]> => store().auditChains.readChain(chainId, { afterSeq: 0, throughSeq: 1_000_000, limit: 1000 });
    const outboxHas = async (eventId: string): Promise<boolean> =>
      (await opened.db.selectFrom('webhook_outbox').select('event_id').where('event_id', '=', eventId).executeTakeFirst()) !== undefined;
    const rawRow = (eventId: string) => opened.db.selectFrom('audit_events').select(['chain_id', 'chain_seq', 'prev_hash', 'hash']).where('event_id', '=', eventId).executeTakeFirstOrThrow();

    beforeAll(async () => {
      opened = await openWithRawAccess(factory);
    });
    afterAll(async () => opened?.close());

    it("chains each organization's events apart, and events of no organization in the project's chain, seq from 1, each linked to the one before", async () => {
      const acme = anOrganizationId();
      const globex = anOrganizationId();
      const written = [anEvent(acme), anEvent(globex), anEvent(acme), anEvent(null, 'operator.signed_in'), anEvent(acme), anEvent(globex)];
      for (const event of written) await store().transaction((tx) => tx.audit.appendEvent(event, { chained: true }));

      const acmeChain = await chainOf(acme);
      expect(acmeChain.map((record) => [record.seq, record.eventId])).toEqual([
        [1, written[0]?.eventId],
        [2, written[2]?.eventId],
        [3, written[4]?.eventId],
      ]);
      expect(acmeChain[0]?.prevHash).toBe(GENESIS_HASH);
      for (const [index, record] of acmeChain.entries()) {
        expect(record.hash).toBe(chainHash(record));
        if (index > 0) expect(record.prevHash).toBe(acmeChain[index - 1]?.hash);
      }
      // The stored JSON text is what was hashed.
      expect(acmeChain[0]?.detailsJson).toBe(JSON.stringify(written[0]?.details));
      expect((await chainOf(globex)).map((record) => record.seq)).toEqual([1, 2]);
      expect((await chainOf('project')).map((record) => record.eventId)).toContain(written[3]?.eventId);

      const [head] = await store().auditChains.listChainHeads(acme);
      expect(head).toEqual({ chainId: acme, seq: 3, hash: acmeChain[2]?.hash, updatedAt: written[4]?.occurredAt });
      expect(await store().auditChains.chainExtents(acme)).toEqual([{ chainId: acme, lastSeq: 3 }]);
      expect((await store().auditChains.listChainHeads()).map((entry) => entry.chainId)).toEqual(expect.arrayContaining([acme, globex, 'project']));
      // Reading an event back is unchanged by its chain.
      expect(await store().audit.listEvents({ organizationId: acme, limit: 10 })).toEqual(expect.arrayContaining([written[0], written[2], written[4]]));
    });

    it('leaves the chain columns of unchained events null, and lists them as in no chain', async () => {
      const acme = anOrganizationId();
      const unchained = anEvent(acme, 'member.updated');
      await store().audit.appendEvent(unchained);
      await store().audit.appendEvent(anEvent(acme), { chained: true });
      expect(await rawRow(unchained.eventId)).toEqual({ chain_id: null, chain_seq: null, prev_hash: null, hash: null });
      expect((await chainOf(acme)).map((record) => record.seq)).toEqual([1]);
      const outside = await store().auditChains.listUnchainedEvents({ organizationId: acme }, { limit: 10, afterEventId: null });
      expect(outside).toEqual([unchained]);
      expect(await store().auditChains.listUnchainedEvents({ organizationId: acme }, { limit: 10, afterEventId: unchained.eventId })).toEqual([]);
    });

    it("writes published events to the webhook outbox in the event's transaction, only while an enabled endpoint could receive them, and rolls both back together", async () => {
      const endpoint = (organizationId: string | null, disabledAt: string | null = null) =>
        store().webhooks.insertEndpoint(
          { endpointId: `webhook-endpoint-test-${randomUUID()}`, organizationId, url: 'https://hooks.example/understudy', description: '', createdAt: '2026-03-01T00:00:00Z', disabledAt },
          'sealed-secret-test',
        );
      // No endpoint, another organization's, or a disabled one: nothing would receive it, so nothing is queued.
      const quiet = anOrganizationId();
      const unheard = anEvent(quiet);
      await store().audit.appendEvent(unheard, { chained: true, published: true });
      await endpoint(anOrganizationId());
      await endpoint(quiet, '2026-03-01T00:00:00Z');
      const stillUnheard = anEvent(quiet);
      await store().audit.appendEvent(stillUnheard, { chained: true, published: true });
      expect([await outboxHas(unheard.eventId), await outboxHas(stillUnheard.eventId)]).toEqual([false, false]);
      await endpoint(quiet);
      const heard = anEvent(quiet);
      await store().audit.appendEvent(heard, { chained: true, published: true });
      expect(await outboxHas(heard.eventId)).toBe(true);
      // The project's endpoint hears every organization's events and those of none.
      await endpoint(null);
      const acme = anOrganizationId();
      const published = anEvent(acme);
      await store().transaction((tx) => tx.audit.appendEvent(published, { chained: true, published: true }));
      expect(await outboxHas(published.eventId)).toBe(true);
      const publishedOnly = anEvent(null, 'audit.chain_head_published');
      await store().audit.appendEvent(publishedOnly, { published: true });
      expect(await outboxHas(publishedOnly.eventId)).toBe(true);
      expect((await rawRow(publishedOnly.eventId)).chain_id).toBeNull();
      const unpublished = anEvent(acme);
      await store().audit.appendEvent(unpublished, { chained: true });
      expect(await outboxHas(unpublished.eventId)).toBe(false);

      const rolledBack = anEvent(acme);
      const failure = new Error('work failed');
      await expect(
        store().transaction(async (tx) => {
          await tx.audit.appendEvent(rolledBack, { chained: true, published: true });
          throw failure;
        }),
      ).rejects.toBe(failure);
      expect(await outboxHas(rolledBack.eventId)).toBe(false);
      expect((await store().auditChains.listChainHeads(acme))[0]?.seq).toBe(2);
      // The next append takes the place the rolled-back one had.
      const next = anEvent(acme);
      await store().audit.appendEvent(next, { chained: true });
      expect((await chainOf(acme)).map((record) => record.eventId)).toEqual([published.eventId, unpublished.eventId, next.eventId]);
    });

    it('outside a transaction, appends in one of its own: a refused event moves no head and enqueues nothing', async () => {
      const acme = anOrganizationId();
      const first = anEvent(acme);
      await store().audit.appendEvent(first, { chained: true, published: true });
      expect(await outboxHas(first.eventId)).toBe(true);
      // The same id again: the insert is refused after the head was read and locked; nothing of it stays.
      await expect(store().audit.appendEvent({ ...first, type: 'impersonation.token_revoked' }, { chained: true, published: true })).rejects.toThrow();
      expect((await store().auditChains.listChainHeads(acme))[0]).toMatchObject({ seq: 1, hash: (await chainOf(acme))[0]?.hash });
      const second = anEvent(acme);
      await store().audit.appendEvent(second, { chained: true });
      expect((await chainOf(acme)).map((record) => record.seq)).toEqual([1, 2]);
    });

    it('keeps one unbroken chain under concurrent appends to it, outside and inside transactions', async () => {
      const acme = anOrganizationId();
      const globex = anOrganizationId();
      const writes = Array.from({ length: 40 }, (_, index) => {
        const event = anEvent(index % 4 === 3 ? globex : acme);
        return index % 2 === 0 ? store().audit.appendEvent(event, { chained: true, published: true }) : store().transaction((tx) => tx.audit.appendEvent(event, { chained: true }));
      });
      await Promise.all(writes);
      expect((await chainOf(acme)).map((record) => record.seq)).toEqual(Array.from({ length: 30 }, (_, index) => index + 1));
      expect((await chainOf(globex)).map((record) => record.seq)).toEqual(Array.from({ length: 10 }, (_, index) => index + 1));
      const verification = await new AuditChainVerifier({ store: store() }).verify({ chainId: acme });
      expect(verification).toMatchObject({ valid: true, checkedRecords: 30 });
    });

    it('reads a chain a page at a time between two seqs', async () => {
      const acme = anOrganizationId();
      for (let index = 0; index < 5; index += 1) await store().audit.appendEvent(anEvent(acme), { chained: true });
      const page = await store().auditChains.readChain(acme, { afterSeq: 1, throughSeq: 4, limit: 2 });
      expect(page.map((record) => record.seq)).toEqual([2, 3]);
      expect((await store().auditChains.readChain(acme, { afterSeq: 3, throughSeq: 4, limit: 10 })).map((record) => record.seq)).toEqual([4]);
      expect(await store().auditChains.readChain('organization-test-none', { afterSeq: 0, throughSeq: 10, limit: 10 })).toEqual([]);
      expect(await store().auditChains.chainExtents('organization-test-none')).toEqual([]);
      expect(await store().auditChains.listChainHeads('organization-test-none')).toEqual([]);
    });

    it("finds the newest event of a type among an organization's (or no organization's) events", async () => {
      const acme = anOrganizationId();
      const older = anEvent(null, 'audit.chain_head_published', { digest: 'older' });
      const newer = anEvent(null, 'audit.chain_head_published', { digest: 'newer' });
      await store().audit.appendEvent(older);
      await store().audit.appendEvent(anEvent(acme, 'audit.chain_head_published'));
      await store().audit.appendEvent(newer);
      await store().audit.appendEvent(anEvent(null, 'operator.signed_in'));
      expect(await store().auditChains.latestEventOfType('audit.chain_head_published', null)).toEqual(newer);
      expect((await store().auditChains.latestEventOfType('audit.chain_head_published', acme))?.organizationId).toBe(acme);
      expect(await store().auditChains.latestEventOfType('impersonation.access_denied', acme)).toBeUndefined();
    });

    it("keeps each chain's furthest published head: marking moves a row forward only", async () => {
      const acme = anOrganizationId();
      const globex = anOrganizationId();
      const hash = (n: number) => String(n).repeat(64).slice(0, 64);
      await store().transaction((tx) =>
        tx.auditChains.markPublished([
          { chainId: acme, seq: 3, hash: hash(3) },
          { chainId: globex, seq: 1, hash: hash(1) },
        ]),
      );
      await store().auditChains.markPublished([]);
      expect(await store().auditChains.listPublishedHeads(acme)).toEqual([{ chainId: acme, seq: 3, hash: hash(3) }]);
      // Forward: taken. Back, or the same seq with another hash (a chain cut back or rewritten): kept as it was.
      await store().auditChains.markPublished([{ chainId: acme, seq: 5, hash: hash(5) }]);
      await store().auditChains.markPublished([{ chainId: acme, seq: 2, hash: hash(2) }, { chainId: globex, seq: 1, hash: hash(9) }]);
      const listed = await store().auditChains.listPublishedHeads();
      expect(listed.filter((head) => head.chainId === acme || head.chainId === globex)).toEqual(
        [
          { chainId: acme, seq: 5, hash: hash(5) },
          { chainId: globex, seq: 1, hash: hash(1) },
        ].sort((a, b) => (a.chainId < b.chainId ? -1 : 1)),
      );
      expect(await store().auditChains.listPublishedHeads('organization-test-none')).toEqual([]);
    });

    it('lets one transaction at a time hold the head publication lock', async () => {
      const order: string[] = [];
      let releaseFirst: () => void = () => undefined;
      const firstHolds = new Promise<void>((resolve) => {
        releaseFirst = resolve;
      });
      let firstLocked: () => void = () => undefined;
      const locked = new Promise<void>((resolve) => {
        firstLocked = resolve;
      });
      const first = store().transaction(async (tx) => {
        await tx.auditChains.lockHeadPublication();
        firstLocked();
        await firstHolds;
        order.push('first done');
      });
      await locked;
      const second = store().transaction(async (tx) => {
        await tx.auditChains.lockHeadPublication();
        order.push('second locked');
      });
      await new Promise((wake) => setTimeout(wake, 100));
      releaseFirst();
      await Promise.all([first, second]);
      expect(order).toEqual(['first done', 'second locked']);
    });
  });
}
