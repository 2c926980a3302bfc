import type { Clock } from '../../platform/clock.js';
import { toTimestamp } from '../../platform/clock.js';
import type { IdGenerator } from '../../platform/ids.js';
import type { OperationContext } from '../shared/operation-context.js';
import type { AuditEvent, AuditEventType } from './audit-event.js';
import type { AuditStore } from './audit-store.js';

/** Builds events with ids and times; the caller passes the transaction's own store. */
export class AuditRecorder {
  readonly #ids: IdGenerator;
  readonly #clock: Clock;

  constructor(dependencies: { ids: IdGenerator; clock: Clock }) {
    this.#ids = dependencies.ids;
    this.#clock = dependencies.clock;
  }

  async record(
    store: AuditStore,
    context: OperationContext,
    event: { type: AuditEventType; organizationId: string | null; memberId?: string | null; details?: Record<string, unknown>; occurredAt?: string },
  ): Promise<void> {
    const full: AuditEvent = {
      eventId: this.#ids.next('audit-event'),
      type: event.type,
      occurredAt: event.occurredAt ?? toTimestamp(this.#clock.now()),
      requestId: context.requestId,
      actor: context.actor,
      organizationId: event.organizationId,
      memberId: event.memberId ?? null,
      details: event.details ?? {},
    };
    await store.appendEvent(full);
  }
}
