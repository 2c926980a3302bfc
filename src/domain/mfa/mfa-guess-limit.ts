import { toTimestamp, type Clock } from '../../platform/clock.js';
import { rateLimitError } from '../rate-limits/errors.js';
import { secondsUntilEnd, windowAt } from '../rate-limits/rate-limit.js';
import type { RateLimitsStore } from '../rate-limits/rate-limits-store.js';

/**
 * Wrong TOTP and recovery codes a member may send per window before every code is refused, the
 * right one too (429 `too_many_requests`): a six-digit code is one of a million, and without a
 * bound a caller holding the member's primary sign-in could simply try them all. Counted per
 * member, whichever organization or client the guesses come from.
 */
export const MFA_GUESS_LIMIT = { failures: 5, windowSeconds: 600 } as const;
/**
 * And per day: five every ten minutes alone would let a caller who keeps the member's primary factor
 * make 720 guesses a day (three steps each), a fair chance within a year; twenty a day keeps that
 * below one in ten thousand a year while a member mistyping still gets through.
 */
export const MFA_DAILY_GUESS_LIMIT = { failures: 20, windowSeconds: 86_400 } as const;

const BUCKET = 'mfa_code_failures';
const DAILY_BUCKET = 'mfa_code_failures_daily';

/**
 * The guess bound, on the rate limiter's shared counters (`rate_limit_counters`, fixed windows
 * aligned to the epoch, so every process counts into one total). Always on, unlike the request
 * rate limits (UNDERSTUDY_RATE_LIMITS_ENABLED): it is part of what makes a code a second factor.
 *
 * Checked and counted inside the sign-in's transaction, after the member's row is locked: guesses
 * for one member are judged one at a time, so a burst of them cannot all read the count below
 * the bound, and a wrong guess's count commits with its audit event.
 */
export class MfaGuessLimit {
  readonly #clock: Clock;
  #prunedWindowStart = 0;

  constructor(dependencies: { clock: Clock }) {
    this.#clock = dependencies.clock;
  }

  /** Refuses when the member's wrong codes in this window, or this day, reached their bound. */
  async check(ports: { rateLimits: RateLimitsStore }, memberId: string): Promise<void> {
    const now = this.#clock.now();
    for (const [bucket, limit] of [[BUCKET, MFA_GUESS_LIMIT], [DAILY_BUCKET, MFA_DAILY_GUESS_LIMIT]] as const) {
      const window = windowAt(now, limit.windowSeconds);
      if ((await ports.rateLimits.readCounter(this.#counter(bucket, memberId, window))) < limit.failures) continue;
      const seconds = secondsUntilEnd(window, now);
      throw rateLimitError(
        seconds,
        `Too many wrong one-time codes: at most ${limit.failures} per member every ${describe(limit.windowSeconds)}. Retry after ${seconds} seconds.`,
      );
    }
  }

  /** Counts one wrong code of the member, in both windows. */
  async countFailure(ports: { rateLimits: RateLimitsStore }, memberId: string): Promise<void> {
    const now = this.#clock.now();
    await ports.rateLimits.incrementCounter(this.#counter(BUCKET, memberId, windowAt(now, MFA_GUESS_LIMIT.windowSeconds)));
    await ports.rateLimits.incrementCounter(this.#counter(DAILY_BUCKET, memberId, windowAt(now, MFA_DAILY_GUESS_LIMIT.windowSeconds)));
  }

  /**
   * Deletes counters whose window ended, once per window and process (as the rate limiter does,
   * which prunes only while a request limit is on). Run outside any transaction.
   */
  async prune(ports: { rateLimits: RateLimitsStore }): Promise<void> {
    const now = this.#clock.now();
    const window = windowAt(now, MFA_GUESS_LIMIT.windowSeconds);
    if (window.startMillis <= this.#prunedWindowStart) return;
    this.#prunedWindowStart = window.startMillis;
    await ports.rateLimits.deleteExpiredCounters(toTimestamp(now));
  }

  #counter(bucket: string, memberId: string, window: { startMillis: number; endMillis: number }) {
    return { bucket, key: memberId, windowStart: toTimestamp(new Date(window.startMillis)), expiresAt: toTimestamp(new Date(window.endMillis)) };
  }
}

function describe(seconds: number): string {
  return seconds >= 86_400 ? 'day' : `${seconds / 60} minutes`;
}
