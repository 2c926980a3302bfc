import { sql, type Kysely } from 'kysely';
import type { SigningKeysStore, StoredSigningKey } from '../../crypto/keys/signing-keys-store.js';
import type { Database } from '../database.js';

export class SigningKeysSqlStore implements SigningKeysStore {
  readonly #db: Kysely<Database>;
  readonly #dialect: 'sqlite' | 'postgres';

  constructor(db: Kysely<Database>, dialect: 'sqlite' | 'postgres') {
    this.#db = db;
    this.#dialect = dialect;
  }

  async listSigningKeys(): Promise<StoredSigningKey[]> {
    const rows = await this.#db.selectFrom('signing_keys').selectAll().orderBy('created_at').orderBy('kid').execute();
    return rows.map((row) => ({
      kid: row.kid,
      publicJwk: row.public_jwk,
      sealedPrivateJwk: row.sealed_private_jwk,
      createdAt: row.created_at,
      activeFrom: row.active_from,
      activeUntil: row.active_until,
      publishedUntil: row.published_until,
    }));
  }

  async insertSigningKey(key: StoredSigningKey): Promise<void> {
    await this.#db
      .insertInto('signing_keys')
      .values({
        kid: key.kid,
        public_jwk: key.publicJwk,
        sealed_private_jwk: key.sealedPrivateJwk,
        created_at: key.createdAt,
        active_from: key.activeFrom,
        active_until: key.activeUntil,
        published_until: key.publishedUntil,
      })
      .execute();
  }

  async scheduleSigningKeyRetirement(kid: string, activeUntil: string, publishedUntil: string): Promise<void> {
    await this.#db.updateTable('signing_keys').set({ active_until: activeUntil, published_until: publishedUntil }).where('kid', '=', kid).execute();
  }

  async lockSigningKeys(): Promise<void> {
    if (this.#dialect === 'postgres') {
      await sql`select pg_advisory_xact_lock(hashtext('understudy.signing_keys'))`.execute(this.#db);
      return;
    }
    // SQLite has one writer, but a transaction starts as a reader: a second process would read the old
    // key table and then fail with SQLITE_BUSY_SNAPSHOT on its write. A write that matches no row takes
    // the write lock now (waiting out busy_timeout), so the reads that follow see the latest keys.
    await sql`update signing_keys set kid = kid where 1 = 0`.execute(this.#db);
  }
}
