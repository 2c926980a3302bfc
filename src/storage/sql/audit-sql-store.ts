import type { Kysely } from 'kysely';
import type { AuditEvent, AuditEventType } from '../../domain/audit/audit-event.js';
import type { AuditStore } from '../../domain/audit/audit-store.js';
import type { Actor } from '../../domain/shared/operation-context.js';
import type { Database } from '../database.js';
import { fromJson, toJson } from './json-column.js';

export class AuditSqlStore implements AuditStore {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
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
        details: toJson(event.details),
      })
      .execute();
  }

  async listEvents(filter: { organizationId: string | null; limit: number }): Promise<AuditEvent[]> {
    let query = this.#db.selectFrom('audit_events').selectAll();
    if (filter.organizationId !== null) query = query.where('organization_id', '=', filter.organizationId);
    const rows = await query.orderBy('occurred_at', 'desc').orderBy('event_id', 'desc').limit(filter.limit).execute();
    return rows.map((row) => ({
      eventId: row.event_id,
      type: row.type as AuditEventType,
      occurredAt: row.occurred_at,
      requestId: row.request_id,
      actor: fromJson<Actor>(row.actor),
      organizationId: row.organization_id,
      memberId: row.member_id,
      details: fromJson<Record<string, unknown>>(row.details),
    }));
  }
}
