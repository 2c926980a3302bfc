import { toTimestamp, type Clock } from '../../platform/clock.js';
import type { OperationContext } from '../common/operation-context.js';
import { clientAddressKey } from './client-address.js';
import { RateLimitedError } from './errors.js';
import { secondsUntilEnd, windowAt, type RateLimitName, type RateLimitPolicy, type RateLimitWindow } from './rate-limit.js';
import type { RateLimitsStore } from './rate-limits-store.js';

/** The count this process last saw for one key, in one window. */
interface Seen {
  readonly windowStart: number;
  readonly count: number;
}

/** Keys remembered per limit before old windows are forgotten (bounds memory under a spray of addresses). */
const MAX_REMEMBERED_KEYS = 100_000;

const WHAT: Record<RateLimitName, string> = {
  mints: 'impersonation tokens minted per project',
  searches: 'calls of this search endpoint per project',
  console_sign_ins: 'console sign-in attempts per client address',
  email_sends_per_address: 'emails sent to one address',
  email_sends_per_client: 'emails sent per client address',
  password_attempts_per_client: 'password sign-in attempts per client address',
  sms_sends_per_number: 'SMS codes sent to one phone number',
  sms_sends_per_member: 'SMS codes sent to one member',
  sms_sends_per_organization: 'SMS codes sent to members of one organization',
  sms_sends_per_project: 'SMS codes sent by the project',
  sso_requests_per_client: 'SSO sign-ins started and IdP answers per client address',
};

/** One request to count: the limit, and who is limited. */
export interface RateLimitRequest {
  readonly name: RateLimitName;
  readonly key: string;
}

/**
 * Counts requests per limit and key in the shared `rate_limit_counters` table, so every process on
 * one PostgreSQL database enforces one total. Each process also remembers the counts it saw, so a
 * key it already saw over the limit in this window is refused without another write.
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
   * Counts one request against each of several limits at once, in `store` (a transaction's port, so
   * the counts commit or roll back with what they limit, and a refused request leaves none behind).
   * None is counted when one is already used up; only two requests racing for the last unit of a
   * limit can leave the loser's counts in place (PostgreSQL serializes them on the counter row).
   * Always read from the table, never from this process's memory: a count remembered from a
   * transaction that rolled back would refuse a request the table allows.
   */
  async consumeAllIn(store: RateLimitsStore, requests: readonly RateLimitRequest[]): Promise<void> {
    const now = this.#clock.now();
    const active = requests.flatMap((request) => {
      const policy = this.#policies.get(request.name);
      return policy === undefined ? [] : [{ policy, counter: counterKey(policy, request.key, windowAt(now, policy.windowSeconds)) }];
    });
    if (active.length === 0) return;
    for (const { policy, counter } of active) {
      if ((await store.readCounter(counter)) >= policy.limit) throw refusal(policy, windowAt(now, policy.windowSeconds), now);
    }
    // No pruning here: it would delete other keys' rows inside the caller's transaction (see prune).
    for (const { policy, counter } of active) {
      if ((await store.incrementCounter(counter)) > policy.limit) throw refusal(policy, windowAt(now, policy.windowSeconds), now);
    }
  }

  /**
   * Deletes expired counters, once per minute and process, outside any transaction: for callers of
   * consumeAllIn, which counts inside theirs and must not lock every expired row while it does.
   */
  async prune(): Promise<void> {
    const now = this.#clock.now();
    await this.#prune(this.#store, windowAt(now, 60), now);
  }

  /**
   * A limit on attempts per client address (IPv6 by /64): each call counts before any work, whatever
   * its outcome, so a concurrent burst cannot get past it; none for calls without a client (CLI, internal).
   */
  clientLimit(name: RateLimitName): (context: OperationContext) => Promise<void> {
    return async (context) => {
      const address = context.client?.ipAddress;
      if (address !== undefined && address !== '') await this.consume(name, clientAddressKey(address));
    };
  }

  async #increment(policy: RateLimitPolicy, key: string, window: RateLimitWindow, now: Date): Promise<number> {
    await this.#prune(this.#store, window, now);
    const count = await this.#store.incrementCounter(counterKey(policy, key, window));
    this.#remember(policy.name, key, { windowStart: window.startMillis, count });
    return count;
  }

  /** Once per window and process: expired counters go, so the table holds about one window of rows. */
  async #prune(store: RateLimitsStore, window: RateLimitWindow, now: Date): Promise<void> {
    if (window.startMillis <= this.#prunedWindowStart) return;
    this.#prunedWindowStart = window.startMillis;
    this.#forgetBefore(window.startMillis);
    await store.deleteExpiredCounters(toTimestamp(now));
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
      // Still full of this window's keys: enforcement falls back to the count each increment returns.
      if (byKey.size >= MAX_REMEMBERED_KEYS) return;
    }
    byKey.set(key, seen);
  }
}

function counterKey(policy: RateLimitPolicy, key: string, window: RateLimitWindow) {
  return { bucket: policy.name, key, windowStart: toTimestamp(new Date(window.startMillis)), expiresAt: toTimestamp(new Date(window.endMillis)) };
}

/**
 * A refusal by one of the rate limits, naming it. Counted by the metrics only once a 429 carrying it
 * is answered (src/http/metrics-endpoint.ts): a refusal a sign-in absorbs (its SMS code not sent), or
 * one in a transaction run again after a deadlock, is not a call refused.
 */
export class RateLimitRefusal extends RateLimitedError {
  constructor(
    readonly limit: RateLimitName,
    retryAfterSeconds: number,
    message: string,
  ) {
    super(retryAfterSeconds, message);
  }
}

function refusal(policy: RateLimitPolicy, window: RateLimitWindow, now: Date): RateLimitRefusal {
  const seconds = secondsUntilEnd(window, now);
  const span = policy.windowSeconds === 60 ? 'minute' : policy.windowSeconds === 3600 ? 'hour' : `${policy.windowSeconds} seconds`;
  return new RateLimitRefusal(policy.name, seconds, `Too many requests have been made: at most ${policy.limit} ${WHAT[policy.name]} per ${span}. Retry after ${seconds} seconds.`);
}
