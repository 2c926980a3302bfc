import type { Kysely } from 'kysely';

/**
 * Magic links, one-time codes and intermediate sessions are deleted a day after they expire (the
 * server's expiry sweeper); these indexes let that delete find them without reading every row.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createIndex('email_credentials_by_expiry').on('email_credentials').column('expires_at').execute();
  await db.schema.createIndex('intermediate_sessions_by_expiry').on('intermediate_sessions').column('expires_at').execute();
}
