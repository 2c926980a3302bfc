import { sql, type Expression, type Kysely, type Selectable, type SqlBool } from 'kysely';
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

  async appendEvent(event: AuditEvent): Promise<void> {
    await this.#db
      .insertInto('audit_events')
      .values({
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
      })
      .execute();
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

function fromRow(row: Selectable<AuditEventRow>): AuditEvent {
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
