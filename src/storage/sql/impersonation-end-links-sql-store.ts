import type { Kysely, Selectable } from 'kysely';
import type { ImpersonationEndLink, ImpersonationEndLinksStore } from '../../domain/impersonation/end-links.js';
import type { Database, ImpersonationEndLinkRow } from '../database.js';

export class ImpersonationEndLinksSqlStore implements ImpersonationEndLinksStore {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async insertEndLink(link: ImpersonationEndLink, secret: { lookupId: string; digest: Buffer }): Promise<void> {
    await this.#db
      .insertInto('impersonation_end_links')
      .values({
        link_id: link.linkId,
        lookup_id: secret.lookupId,
        digest: secret.digest.toString('base64url'),
        member_session_id: link.memberSessionId,
        organization_id: link.organizationId,
        member_id: link.memberId,
        created_at: link.createdAt,
        expires_at: link.expiresAt,
        used_at: link.usedAt,
      })
      .execute();
  }

  async findEndLinkByLookupId(lookupId: string): Promise<{ link: ImpersonationEndLink; digest: Buffer } | undefined> {
    const row = await this.#db.selectFrom('impersonation_end_links').selectAll().where('lookup_id', '=', lookupId).executeTakeFirst();
    return row === undefined ? undefined : { link: linkFromRow(row), digest: Buffer.from(row.digest, 'base64url') };
  }

  async useEndLink(linkId: string, at: string): Promise<boolean> {
    // One conditional UPDATE decides a race: on PostgreSQL a second user waits for the row lock and
    // then finds used_at set; on SQLite writers are serialized.
    const result = await this.#db
      .updateTable('impersonation_end_links')
      .set({ used_at: at })
      .where('link_id', '=', linkId)
      .where('used_at', 'is', null)
      .where('expires_at', '>', at)
      .executeTakeFirst();
    return result.numUpdatedRows === 1n;
  }
}

function linkFromRow(row: Selectable<ImpersonationEndLinkRow>): ImpersonationEndLink {
  return {
    linkId: row.link_id,
    memberSessionId: row.member_session_id,
    organizationId: row.organization_id,
    memberId: row.member_id,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    usedAt: row.used_at,
  };
}
