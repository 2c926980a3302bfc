/** What a transport reports for one attempt. It never throws: a failure is an answer too. */
export type SendResult =
  | { readonly ok: true; readonly reply: string }
  /** `permanent`: retrying cannot help (SMTP 5xx, an HTTP 400, refused credentials); otherwise try again later. */
  | { readonly ok: false; readonly permanent: boolean; readonly reply: string };

/** How a message's attempts ended: sent, or failed for good (refused, out of attempts, or the server stopped). */
export interface DeliveryOutcome {
  readonly ok: boolean;
  readonly attempts: number;
  readonly reply: string;
}

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

/** What went wrong inside a dispatcher itself (the database refused a write, say): for the log. */
export interface DispatcherProblem {
  readonly messageId?: string;
  readonly error: unknown;
}

/** Waits before the 2nd, 3rd, … attempt: 1 s, 2 s, 4 s, 8 s, so five attempts in all. */
export const DEFAULT_RETRY_DELAYS_MS: readonly number[] = [1000, 2000, 4000, 8000];

/** The reply recorded for a message whose time ran out before an attempt: it was not sent again. */
export const EXPIRED_REPLY = 'expired before it could be sent';

/** How long `close` waits for attempts already under way before it lets them go. */
const CLOSE_GRACE_MS = 5000;

/**
 * The background half of a delivery port (mail and SMS share it): work tracked so tests can wait
 * for it and shutdown can end it, at most `maxConcurrent` attempts at once (a slow or dead provider
 * then holds a few connections, not one per message), and retries after temporary failures with
 * growing waits.
 *
 * Timers never keep the process alive, and `close` cuts pending waits short so a server stops
 * promptly; the message then fails with a reply that says so.
 */
export class DeliveryQueue {
  readonly #retryDelaysMs: readonly number[];
  readonly #maxConcurrent: number;
  readonly #maxPending: number;
  readonly #running = new Set<Promise<void>>();
  readonly #waiting = new Set<() => void>();
  /** Attempts waiting for one of the `maxConcurrent` slots. */
  readonly #slotQueue: (() => void)[] = [];
  #sending = 0;
  #closed = false;

  constructor(options: { retryDelaysMs?: readonly number[] | undefined; maxConcurrent: number; maxPending: number }) {
    this.#retryDelaysMs = options.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS;
    this.#maxConcurrent = options.maxConcurrent;
    this.#maxPending = options.maxPending;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Whether `maxPending` messages are held already (sending, or waiting to send or to retry). Past
   * it a new message is failed at once instead of queued: a dead provider under a burst of sign-ins
   * must not grow the process without bound.
   */
  get full(): boolean {
    return this.#running.size >= this.#maxPending;
  }

  /** Runs `work` in the background; what it throws goes to `onError`. */
  run(work: () => Promise<void>, onError: (error: unknown) => void): void {
    const running = work().catch(onError);
    this.#running.add(running);
    void running.finally(() => this.#running.delete(running));
  }

  /** Resolves when every piece of work handed over so far has finished (tests). */
  async idle(): Promise<void> {
    while (this.#running.size > 0) await Promise.allSettled([...this.#running]);
  }

  /** Stops: pending waits end at once, and attempts under way get a few seconds to finish. */
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
  }

  /**
   * Attempts `send` until it succeeds, fails permanently or runs out of attempts (one more than the
   * retry delays). `retrying` is told of each temporary failure before the wait (to record it as
   * still queued). With `expired`, asked before each attempt (the first too, once a slot is free):
   * a message that says it expired is not sent, and fails with EXPIRED_REPLY (a code past its
   * lifetime would only reach its recipient useless, and cost money).
   */
  async deliver(
    send: () => Promise<SendResult>,
    retrying: (attempts: number, reply: string) => Promise<void>,
    options: { readonly expired?: (() => boolean) | undefined } = {},
  ): Promise<DeliveryOutcome> {
    const maxAttempts = this.#retryDelaysMs.length + 1;
    for (let attempt = 1; ; attempt++) {
      const result = await this.#attempt(send, options.expired);
      if (result === 'expired') return { ok: false, attempts: attempt - 1, reply: EXPIRED_REPLY };
      if (result.ok) return { ok: true, attempts: attempt, reply: result.reply };
      const delay = this.#retryDelaysMs[attempt - 1];
      if (result.permanent || attempt >= maxAttempts || delay === undefined || this.#closed) return { ok: false, attempts: attempt, reply: result.reply };
      await retrying(attempt, result.reply);
      if (!(await this.#wait(delay))) return { ok: false, attempts: attempt, reply: `${result.reply} (not retried: the server stopped)` };
    }
  }

  /** One attempt, in one of the `maxConcurrent` slots (waiting for one to be free); none once `expired` says so. */
  async #attempt(send: () => Promise<SendResult>, expired: (() => boolean) | undefined): Promise<SendResult | 'expired'> {
    // A finishing attempt hands its slot straight to the next in line, so none is ever over the limit.
    if (this.#sending >= this.#maxConcurrent) await new Promise<void>((resolve) => this.#slotQueue.push(resolve));
    else this.#sending += 1;
    try {
      if (expired?.() === true) return 'expired';
      return await send();
    } finally {
      const next = this.#slotQueue.shift();
      if (next === undefined) this.#sending -= 1;
      else next();
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
