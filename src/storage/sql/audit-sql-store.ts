import { sql, type Expression, type Insertable, type Kysely, type Selectable, type SqlBool } from 'kysely';
import { chainHash, chainIdOf, GENESIS_HASH, type ChainedAuditRecord } from '../../domain/audit/audit-chain.js';
import type { AuditEvent, AuditEventType } from '../../domain/audit/audit-event.js';
import type { AuditEventFilter, AuditStore } from '../../domain/audit/audit-store.js';
import type { Actor } from '../../domain/common/operation-context.js';
import type { AuditEventRow, Database } from '../database.js';
import { fromJson, toJson } from './json-column.js';

export class AuditSqlStore implements AuditStore {
  readonly #db: Kysely<Database>;
  readonly #dialect: 'sqlite' | 'postgres';

  constructor(db: Kysely<Database>, dialect: 'sqlite' | 'postgres') {
    this.#db = db;
    this.#dialect = dialect;
  }

  async appendEvent(event: AuditEvent, options: { readonly chained?: boolean; readonly published?: boolean } = {}): Promise<void> {
    const row = toRow(event);
    const chained = options.chained === true;
    const published = options.published === true;
    if (!chained && !published) {
      await this.#db.insertInto('audit_events').values(row).execute();
      return;
    }
    // The event, its chain's head and its outbox entry commit together or not at all.
    if (this.#db.isTransaction) {
      await appendIn(this.#db, this.#dialect, row, chained, published);
      return;
    }
    await this.#db.transaction().execute(async (trx) => {
      // As in store.ts: take SQLite's write lock before the first read, so another process's write
      // makes this wait (busy_timeout) instead of failing with "database is locked".
      if (this.#dialect === 'sqlite') await sql`update audit_chain_heads set seq = seq where 1 = 0`.execute(trx);
      await appendIn(trx, this.#dialect, row, chained, published);
    });
  }

  async listEvents(filter: { organizationId: string | null; limit: number }): Promise<AuditEvent[]> {
    let query = this.#db.selectFrom('audit_events').selectAll();
    if (filter.organizationId !== null) query = query.where('organization_id', '=', filter.organizationId);
    const rows = await query.orderBy('occurred_at', 'desc').orderBy('event_id', 'desc').limit(filter.limit).execute();
    return rows.map(fromRow);
  }

  async searchEvents(filter: AuditEventFilter, page: { limit: number; afterEventId: string | null }): Promise<AuditEvent[]> {
    let query = this.#db.selectFrom('audit_events').selectAll();
    // A literal, case-sensitive prefix on both dialects. SQLite's LIKE ignores case and has no default
    // escape character, so SQLite compares a substring. PostgreSQL's LIKE is case-sensitive and takes an
    // escape, and unlike substr() its planner can estimate it from the column's statistics: with substr()
    // it guessed that almost no row matches and scanned and sorted the whole table for every page
    // (100 ms a page at 200,000 events) instead of walking the primary key from the cursor.
    if (filter.typePrefix !== undefined) {
      const prefix = filter.typePrefix;
      query =
        this.#dialect === 'postgres'
          ? query.where(sql<boolean>`type like ${`${prefix.replace(/[\\%_]/g, '\\$&')}%`} escape '\\'`)
          : query.where(sql<boolean>`substr(type, 1, length(cast(${prefix} as text))) = ${prefix}`);
    }
    if (filter.organizationId !== undefined) query = query.where('organization_id', '=', filter.organizationId);
    if (filter.memberId !== undefined) query = query.where('member_id', '=', filter.memberId);
    if (filter.impersonator !== undefined) {
      const { ids, emailAddresses } = filter.impersonator;
      query = query.where((eb) => {
        const either: Expression<SqlBool>[] = [];
        if (ids.length > 0) either.push(eb('impersonator_id', 'in', ids));
        // A subquery, not a list built from it: one address may have been minted under any number of ids.
        if (emailAddresses.length > 0) {
          either.push(eb('impersonator_id', 'in', eb.selectFrom('impersonation_tokens').select('impersonation_tokens.impersonator_id').where('impersonator_email_address', 'in', emailAddresses)));
        }
        return either.length === 0 ? sql<SqlBool>`1 = 0` : eb.or(either);
      });
    }
    if (filter.since !== undefined) query = query.where('occurred_at', '>=', filter.since);
    if (filter.until !== undefined) query = query.where('occurred_at', '<', filter.until);
    if (page.afterEventId !== null) query = query.where('event_id', '>', page.afterEventId);
    const rows = await query.orderBy('event_id').limit(page.limit).execute();
    return rows.map(fromRow);
  }
}

export function fromRow(row: Selectable<AuditEventRow>): AuditEvent {
  return {
    eventId: row.event_id,
    type: row.type as AuditEventType,
    occurredAt: row.occurred_at,
    requestId: row.request_id,
    actor: fromJson<Actor>(row.actor),
    organizationId: row.organization_id,
    memberId: row.member_id,
    impersonatorId: row.impersonator_id,
    client: row.client_ip === null ? null : { ipAddress: row.client_ip, userAgent: row.user_agent ?? '' },
    details: fromJson<Record<string, unknown>>(row.details),
  };
}

function toRow(event: AuditEvent): Insertable<AuditEventRow> {
  return {
    event_id: event.eventId,
    type: event.type,
    occurred_at: event.occurredAt,
    request_id: event.requestId,
    actor: toJson(event.actor),
    organization_id: event.organizationId,
    member_id: event.memberId,
    impersonator_id: event.impersonatorId ?? null,
    client_ip: event.client?.ipAddress ?? null,
    user_agent: event.client?.userAgent ?? null,
    details: toJson(event.details),
  };
}

/**
 * Appends inside the transaction `db` is bound to. A chained event locks its chain's head row, takes
 * the next seq and links to the head's hash, then moves the head. One head row per organization (and
 * one for the project): appenders wait only for others appending to the same organization's chain,
 * never for unrelated organizations. The head stays locked until the transaction ends; services
 * record their events after their writes, so it is mostly the last lock taken. (One that locks
 * another row after recording an event can cross another transaction of the same organization
 * holding that row and waiting for the head: PostgreSQL aborts one as a deadlock and store.ts runs it
 * again.) PostgreSQL: insert-if-absent, then FOR UPDATE (two first appenders both find the row after the
 * insert; one waits). SQLite: the transaction holds the database's write lock from its start.
 */
async function appendIn(db: Kysely<Database>, dialect: 'sqlite' | 'postgres', row: Insertable<AuditEventRow>, chained: boolean, published: boolean): Promise<void> {
  let chain: Pick<AuditEventRow, 'chain_id' | 'chain_seq' | 'prev_hash' | 'hash'> | undefined;
  if (chained) {
    const chainId = chainIdOf({ organizationId: row.organization_id ?? null });
    const head = (await lockedHead(db, dialect, chainId)) ?? (await createHead(db, dialect, chainId, row.occurred_at));
    const seq = head.seq + 1;
    const hash = chainHash({ ...chainedFields(row), chainId, seq, prevHash: head.hash });
    chain = { chain_id: chainId, chain_seq: seq, prev_hash: head.hash, hash };
  }
  await db
    .insertInto('audit_events')
    .values({ ...row, ...chain })
    .execute();
  if (chain !== undefined) {
    await db
      .updateTable('audit_chain_heads')
      .set({ seq: chain.chain_seq as number, hash: chain.hash as string, updated_at: row.occurred_at })
      .where('chain_id', '=', chain.chain_id as string)
      .execute();
  }
  // Webhook deliveries are made from this table (the webhooks' dispatcher), only once the event has
  // committed; and only when an enabled endpoint could receive it (the project's, or the event's
  // organization's), decided in the same statement: with no endpoints, publishing costs nothing more.
  // An endpoint receives the events recorded after it was added.
  if (published) {
    await sql`insert into webhook_outbox (event_id, enqueued_at)
      select cast(${row.event_id} as text), cast(${row.occurred_at} as text)
      where exists (select 1 from webhook_endpoints
        where disabled_at is null and (organization_id is null or organization_id = cast(${row.organization_id} as text)))`.execute(db);
  }
}

async function lockedHead(db: Kysely<Database>, dialect: 'sqlite' | 'postgres', chainId: string): Promise<{ seq: number; hash: string } | undefined> {
  let query = db.selectFrom('audit_chain_heads').select(['seq', 'hash']).where('chain_id', '=', chainId);
  if (dialect === 'postgres') query = query.forUpdate();
  const head = await query.executeTakeFirst();
  return head === undefined ? undefined : { seq: Number(head.seq), hash: head.hash };
}

/** A new chain's head (seq 0, the genesis hash), locked; whoever inserts it first, everyone else finds it. */
async function createHead(db: Kysely<Database>, dialect: 'sqlite' | 'postgres', chainId: string, at: string): Promise<{ seq: number; hash: string }> {
  await db
    .insertInto('audit_chain_heads')
    .values({ chain_id: chainId, seq: 0, hash: GENESIS_HASH, updated_at: at })
    .onConflict((conflict) => conflict.column('chain_id').doNothing())
    .execute();
  const head = await lockedHead(db, dialect, chainId);
  if (head === undefined) throw new Error(`audit chain head ${chainId} vanished after it was created`);
  return head;
}

/** The hashed fields of a row about to be written, as they will be stored. */
function chainedFields(row: Insertable<AuditEventRow>): Omit<ChainedAuditRecord, 'chainId' | 'seq' | 'prevHash' | 'hash'> {
  return {
    eventId: row.event_id,
    type: row.type,
    occurredAt: row.occurred_at,
    requestId: row.request_id,
    actorJson: row.actor,
    organizationId: row.organization_id ?? null,
    memberId: row.member_id ?? null,
    impersonatorId: row.impersonator_id ?? null,
    clientIp: row.client_ip ?? null,
    userAgent: row.user_agent ?? null,
    detailsJson: row.details,
  };
}
