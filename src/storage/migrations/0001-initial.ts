import { sql, type Kysely } from 'kysely';

/** Projects, organizations, their domains, members and the audit log. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('projects')
    .addColumn('project_id', 'text', (column) => column.primaryKey())
    .addColumn('secret_digest', 'text', (column) => column.notNull())
    .addColumn('created_at', 'text', (column) => column.notNull())
    .execute();

  await db.schema
    .createTable('organizations')
    .addColumn('organization_id', 'text', (column) => column.primaryKey())
    .addColumn('organization_name', 'text', (column) => column.notNull())
    .addColumn('organization_slug', 'text', (column) => column.notNull().unique())
    .addColumn('organization_logo_url', 'text', (column) => column.notNull())
    .addColumn('organization_external_id', 'text', (column) => column.unique())
    .addColumn('trusted_metadata', 'text', (column) => column.notNull())
    .addColumn('settings', 'text', (column) => column.notNull())
    .addColumn('created_at', 'text', (column) => column.notNull())
    .addColumn('updated_at', 'text', (column) => column.notNull())
    .execute();
  await db.schema.createIndex('organizations_created_at').on('organizations').columns(['created_at', 'organization_id']).execute();

  await db.schema
    .createTable('organization_domains')
    .addColumn('organization_id', 'text', (column) => column.notNull().references('organizations.organization_id').onDelete('cascade'))
    .addColumn('kind', 'text', (column) => column.notNull())
    .addColumn('domain', 'text', (column) => column.notNull())
    .addPrimaryKeyConstraint('organization_domains_pk', ['organization_id', 'kind', 'domain'])
    .execute();
  await db.schema.createIndex('organization_domains_domain').on('organization_domains').columns(['kind', 'domain']).execute();

  await db.schema
    .createTable('members')
    .addColumn('member_id', 'text', (column) => column.primaryKey())
    .addColumn('organization_id', 'text', (column) => column.notNull().references('organizations.organization_id').onDelete('cascade'))
    .addColumn('email_address', 'text', (column) => column.notNull())
    .addColumn('email_address_verified', 'integer', (column) => column.notNull())
    .addColumn('status', 'text', (column) => column.notNull())
    .addColumn('name', 'text', (column) => column.notNull())
    .addColumn('external_id', 'text')
    .addColumn('is_breakglass', 'integer', (column) => column.notNull())
    .addColumn('mfa_phone_number', 'text', (column) => column.notNull())
    .addColumn('mfa_phone_number_verified', 'integer', (column) => column.notNull())
    .addColumn('mfa_enrolled', 'integer', (column) => column.notNull())
    .addColumn('default_mfa_method', 'text', (column) => column.notNull())
    .addColumn('assigned_roles', 'text', (column) => column.notNull())
    .addColumn('trusted_metadata', 'text', (column) => column.notNull())
    .addColumn('untrusted_metadata', 'text', (column) => column.notNull())
    .addColumn('retired_email_addresses', 'text', (column) => column.notNull())
    .addColumn('member_password_id', 'text', (column) => column.notNull())
    .addColumn('totp_registration_id', 'text', (column) => column.notNull())
    .addColumn('is_locked', 'integer', (column) => column.notNull())
    .addColumn('lock_created_at', 'text')
    .addColumn('lock_expires_at', 'text')
    .addColumn('created_at', 'text', (column) => column.notNull())
    .addColumn('updated_at', 'text', (column) => column.notNull())
    .execute();
  // A deleted member keeps its row (members.reactivate) but frees its email address and external id.
  await db.schema
    .createIndex('members_live_email')
    .on('members')
    .columns(['organization_id', 'email_address'])
    .unique()
    .where(sql.ref('status'), '<>', 'deleted')
    .execute();
  await db.schema
    .createIndex('members_live_external_id')
    .on('members')
    .columns(['organization_id', 'external_id'])
    .unique()
    .where(sql<boolean>`status <> 'deleted' and external_id is not null`)
    .execute();
  await db.schema.createIndex('members_organization_created_at').on('members').columns(['organization_id', 'created_at', 'member_id']).execute();
  await db.schema.createIndex('members_email').on('members').columns(['email_address']).execute();

  await db.schema
    .createTable('audit_events')
    .addColumn('event_id', 'text', (column) => column.primaryKey())
    .addColumn('type', 'text', (column) => column.notNull())
    .addColumn('occurred_at', 'text', (column) => column.notNull())
    .addColumn('request_id', 'text', (column) => column.notNull())
    .addColumn('actor', 'text', (column) => column.notNull())
    .addColumn('organization_id', 'text')
    .addColumn('member_id', 'text')
    .addColumn('details', 'text', (column) => column.notNull())
    .execute();
  await db.schema.createIndex('audit_events_organization').on('audit_events').columns(['organization_id', 'occurred_at']).execute();
  await db.schema.createIndex('audit_events_occurred_at').on('audit_events').columns(['occurred_at']).execute();
}
