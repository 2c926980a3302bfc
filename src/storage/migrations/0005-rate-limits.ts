import type { Kysely } from 'kysely';

/**
 * Rate-limit counters shared by every process on the database: one row per limit, key and fixed
 * window, incremented with one atomic upsert. Rows of ended windows are pruned as windows roll.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('rate_limit_counters')
    .addColumn('bucket', 'text', (column) => column.notNull())
    .addColumn('key', 'text', (column) => column.notNull())
    .addColumn('window_start', 'text', (column) => column.notNull())
    .addColumn('expires_at', 'text', (column) => column.notNull())
    .addColumn('count', 'integer', (column) => column.notNull())
    .addPrimaryKeyConstraint('rate_limit_counters_pkey', ['bucket', 'key', 'window_start'])
    .execute();
  await db.schema.createIndex('rate_limit_counters_expires_at').on('rate_limit_counters').columns(['expires_at']).execute();
}
