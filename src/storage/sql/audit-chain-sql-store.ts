import { sql, type Kysely, type Selectable } from 'kysely';
import type { AuditChainHead, ChainedAuditRecord, PublishedHead } from '../../domain/audit/audit-chain.js';
import type { AuditChainStore } from '../../domain/audit/audit-chain-store.js';
import type { AuditEvent, AuditEventType } from '../../domain/audit/audit-event.js';
import type { AuditEventRow, Database } from '../database.js';
import { fromRow } from './audit-sql-store.js';

/** Rows written by one statement: 3 parameters each, far below either database's limit. */
const BATCH = 500;

/** Any name will do, as long as nothing else takes this advisory lock: the text's hash in PostgreSQL's hashtext. */
const HEAD_PUBLICATION_LOCK = 'understudy.audit_chain_head_publication';

/** The chains' side of audit_events and audit_chain_heads (0019); AuditSqlStore appends to them. */
export class AuditChainSqlStore implements AuditChainStore {
  readonly #db: Kysely<Database>;
  readonly #dialect: 'sqlite' | 'postgres';

  constructor(db: Kysely<Database>, dialect: 'sqlite' | 'postgres') {
    this.#db = db;
    this.#dialect = dialect;
  }

  async latestEventOfType(type: AuditEventType, organizationId: string | null): Promise<AuditEvent | undefined> {
    // Walks the (organization_id, event_id) index back from the newest event of the organization (or of none).
    const row = await this.#db
      .selectFrom('audit_events')
      .selectAll()
      .where('organization_id', organizationId === null ? 'is' : '=', organizationId)
      .where('type', '=', type)
      .orderBy('event_id', 'desc')
      .limit(1)
      .executeTakeFirst();
    return row === undefined ? undefined : fromRow(row);
  }

  async listChainHeads(chainId?: string): Promise<AuditChainHead[]> {
    let query = this.#db.selectFrom('audit_chain_heads').selectAll();
    if (chainId !== undefined) query = query.where('chain_id', '=', chainId);
    const rows = await query.orderBy('chain_id').execute();
    return rows.map((row) => ({ chainId: row.chain_id, seq: Number(row.seq), hash: row.hash, updatedAt: row.updated_at }));
  }

  async chainExtents(chainId?: string): Promise<{ chainId: string; lastSeq: number }[]> {
    let query = this.#db
      .selectFrom('audit_events')
      .select((eb) => ['chain_id', eb.fn.max('chain_seq').as('last_seq')])
      .where('chain_id', 'is not', null);
    if (chainId !== undefined) query = query.where('chain_id', '=', chainId);
    const rows = await query.groupBy('chain_id').orderBy('chain_id').execute();
    return rows.map((row) => ({ chainId: row.chain_id as string, lastSeq: Number(row.last_seq) }));
  }

  async readChain(chainId: string, page: { afterSeq: number; throughSeq: number; limit: number }): Promise<ChainedAuditRecord[]> {
    // A walk of the unique (chain_id, chain_seq) index from the cursor.
    const rows = await this.#db
      .selectFrom('audit_events')
      .selectAll()
      .where('chain_id', '=', chainId)
      .where('chain_seq', '>', page.afterSeq)
      .where('chain_seq', '<=', page.throughSeq)
      .orderBy('chain_seq')
      .limit(page.limit)
      .execute();
    return rows.map(chainedRecordOf);
  }

  async listUnchainedEvents(filter: { organizationId?: string | null | undefined }, page: { limit: number; afterEventId: string | null }): Promise<AuditEvent[]> {
    let query = this.#db.selectFrom('audit_events').selectAll().where('chain_id', 'is', null);
    if (filter.organizationId !== undefined) query = query.where('organization_id', filter.organizationId === null ? 'is' : '=', filter.organizationId);
    if (page.afterEventId !== null) query = query.where('event_id', '>', page.afterEventId);
    const rows = await query.orderBy('event_id').limit(page.limit).execute();
    return rows.map(fromRow);
  }

  async listPublishedHeads(chainId?: string): Promise<PublishedHead[]> {
    let query = this.#db.selectFrom('audit_chain_published_heads').selectAll();
    if (chainId !== undefined) query = query.where('chain_id', '=', chainId);
    const rows = await query.orderBy('chain_id').execute();
    return rows.map((row) => ({ chainId: row.chain_id, seq: Number(row.seq), hash: row.hash }));
  }

  async markPublished(heads: readonly PublishedHead[]): Promise<void> {
    for (let start = 0; start < heads.length; start += BATCH) {
      await this.#db
        .insertInto('audit_chain_published_heads')
        .values(heads.slice(start, start + BATCH).map((head) => ({ chain_id: head.chainId, seq: head.seq, hash: head.hash })))
        .onConflict((conflict) =>
          conflict
            .column('chain_id')
            .doUpdateSet((eb) => ({ seq: eb.ref('excluded.seq'), hash: eb.ref('excluded.hash') }))
            .where((eb) => eb('audit_chain_published_heads.seq', '<', eb.ref('excluded.seq'))),
        )
        .execute();
    }
  }

  async lockHeadPublication(): Promise<void> {
    if (this.#dialect === 'postgres') await sql`select pg_advisory_xact_lock(hashtext(${HEAD_PUBLICATION_LOCK}))`.execute(this.#db);
  }
}

function chainedRecordOf(row: Selectable<AuditEventRow>): ChainedAuditRecord {
  return {
    chainId: row.chain_id as string,
    seq: Number(row.chain_seq),
    prevHash: row.prev_hash ?? '',
    hash: row.hash ?? '',
    eventId: row.event_id,
    type: row.type,
    occurredAt: row.occurred_at,
    requestId: row.request_id,
    actorJson: row.actor,
    organizationId: row.organization_id,
    memberId: row.member_id,
    impersonatorId: row.impersonator_id,
    clientIp: row.client_ip,
    userAgent: row.user_agent,
    detailsJson: row.details,
  };
}
