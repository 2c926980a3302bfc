import type { RedirectUrl, RedirectUrlTypeSetting } from './redirect-url.js';

/** A redirect URL added in the console or the CLI, as stored. */
export interface StoredRedirectUrl extends RedirectUrl {
  readonly createdAt: string;
  readonly updatedAt: string;
}

/**
 * Storage port for the redirect URLs kept in the database (configured ones never are). The
 * database also guarantees at most one default per type (a unique index).
 */
export interface RedirectUrlsStore {
  /**
   * Inside a transaction, makes other edits of the list wait until it ends (PostgreSQL: a
   * transaction-scoped advisory lock; SQLite needs nothing, its writers are serialized): two edits
   * that each move a type's default would otherwise both clear the old one and collide.
   */
  lockForEdit(): Promise<void>;
  /** Every stored URL, oldest first. */
  listRedirectUrls(): Promise<StoredRedirectUrl[]>;
  findRedirectUrl(url: string): Promise<StoredRedirectUrl | undefined>;
  /**
   * Creates the URL or replaces its types, keeping its creation time. For each type it becomes the
   * default of, the URL that was that type's default stops being it.
   */
  saveRedirectUrl(url: string, types: readonly RedirectUrlTypeSetting[], at: string): Promise<void>;
  /** Deletes the URL; false when it was not stored. */
  deleteRedirectUrl(url: string): Promise<boolean>;
}
