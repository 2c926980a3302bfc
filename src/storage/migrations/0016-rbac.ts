import type { Kysely } from 'kysely';

/**
 * The project's RBAC policy, one row per version (the newest is in force; none means Stytch's
 * built-in default). The version number is the primary key, so two writers racing to append the
 * same next version cannot both succeed.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('rbac_policy_versions')
    .addColumn('version', 'integer', (column) => column.primaryKey())
    .addColumn('policy', 'text', (column) => column.notNull())
    .addColumn('source', 'text', (column) => column.notNull())
    .addColumn('created_at', 'text', (column) => column.notNull())
    .execute();
}
