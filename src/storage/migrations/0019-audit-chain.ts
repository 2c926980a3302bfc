import { sql, type Kysely } from 'kysely';
import { chainHash, chainIdOf, GENESIS_HASH, isChainedEvent } from '../../domain/audit/audit-chain.js';
import type { AuditEventType } from '../../domain/audit/audit-event.js';
import type { Actor } from '../../domain/common/operation-context.js';

/**
 * The tamper-evident audit chain (docs/impersonation.md, "Tamper-evident audit"): chained events
 * carry their chain, their place in it, the previous record's hash and their own; one head row per
 * chain is what a writer locks to append, and one row per chain holds its furthest published head.
 * The events already recorded that the rule chains (isChainedEvent) are chained here, per chain in
 * event-id order (the order they were written), with the hashes computed the way the store computes
 * them, so both databases end up alike.
 *
 * All or nothing on both databases. Kysely's Migrator runs the pending steps in one transaction on
 * PostgreSQL, together with their records in understudy_migrations. On SQLite it runs them in none
 * (its adapter assumes no transactional DDL), but SQLite has transactional DDL: the step runs in a
 * transaction of its own, so a crash or a failure while chaining a large table leaves the schema of
 * 0018 and the next start runs the step again from the beginning. That transaction commits just
 * before Kysely records the step; should the process end between the two, the next start finds the
 * step's tables and only records it.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  if (db.isTransaction) return createAndChain(db);
  if (await applied(db)) return;
  await db.transaction().execute((trx) => createAndChain(trx));
}

/** SQLite: whether the step's transaction committed already. */
async function applied(db: Kysely<unknown>): Promise<boolean> {
  const { rows } = await sql`select name from sqlite_master where type = 'table' and name = 'audit_chain_published_heads'`.execute(db);
  return rows.length > 0;
}

async function createAndChain(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('audit_events').addColumn('chain_id', 'text').execute();
  await db.schema.alterTable('audit_events').addColumn('chain_seq', 'integer').execute();
  await db.schema.alterTable('audit_events').addColumn('prev_hash', 'text').execute();
  await db.schema.alterTable('audit_events').addColumn('hash', 'text').execute();
  // One record per place in a chain; also the walk verification takes, seq by seq.
  await db.schema.createIndex('audit_events_chain').on('audit_events').columns(['chain_id', 'chain_seq']).unique().execute();
  await db.schema
    .createTable('audit_chain_heads')
    .addColumn('chain_id', 'text', (column) => column.primaryKey())
    .addColumn('seq', 'integer', (column) => column.notNull())
    .addColumn('hash', 'text', (column) => column.notNull())
    .addColumn('updated_at', 'text', (column) => column.notNull())
    .execute();
  await chainExistingEvents(db);
  // Created last: its presence says the step is complete (applied() above).
  await db.schema
    .createTable('audit_chain_published_heads')
    .addColumn('chain_id', 'text', (column) => column.primaryKey())
    .addColumn('seq', 'integer', (column) => column.notNull())
    .addColumn('hash', 'text', (column) => column.notNull())
    .execute();
}

/** Events read at once; the heads (one per organization) are the only thing kept across pages. */
const PAGE = 1000;
/** Rows written by one statement: 5 parameters each, far below either database's limit. */
const BATCH = 500;

interface StoredEvent {
  event_id: string;
  type: string;
  occurred_at: string;
  request_id: string;
  actor: string;
  organization_id: string | null;
  member_id: string | null;
  impersonator_id: string | null;
  client_ip: string | null;
  user_agent: string | null;
  details: string;
}

interface Link {
  readonly eventId: string;
  readonly chainId: string;
  readonly seq: number;
  readonly prevHash: string;
  readonly hash: string;
}

async function chainExistingEvents(db: Kysely<unknown>): Promise<void> {
  const heads = new Map<string, { seq: number; hash: string; updatedAt: string }>();
  let after = '';
  for (;;) {
    const { rows } = await sql<StoredEvent>`
      select event_id, type, occurred_at, request_id, actor, organization_id, member_id, impersonator_id, client_ip, user_agent, details
      from audit_events where event_id > ${after} order by event_id limit ${PAGE}`.execute(db);
    if (rows.length === 0) break;
    after = (rows[rows.length - 1] as StoredEvent).event_id;
    const links: Link[] = [];
    for (const row of rows) {
      if (!isChainedEvent({ type: row.type as AuditEventType, actor: actorOf(row.actor) })) continue;
      const chainId = chainIdOf({ organizationId: row.organization_id });
      const head = heads.get(chainId) ?? { seq: 0, hash: GENESIS_HASH, updatedAt: row.occurred_at };
      const seq = head.seq + 1;
      const hash = chainHash({
        chainId,
        seq,
        prevHash: head.hash,
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
      });
      links.push({ eventId: row.event_id, chainId, seq, prevHash: head.hash, hash });
      heads.set(chainId, { seq, hash, updatedAt: row.occurred_at });
    }
    for (let start = 0; start < links.length; start += BATCH) await writeLinks(db, links.slice(start, start + BATCH));
  }
  const entries = [...heads.entries()];
  for (let start = 0; start < entries.length; start += BATCH) {
    const batch = entries.slice(start, start + BATCH);
    await sql`insert into audit_chain_heads (chain_id, seq, hash, updated_at) values ${sql.join(
      batch.map(([chainId, head]) => sql`(${chainId}, ${head.seq}, ${head.hash}, ${head.updatedAt})`),
    )}`.execute(db);
  }
}

/** One UPDATE … FROM a list of values, which SQLite (3.33 and later) and PostgreSQL both take. */
async function writeLinks(db: Kysely<unknown>, links: readonly Link[]): Promise<void> {
  if (links.length === 0) return;
  await sql`
    with links (event_id, chain_id, chain_seq, prev_hash, hash) as (values ${sql.join(
      links.map((link) => sql`(${link.eventId}, ${link.chainId}, ${String(link.seq)}, ${link.prevHash}, ${link.hash})`),
    )})
    update audit_events set chain_id = links.chain_id, chain_seq = cast(links.chain_seq as integer), prev_hash = links.prev_hash, hash = links.hash
    from links where audit_events.event_id = links.event_id`.execute(db);
}

/** The stored actor; one that cannot be read counts as no operator (the event's type still decides). */
function actorOf(text: string): Actor {
  try {
    const actor = JSON.parse(text) as Actor | null;
    return actor !== null && typeof actor === 'object' ? actor : { type: 'system' };
  } catch {
    return { type: 'system' };
  }
}
