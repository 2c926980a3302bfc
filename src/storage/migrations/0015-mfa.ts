import type { Kysely } from 'kysely';

/**
 * Multi-factor authentication.
 *
 * `member_totps`: a member's authenticator-app registration, at most one. Its secret is sealed with
 * the master key (a TOTP secret must be read back to check a code, so it cannot be hashed).
 * `pending` until its first code is accepted within `expires_at`, then `active`. `last_used_step`
 * is the newest 30-second step accepted, so a code is never accepted twice.
 *
 * `member_recovery_codes`: the ten recovery codes of a registration, each sealed (Stytch shows them
 * again through recoveryCodes.get, so they cannot be hashed either); `used_at` spends one.
 *
 * `mfa_sms_codes`: the one live SMS code of a member (a new one replaces it): its SHA-256 digest,
 * the number it went to, failed attempts and when it was spent.
 *
 * `sms_outbox`: every SMS sent, newest kept. In outbox mode (no provider configured, development)
 * the row holds the message and code; with a provider only its delivery status.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('member_totps')
    .addColumn('totp_id', 'text', (column) => column.primaryKey())
    .addColumn('member_id', 'text', (column) => column.notNull().unique())
    .addColumn('organization_id', 'text', (column) => column.notNull())
    .addColumn('sealed_secret', 'text', (column) => column.notNull())
    .addColumn('status', 'text', (column) => column.notNull())
    .addColumn('created_at', 'text', (column) => column.notNull())
    .addColumn('expires_at', 'text')
    .addColumn('activated_at', 'text')
    .addColumn('last_used_step', 'bigint')
    .execute();
  await db.schema.createIndex('member_totps_by_organization').on('member_totps').column('organization_id').execute();
  await db.schema
    .createTable('member_recovery_codes')
    .addColumn('recovery_code_id', 'text', (column) => column.primaryKey())
    .addColumn('totp_id', 'text', (column) => column.notNull())
    .addColumn('member_id', 'text', (column) => column.notNull())
    .addColumn('organization_id', 'text', (column) => column.notNull())
    .addColumn('sealed_code', 'text', (column) => column.notNull())
    .addColumn('position', 'integer', (column) => column.notNull())
    .addColumn('created_at', 'text', (column) => column.notNull())
    .addColumn('used_at', 'text')
    .execute();
  await db.schema.createIndex('member_recovery_codes_by_member').on('member_recovery_codes').column('member_id').execute();
  await db.schema.createIndex('member_recovery_codes_by_totp').on('member_recovery_codes').columns(['totp_id', 'position']).execute();
  await db.schema.createIndex('member_recovery_codes_by_organization').on('member_recovery_codes').column('organization_id').execute();
  await db.schema
    .createTable('mfa_sms_codes')
    .addColumn('sms_code_id', 'text', (column) => column.primaryKey())
    .addColumn('member_id', 'text', (column) => column.notNull().unique())
    .addColumn('organization_id', 'text', (column) => column.notNull())
    .addColumn('phone_number', 'text', (column) => column.notNull())
    .addColumn('digest', 'text', (column) => column.notNull())
    .addColumn('failed_attempts', 'integer', (column) => column.notNull())
    .addColumn('created_at', 'text', (column) => column.notNull())
    .addColumn('expires_at', 'text', (column) => column.notNull())
    .addColumn('consumed_at', 'text')
    .execute();
  await db.schema.createIndex('mfa_sms_codes_by_organization').on('mfa_sms_codes').column('organization_id').execute();
  await db.schema
    .createTable('sms_outbox')
    .addColumn('message_id', 'text', (column) => column.primaryKey())
    .addColumn('mode', 'text', (column) => column.notNull())
    .addColumn('status', 'text', (column) => column.notNull())
    .addColumn('template', 'text', (column) => column.notNull())
    .addColumn('locale', 'text', (column) => column.notNull())
    .addColumn('recipient', 'text', (column) => column.notNull())
    .addColumn('organization_id', 'text')
    .addColumn('member_id', 'text')
    .addColumn('request_id', 'text', (column) => column.notNull())
    .addColumn('expires_at', 'text', (column) => column.notNull())
    .addColumn('code', 'text')
    .addColumn('text_body', 'text')
    .addColumn('attempts', 'integer', (column) => column.notNull())
    .addColumn('last_reply', 'text')
    .addColumn('created_at', 'text', (column) => column.notNull())
    .addColumn('updated_at', 'text', (column) => column.notNull())
    .execute();
  await db.schema.createIndex('sms_outbox_by_recipient').on('sms_outbox').columns(['recipient', 'message_id']).execute();
}
