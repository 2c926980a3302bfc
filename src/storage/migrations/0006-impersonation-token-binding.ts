import { sql, type Kysely } from 'kysely';

/**
 * Impersonation tokens bound to what they were minted for: the member's email address at mint (a
 * token redeems only while the address is still the member's) and a revocation time (revoked
 * tokens never redeem, whatever happens after). Indexes serve revoking a member's, an
 * organization's or an impersonator's unredeemed tokens, and finding one person's other names.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('impersonation_tokens').addColumn('member_email_address', 'text').execute();
  await db.schema.alterTable('impersonation_tokens').addColumn('revoked_at', 'text').execute();
  // Tokens minted before this step are bound to their member's address as it is now; a token of a
  // member who no longer exists gets '' and can never match an address again.
  await sql`update impersonation_tokens
    set member_email_address = coalesce((select members.email_address from members where members.member_id = impersonation_tokens.member_id), '')`.execute(db);
  await db.schema.createIndex('impersonation_tokens_member').on('impersonation_tokens').columns(['member_id', 'redeemed_at']).execute();
  await db.schema.createIndex('impersonation_tokens_organization').on('impersonation_tokens').columns(['organization_id', 'redeemed_at']).execute();
  await db.schema.createIndex('impersonation_tokens_impersonator').on('impersonation_tokens').columns(['impersonator_id', 'redeemed_at']).execute();
  await db.schema.createIndex('impersonation_tokens_impersonator_email').on('impersonation_tokens').columns(['impersonator_email_address']).execute();
  await db.schema.createIndex('impersonated_sessions_impersonator_email').on('impersonated_sessions').columns(['impersonator_email_address', 'ended_at']).execute();
}
