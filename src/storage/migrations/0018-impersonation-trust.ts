import { sql, type Kysely } from 'kysely';

/**
 * Impersonation customers can trust (docs/impersonation.md):
 * - each organization's access mode (open, by_grant, off), delegated impersonation and notification settings;
 * - access grants (the windows in which support may impersonate in `by_grant` mode);
 * - on tokens and impersonated sessions: the grant they were minted under, who minted them (support
 *   or an organization admin) and the permission mask that restricts the session;
 * - single-use links that let an impersonated member end the impersonation from the notification email;
 * - webhook endpoints (secrets sealed with the master key), the outbox of events to fan out and the
 *   delivery log.
 * The audit chain's columns come in 0019.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const policies = db.schema.alterTable('impersonation_policies');
  await policies.addColumn('access_mode', 'text').execute();
  await db.schema.alterTable('impersonation_policies').addColumn('delegated_impersonation', 'text').execute();
  await db.schema.alterTable('impersonation_policies').addColumn('notify_member', 'integer', (column) => column.notNull().defaultTo(0)).execute();
  await db.schema.alterTable('impersonation_policies').addColumn('notify_admins', 'integer', (column) => column.notNull().defaultTo(0)).execute();
  // 1 once the organization itself (an admin's member session) changed the policy: from then on only it may loosen it.
  await db.schema.alterTable('impersonation_policies').addColumn('chosen_by_organization', 'integer', (column) => column.notNull().defaultTo(0)).execute();
  // The mode is the one source of truth from now on; `enabled` is written beside it (enabled = mode is not off).
  await sql`update impersonation_policies set access_mode = case when enabled = 0 then 'off' else 'open' end`.execute(db);

  for (const table of ['impersonation_tokens', 'impersonated_sessions']) {
    await db.schema.alterTable(table).addColumn('grant_id', 'text').execute();
    await db.schema.alterTable(table).addColumn('kind', 'text', (column) => column.notNull().defaultTo('support')).execute();
    await db.schema.alterTable(table).addColumn('permission_mask', 'text').execute();
  }
  await db.schema.createIndex('impersonation_tokens_grant').on('impersonation_tokens').columns(['grant_id']).execute();
  await db.schema.createIndex('impersonated_sessions_grant').on('impersonated_sessions').columns(['grant_id']).execute();

  await db.schema
    .createTable('impersonation_access_grants')
    .addColumn('grant_id', 'text', (column) => column.primaryKey())
    .addColumn('organization_id', 'text', (column) => column.notNull())
    // requested | open | denied | revoked (an open grant past expires_at is expired; nothing rewrites it)
    .addColumn('status', 'text', (column) => column.notNull())
    // JSON array of member ids, or null for every member of the organization.
    .addColumn('member_ids', 'text')
    .addColumn('duration_minutes', 'integer', (column) => column.notNull())
    .addColumn('reason', 'text', (column) => column.notNull())
    // JSON actors (operation-context.ts): who asked, who opened or approved it, who ended it.
    .addColumn('requested_by', 'text', (column) => column.notNull())
    .addColumn('requested_at', 'text', (column) => column.notNull())
    .addColumn('opened_by', 'text')
    .addColumn('opened_at', 'text')
    .addColumn('expires_at', 'text')
    .addColumn('closed_by', 'text')
    .addColumn('closed_at', 'text')
    .execute();
  await db.schema.createIndex('impersonation_access_grants_organization').on('impersonation_access_grants').columns(['organization_id', 'status', 'expires_at']).execute();

  await db.schema
    .createTable('impersonation_end_links')
    .addColumn('link_id', 'text', (column) => column.primaryKey())
    .addColumn('lookup_id', 'text', (column) => column.notNull().unique())
    .addColumn('digest', 'text', (column) => column.notNull())
    .addColumn('member_session_id', 'text', (column) => column.notNull())
    .addColumn('organization_id', 'text', (column) => column.notNull())
    .addColumn('member_id', 'text', (column) => column.notNull())
    .addColumn('created_at', 'text', (column) => column.notNull())
    .addColumn('expires_at', 'text', (column) => column.notNull())
    .addColumn('used_at', 'text')
    .execute();

  await db.schema
    .createTable('webhook_endpoints')
    .addColumn('endpoint_id', 'text', (column) => column.primaryKey())
    // null: the project's (the vendor's) endpoint, sent every organization's events.
    .addColumn('organization_id', 'text')
    .addColumn('url', 'text', (column) => column.notNull())
    .addColumn('description', 'text', (column) => column.notNull())
    // The signing secret sealed with the master key (it must be read back to sign).
    .addColumn('secret_sealed', 'text', (column) => column.notNull())
    .addColumn('created_at', 'text', (column) => column.notNull())
    .addColumn('disabled_at', 'text')
    .execute();
  await db.schema.createIndex('webhook_endpoints_organization').on('webhook_endpoints').columns(['organization_id']).execute();

  await db.schema
    .createTable('webhook_outbox')
    .addColumn('event_id', 'text', (column) => column.primaryKey())
    .addColumn('enqueued_at', 'text', (column) => column.notNull())
    .execute();

  await db.schema
    .createTable('webhook_deliveries')
    .addColumn('delivery_id', 'text', (column) => column.primaryKey())
    .addColumn('endpoint_id', 'text', (column) => column.notNull())
    .addColumn('event_id', 'text', (column) => column.notNull())
    .addColumn('event_type', 'text', (column) => column.notNull())
    .addColumn('organization_id', 'text')
    // The exact body sent (and signed): every retry sends the same bytes.
    .addColumn('payload', 'text', (column) => column.notNull())
    // pending | delivered | failed
    .addColumn('status', 'text', (column) => column.notNull())
    .addColumn('attempts', 'integer', (column) => column.notNull())
    .addColumn('next_attempt_at', 'text')
    .addColumn('last_attempt_at', 'text')
    .addColumn('last_status_code', 'integer')
    .addColumn('last_error', 'text')
    .addColumn('created_at', 'text', (column) => column.notNull())
    .addColumn('delivered_at', 'text')
    .execute();
  await db.schema.createIndex('webhook_deliveries_due').on('webhook_deliveries').columns(['status', 'next_attempt_at']).execute();
  await db.schema.createIndex('webhook_deliveries_endpoint').on('webhook_deliveries').columns(['endpoint_id', 'delivery_id']).execute();
  await db.schema.createIndex('webhook_deliveries_event').on('webhook_deliveries').columns(['endpoint_id', 'event_id']).unique().execute();
  // The retention sweep deletes finished deliveries by age.
  await db.schema.createIndex('webhook_deliveries_created').on('webhook_deliveries').columns(['created_at']).execute();
}
