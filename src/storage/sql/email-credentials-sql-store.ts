import { sql, type Kysely, type Selectable } from 'kysely';
import type { ReadForUpdate } from '../../domain/common/read-for-update.js';
import type { EmailCredential, EmailCredentialKind, EmailCredentialPurpose } from '../../domain/email-sign-in/email-credential.js';
import type { EmailCredentialsStore } from '../../domain/email-sign-in/email-credentials-store.js';
import type { Database, EmailCredentialRow } from '../database.js';
import type { Dialect } from '../store.js';

export class EmailCredentialsSqlStore implements EmailCredentialsStore {
  readonly #db: Kysely<Database>;
  readonly #dialect: Dialect;

  constructor(db: Kysely<Database>, dialect: Dialect) {
    this.#db = db;
    this.#dialect = dialect;
  }

  async insertCredential(credential: EmailCredential, secret: { readonly lookupId: string | null; readonly digest: Buffer }): Promise<void> {
    await this.#db
      .insertInto('email_credentials')
      .values({
        credential_id: credential.credentialId,
        kind: credential.kind,
        purpose: credential.purpose,
        organization_id: credential.organizationId,
        member_id: credential.memberId,
        email_address: credential.emailAddress,
        lookup_id: secret.lookupId,
        digest: secret.digest.toString('base64url'),
        pkce_code_challenge: credential.pkceCodeChallenge,
        created_at: credential.createdAt,
        expires_at: credential.expiresAt,
        consumed_at: credential.consumedAt,
        failed_attempts: credential.failedAttempts,
      })
      .execute();
  }

  async findCredentialByLookupId(lookupId: string): Promise<{ credential: EmailCredential; digest: Buffer } | undefined> {
    const row = await this.#db.selectFrom('email_credentials').selectAll().where('lookup_id', '=', lookupId).executeTakeFirst();
    return row === undefined ? undefined : withDigest(row);
  }

  async findLatestCode(
    kind: EmailCredentialKind,
    organizationId: string | null,
    emailAddress: string,
    options: ReadForUpdate = {},
  ): Promise<{ credential: EmailCredential; digest: Buffer } | undefined> {
    const select = this.#db
      .selectFrom('email_credentials')
      .selectAll()
      .where('email_address', '=', emailAddress)
      .where('kind', '=', kind)
      .where((eb) => (organizationId === null ? eb('organization_id', 'is', null) : eb('organization_id', '=', organizationId)))
      .where('consumed_at', 'is', null)
      .orderBy('created_at', 'desc')
      .orderBy('credential_id', 'desc');
    // Row locks only on PostgreSQL: a SQLite transaction holds the database's write lock from its start.
    const row = await (this.#dialect === 'postgres' && options.forUpdate === true ? select.forUpdate() : select).executeTakeFirst();
    return row === undefined ? undefined : withDigest(row);
  }

  async lockCodeAddress(kind: EmailCredentialKind, organizationId: string | null, emailAddress: string): Promise<void> {
    if (this.#dialect !== 'postgres') return;
    const key = `understudy.email_code:${kind}:${organizationId ?? ''}:${emailAddress}`;
    await sql`select pg_advisory_xact_lock(hashtext(${key}))`.execute(this.#db);
  }

  async consumeCredential(credentialId: string, at: string): Promise<boolean> {
    const result = await this.#db
      .updateTable('email_credentials')
      .set({ consumed_at: at })
      .where('credential_id', '=', credentialId)
      .where('consumed_at', 'is', null)
      .where('expires_at', '>', at)
      .executeTakeFirst();
    return result.numUpdatedRows === 1n;
  }

  async recordFailedAttempt(credentialId: string, maxFailedAttempts: number, at: string): Promise<number | undefined> {
    const row = await this.#db
      .updateTable('email_credentials')
      .set((eb) => ({
        failed_attempts: eb('failed_attempts', '+', 1),
        consumed_at: eb.case().when('failed_attempts', '>=', maxFailedAttempts - 1).then(at).else(null).end(),
      }))
      .where('credential_id', '=', credentialId)
      .where('consumed_at', 'is', null)
      .returning('failed_attempts')
      .executeTakeFirst();
    return row === undefined ? undefined : Number(row.failed_attempts);
  }

  async voidCodes(kind: EmailCredentialKind, organizationId: string | null, emailAddress: string, at: string): Promise<void> {
    await this.#db
      .updateTable('email_credentials')
      .set({ consumed_at: at })
      .where('email_address', '=', emailAddress)
      .where('kind', '=', kind)
      .where((eb) => (organizationId === null ? eb('organization_id', 'is', null) : eb('organization_id', '=', organizationId)))
      .where('consumed_at', 'is', null)
      .execute();
  }

  async deleteCredentialsForMember(memberId: string): Promise<void> {
    await this.#db.deleteFrom('email_credentials').where('member_id', '=', memberId).execute();
  }

  async deleteExpiredCredentials(before: string): Promise<number> {
    const result = await this.#db.deleteFrom('email_credentials').where('expires_at', '<', before).executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  async deleteCredentialsForOrganization(organizationId: string): Promise<void> {
    await this.#db.deleteFrom('email_credentials').where('organization_id', '=', organizationId).execute();
  }
}

function withDigest(row: Selectable<EmailCredentialRow>): { credential: EmailCredential; digest: Buffer } {
  return {
    credential: {
      credentialId: row.credential_id,
      kind: row.kind as EmailCredentialKind,
      purpose: row.purpose as EmailCredentialPurpose,
      organizationId: row.organization_id,
      memberId: row.member_id,
      emailAddress: row.email_address,
      pkceCodeChallenge: row.pkce_code_challenge,
      createdAt: row.created_at,
      expiresAt: row.expires_at,
      consumedAt: row.consumed_at,
      failedAttempts: Number(row.failed_attempts),
    },
    digest: Buffer.from(row.digest, 'base64url'),
  };
}

