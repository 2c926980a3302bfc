import type { Clock } from '../../platform/clock.js';
import { toTimestamp } from '../../platform/clock.js';
import type { IdGenerator } from '../../platform/ids.js';
import type { Random } from '../../platform/random.js';
import type { Transactional } from '../common/transactional.js';
import type { StorePorts } from '../ports.js';
import { receives, webhookPayload } from './webhook-payload.js';
import type { WebhookSecrets } from './webhook-secrets.js';
import { WEBHOOK_ATTEMPT_BUDGET_MS, type WebhookAnswer, type WebhookTransport } from './webhook-transport.js';
import type { WebhookDelivery } from './webhook.js';

type Ports = Pick<StorePorts, 'webhooks'>;

/** Waits after each failed attempt: 5 s, 30 s, 2 min, 10 min, 1 h, then 6 h (±10%), until the last attempt. */
export const DEFAULT_WEBHOOK_RETRY_DELAYS_MS: readonly number[] = [5_000, 30_000, 120_000, 600_000, 3_600_000, 21_600_000];
/** How often the outbox and the due deliveries are looked at when nothing wakes the worker sooner. */
export const DEFAULT_WEBHOOK_POLL_MS = 1_000;
/** Events fanned out per transaction. */
const BATCH = 50;
/**
 * Attempts under way at once in this process, and to any one endpoint. Attempts run on their own,
 * not in step with the rounds that claim them: an endpoint that accepts connections and never
 * answers holds at most two of the slots for its 10 seconds, and every other endpoint's deliveries
 * are claimed and sent meanwhile.
 */
export const MAX_ATTEMPTS_IN_FLIGHT = 32;
export const MAX_ATTEMPTS_IN_FLIGHT_PER_ENDPOINT = 2;
/**
 * How long a claimed delivery is this process's: six times the most an attempt may take (10 s, DNS
 * included), and an attempt starts as soon as its delivery is claimed, so no other process sends
 * it meanwhile; a process that dies mid-attempt leaves the delivery due again a minute later.
 */
const LEASE_MS = 6 * WEBHOOK_ATTEMPT_BUDGET_MS;
/** Delivered and failed deliveries are kept this long (the delivery log), then deleted. */
export const FINISHED_DELIVERIES_KEPT_DAYS = 30;
const DELETE_BATCH = 1000;

/** An attempt's outcome, as the delivery log shows it. */
export interface DeliveryOutcome {
  readonly delivery: WebhookDelivery;
  readonly status: WebhookDelivery['status'];
  readonly attempts: number;
  readonly statusCode: number | null;
  readonly error: string | null;
}

/**
 * The durable side of webhooks (docs/webhooks.md). The audit store writes each published event's id
 * into the outbox in the event's own transaction; here the outbox is fanned out, in one transaction,
 * into one delivery per enabled endpoint that receives the event, each with the exact body it will
 * be sent; and due deliveries are claimed (a lease on `next_attempt_at`, so two processes never send
 * the same attempt), sent, and their outcome recorded: a 2xx delivers it, anything else waits and
 * tries again until the last attempt, which fails it.
 *
 * `start` polls (and `wake` asks for a round at once); a round claims only as many deliveries as
 * there are free attempt slots and does not wait for the attempts it starts; a finished attempt
 * frees its slot for the next round. `stop` waits for the round and the attempts under way.
 */
export class WebhookDeliveries {
  readonly #store: Transactional<Ports>;
  readonly #transport: Pick<WebhookTransport, 'send'>;
  readonly #secrets: WebhookSecrets;
  readonly #clock: Clock;
  readonly #random: Random;
  readonly #ids: IdGenerator;
  readonly #maxAttempts: number;
  readonly #retryDelaysMs: readonly number[];
  readonly #pollMs: number;
  readonly #onProblem: (error: unknown) => void;
  readonly #onOutcome: (outcome: DeliveryOutcome) => void;
  #timer: NodeJS.Timeout | undefined;
  /** When the timer fires (performance.now()), so a later wish never postpones a sooner round. */
  #timerAt = 0;
  #round: Promise<void> | undefined;
  /** Attempts under way, and how many of them go to each endpoint. */
  readonly #inFlight = new Set<Promise<void>>();
  readonly #perEndpoint = new Map<string, number>();
  /** The last round may have left due deliveries unclaimed for want of a slot: a freed slot asks for a round. */
  #slotsWanted = false;
  #again = false;
  /** A published event was recorded since the last wakeIfPublished. */
  #published = false;
  #running = false;
  /** A retry due sooner than the poll, asked for while a round was under way. */
  #nextDelay: number | undefined;

  constructor(dependencies: {
    store: Transactional<Ports>;
    transport: Pick<WebhookTransport, 'send'>;
    secrets: WebhookSecrets;
    clock: Clock;
    random: Random;
    ids: IdGenerator;
    maxAttempts: number;
    retryDelaysMs?: readonly number[] | undefined;
    pollMs?: number | undefined;
    /** A round that failed (the database away): logged, and the next round tries again. */
    onProblem: (error: unknown) => void;
    /** Each attempt's outcome (for the log, without the body). */
    onOutcome?: ((outcome: DeliveryOutcome) => void) | undefined;
  }) {
    this.#store = dependencies.store;
    this.#transport = dependencies.transport;
    this.#secrets = dependencies.secrets;
    this.#clock = dependencies.clock;
    this.#random = dependencies.random;
    this.#ids = dependencies.ids;
    this.#maxAttempts = dependencies.maxAttempts;
    this.#retryDelaysMs = dependencies.retryDelaysMs ?? DEFAULT_WEBHOOK_RETRY_DELAYS_MS;
    this.#pollMs = dependencies.pollMs ?? DEFAULT_WEBHOOK_POLL_MS;
    this.#onProblem = dependencies.onProblem;
    this.#onOutcome = dependencies.onOutcome ?? (() => {});
  }

  /** Starts polling (the server does; the CLI never does). */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#schedule(0);
  }

  /**
   * Notes that a published event was just recorded (its transaction may not have committed yet):
   * the next `wakeIfPublished`, after the request that recorded it is answered, asks for a round.
   */
  notePublished(): void {
    this.#published = true;
  }

  /** A round at once if a published event was recorded since the last one: requests that published nothing cost nothing here. */
  wakeIfPublished(): void {
    if (!this.#published) return;
    this.#published = false;
    this.wake();
  }

  /** Asks for a round as soon as the one under way (if any) ends: something was just recorded. */
  wake(): void {
    if (!this.#running) return;
    if (this.#round !== undefined) this.#again = true;
    else this.#schedule(0);
  }

  /** Stops polling and waits for the round and the attempts under way (each ends within 10 s). */
  async stop(): Promise<void> {
    this.#running = false;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#round;
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
  }

  /**
   * For a process that does not `start` (the CLI): the outbox fanned out, then every due delivery
   * attempted, as many at once as the slots allow. Resolves when the attempts it started are recorded.
   */
  async runOnce(): Promise<void> {
    await this.fanOut();
    for (;;) {
      const started = await this.#claimAndStart();
      if (started.length === 0) return;
      await Promise.all(started);
    }
  }

  /** Deletes delivered and failed deliveries created more than 30 days ago (the serving process's sweeper); how many. */
  async deleteFinished(): Promise<number> {
    const before = toTimestamp(new Date(this.#clock.now().getTime() - FINISHED_DELIVERIES_KEPT_DAYS * 86_400_000));
    let total = 0;
    for (;;) {
      const deleted = await this.#store.webhooks.deleteFinishedDeliveries(before, DELETE_BATCH);
      total += deleted;
      if (deleted < DELETE_BATCH) return total;
    }
  }

  /** Turns outbox entries into deliveries, in one transaction per batch; returns how many events were taken. */
  async fanOut(): Promise<number> {
    let total = 0;
    for (;;) {
      const taken = await this.#store.transaction(async (tx) => {
        const events = await tx.webhooks.takeOutbox(BATCH);
        const at = toTimestamp(this.#clock.now());
        for (const event of events) {
          const endpoints = await tx.webhooks.listReceivingEndpoints(event.organizationId);
          const payload = webhookPayload(event);
          for (const { endpoint } of endpoints) {
            if (!receives(endpoint.organizationId, event)) continue;
            await tx.webhooks.insertDelivery({
              deliveryId: this.#ids.nextTimeOrdered('webhook-delivery', this.#clock.now()),
              endpointId: endpoint.endpointId,
              eventId: event.eventId,
              eventType: event.type,
              organizationId: event.organizationId,
              payload,
              status: 'pending',
              attempts: 0,
              nextAttemptAt: at,
              lastAttemptAt: null,
              lastStatusCode: null,
              lastError: null,
              createdAt: at,
              deliveredAt: null,
            });
          }
        }
        return events.length;
      });
      total += taken;
      if (taken < BATCH) return total;
    }
  }

  /**
   * Claims due deliveries for the free slots and starts their attempts without waiting for them;
   * returns the attempts started. Each claim takes at most one delivery per endpoint and none of an
   * endpoint whose slots are taken, so no endpoint gets more than its two, however many are due.
   */
  async #claimAndStart(): Promise<Promise<void>[]> {
    const started: Promise<void>[] = [];
    for (;;) {
      const free = MAX_ATTEMPTS_IN_FLIGHT - this.#inFlight.size;
      if (free <= 0) {
        this.#slotsWanted = true;
        return started;
      }
      const skipEndpoints = [...this.#perEndpoint].filter(([, count]) => count >= MAX_ATTEMPTS_IN_FLIGHT_PER_ENDPOINT).map(([endpointId]) => endpointId);
      const now = this.#clock.now();
      const claimed = await this.#store.webhooks.claimDueDeliveries(toTimestamp(now), toTimestamp(new Date(now.getTime() + LEASE_MS)), free, { perEndpoint: 1, skipEndpoints });
      for (const delivery of claimed) started.push(this.#startAttempt(delivery));
      if (claimed.length === 0) {
        if (skipEndpoints.length > 0) this.#slotsWanted = true;
        return started;
      }
    }
  }

  #startAttempt(delivery: WebhookDelivery): Promise<void> {
    const { endpointId } = delivery;
    this.#perEndpoint.set(endpointId, (this.#perEndpoint.get(endpointId) ?? 0) + 1);
    const attempt: Promise<void> = this.#attempt(delivery)
      .catch((error: unknown) => this.#onProblem(error))
      .finally(() => {
        this.#inFlight.delete(attempt);
        const left = (this.#perEndpoint.get(endpointId) ?? 1) - 1;
        if (left > 0) this.#perEndpoint.set(endpointId, left);
        else this.#perEndpoint.delete(endpointId);
        if (this.#slotsWanted) {
          this.#slotsWanted = false;
          this.wake();
        }
      });
    this.#inFlight.add(attempt);
    return attempt;
  }

  async #attempt(delivery: WebhookDelivery): Promise<void> {
    const attempts = delivery.attempts + 1;
    const found = await this.#store.webhooks.findEndpoint(delivery.endpointId);
    let answer: WebhookAnswer;
    if (found === undefined || found.endpoint.disabledAt !== null) {
      answer = { failure: 'not sent: the endpoint is disabled' };
    } else {
      answer = await this.#transport.send({
        url: found.endpoint.url,
        secret: this.#secrets.open(found.endpoint.endpointId, found.sealedSecret),
        messageId: delivery.eventId,
        timestamp: this.#clock.now(),
        body: delivery.payload,
      });
    }
    const at = this.#clock.now();
    const delivered = 'status' in answer && answer.status >= 200 && answer.status < 300;
    const final = delivered || attempts >= this.#maxAttempts || found?.endpoint.disabledAt != null || found === undefined;
    const status = delivered ? 'delivered' : final ? 'failed' : 'pending';
    const nextAttemptAt = status === 'pending' ? new Date(at.getTime() + this.#delayAfter(attempts)) : null;
    const statusCode = 'status' in answer ? answer.status : null;
    const error = delivered ? null : 'status' in answer ? describeStatus(answer) : answer.failure;
    const recorded = await this.#store.webhooks.recordAttempt(delivery.deliveryId, {
      status,
      attempts,
      at: toTimestamp(at),
      nextAttemptAt: nextAttemptAt === null ? null : toTimestamp(nextAttemptAt),
      statusCode,
      error,
    });
    if (!recorded) return;
    this.#onOutcome({ delivery, status, attempts, statusCode, error });
    // A retry due before the next poll gets a round of its own. Stored times have whole seconds, so
    // it is claimable from the start of its second.
    if (nextAttemptAt !== null) this.#scheduleBy(Date.parse(toTimestamp(nextAttemptAt)) - at.getTime());
  }

  /** The wait after `attempts` failed attempts, ±10% so endpoints that failed together are not retried together. */
  #delayAfter(attempts: number): number {
    const base = this.#retryDelaysMs[Math.min(attempts, this.#retryDelaysMs.length) - 1] ?? DEFAULT_WEBHOOK_POLL_MS;
    const spread = ((this.#random.bytes(1)[0] ?? 128) / 255 - 0.5) * 0.2;
    return Math.max(0, Math.round(base * (1 + spread)));
  }

  #schedule(delayMs: number): void {
    if (!this.#running) return;
    const at = performance.now() + delayMs;
    if (this.#timer !== undefined && this.#timerAt <= at) return;
    clearTimeout(this.#timer);
    this.#timerAt = at;
    this.#timer = setTimeout(() => this.#startRound(), delayMs);
    this.#timer.unref();
  }

  /** Brings the next round forward when `delayMs` is sooner than the poll (a timer is set only between rounds). */
  #scheduleBy(delayMs: number): void {
    if (delayMs >= this.#pollMs) return;
    const wait = Math.max(0, delayMs) + 5;
    if (this.#round !== undefined) {
      this.#nextDelay = Math.min(this.#nextDelay ?? wait, wait);
      return;
    }
    this.#schedule(wait);
  }

  #startRound(): void {
    this.#timer = undefined;
    this.#round = this.fanOut()
      .then(() => this.#claimAndStart())
      .then(() => undefined)
      .catch((error: unknown) => this.#onProblem(error))
      .finally(() => {
        this.#round = undefined;
        const next = this.#again ? 0 : Math.min(this.#pollMs, this.#nextDelay ?? this.#pollMs);
        this.#again = false;
        this.#nextDelay = undefined;
        this.#schedule(next);
      });
  }
}

function describeStatus(answer: { readonly status: number; readonly text: string }): string {
  const text = answer.text.replace(/[\r\n]+/g, ' ').trim();
  const clipped = text.length > 200 ? `${text.slice(0, 200)}…` : text;
  return clipped === '' ? `HTTP ${answer.status}` : `HTTP ${answer.status}: ${clipped}`;
}
