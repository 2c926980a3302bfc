import type { Kysely } from 'kysely';

/**
 * The tamper-evident audit chain (docs/impersonation.md, "Tamper-evident audit"): chained events
 * carry their chain, their place in it, the previous record's hash and their own; one head row per
 * chain is what a writer locks to append. Filled in by the audit chain's owner.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  void db;
}
