import type { Clock } from '../../platform/clock.js';
import { toTimestamp } from '../../platform/clock.js';
import type { IdGenerator } from '../../platform/ids.js';
import type { OperationContext } from '../common/operation-context.js';
import type { Transactional } from '../common/transactional.js';
import { MAIL_MESSAGES_KEPT, type MailMessage, type MailMode, type RenderedEmail } from './mail-message.js';
import type { MailOutboxStore } from './mail-outbox-store.js';
import type { MailTransport } from './mail-transport.js';
import type { MailDelivery, OutgoingEmail } from './outgoing-email.js';

type Ports = { mailOutbox: MailOutboxStore };

/** Turns a message into its subject and bodies (src/mail/templates); `now` words the expiry. */
export type MailRenderer = (email: OutgoingEmail, now: Date) => RenderedEmail;

/** Waits before the 2nd, 3rd, … SMTP attempt: 1 s, 2 s, 4 s, 8 s, so five attempts in all. */
export const DEFAULT_RETRY_DELAYS_MS: readonly number[] = [1000, 2000, 4000, 8000];

/** What is reported when a message could not be delivered (never the link, code or body). */
export interface FailedDelivery {
  readonly messageId: string;
  readonly requestId: string;
  readonly template: string;
  readonly to: string;
  readonly organizationId: string | null;
  readonly memberId: string | null;
  readonly attempts: number;
  readonly reply: string;
}

/** What went wrong inside the dispatcher itself (the database refused a write, say): for the log. */
export interface DispatcherProblem {
  readonly messageId?: string;
  readonly error: unknown;
}

/** How long `close` waits for attempts already under way before it lets them go. */
const CLOSE_GRACE_MS = 5000;

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
 * message is sent, retried after temporary failures with growing waits; a permanent failure, or
 * running out of attempts, marks it failed and is reported through `onFailure`.
 *
 * Timers never keep the process alive, and `close` ends pending retries (recording them as failed)
 * so a server stops promptly.
 */
export class MailDispatcher implements MailDelivery {
  readonly #store: Transactional<Ports>;
  readonly #clock: Clock;
  readonly #ids: IdGenerator;
  readonly #render: MailRenderer;
  readonly #transport: MailTransport | undefined;
  readonly #retryDelaysMs: readonly number[];
  readonly #onFailure: (failure: FailedDelivery) => void;
  readonly #onProblem: (problem: DispatcherProblem) => void;
  readonly #running = new Set<Promise<void>>();
  readonly #waiting = new Set<() => void>();
  /** Sends waiting for one of the MAX_CONCURRENT_SENDS connections. */
  readonly #sendQueue: (() => void)[] = [];
  #sending = 0;
  #closed = false;

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
    this.#retryDelaysMs = options.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS;
    this.#onFailure = options.onFailure ?? (() => {});
    this.#onProblem = options.onProblem ?? (() => {});
  }

  get mode(): MailMode {
    return this.#transport === undefined ? 'outbox' : 'smtp';
  }

  deliver(context: OperationContext, email: OutgoingEmail): void {
    if (this.#closed) {
      this.#onProblem({ error: new Error('mail delivery was asked for after the server began to stop; the message was dropped') });
      return;
    }
    const overloaded = this.#transport !== undefined && this.#running.size >= MAX_PENDING_MESSAGES;
    const work = this.#dispatch(context, email, overloaded).catch((error: unknown) => this.#onProblem({ error }));
    this.#running.add(work);
    void work.finally(() => this.#running.delete(work));
  }

  /** Resolves when every message handed over so far is recorded and, in SMTP mode, sent or failed (tests). */
  async idle(): Promise<void> {
    while (this.#running.size > 0) await Promise.allSettled([...this.#running]);
  }

  /**
   * Stops: no new messages, pending retries are cancelled (recorded as failed), and attempts under way
   * get a few seconds to finish before the database goes away.
   */
  async close(): Promise<void> {
    this.#closed = true;
    for (const wake of [...this.#waiting]) wake();
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, CLOSE_GRACE_MS);
      timer.unref();
    });
    await Promise.race([Promise.allSettled([...this.#running]), grace]);
    clearTimeout(timer);
    this.#transport?.close();
  }

  async #dispatch(context: OperationContext, email: OutgoingEmail, overloaded = false): Promise<void> {
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
    if (this.#transport === undefined) return;
    if (overloaded) {
      await this.#fail(message, 0, `not sent: ${MAX_PENDING_MESSAGES} messages were already waiting for the SMTP server`);
      return;
    }
    await this.#send(this.#transport, message, rendered);
  }

  /** One SMTP attempt, on one of the MAX_CONCURRENT_SENDS connections (waiting for one to be free). */
  async #attempt(transport: MailTransport, message: MailMessage, rendered: RenderedEmail): ReturnType<MailTransport['send']> {
    // A finishing send hands its connection slot straight to the next in line, so none is ever over the limit.
    if (this.#sending >= MAX_CONCURRENT_SENDS) await new Promise<void>((resolve) => this.#sendQueue.push(resolve));
    else this.#sending += 1;
    try {
      return await transport.send({ ...rendered, to: message.to });
    } finally {
      const next = this.#sendQueue.shift();
      if (next === undefined) this.#sending -= 1;
      else next();
    }
  }

  async #send(transport: MailTransport, message: MailMessage, rendered: RenderedEmail): Promise<void> {
    const maxAttempts = this.#retryDelaysMs.length + 1;
    for (let attempt = 1; ; attempt++) {
      const result = await this.#attempt(transport, message, rendered);
      const at = toTimestamp(this.#clock.now());
      if (result.ok) {
        await this.#record(message.messageId, { status: 'sent', attempts: attempt, lastReply: result.reply, at });
        return;
      }
      const delay = this.#retryDelaysMs[attempt - 1];
      if (result.permanent || attempt >= maxAttempts || delay === undefined || this.#closed) {
        await this.#fail(message, attempt, result.reply);
        return;
      }
      await this.#record(message.messageId, { status: 'queued', attempts: attempt, lastReply: result.reply, at });
      if (!(await this.#wait(delay))) {
        await this.#fail(message, attempt, `${result.reply} (not retried: the server stopped)`);
        return;
      }
    }
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

  /** Sleeps `ms` without holding the process open; false when `close` cut it short. */
  #wait(ms: number): Promise<boolean> {
    // `close` may have run while the previous attempt was being recorded, before this wait existed to be woken.
    if (this.#closed) return Promise.resolve(false);
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.#waiting.delete(wake);
        resolve(false);
      };
      const timer = setTimeout(() => {
        this.#waiting.delete(wake);
        resolve(true);
      }, ms);
      timer.unref();
      this.#waiting.add(wake);
    });
  }
}
