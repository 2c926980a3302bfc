import type { Kysely } from 'kysely';

/**
 * Impersonation: tokens (lookup id + digest only), the life of each impersonated session, each
 * organization's policy, and the audit columns its trail is filtered by.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('audit_events').addColumn('impersonator_id', 'text').execute();
  await db.schema.alterTable('audit_events').addColumn('client_ip', 'text').execute();
  await db.schema.alterTable('audit_events').addColumn('user_agent', 'text').execute();
  await db.schema.createIndex('audit_events_impersonator').on('audit_events').columns(['impersonator_id', 'event_id']).execute();
  await db.schema.createIndex('audit_events_member').on('audit_events').columns(['member_id', 'event_id']).execute();
  await db.schema.createIndex('audit_events_type').on('audit_events').columns(['type', 'event_id']).execute();

  await db.schema
    .createTable('impersonation_tokens')
    .addColumn('token_id', 'text', (column) => column.primaryKey())
    .addColumn('token_lookup_id', 'text', (column) => column.notNull().unique())
    .addColumn('token_digest', 'text', (column) => column.notNull())
    .addColumn('organization_id', 'text', (column) => column.notNull())
    .addColumn('member_id', 'text', (column) => column.notNull())
    .addColumn('impersonator_id', 'text', (column) => column.notNull())
    .addColumn('impersonator_email_address', 'text', (column) => column.notNull())
    .addColumn('reason', 'text', (column) => column.notNull())
    .addColumn('created_at', 'text', (column) => column.notNull())
    .addColumn('expires_at', 'text', (column) => column.notNull())
    .addColumn('redeemed_at', 'text')
    .addColumn('member_session_id', 'text')
    .execute();

  await db.schema
    .createTable('impersonated_sessions')
    .addColumn('member_session_id', 'text', (column) => column.primaryKey())
    .addColumn('token_id', 'text', (column) => column.notNull().unique())
    .addColumn('organization_id', 'text', (column) => column.notNull())
    .addColumn('member_id', 'text', (column) => column.notNull())
    .addColumn('impersonator_id', 'text', (column) => column.notNull())
    .addColumn('impersonator_email_address', 'text', (column) => column.notNull())
    .addColumn('reason', 'text', (column) => column.notNull())
    .addColumn('started_at', 'text', (column) => column.notNull())
    .addColumn('expires_at', 'text', (column) => column.notNull())
    .addColumn('ended_at', 'text')
    .addColumn('end_reason', 'text')
    .execute();
  await db.schema.createIndex('impersonated_sessions_organization').on('impersonated_sessions').columns(['organization_id', 'ended_at']).execute();
  await db.schema.createIndex('impersonated_sessions_member').on('impersonated_sessions').columns(['member_id', 'ended_at']).execute();
  await db.schema.createIndex('impersonated_sessions_impersonator').on('impersonated_sessions').columns(['impersonator_id', 'ended_at']).execute();
  await db.schema.createIndex('impersonated_sessions_open').on('impersonated_sessions').columns(['ended_at', 'expires_at']).execute();

  await db.schema
    .createTable('impersonation_policies')
    .addColumn('organization_id', 'text', (column) => column.primaryKey())
    .addColumn('enabled', 'integer', (column) => column.notNull())
    .addColumn('redirect_url', 'text')
    .addColumn('updated_at', 'text', (column) => column.notNull())
    .execute();
}
