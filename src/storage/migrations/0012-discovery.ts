import { sql, type Kysely } from 'kysely';

/**
 * Discovery offers an organization that lets an address's domain join by email only when the
 * organization already has a member with a verified address on that domain. Members are indexed by
 * the domain of their address (with the organization), so that check is a seek rather than a scan
 * of the organization's members. The expression is the one src/storage/sql/members-sql-store.ts
 * queries (the part after the `@`, found by trimming the characters a canonical domain may hold),
 * written the same on SQLite and PostgreSQL.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create index members_email_domain on members ((substr(email_address, length(rtrim(email_address, 'abcdefghijklmnopqrstuvwxyz0123456789.-')) + 1)), organization_id)`.execute(
    db,
  );
}
