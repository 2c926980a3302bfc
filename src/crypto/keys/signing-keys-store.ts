/** A signing key as stored: the public JWK in clear, the private JWK sealed with the master key. */
export interface StoredSigningKey {
  readonly kid: string;
  readonly publicJwk: string;
  readonly sealedPrivateJwk: string;
  readonly createdAt: string;
  /** From this moment the key signs new JWTs (it is published from `createdAt`). */
  readonly activeFrom: string;
  /** When a newer key took over signing; null while the key is the newest. */
  readonly activeUntil: string | null;
  /** After this moment the key leaves the JWKS: every JWT it signed has expired. Null while it signs. */
  readonly publishedUntil: string | null;
}

/** Storage port for signing keys, shared by every server process on one database. */
export interface SigningKeysStore {
  /** Every key, retired ones included, oldest first; empty before the first start. */
  listSigningKeys(): Promise<StoredSigningKey[]>;
  insertSigningKey(key: StoredSigningKey): Promise<void>;
  /** Sets when a key stops signing and leaves the JWKS; no-op when the kid is unknown. */
  scheduleSigningKeyRetirement(kid: string, activeUntil: string, publishedUntil: string): Promise<void>;
  /**
   * Holds a database-wide lock until the surrounding transaction ends, so two processes starting
   * at once do not both create a first key (PostgreSQL advisory lock; SQLite write lock). Call it
   * first in the transaction, so every read after it sees what the previous holder committed.
   */
  lockSigningKeys(): Promise<void>;
}
