import type { Kysely } from 'kysely';

/** Console operators (support staff and admins) and their browser sessions (token digests only). */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('operators')
    .addColumn('operator_id', 'text', (column) => column.primaryKey())
    .addColumn('email_address', 'text', (column) => column.notNull().unique())
    .addColumn('name', 'text', (column) => column.notNull())
    .addColumn('role', 'text', (column) => column.notNull())
    .addColumn('password_hash', 'text', (column) => column.notNull())
    .addColumn('sealed_totp_secret', 'text')
    .addColumn('last_totp_step', 'bigint')
    .addColumn('failed_attempts', 'integer', (column) => column.notNull())
    .addColumn('locked_until', 'text')
    .addColumn('disabled_at', 'text')
    .addColumn('created_at', 'text', (column) => column.notNull())
    .addColumn('updated_at', 'text', (column) => column.notNull())
    .execute();

  await db.schema
    .createTable('console_sessions')
    .addColumn('console_session_id', 'text', (column) => column.primaryKey())
    .addColumn('token_lookup_id', 'text', (column) => column.notNull().unique())
    .addColumn('token_digest', 'text', (column) => column.notNull())
    .addColumn('operator_id', 'text', (column) => column.notNull())
    .addColumn('created_at', 'text', (column) => column.notNull())
    .addColumn('last_seen_at', 'text', (column) => column.notNull())
    .addColumn('expires_at', 'text', (column) => column.notNull())
    .addColumn('totp_verified_at', 'text')
    .addColumn('revoked_at', 'text')
    .execute();
  await db.schema.createIndex('console_sessions_operator').on('console_sessions').columns(['operator_id']).execute();
}
