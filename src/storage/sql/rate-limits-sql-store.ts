import type { Kysely } from 'kysely';
import type { RateLimitCounterKey, RateLimitsStore } from '../../domain/rate-limits/rate-limits-store.js';
import type { Database } from '../database.js';

export class RateLimitsSqlStore implements RateLimitsStore {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async incrementCounter(counter: RateLimitCounterKey): Promise<number> {
    // One statement on both databases (INSERT … ON CONFLICT DO UPDATE … RETURNING): concurrent
    // increments from any number of processes serialize on the row and each sees its own count.
    const row = await this.#db
      .insertInto('rate_limit_counters')
      .values({ bucket: counter.bucket, key: counter.key, window_start: counter.windowStart, expires_at: counter.expiresAt, count: 1 })
      .onConflict((conflict) =>
        conflict.columns(['bucket', 'key', 'window_start']).doUpdateSet((eb) => ({ count: eb(eb.ref('rate_limit_counters.count'), '+', 1) })),
      )
      .returning('count')
      .executeTakeFirstOrThrow();
    return Number(row.count);
  }

  async readCounter(counter: RateLimitCounterKey): Promise<number> {
    const row = await this.#db
      .selectFrom('rate_limit_counters')
      .select('count')
      .where('bucket', '=', counter.bucket)
      .where('key', '=', counter.key)
      .where('window_start', '=', counter.windowStart)
      .executeTakeFirst();
    return row === undefined ? 0 : Number(row.count);
  }

  async deleteExpiredCounters(now: string): Promise<number> {
    const result = await this.#db.deleteFrom('rate_limit_counters').where('expires_at', '<=', now).executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
