import { sql, type Kysely, type Selectable } from 'kysely';
import type { AuditEvent, AuditEventType } from '../../domain/audit/audit-event.js';
import type { Actor } from '../../domain/common/operation-context.js';
import type { WebhookDelivery, WebhookDeliveryStatus, WebhookEndpoint, WebhookOwner, WebhooksStore } from '../../domain/webhooks/webhook.js';
import type { AuditEventRow, Database, WebhookDeliveryRow, WebhookEndpointRow } from '../database.js';
import { fromJson } from './json-column.js';

export class WebhooksSqlStore implements WebhooksStore {
  readonly #db: Kysely<Database>;
  readonly #dialect: 'sqlite' | 'postgres';

  constructor(db: Kysely<Database>, dialect: 'sqlite' | 'postgres') {
    this.#db = db;
    this.#dialect = dialect;
  }

  async insertEndpoint(endpoint: WebhookEndpoint, sealedSecret: string): Promise<void> {
    await this.#db
      .insertInto('webhook_endpoints')
      .values({
        endpoint_id: endpoint.endpointId,
        organization_id: endpoint.organizationId,
        url: endpoint.url,
        description: endpoint.description,
        secret_sealed: sealedSecret,
        created_at: endpoint.createdAt,
        disabled_at: endpoint.disabledAt,
      })
      .execute();
  }

  async findEndpoint(endpointId: string): Promise<{ endpoint: WebhookEndpoint; sealedSecret: string } | undefined> {
    const row = await this.#db.selectFrom('webhook_endpoints').selectAll().where('endpoint_id', '=', endpointId).executeTakeFirst();
    return row === undefined ? undefined : { endpoint: endpointFromRow(row), sealedSecret: row.secret_sealed };
  }

  async listEndpoints(filter: { readonly organizationId: WebhookOwner | 'all' }): Promise<WebhookEndpoint[]> {
    let query = this.#db.selectFrom('webhook_endpoints').selectAll();
    if (filter.organizationId === null) query = query.where('organization_id', 'is', null);
    else if (filter.organizationId !== 'all') query = query.where('organization_id', '=', filter.organizationId);
    const rows = await query.orderBy('created_at', 'desc').orderBy('endpoint_id', 'desc').execute();
    return rows.map(endpointFromRow);
  }

  async listReceivingEndpoints(organizationId: string | null): Promise<{ endpoint: WebhookEndpoint; sealedSecret: string }[]> {
    const rows = await this.#db
      .selectFrom('webhook_endpoints')
      .selectAll()
      .where('disabled_at', 'is', null)
      .where((eb) => (organizationId === null ? eb('organization_id', 'is', null) : eb.or([eb('organization_id', 'is', null), eb('organization_id', '=', organizationId)])))
      .orderBy('endpoint_id')
      .execute();
    return rows.map((row) => ({ endpoint: endpointFromRow(row), sealedSecret: row.secret_sealed }));
  }

  async countEnabledEndpoints(owner: WebhookOwner): Promise<number> {
    const row = await this.#db
      .selectFrom('webhook_endpoints')
      .select((eb) => eb.fn.countAll<number | string>().as('count'))
      .where('disabled_at', 'is', null)
      .where((eb) => (owner === null ? eb('organization_id', 'is', null) : eb('organization_id', '=', owner)))
      .executeTakeFirstOrThrow();
    return Number(row.count);
  }

  async lockEndpointsOf(owner: WebhookOwner): Promise<void> {
    // An organization id is never empty: '' is the project's key.
    if (this.#dialect === 'postgres') await sql`select pg_advisory_xact_lock(hashtext(${`understudy.webhook_endpoints:${owner ?? ''}`}))`.execute(this.#db);
  }

  async disableEndpoint(endpointId: string, at: string): Promise<WebhookEndpoint | undefined> {
    // Only disabled_at, and only when unset: a second disable keeps the first time.
    await this.#db.updateTable('webhook_endpoints').set({ disabled_at: at }).where('endpoint_id', '=', endpointId).where('disabled_at', 'is', null).execute();
    return (await this.findEndpoint(endpointId))?.endpoint;
  }

  async enqueueEvent(eventId: string, at: string): Promise<void> {
    await this.#db.insertInto('webhook_outbox').values({ event_id: eventId, enqueued_at: at }).execute();
  }

  async takeOutbox(limit: number): Promise<AuditEvent[]> {
    // One DELETE … RETURNING takes the rows. On PostgreSQL the subquery skips rows another
    // dispatcher is taking (SKIP LOCKED), so two processes fan out disjoint events; SQLite
    // serializes writers anyway.
    const oldest = this.#db.selectFrom('webhook_outbox').select('event_id').orderBy('event_id').limit(limit);
    const taken = await this.#db
      .deleteFrom('webhook_outbox')
      .where('event_id', 'in', this.#dialect === 'postgres' ? oldest.forUpdate().skipLocked() : oldest)
      .returning('event_id')
      .execute();
    if (taken.length === 0) return [];
    const rows = await this.#db
      .selectFrom('audit_events')
      .selectAll()
      .where(
        'event_id',
        'in',
        taken.map((row) => row.event_id),
      )
      .orderBy('event_id')
      .execute();
    return rows.map(eventFromRow);
  }

  async insertDelivery(delivery: WebhookDelivery): Promise<boolean> {
    const result = await this.#db
      .insertInto('webhook_deliveries')
      .values({
        delivery_id: delivery.deliveryId,
        endpoint_id: delivery.endpointId,
        event_id: delivery.eventId,
        event_type: delivery.eventType,
        organization_id: delivery.organizationId,
        payload: delivery.payload,
        status: delivery.status,
        attempts: delivery.attempts,
        next_attempt_at: delivery.nextAttemptAt,
        last_attempt_at: delivery.lastAttemptAt,
        last_status_code: delivery.lastStatusCode,
        last_error: delivery.lastError,
        created_at: delivery.createdAt,
        delivered_at: delivery.deliveredAt,
      })
      // The unique (endpoint_id, event_id) index: an event reaches each endpoint once.
      .onConflict((conflict) => conflict.columns(['endpoint_id', 'event_id']).doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0n) === 1;
  }

  async claimDueDeliveries(
    now: string,
    leaseUntil: string,
    limit: number,
    options: { readonly perEndpoint: number; readonly skipEndpoints: readonly string[] },
  ): Promise<WebhookDelivery[]> {
    // Each endpoint's due deliveries numbered oldest first, so no endpoint takes more than its share
    // of the claim, however many of its deliveries are due.
    let due = this.#db
      .selectFrom('webhook_deliveries')
      .select((eb) => [
        'delivery_id',
        'next_attempt_at',
        eb.fn
          .agg<number>('row_number', [])
          .over((over) => over.partitionBy('endpoint_id').orderBy('next_attempt_at').orderBy('delivery_id'))
          .as('turn'),
      ])
      .where('status', '=', 'pending')
      .where('next_attempt_at', '<=', now);
    if (options.skipEndpoints.length > 0) due = due.where('endpoint_id', 'not in', [...options.skipEndpoints]);
    const picked = this.#db
      .selectFrom(due.as('due'))
      .select('due.delivery_id')
      .where('due.turn', '<=', options.perEndpoint)
      .orderBy('due.next_attempt_at')
      .orderBy('due.delivery_id')
      .limit(limit);
    // The conditions are repeated on the UPDATE itself: a row another process claimed between the
    // subquery and the update no longer matches and is not returned (PostgreSQL checks them again on
    // the row as the other claim left it, after waiting for it; SQLite serializes writers).
    const rows = await this.#db
      .updateTable('webhook_deliveries')
      .set({ next_attempt_at: leaseUntil })
      .where('delivery_id', 'in', picked)
      .where('status', '=', 'pending')
      .where('next_attempt_at', '<=', now)
      .returningAll()
      .execute();
    return rows.map(deliveryFromRow).sort((a, b) => a.deliveryId.localeCompare(b.deliveryId));
  }

  async recordAttempt(
    deliveryId: string,
    outcome: {
      readonly status: WebhookDeliveryStatus;
      readonly attempts: number;
      readonly at: string;
      readonly nextAttemptAt: string | null;
      readonly statusCode: number | null;
      readonly error: string | null;
    },
  ): Promise<boolean> {
    const result = await this.#db
      .updateTable('webhook_deliveries')
      .set({
        status: outcome.status,
        attempts: outcome.attempts,
        next_attempt_at: outcome.nextAttemptAt,
        last_attempt_at: outcome.at,
        last_status_code: outcome.statusCode,
        last_error: outcome.error,
        ...(outcome.status === 'delivered' && { delivered_at: outcome.at }),
      })
      .where('delivery_id', '=', deliveryId)
      .where('status', '=', 'pending')
      .where('attempts', '=', outcome.attempts - 1)
      .executeTakeFirst();
    return result.numUpdatedRows === 1n;
  }

  async listDeliveries(filter: {
    readonly endpointId?: string | undefined;
    readonly owner?: WebhookOwner | undefined;
    readonly status?: WebhookDeliveryStatus | undefined;
    readonly limit: number;
  }): Promise<WebhookDelivery[]> {
    let query = this.#db.selectFrom('webhook_deliveries').selectAll('webhook_deliveries');
    if (filter.endpointId !== undefined) query = query.where('webhook_deliveries.endpoint_id', '=', filter.endpointId);
    if (filter.status !== undefined) query = query.where('webhook_deliveries.status', '=', filter.status);
    const owner = filter.owner;
    if (owner !== undefined) {
      query = query.where('webhook_deliveries.endpoint_id', 'in', (eb) =>
        eb
          .selectFrom('webhook_endpoints')
          .select('webhook_endpoints.endpoint_id')
          .where((inner) => (owner === null ? inner('webhook_endpoints.organization_id', 'is', null) : inner('webhook_endpoints.organization_id', '=', owner))),
      );
    }
    const rows = await query.orderBy('webhook_deliveries.created_at', 'desc').orderBy('webhook_deliveries.delivery_id', 'desc').limit(filter.limit).execute();
    return rows.map(deliveryFromRow);
  }

  async findDelivery(deliveryId: string): Promise<WebhookDelivery | undefined> {
    const row = await this.#db.selectFrom('webhook_deliveries').selectAll().where('delivery_id', '=', deliveryId).executeTakeFirst();
    return row === undefined ? undefined : deliveryFromRow(row);
  }

  async deleteFinishedDeliveries(before: string, limit: number): Promise<number> {
    const finished = this.#db
      .selectFrom('webhook_deliveries')
      .select('delivery_id')
      .where('created_at', '<', before)
      .where('status', 'in', ['delivered', 'failed'])
      .orderBy('created_at')
      .limit(limit);
    const result = await this.#db.deleteFrom('webhook_deliveries').where('delivery_id', 'in', finished).where('status', 'in', ['delivered', 'failed']).executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}

function endpointFromRow(row: Selectable<WebhookEndpointRow>): WebhookEndpoint {
  return {
    endpointId: row.endpoint_id,
    organizationId: row.organization_id,
    url: row.url,
    description: row.description,
    createdAt: row.created_at,
    disabledAt: row.disabled_at,
  };
}

function deliveryFromRow(row: Selectable<WebhookDeliveryRow>): WebhookDelivery {
  return {
    deliveryId: row.delivery_id,
    endpointId: row.endpoint_id,
    eventId: row.event_id,
    eventType: row.event_type,
    organizationId: row.organization_id,
    payload: row.payload,
    status: row.status as WebhookDeliveryStatus,
    attempts: Number(row.attempts),
    nextAttemptAt: row.next_attempt_at,
    lastAttemptAt: row.last_attempt_at,
    lastStatusCode: row.last_status_code === null ? null : Number(row.last_status_code),
    lastError: row.last_error,
    createdAt: row.created_at,
    deliveredAt: row.delivered_at,
  };
}

/** An audit event as the audit store reads it (audit-sql-store.ts): the payload of its deliveries. */
function eventFromRow(row: Selectable<AuditEventRow>): AuditEvent {
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
