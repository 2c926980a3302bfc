import type { Kysely } from 'kysely';

/**
 * Members' passwords, and failed password attempts per address.
 *
 * `member_passwords` holds one row per member with a password: our own argon2id hash, or a hash
 * migrated from another system (its type and, for the types that need one, its configuration as
 * JSON) until the member's first successful sign-in replaces it with argon2id.
 *
 * `password_failures` counts consecutive wrong passwords per organization and address, whether or
 * not a member has that address, so a lock looks the same for an address that exists and one that
 * does not. The member row's `is_locked`/`lock_*` columns mirror a lock of a real member.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('member_passwords')
    .addColumn('member_password_id', 'text', (column) => column.primaryKey())
    .addColumn('member_id', 'text', (column) => column.notNull().unique())
    .addColumn('organization_id', 'text', (column) => column.notNull())
    .addColumn('hash_type', 'text', (column) => column.notNull())
    .addColumn('hash', 'text', (column) => column.notNull())
    .addColumn('hash_config', 'text')
    .addColumn('created_at', 'text', (column) => column.notNull())
    .addColumn('updated_at', 'text', (column) => column.notNull())
    .execute();
  await db.schema.createIndex('member_passwords_by_organization').on('member_passwords').column('organization_id').execute();
  await db.schema
    .createTable('password_failures')
    .addColumn('organization_id', 'text', (column) => column.notNull())
    .addColumn('email_address', 'text', (column) => column.notNull())
    .addColumn('failed_attempts', 'integer', (column) => column.notNull())
    .addColumn('locked_at', 'text')
    .addColumn('lock_expires_at', 'text')
    .addColumn('updated_at', 'text', (column) => column.notNull())
    .addPrimaryKeyConstraint('password_failures_pkey', ['organization_id', 'email_address'])
    .execute();
}
