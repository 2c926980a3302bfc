import type { Kysely } from 'kysely';
// implements AccessGrantsStore once filled in (remove the cast in store.ts then).
import type { Database } from '../database.js';

/** Placeholder until its owner fills it in (every method refuses). */
export class AccessGrantsSqlStore {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>, _dialect?: 'sqlite' | 'postgres') {
    this.#db = db;
    void this.#db;
  }
}
