import { sql, type Kysely } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { chainHash, GENESIS_HASH } from '../../../src/domain/audit/audit-chain.js';
import { AuditChainVerifier } from '../../../src/domain/audit/audit-chain-verifier.js';
import type { Database } from '../../../src/storage/database.js';
import { createSqlStore } from '../../../src/storage/store.js';
import { STORES } from '../../support/stores.js';
import { bareDatabase, closeBareDatabases, columnsOf, migrateTo } from '../migrations/migration-support.js';

afterEach(closeBareDatabases);

const ACME = 'organization-test-acme';
const GLOBEX = 'organization-test-globex';
/** More than the migration reads at once (1000), so its paging and batching are crossed. */
const ACME_MINTS = 1100;

/** An audit row as Understudy wrote it at schema 0018: literal columns, no chain. */
function row(index: number, type: string, organizationId: string | null, actor = '{"type":"project","projectId":"project-test-1"}'): string {
  const eventId = `audit-event-test-${String(index).padStart(6, '0')}`;
  return `('${eventId}', '${type}', '2025-07-01T00:00:00Z', 'request-id-test-${index}', '${actor}', ${organizationId === null ? 'null' : `'${organizationId}'`}, null, 'support-1', '203.0.113.9', 'curl/8', '{"reason":"Ticket ${index} – é"}')`;
}

describe.each(STORES)('migration 0019-audit-chain on $name', (factory) => {
  it("chains the events already recorded that the rule chains, per organization in event-id order, and appends go on from each chain's head", async () => {
    const db: Kysely<Database> = await bareDatabase(factory.name);
    await migrateTo(db, '0018-impersonation-trust');
    const rows: string[] = [];
    // Written out of id order: the migration chains by event id, the order the ids were made in.
    for (let index = ACME_MINTS; index >= 1; index -= 1) rows.push(row(index * 10, 'impersonation.token_minted', ACME));
    rows.push(row(5, 'member.updated', ACME));
    rows.push(row(6, 'member.updated', ACME, '{"type":"operator","operatorId":"operator-test-1","emailAddress":"pat@ops.example"}'));
    rows.push(row(7, 'impersonation.mint_refused', GLOBEX));
    rows.push(row(8, 'operator.signed_in', null, '{"type":"system"}'));
    rows.push(row(9, 'session.started', null));
    for (let start = 0; start < rows.length; start += 200) {
      await sql
        .raw(`insert into audit_events (event_id, type, occurred_at, request_id, actor, organization_id, member_id, impersonator_id, client_ip, user_agent, details) values ${rows.slice(start, start + 200).join(', ')}`)
        .execute(db);
    }

    await migrateTo(db, '0019-audit-chain');
    expect(await columnsOf(db, 'audit_events')).toMatchObject({ chain_id: true, chain_seq: true, prev_hash: true, hash: true });
    const store = createSqlStore(db, factory.name);

    const acme = await store.auditChains.readChain(ACME, { afterSeq: 0, throughSeq: 10_000, limit: 10_000 });
    // The operator's member.updated (id 6) first, then the mints by id; the project's member.updated (id 5) is not chained.
    expect(acme.map((record) => record.eventId)).toEqual([
      'audit-event-test-000006',
      ...Array.from({ length: ACME_MINTS }, (_, index) => `audit-event-test-${String((index + 1) * 10).padStart(6, '0')}`),
    ]);
    expect(acme[0]?.prevHash).toBe(GENESIS_HASH);
    for (const record of acme.slice(0, 3)) expect(record.hash).toBe(chainHash(record));
    expect((await store.auditChains.readChain(GLOBEX, { afterSeq: 0, throughSeq: 10, limit: 10 })).map((record) => [record.seq, record.eventId])).toEqual([[1, 'audit-event-test-000007']]);
    expect((await store.auditChains.readChain('project', { afterSeq: 0, throughSeq: 10, limit: 10 })).map((record) => [record.seq, record.eventId])).toEqual([[1, 'audit-event-test-000008']]);
    const unchained = await store.auditChains.listUnchainedEvents({}, { limit: 10, afterEventId: null });
    expect(unchained.map((event) => event.eventId)).toEqual(['audit-event-test-000005', 'audit-event-test-000009']);
    expect(await store.auditChains.listChainHeads()).toEqual([
      { chainId: ACME, seq: ACME_MINTS + 1, hash: acme[acme.length - 1]?.hash, updatedAt: '2025-07-01T00:00:00Z' },
      { chainId: GLOBEX, seq: 1, hash: expect.stringMatching(/^[0-9a-f]{64}$/), updatedAt: '2025-07-01T00:00:00Z' },
      { chainId: 'project', seq: 1, hash: expect.stringMatching(/^[0-9a-f]{64}$/), updatedAt: '2025-07-01T00:00:00Z' },
    ]);

    await store.audit.appendEvent(
      {
        eventId: 'audit-event-test-999999',
        type: 'impersonation.token_revoked',
        occurredAt: '2025-07-02T00:00:00Z',
        requestId: 'request-id-test-after',
        actor: { type: 'cli' },
        organizationId: ACME,
        memberId: null,
        impersonatorId: null,
        client: null,
        details: {},
      },
      { chained: true },
    );
    const verification = await new AuditChainVerifier({ store }).verify();
    expect(verification).toMatchObject({ valid: true, checkedRecords: ACME_MINTS + 4, problems: [] });
  });
});
