import type { Kysely } from 'kysely';

/**
 * Intermediate sessions: the factors of a sign-in that must still meet the organization's MFA
 * requirement, held for ten minutes behind an intermediate_session_token. Like member sessions, the
 * token is stored only as its lookup id and SHA-256 digest. `consumed_at` marks the one exchange
 * that turned it into a member session (a conditional update claims it, so only one can).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('intermediate_sessions')
    .addColumn('intermediate_session_id', 'text', (column) => column.primaryKey())
    .addColumn('token_lookup_id', 'text', (column) => column.notNull().unique())
    .addColumn('token_digest', 'text', (column) => column.notNull())
    .addColumn('organization_id', 'text', (column) => column.notNull())
    .addColumn('member_id', 'text', (column) => column.notNull())
    .addColumn('authentication_factors', 'text', (column) => column.notNull())
    .addColumn('created_at', 'text', (column) => column.notNull())
    .addColumn('expires_at', 'text', (column) => column.notNull())
    .addColumn('consumed_at', 'text')
    .execute();
  // A member's deletion or new address, and an organization's deletion, end its intermediate sessions.
  await db.schema.createIndex('intermediate_sessions_by_member').on('intermediate_sessions').column('member_id').execute();
  await db.schema.createIndex('intermediate_sessions_by_organization').on('intermediate_sessions').column('organization_id').execute();
}
