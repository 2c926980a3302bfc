import { Migrator, sql, type Kysely } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { chainHash, GENESIS_HASH } from '../../../src/domain/audit/audit-chain.js';
import { AuditChainVerifier } from '../../../src/domain/audit/audit-chain-verifier.js';
import type { Database } from '../../../src/storage/database.js';
import * as auditChainStep from '../../../src/storage/migrations/0019-audit-chain.js';
import { migrationProvider } from '../../../src/storage/migrations/index.js';
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

describe.each(STORES)('migration 0019-audit-chain failing halfway on $name', (factory) => {
  it('leaves the schema of 0018 and nothing recorded, so the next start runs it again from the beginning', async () => {
    const db: Kysely<Database> = await bareDatabase(factory.name);
    await migrateTo(db, '0018-impersonation-trust');
    await sql.raw(`insert into audit_events (event_id, type, occurred_at, request_id, actor, organization_id, member_id, impersonator_id, client_ip, user_agent, details) values ${row(1, 'impersonation.token_minted', ACME)}`).execute(db);
    const before = await columnsOf(db, 'audit_events');
    // Chaining the events updates them after the columns were added: make that fail, as a crash or a full disk would.
    if (factory.name === 'postgres') {
      await sql`create function refuse_audit_update() returns trigger language plpgsql as $$ begin raise exception 'disk full'; end $$`.execute(db);
      await sql`create trigger refuse_update before update on audit_events for each row execute function refuse_audit_update()`.execute(db);
    } else {
      await sql`create trigger refuse_update before update on audit_events begin select raise(abort, 'disk full'); end`.execute(db);
    }

    const migrator = new Migrator({ db, provider: migrationProvider, migrationTableName: 'understudy_migrations', migrationLockTableName: 'understudy_migrations_lock' });
    const failed = await migrator.migrateTo('0019-audit-chain');
    expect(String(failed.error)).toContain('disk full');
    expect(await columnsOf(db, 'audit_events')).toEqual(before);
    expect(await columnsOf(db, 'audit_chain_heads')).toEqual({});
    expect(await columnsOf(db, 'audit_chain_published_heads')).toEqual({});
    const recorded = await sql<{ name: string }>`select name from understudy_migrations order by name desc limit 1`.execute(db);
    expect(recorded.rows[0]?.name).toBe('0018-impersonation-trust');

    await sql`drop trigger refuse_update ${sql.raw(factory.name === 'postgres' ? 'on audit_events' : '')}`.execute(db);
    await migrateTo(db, '0019-audit-chain');
    const store = createSqlStore(db, factory.name);
    expect((await store.auditChains.listChainHeads()).map((head) => [head.chainId, head.seq])).toEqual([[ACME, 1]]);
    expect(await new AuditChainVerifier({ store }).verify()).toMatchObject({ valid: true, checkedRecords: 1 });
  });
});

describe('migration 0019-audit-chain on sqlite, ended after its transaction committed and before Kysely recorded it', () => {
  it('finds its tables on the next start and only records it', async () => {
    const db: Kysely<Database> = await bareDatabase('sqlite');
    await migrateTo(db, '0018-impersonation-trust');
    await sql.raw(`insert into audit_events (event_id, type, occurred_at, request_id, actor, organization_id, member_id, impersonator_id, client_ip, user_agent, details) values ${row(1, 'impersonation.token_minted', ACME)}`).execute(db);
    // The step's own transaction, run and committed, as it is before Kysely writes understudy_migrations.
    await auditChainStep.up(db as Kysely<unknown>);
    await migrateTo(db, '0019-audit-chain');
    const store = createSqlStore(db, 'sqlite');
    expect(await new AuditChainVerifier({ store }).verify()).toMatchObject({ valid: true, checkedRecords: 1 });
  });
});
