import { sql, type Kysely } from 'kysely';

/**
 * Redirect URLs added in the console or the CLI (configured ones are never stored): one row per URL
 * and type it is allowed for. A partial unique index keeps at most one default per type, whatever
 * races between edits.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('redirect_urls')
    .addColumn('url', 'text', (column) => column.notNull())
    .addColumn('type', 'text', (column) => column.notNull())
    .addColumn('is_default', 'integer', (column) => column.notNull())
    .addColumn('created_at', 'text', (column) => column.notNull())
    .addColumn('updated_at', 'text', (column) => column.notNull())
    .addPrimaryKeyConstraint('redirect_urls_pkey', ['url', 'type'])
    .execute();
  await db.schema.createIndex('redirect_urls_one_default_per_type').on('redirect_urls').column('type').unique().where(sql.ref('is_default'), '=', 1).execute();
}
