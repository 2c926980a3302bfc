import type { Kysely } from 'kysely';

/**
 * `members.sso_groups`: the groups each SSO connection's identity provider last asserted for the
 * member, as a JSON object by connection id (`{}` for members who never signed in through SSO),
 * which the organization's SSO implicit role assignments are matched against.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('members').addColumn('sso_groups', 'text', (column) => column.notNull().defaultTo('{}')).execute();
}
