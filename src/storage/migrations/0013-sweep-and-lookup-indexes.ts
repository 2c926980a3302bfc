import type { Kysely } from 'kysely';

/**
 * Magic links, one-time codes and intermediate sessions are deleted a day after they expire (the
 * server's expiry sweeper); the first two indexes let that delete find them without reading every
 * row. The third serves finding a member by external id, deleted members included: the unique index
 * on live members' external ids cannot, and without one a lookup in a large organization read every
 * member of it.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createIndex('email_credentials_by_expiry').on('email_credentials').column('expires_at').execute();
  await db.schema.createIndex('intermediate_sessions_by_expiry').on('intermediate_sessions').column('expires_at').execute();
  await db.schema.createIndex('members_external_id').on('members').columns(['organization_id', 'external_id']).execute();
}
