import { sql, type Kysely } from 'kysely';

/**
 * Signing in by email. `email_credentials` holds magic links and one-time codes: never the token or
 * the code, only a lookup id (links) and a SHA-256 digest; `consumed_at` marks the one redemption
 * (or the voiding) that spent it. Codes are found by (kind, organization, address).
 *
 * Intermediate sessions may now belong to an email address alone (discovery: no organization or
 * member yet), so their organization and member become optional and they record the address. SQLite
 * cannot drop a NOT NULL constraint, so the table is rebuilt the same way on both databases.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('email_credentials')
    .addColumn('credential_id', 'text', (column) => column.primaryKey())
    .addColumn('kind', 'text', (column) => column.notNull())
    .addColumn('purpose', 'text', (column) => column.notNull())
    .addColumn('organization_id', 'text')
    .addColumn('member_id', 'text')
    .addColumn('email_address', 'text', (column) => column.notNull())
    .addColumn('lookup_id', 'text', (column) => column.unique())
    .addColumn('digest', 'text', (column) => column.notNull())
    .addColumn('pkce_code_challenge', 'text')
    .addColumn('created_at', 'text', (column) => column.notNull())
    .addColumn('expires_at', 'text', (column) => column.notNull())
    .addColumn('consumed_at', 'text')
    .addColumn('failed_attempts', 'integer', (column) => column.notNull().defaultTo(0))
    .execute();
  await db.schema.createIndex('email_credentials_by_address').on('email_credentials').columns(['email_address', 'kind', 'organization_id']).execute();
  await db.schema.createIndex('email_credentials_by_member').on('email_credentials').column('member_id').execute();
  await db.schema.createIndex('email_credentials_by_organization').on('email_credentials').column('organization_id').execute();

  await db.schema
    .createTable('intermediate_sessions_next')
    .addColumn('intermediate_session_id', 'text', (column) => column.primaryKey())
    .addColumn('token_lookup_id', 'text', (column) => column.notNull().unique())
    .addColumn('token_digest', 'text', (column) => column.notNull())
    .addColumn('organization_id', 'text')
    .addColumn('member_id', 'text')
    .addColumn('email_address', 'text', (column) => column.notNull())
    .addColumn('authentication_factors', 'text', (column) => column.notNull())
    .addColumn('created_at', 'text', (column) => column.notNull())
    .addColumn('expires_at', 'text', (column) => column.notNull())
    .addColumn('consumed_at', 'text')
    .execute();
  await sql`insert into intermediate_sessions_next
      (intermediate_session_id, token_lookup_id, token_digest, organization_id, member_id, email_address, authentication_factors, created_at, expires_at, consumed_at)
    select intermediate_session_id, token_lookup_id, token_digest, organization_id, member_id,
      coalesce((select members.email_address from members where members.member_id = intermediate_sessions.member_id), ''),
      authentication_factors, created_at, expires_at, consumed_at
    from intermediate_sessions`.execute(db);
  await db.schema.dropTable('intermediate_sessions').execute();
  await db.schema.alterTable('intermediate_sessions_next').renameTo('intermediate_sessions').execute();
  await db.schema.createIndex('intermediate_sessions_by_member').on('intermediate_sessions').column('member_id').execute();
  await db.schema.createIndex('intermediate_sessions_by_organization').on('intermediate_sessions').column('organization_id').execute();
}
