import { toTimestamp, type Clock } from '../../platform/clock.js';
import type { DomainError } from '../shared/domain-error.js';
import type { OperationContext } from '../shared/operation-context.js';
import { clientAddressKey } from './client-address.js';
import { rateLimitError, type RateLimitedError } from './errors.js';
import { secondsUntilEnd, windowAt, type RateLimitName, type RateLimitPolicy, type RateLimitWindow } from './rate-limit.js';
import type { RateLimitsStore } from './rate-limits-store.js';

/**
 * What a service that checks presented tokens needs: a cap on failed guesses per client address.
 * A "guess" is a token this server never issued (unknown, or not matching its digest, or a JWT whose
 * signature does not verify); an expired or revoked session's token is not one, so stale cookies of
 * a busy application never use up its budget.
 */
export interface GuessLimit {
  /** Before a presented token is looked at: throws too_many_requests while the caller's client has no failures left. */
  beforeAttempt(context: OperationContext): Promise<void>;
  /** After a failed guess: counts it and returns the error to throw, too_many_requests once over the limit. */
  afterFailedGuess(context: OperationContext, error: DomainError): Promise<DomainError>;
}

export const NO_GUESS_LIMIT: GuessLimit = {
  beforeAttempt: async () => undefined,
  afterFailedGuess: async (_context, error) => error,
};

/** The count this process last saw for one key, in one window. */
interface Seen {
  readonly windowStart: number;
  readonly count: number;
}

/** Keys remembered per limit before old windows are forgotten (bounds memory under a spray of addresses). */
const MAX_REMEMBERED_KEYS = 100_000;

const WHAT: Record<RateLimitName, string> = {
  auth_failures: 'failed authentications per client address',
  mints: 'impersonation tokens minted per project',
  searches: 'calls of this search endpoint per project',
};

/**
 * Counts requests per limit and key in the shared `rate_limit_counters` table, so every process on
 * one PostgreSQL database enforces one total. Each process also remembers the counts it saw, which
 * lets `assertAttemptsLeft` skip the database for keys it saw no failure from in this window.
 */
export class RateLimiter {
  readonly #store: RateLimitsStore;
  readonly #clock: Clock;
  readonly #policies: ReadonlyMap<RateLimitName, RateLimitPolicy>;
  readonly #seen = new Map<RateLimitName, Map<string, Seen>>();
  #prunedWindowStart = 0;

  constructor(dependencies: { store: RateLimitsStore; clock: Clock; policies: readonly RateLimitPolicy[] }) {
    this.#store = dependencies.store;
    this.#clock = dependencies.clock;
    this.#policies = new Map(dependencies.policies.map((policy) => [policy.name, policy]));
  }

  isActive(name: RateLimitName): boolean {
    return this.#policies.has(name);
  }

  /** Counts one request of `key`; throws too_many_requests once the window's count is past the limit. */
  async consume(name: RateLimitName, key: string): Promise<void> {
    const policy = this.#policies.get(name);
    if (policy === undefined) return;
    const now = this.#clock.now();
    const window = windowAt(now, policy.windowSeconds);
    // Counts only grow within a window: a key this process already saw over the limit is refused without a write.
    const known = this.#known(name, key, window);
    if (known !== undefined && known > policy.limit) throw refusal(policy, window, now);
    const count = await this.#increment(policy, key, window, now);
    if (count > policy.limit) throw refusal(policy, window, now);
  }

  /**
   * Before an attempt: throws too_many_requests when `key` has used up its failures in this window.
   * Reads the database only when this process saw a failure of `key` in this window; a key that is
   * already known to be over the limit costs no read either.
   */
  async assertAttemptsLeft(name: RateLimitName, key: string): Promise<void> {
    const policy = this.#policies.get(name);
    if (policy === undefined) return;
    const now = this.#clock.now();
    const window = windowAt(now, policy.windowSeconds);
    const known = this.#known(name, key, window);
    if (known === undefined) return;
    let count = known;
    if (count < policy.limit) {
      count = Math.max(count, await this.#store.readCounter(counterKey(policy, key, window)));
      this.#remember(name, key, { windowStart: window.startMillis, count });
    }
    if (count >= policy.limit) throw refusal(policy, window, now);
  }

  /** After a failed attempt: counts it; returns `error`, or too_many_requests when this failure went past the limit. */
  async countFailure(name: RateLimitName, key: string, error: DomainError): Promise<DomainError> {
    const policy = this.#policies.get(name);
    if (policy === undefined) return error;
    const now = this.#clock.now();
    const window = windowAt(now, policy.windowSeconds);
    const count = await this.#increment(policy, key, window, now);
    return count > policy.limit ? refusal(policy, window, now) : error;
  }

  /** The guess limit of `name`, keyed by the caller's client address; none for calls without a client (CLI, internal). */
  guessLimit(name: RateLimitName): GuessLimit {
    if (!this.isActive(name)) return NO_GUESS_LIMIT;
    return {
      beforeAttempt: async (context) => {
        const address = context.client?.ipAddress;
        if (address !== undefined && address !== '') await this.assertAttemptsLeft(name, clientAddressKey(address));
      },
      afterFailedGuess: async (context, error) => {
        const address = context.client?.ipAddress;
        return address === undefined || address === '' ? error : this.countFailure(name, clientAddressKey(address), error);
      },
    };
  }

  async #increment(policy: RateLimitPolicy, key: string, window: RateLimitWindow, now: Date): Promise<number> {
    if (window.startMillis > this.#prunedWindowStart) {
      // Once per window and process: expired counters go, so the table holds about one window of rows.
      this.#prunedWindowStart = window.startMillis;
      this.#forgetBefore(window.startMillis);
      await this.#store.deleteExpiredCounters(toTimestamp(now));
    }
    const count = await this.#store.incrementCounter(counterKey(policy, key, window));
    this.#remember(policy.name, key, { windowStart: window.startMillis, count });
    return count;
  }

  #forgetBefore(windowStart: number): void {
    for (const byKey of this.#seen.values()) {
      for (const [key, entry] of byKey) if (entry.windowStart < windowStart) byKey.delete(key);
    }
  }

  #known(name: RateLimitName, key: string, window: RateLimitWindow): number | undefined {
    const seen = this.#seen.get(name)?.get(key);
    return seen !== undefined && seen.windowStart === window.startMillis ? seen.count : undefined;
  }

  #remember(name: RateLimitName, key: string, seen: Seen): void {
    let byKey = this.#seen.get(name);
    if (byKey === undefined) {
      byKey = new Map();
      this.#seen.set(name, byKey);
    }
    const previous = byKey.get(key);
    if (previous !== undefined && previous.windowStart === seen.windowStart && previous.count >= seen.count) return;
    if (previous === undefined && byKey.size >= MAX_REMEMBERED_KEYS) {
      this.#forgetBefore(seen.windowStart);
      // Still full of this window's keys: enforcement falls back to the count each failure returns.
      if (byKey.size >= MAX_REMEMBERED_KEYS) return;
    }
    byKey.set(key, seen);
  }
}

function counterKey(policy: RateLimitPolicy, key: string, window: RateLimitWindow) {
  return { bucket: policy.name, key, windowStart: toTimestamp(new Date(window.startMillis)), expiresAt: toTimestamp(new Date(window.endMillis)) };
}

function refusal(policy: RateLimitPolicy, window: RateLimitWindow, now: Date): RateLimitedError {
  const seconds = secondsUntilEnd(window, now);
  const span = policy.windowSeconds === 60 ? 'minute' : `${policy.windowSeconds} seconds`;
  return rateLimitError(seconds, `Too many requests have been made: at most ${policy.limit} ${WHAT[policy.name]} per ${span}. Retry after ${seconds} seconds.`);
}
