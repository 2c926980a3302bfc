import type { Clock } from '../../platform/clock.js';
import { toTimestamp } from '../../platform/clock.js';
import type { IdGenerator } from '../../platform/ids.js';
import { DeliveryQueue, type DispatcherProblem, type FailedDelivery } from '../common/delivery-queue.js';
import type { OperationContext } from '../common/operation-context.js';
import type { Transactional } from '../common/transactional.js';
import { MAIL_MESSAGES_KEPT, type MailMessage, type MailMode, type RenderedEmail } from './mail-message.js';
import type { MailOutboxStore } from './mail-outbox-store.js';
import type { MailTransport } from './mail-transport.js';
import type { MailDelivery, OutgoingEmail } from './outgoing-email.js';

export { DEFAULT_RETRY_DELAYS_MS, type DispatcherProblem, type FailedDelivery } from '../common/delivery-queue.js';

type Ports = { mailOutbox: MailOutboxStore };

/** Turns a message into its subject and bodies (src/mail/templates); `now` words the expiry. */
export type MailRenderer = (email: OutgoingEmail, now: Date) => RenderedEmail;

/** SMTP connections open at once: a slow or dead server then holds a few sockets, not one per message. */
export const MAX_CONCURRENT_SENDS = 4;

/**
 * Messages held in memory at once (sending, or waiting to send or to retry). Past it, a new message
 * is recorded as failed at once instead of queued: a dead SMTP server under a burst of sign-ins must
 * not grow the process without bound.
 */
export const MAX_PENDING_MESSAGES = 1000;

/**
 * The mail port's implementation. `deliver` returns at once; the message is rendered and recorded
 * in the background. Without a transport (no SMTP configured) the record, link or code and bodies
 * included, is the outbox and that is the end of it. With one, only the status is recorded and the
 * message is sent, retried after temporary failures with growing waits (DeliveryQueue); a permanent
 * failure, or running out of attempts, marks it failed and is reported through `onFailure`.
 *
 * `close` ends pending retries (recording them as failed) so a server stops promptly.
 */
export class MailDispatcher implements MailDelivery {
  readonly #store: Transactional<Ports>;
  readonly #clock: Clock;
  readonly #ids: IdGenerator;
  readonly #render: MailRenderer;
  readonly #transport: MailTransport | undefined;
  readonly #queue: DeliveryQueue;
  readonly #onFailure: (failure: FailedDelivery) => void;
  readonly #onProblem: (problem: DispatcherProblem) => void;

  constructor(options: {
    store: Transactional<Ports>;
    clock: Clock;
    ids: IdGenerator;
    render: MailRenderer;
    /** Undefined: outbox mode. */
    transport?: MailTransport | undefined;
    retryDelaysMs?: readonly number[] | undefined;
    onFailure?: ((failure: FailedDelivery) => void) | undefined;
    onProblem?: ((problem: DispatcherProblem) => void) | undefined;
  }) {
    this.#store = options.store;
    this.#clock = options.clock;
    this.#ids = options.ids;
    this.#render = options.render;
    this.#transport = options.transport;
    this.#queue = new DeliveryQueue({ retryDelaysMs: options.retryDelaysMs, maxConcurrent: MAX_CONCURRENT_SENDS, maxPending: MAX_PENDING_MESSAGES });
    this.#onFailure = options.onFailure ?? (() => {});
    this.#onProblem = options.onProblem ?? (() => {});
  }

  get mode(): MailMode {
    return this.#transport === undefined ? 'outbox' : 'smtp';
  }

  deliver(context: OperationContext, email: OutgoingEmail): void {
    if (this.#queue.closed) {
      this.#onProblem({ error: new Error('mail delivery was asked for after the server began to stop; the message was dropped') });
      return;
    }
    const overloaded = this.#transport !== undefined && this.#queue.full;
    this.#queue.run(
      () => this.#dispatch(context, email, overloaded),
      (error) => this.#onProblem({ error }),
    );
  }

  /** Resolves when every message handed over so far is recorded and, in SMTP mode, sent or failed (tests). */
  idle(): Promise<void> {
    return this.#queue.idle();
  }

  /**
   * Stops: no new messages, pending retries are cancelled (recorded as failed), and attempts under way
   * get a few seconds to finish before the database goes away.
   */
  async close(): Promise<void> {
    await this.#queue.close();
    this.#transport?.close();
  }

  async #dispatch(context: OperationContext, email: OutgoingEmail, overloaded: boolean): Promise<void> {
    const now = this.#clock.now();
    const rendered = this.#render(email, now);
    const at = toTimestamp(now);
    const outbox = this.#transport === undefined;
    const message: MailMessage = {
      messageId: this.#ids.nextTimeOrdered('mail-message', now),
      mode: this.mode,
      status: outbox ? 'stored' : 'queued',
      template: email.template,
      locale: email.locale,
      to: email.to,
      subject: rendered.subject,
      organizationId: email.organizationId,
      memberId: email.memberId,
      requestId: context.requestId,
      expiresAt: email.expiresAt,
      // The secret and the bodies that carry it are kept only where the outbox is the delivery.
      link: outbox ? (email.link ?? null) : null,
      code: outbox ? (email.code ?? null) : null,
      text: outbox ? rendered.text : null,
      html: outbox ? rendered.html : null,
      attempts: 0,
      lastReply: null,
      createdAt: at,
      updatedAt: at,
    };
    await this.#store.transaction(async (tx) => {
      await tx.mailOutbox.insertMessage(message);
      await tx.mailOutbox.pruneMessages(MAIL_MESSAGES_KEPT);
    });
    const transport = this.#transport;
    if (transport === undefined) return;
    if (overloaded) {
      await this.#fail(message, 0, `not sent: ${MAX_PENDING_MESSAGES} messages were already waiting for the SMTP server`);
      return;
    }
    const outcome = await this.#queue.deliver(
      () => transport.send({ ...rendered, to: message.to }),
      (attempts, reply) => this.#record(message.messageId, { status: 'queued', attempts, lastReply: reply, at: toTimestamp(this.#clock.now()) }),
    );
    if (outcome.ok) await this.#record(message.messageId, { status: 'sent', attempts: outcome.attempts, lastReply: outcome.reply, at: toTimestamp(this.#clock.now()) });
    else await this.#fail(message, outcome.attempts, outcome.reply);
  }

  async #fail(message: MailMessage, attempts: number, reply: string): Promise<void> {
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

  async #record(messageId: string, delivery: Parameters<MailOutboxStore['updateDelivery']>[1]): Promise<void> {
    try {
      await this.#store.mailOutbox.updateDelivery(messageId, delivery);
    } catch (error) {
      this.#onProblem({ messageId, error });
    }
  }
}
