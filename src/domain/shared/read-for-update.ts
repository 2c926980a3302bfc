/**
 * Asked of a lookup inside a transaction that goes on to write the row back: the row is locked until
 * the transaction ends, and the lookup returns its latest committed version (PostgreSQL: `FOR UPDATE`;
 * READ COMMITTED would otherwise let two transactions read the same version and the later write undo
 * the earlier). SQLite needs nothing: every transaction holds the database's write lock from its start.
 */
export interface ReadForUpdate {
  readonly forUpdate?: boolean;
}

/** The option for a read that a write of the same row follows. */
export const FOR_UPDATE: ReadForUpdate = { forUpdate: true };
