import type { Kysely } from 'kysely';

/**
 * Enterprise SSO.
 * - `sso_connections`: an organization's SAML, OIDC and external connections; the kind's own fields
 *   as a JSON document (`settings`), and its secrets (an OIDC client secret) sealed with the master
 *   key in `sealed_secrets`.
 * - `sso_certificates`: the IdP's verification certificates, our signing certificates and uploaded
 *   encryption keys, private keys sealed.
 * - `sso_requests`: sign-ins started and waiting for the IdP's answer (lookup id and digest of the
 *   state / RelayState token only), spent once.
 * - `sso_tokens`: the single-use tokens sso.authenticate redeems (lookup id and digest only), with
 *   what the IdP asserted.
 * - `sso_assertions`: SAML assertion ids a connection accepted, until they expire: replays refused.
 * - `sso_subjects`: which member an IdP subject of a connection is.
 * - `members.sso_registrations`: the member's registrations as answered on the wire (JSON list).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('sso_connections')
    .addColumn('connection_id', 'text', (column) => column.primaryKey())
    .addColumn('organization_id', 'text', (column) => column.notNull())
    .addColumn('kind', 'text', (column) => column.notNull())
    .addColumn('status', 'text', (column) => column.notNull())
    .addColumn('display_name', 'text', (column) => column.notNull())
    .addColumn('identity_provider', 'text', (column) => column.notNull())
    .addColumn('settings', 'text', (column) => column.notNull())
    .addColumn('sealed_secrets', 'text')
    .addColumn('created_at', 'text', (column) => column.notNull())
    .addColumn('updated_at', 'text', (column) => column.notNull())
    .execute();
  await db.schema.createIndex('sso_connections_by_organization').on('sso_connections').columns(['organization_id', 'created_at']).execute();

  await db.schema
    .createTable('sso_certificates')
    .addColumn('certificate_id', 'text', (column) => column.primaryKey())
    .addColumn('connection_id', 'text', (column) => column.notNull())
    .addColumn('organization_id', 'text', (column) => column.notNull())
    .addColumn('purpose', 'text', (column) => column.notNull())
    .addColumn('certificate', 'text', (column) => column.notNull())
    .addColumn('sealed_private_key', 'text')
    .addColumn('issuer', 'text', (column) => column.notNull())
    .addColumn('created_at', 'text', (column) => column.notNull())
    .addColumn('expires_at', 'text')
    .execute();
  await db.schema.createIndex('sso_certificates_by_connection').on('sso_certificates').columns(['connection_id', 'created_at']).execute();

  await db.schema
    .createTable('sso_requests')
    .addColumn('request_id', 'text', (column) => column.primaryKey())
    .addColumn('lookup_id', 'text', (column) => column.notNull().unique())
    .addColumn('digest', 'text', (column) => column.notNull())
    .addColumn('connection_id', 'text', (column) => column.notNull())
    .addColumn('sign_in_connection_id', 'text', (column) => column.notNull())
    .addColumn('organization_id', 'text', (column) => column.notNull())
    .addColumn('kind', 'text', (column) => column.notNull())
    .addColumn('purpose', 'text', (column) => column.notNull())
    .addColumn('protocol_request_id', 'text', (column) => column.notNull())
    .addColumn('nonce', 'text', (column) => column.notNull())
    .addColumn('login_redirect_url', 'text', (column) => column.notNull())
    .addColumn('signup_redirect_url', 'text', (column) => column.notNull())
    .addColumn('pkce_code_challenge', 'text', (column) => column.notNull())
    .addColumn('operator_id', 'text', (column) => column.notNull())
    .addColumn('created_at', 'text', (column) => column.notNull())
    .addColumn('expires_at', 'text', (column) => column.notNull())
    .addColumn('consumed_at', 'text')
    .addColumn('test_result', 'text')
    .execute();
  await db.schema.createIndex('sso_requests_by_connection').on('sso_requests').column('connection_id').execute();
  await db.schema.createIndex('sso_requests_by_expiry').on('sso_requests').column('expires_at').execute();

  await db.schema
    .createTable('sso_tokens')
    .addColumn('token_id', 'text', (column) => column.primaryKey())
    .addColumn('lookup_id', 'text', (column) => column.notNull().unique())
    .addColumn('digest', 'text', (column) => column.notNull())
    .addColumn('organization_id', 'text', (column) => column.notNull())
    .addColumn('connection_id', 'text', (column) => column.notNull())
    .addColumn('proof', 'text', (column) => column.notNull())
    .addColumn('pkce_code_challenge', 'text', (column) => column.notNull())
    .addColumn('created_at', 'text', (column) => column.notNull())
    .addColumn('expires_at', 'text', (column) => column.notNull())
    .addColumn('consumed_at', 'text')
    .execute();
  await db.schema.createIndex('sso_tokens_by_connection').on('sso_tokens').column('connection_id').execute();
  await db.schema.createIndex('sso_tokens_by_expiry').on('sso_tokens').column('expires_at').execute();

  await db.schema
    .createTable('sso_assertions')
    .addColumn('connection_id', 'text', (column) => column.notNull())
    .addColumn('assertion_id', 'text', (column) => column.notNull())
    .addColumn('expires_at', 'text', (column) => column.notNull())
    .addPrimaryKeyConstraint('sso_assertions_pk', ['connection_id', 'assertion_id'])
    .execute();
  await db.schema.createIndex('sso_assertions_by_expiry').on('sso_assertions').column('expires_at').execute();

  await db.schema
    .createTable('sso_subjects')
    .addColumn('connection_id', 'text', (column) => column.notNull())
    .addColumn('external_id', 'text', (column) => column.notNull())
    .addColumn('organization_id', 'text', (column) => column.notNull())
    .addColumn('member_id', 'text', (column) => column.notNull())
    .addColumn('registration_id', 'text', (column) => column.notNull())
    .addPrimaryKeyConstraint('sso_subjects_pk', ['connection_id', 'external_id'])
    .execute();
  await db.schema.createIndex('sso_subjects_by_member').on('sso_subjects').column('member_id').execute();

  await db.schema.alterTable('members').addColumn('sso_registrations', 'text', (column) => column.notNull().defaultTo('[]')).execute();
}
