import type { Kysely } from 'kysely';

/** Member sessions (tokens only as lookup id + digest) and the signing keys shared by all processes. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('sessions')
    .addColumn('member_session_id', 'text', (column) => column.primaryKey())
    .addColumn('token_lookup_id', 'text', (column) => column.notNull().unique())
    .addColumn('token_digest', 'text', (column) => column.notNull())
    .addColumn('member_id', 'text', (column) => column.notNull())
    .addColumn('organization_id', 'text', (column) => column.notNull())
    .addColumn('started_at', 'text', (column) => column.notNull())
    .addColumn('last_accessed_at', 'text', (column) => column.notNull())
    .addColumn('expires_at', 'text', (column) => column.notNull())
    .addColumn('revoked_at', 'text')
    .addColumn('authentication_factors', 'text', (column) => column.notNull())
    .addColumn('custom_claims', 'text', (column) => column.notNull())
    .addColumn('attributes', 'text', (column) => column.notNull())
    .addColumn('roles', 'text', (column) => column.notNull())
    .execute();
  await db.schema.createIndex('sessions_member').on('sessions').columns(['member_id', 'expires_at']).execute();
  await db.schema.createIndex('sessions_organization').on('sessions').columns(['organization_id', 'expires_at']).execute();

  await db.schema
    .createTable('signing_keys')
    .addColumn('kid', 'text', (column) => column.primaryKey())
    .addColumn('public_jwk', 'text', (column) => column.notNull())
    .addColumn('sealed_private_jwk', 'text', (column) => column.notNull())
    .addColumn('created_at', 'text', (column) => column.notNull())
    .addColumn('active_from', 'text', (column) => column.notNull())
    .addColumn('active_until', 'text')
    .addColumn('published_until', 'text')
    .execute();
}
