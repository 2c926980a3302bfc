import type { Clock } from '../../platform/clock.js';
import { toTimestamp } from '../../platform/clock.js';
import type { IdGenerator } from '../../platform/ids.js';
import type { OperationContext } from '../common/operation-context.js';
import type { AuditEvent, AuditEventType } from './audit-event.js';
import type { AuditStore } from './audit-store.js';
import { isPublishedEvent } from '../webhooks/webhook-events.js';
import { isChainedEvent } from './audit-chain.js';

/** Builds events with ids and times; the caller passes the transaction's own store. */
export class AuditRecorder {
  readonly #ids: IdGenerator;
  readonly #clock: Clock;

  readonly #onPublished: () => void;

  constructor(dependencies: {
    ids: IdGenerator;
    clock: Clock;
    /** Told after a published event is appended (webhooks: a delivery round once the request is answered). */
    onPublished?: (() => void) | undefined;
  }) {
    this.#ids = dependencies.ids;
    this.#clock = dependencies.clock;
    this.#onPublished = dependencies.onPublished ?? (() => {});
  }

  async record(
    store: AuditStore,
    context: OperationContext,
    event: {
      type: AuditEventType;
      organizationId: string | null;
      memberId?: string | null;
      impersonatorId?: string | null;
      details?: Record<string, unknown>;
      occurredAt?: string;
    },
  ): Promise<void> {
    const now = this.#clock.now();
    const full: AuditEvent = {
      // Time-ordered ids give readers the events back in the order they were written.
      eventId: this.#ids.nextTimeOrdered('audit-event', now),
      type: event.type,
      occurredAt: event.occurredAt ?? toTimestamp(now),
      requestId: context.requestId,
      actor: context.actor,
      organizationId: event.organizationId,
      memberId: event.memberId ?? null,
      // A call made as an impersonated member is the impersonator's act, whatever it changed.
      impersonatorId: event.impersonatorId ?? (context.actor.type === 'member_session' ? (context.actor.impersonator?.id ?? null) : null),
      client: context.client ?? null,
      details: event.details ?? {},
    };
    const published = isPublishedEvent(full.type);
    await store.appendEvent(full, { chained: isChainedEvent(full), published });
    if (published) this.#onPublished();
  }
}
