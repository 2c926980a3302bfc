/*
 * Lock order. Every transaction takes its row locks in one order, so none waits for another in a
 * circle (on PostgreSQL a deadlock, answered 500): the organization row first, then member rows, then
 * the operator row, then access grants, impersonation tokens, member sessions, intermediate sessions
 * and impersonated sessions, in that order. A transaction that changes an organization's rows (its
 * members, sessions, impersonation tokens or policy) therefore locks the organization row first,
 * even when it writes nothing there.
 */

/**
 * Asked of a lookup inside a transaction that goes on to write the row back: the row is locked until
 * the transaction ends, and the lookup returns its latest committed version (PostgreSQL: `FOR UPDATE`;
 * READ COMMITTED would otherwise let two transactions read the same version and the later write undo
 * the earlier). SQLite needs nothing: every transaction holds the database's write lock from its start.
 */
export interface ReadForUpdate {
  readonly forUpdate?: boolean;
  /**
   * A weaker lock for a transaction that only needs the row to stay as read (PostgreSQL `FOR SHARE`):
   * writers and `forUpdate` readers wait until it ends, other sharers do not. Never followed by a
   * write of the same row (two sharers upgrading would deadlock).
   */
  readonly forShare?: boolean;
}

/** The option for a read that a write of the same row follows. */
export const FOR_UPDATE: ReadForUpdate = { forUpdate: true };

/**
 * The option for a read whose row must not change or vanish before the transaction ends, though it
 * is not written: e.g. the organization a member change or a mint belongs to.
 */
export const FOR_SHARE: ReadForUpdate = { forShare: true };

