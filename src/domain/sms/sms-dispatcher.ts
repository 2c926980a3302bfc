import type { Clock } from '../../platform/clock.js';
import { toTimestamp } from '../../platform/clock.js';
import type { IdGenerator } from '../../platform/ids.js';
import { DeliveryQueue, type DispatcherProblem, type FailedDelivery } from '../common/delivery-queue.js';
import type { OperationContext } from '../common/operation-context.js';
import type { Transactional } from '../common/transactional.js';
import type { OutgoingSms, SmsDelivery } from './outgoing-sms.js';
import { SMS_MESSAGES_KEPT, type SmsMessage, type SmsMode } from './sms-message.js';
import type { SmsOutboxStore } from './sms-outbox-store.js';
import type { SmsTransport } from './sms-transport.js';

type Ports = { smsOutbox: SmsOutboxStore };

/** Turns a message into its text (src/sms/templates); `now` words the expiry. */
export type SmsRenderer = (sms: OutgoingSms, now: Date) => string;

/** Provider requests under way at once: a slow or dead provider then holds a few sockets, not one per message. */
export const MAX_CONCURRENT_SMS_SENDS = 4;

/** Messages held in memory at once; past it a new one is recorded as failed at once (DeliveryQueue.full). */
export const MAX_PENDING_SMS = 1000;

/**
 * The SMS port's implementation. `deliver` returns at once; the message is rendered and recorded in
 * the background. Without a transport (no provider configured) the record, code and text included,
 * is the outbox and that is the end of it. With one, only the status is recorded and the message is
 * sent, retried after temporary failures with growing waits, but never once its code expired; a
 * permanent failure, running out of attempts, or the code expiring first marks it failed and is
 * reported through `onFailure` (without the code or the text).
 */
export class SmsDispatcher implements SmsDelivery {
  readonly #store: Transactional<Ports>;
  readonly #clock: Clock;
  readonly #ids: IdGenerator;
  readonly #render: SmsRenderer;
  readonly #transport: SmsTransport | undefined;
  readonly #queue: DeliveryQueue;
  readonly #onFailure: (failure: FailedDelivery) => void;
  readonly #onProblem: (problem: DispatcherProblem) => void;

  constructor(options: {
    store: Transactional<Ports>;
    clock: Clock;
    ids: IdGenerator;
    render: SmsRenderer;
    /** Undefined: outbox mode. */
    transport?: SmsTransport | undefined;
    retryDelaysMs?: readonly number[] | undefined;
    onFailure?: ((failure: FailedDelivery) => void) | undefined;
    onProblem?: ((problem: DispatcherProblem) => void) | undefined;
  }) {
    this.#store = options.store;
    this.#clock = options.clock;
    this.#ids = options.ids;
    this.#render = options.render;
    this.#transport = options.transport;
    this.#queue = new DeliveryQueue({ retryDelaysMs: options.retryDelaysMs, maxConcurrent: MAX_CONCURRENT_SMS_SENDS, maxPending: MAX_PENDING_SMS });
    this.#onFailure = options.onFailure ?? (() => {});
    this.#onProblem = options.onProblem ?? (() => {});
  }

  get mode(): SmsMode {
    return this.#transport?.mode ?? 'outbox';
  }

  deliver(context: OperationContext, sms: OutgoingSms): void {
    if (this.#queue.closed) {
      this.#onProblem({ error: new Error('SMS delivery was asked for after the server began to stop; the message was dropped') });
      return;
    }
    const overloaded = this.#transport !== undefined && this.#queue.full;
    this.#queue.run(
      () => this.#dispatch(context, sms, overloaded),
      (error) => this.#onProblem({ error }),
    );
  }

  /** Resolves when every message handed over so far is recorded and, with a provider, sent or failed (tests). */
  idle(): Promise<void> {
    return this.#queue.idle();
  }

  /** Stops: no new messages, pending retries are cancelled (recorded as failed), attempts under way get a few seconds. */
  async close(): Promise<void> {
    await this.#queue.close();
    this.#transport?.close();
  }

  async #dispatch(context: OperationContext, sms: OutgoingSms, overloaded: boolean): Promise<void> {
    const now = this.#clock.now();
    const text = this.#render(sms, now);
    const at = toTimestamp(now);
    const outbox = this.#transport === undefined;
    const message: SmsMessage = {
      messageId: this.#ids.nextTimeOrdered('sms-message', now),
      mode: this.mode,
      status: outbox ? 'stored' : 'queued',
      template: sms.template,
      locale: sms.locale,
      to: sms.to,
      organizationId: sms.organizationId,
      memberId: sms.memberId,
      requestId: context.requestId,
      expiresAt: sms.expiresAt,
      // The code and the text that carries it are kept only where the outbox is the delivery.
      code: outbox ? sms.code : null,
      text: outbox ? text : null,
      attempts: 0,
      lastReply: null,
      createdAt: at,
      updatedAt: at,
    };
    await this.#store.transaction(async (tx) => {
      await tx.smsOutbox.insertMessage(message);
      await tx.smsOutbox.pruneMessages(SMS_MESSAGES_KEPT);
    });
    const transport = this.#transport;
    if (transport === undefined) return;
    if (overloaded) {
      await this.#fail(message, 0, `not sent: ${MAX_PENDING_SMS} messages were already waiting for the SMS provider`);
      return;
    }
    // A provider's answer is stored and shown: should it echo the message, the code must not go with it.
    const redact = (reply: string): string => (sms.code === '' ? reply : reply.split(sms.code).join('[code]'));
    const outcome = await this.#queue.deliver(
      () =>
        transport.send({
          messageId: message.messageId,
          to: message.to,
          body: text,
          locale: message.locale,
          template: message.template,
          organizationId: message.organizationId,
          memberId: message.memberId,
          expiresAt: message.expiresAt,
        }),
      (attempts, reply) => this.#record(message.messageId, { status: 'queued', attempts, lastReply: redact(reply), at: toTimestamp(this.#clock.now()) }),
      // A code past its expiry cannot be used: sending it (again) would only cost money.
      { expired: () => this.#clock.now().getTime() >= Date.parse(message.expiresAt) },
    );
    if (outcome.ok) await this.#record(message.messageId, { status: 'sent', attempts: outcome.attempts, lastReply: redact(outcome.reply), at: toTimestamp(this.#clock.now()) });
    else await this.#fail(message, outcome.attempts, redact(outcome.reply));
  }

  async #fail(message: SmsMessage, attempts: number, reply: string): Promise<void> {
    await this.#record(message.messageId, { status: 'failed', attempts, lastReply: reply, at: toTimestamp(this.#clock.now()) });
    this.#onFailure({
      messageId: message.messageId,
      requestId: message.requestId,
      template: message.template,
      to: message.to,
      organizationId: message.organizationId,
      memberId: message.memberId,
      attempts,
      reply,
    });
  }

  async #record(messageId: string, delivery: Parameters<SmsOutboxStore['updateDelivery']>[1]): Promise<void> {
    try {
      await this.#store.smsOutbox.updateDelivery(messageId, delivery);
    } catch (error) {
      this.#onProblem({ messageId, error });
    }
  }
}
