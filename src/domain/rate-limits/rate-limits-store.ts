/**
 * Storage port for rate-limit counters: one row per (bucket, key, window). Keys are client
 * addresses or project ids, never tokens or anything else secret.
 */
export interface RateLimitsStore {
  /**
   * Adds one to the counter of this bucket, key and window (creating it at 1), atomically even
   * when several processes count at once, and returns the new count.
   */
  incrementCounter(counter: RateLimitCounterKey): Promise<number>;
  /** The counter's current value; 0 when it does not exist. */
  readCounter(counter: RateLimitCounterKey): Promise<number>;
  /** Deletes every counter whose window ended at or before `now`; returns how many (0 when none). */
  deleteExpiredCounters(now: string): Promise<number>;
}

export interface RateLimitCounterKey {
  /** The limit's name, e.g. `console_sign_ins`. */
  readonly bucket: string;
  /** Who is limited: a client address key or a project id. */
  readonly key: string;
  /** RFC 3339 start of the window. */
  readonly windowStart: string;
  /** RFC 3339 end of the window; rows are pruned after it. */
  readonly expiresAt: string;
}
