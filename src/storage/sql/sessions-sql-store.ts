import { CompiledQuery, type Kysely, type Selectable } from 'kysely';
import type { Member } from '../../domain/members/member.js';
import type { Organization } from '../../domain/organizations/organization.js';
import type { IntermediateSession } from '../../domain/sessions/intermediate-session.js';
import type { AuthenticationFactor, MemberSession, SessionAttributes } from '../../domain/sessions/session.js';
import type { SessionRecord, SessionsStore } from '../../domain/sessions/sessions-store.js';
import type { Database, IntermediateSessionRow, MemberRow, OrganizationRow, SessionRow } from '../database.js';
import { markHotStatement } from './hot-statements.js';
import { fromJson, toJson } from './json-column.js';
import { memberFromRow } from './members-sql-store.js';
import { organizationFromRow } from './organizations-sql-store.js';
import { RowMemo } from './row-memo.js';

const SESSION_COLUMNS = [
  'member_session_id', 'token_lookup_id', 'token_digest', 'member_id', 'organization_id', 'started_at', 'last_accessed_at', 'expires_at',
  'revoked_at', 'authentication_factors', 'custom_claims', 'attributes', 'roles',
] as const satisfies readonly (keyof SessionRow)[];
const MEMBER_COLUMNS = [
  'member_id', 'organization_id', 'email_address', 'email_address_verified', 'status', 'name', 'external_id', 'is_breakglass',
  'mfa_phone_number', 'mfa_phone_number_verified', 'mfa_enrolled', 'default_mfa_method', 'assigned_roles', 'sso_groups', 'sso_registrations', 'trusted_metadata',
  'untrusted_metadata', 'retired_email_addresses', 'member_password_id', 'totp_registration_id', 'is_locked', 'lock_created_at',
  'lock_expires_at', 'created_at', 'updated_at',
] as const satisfies readonly (keyof MemberRow)[];
const ORGANIZATION_COLUMNS = [
  'organization_id', 'organization_name', 'organization_slug', 'organization_logo_url', 'organization_external_id', 'trusted_metadata',
  'settings', 'created_at', 'updated_at',
] as const satisfies readonly (keyof OrganizationRow)[];

export class SessionsSqlStore implements SessionsStore {
  readonly #db: Kysely<Database>;
  readonly #dialect: 'sqlite' | 'postgres';
  /** The hot lookups' SQL, built once per store: building the 40-column join cost more than running it. */
  #byLookupIdSql: string | undefined;
  #byIdSql: string | undefined;

  constructor(db: Kysely<Database>, dialect: 'sqlite' | 'postgres') {
    this.#db = db;
    this.#dialect = dialect;
  }

  async insertSession(session: MemberSession, token: { lookupId: string; digest: Buffer }): Promise<void> {
    await this.#db
      .insertInto('sessions')
      .values({ ...toRow(session), token_lookup_id: token.lookupId, token_digest: token.digest.toString('base64url') })
      .execute();
  }

  async findSessionByTokenLookupId(lookupId: string): Promise<(SessionRecord & { tokenDigest: Buffer }) | undefined> {
    this.#byLookupIdSql ??= this.#joinedSql('sessions.token_lookup_id');
    const row = await this.#first(this.#byLookupIdSql, lookupId);
    return row === undefined ? undefined : { ...fromJoinedRow(row), tokenDigest: Buffer.from(String(row[TOKEN_DIGEST_POSITION]), 'base64url') };
  }

  async findSessionById(memberSessionId: string): Promise<SessionRecord | undefined> {
    this.#byIdSql ??= this.#joinedSql('sessions.member_session_id');
    const row = await this.#first(this.#byIdSql, memberSessionId);
    return row === undefined ? undefined : fromJoinedRow(row);
  }

  async listLiveSessions(organizationId: string, memberId: string, now: string): Promise<MemberSession[]> {
    const rows = await this.#db
      .selectFrom('sessions')
      .selectAll()
      .where('member_id', '=', memberId)
      .where('organization_id', '=', organizationId)
      .where('revoked_at', 'is', null)
      .where('expires_at', '>', now)
      .orderBy('started_at')
      .orderBy('member_session_id')
      .execute();
    return rows.map(fromRow);
  }

  async findSessionForUpdate(memberSessionId: string): Promise<MemberSession | undefined> {
    const select = this.#db.selectFrom('sessions').selectAll().where('member_session_id', '=', memberSessionId);
    // A SQLite transaction holds the database's write lock from its start: its reads are current already.
    const row = await (this.#dialect === 'postgres' ? select.forUpdate() : select).executeTakeFirst();
    return row === undefined ? undefined : fromRow(row);
  }

  async updateSession(session: MemberSession): Promise<void> {
    const row = toRow(session);
    // Only the columns an authentication may change: writing `revoked_at` back from a stale read would
    // undo a revocation that committed in between, and a session never changes member or organization.
    await this.#db
      .updateTable('sessions')
      .set({
        expires_at: row.expires_at,
        authentication_factors: row.authentication_factors,
        custom_claims: row.custom_claims,
        roles: row.roles,
        last_accessed_at: row.last_accessed_at,
      })
      .where('member_session_id', '=', row.member_session_id)
      .where('organization_id', '=', row.organization_id)
      .execute();
  }

  async touchSession(memberSessionId: string, lastAccessedAt: string): Promise<void> {
    await this.#db
      .updateTable('sessions')
      .set({ last_accessed_at: lastAccessedAt })
      .where('member_session_id', '=', memberSessionId)
      .where('last_accessed_at', '<', lastAccessedAt)
      .execute();
  }

  async revokeSession(memberSessionId: string, at: string): Promise<boolean> {
    const result = await this.#db
      .updateTable('sessions')
      .set({ revoked_at: at })
      .where('member_session_id', '=', memberSessionId)
      .where('revoked_at', 'is', null)
      .where('expires_at', '>', at)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async revokeSessionsForMember(memberId: string, at: string): Promise<string[]> {
    return this.#revokeWhere('member_id', memberId, at);
  }

  async revokeSessionsForOrganization(organizationId: string, at: string): Promise<string[]> {
    return this.#revokeWhere('organization_id', organizationId, at);
  }

  async #revokeWhere(column: 'member_id' | 'organization_id', value: string, at: string): Promise<string[]> {
    const rows = await this.#db
      .updateTable('sessions')
      .set({ revoked_at: at })
      .where(column, '=', value)
      .where('revoked_at', 'is', null)
      .where('expires_at', '>', at)
      .returning('member_session_id')
      .execute();
    return rows.map((row) => row.member_session_id);
  }

  async insertIntermediateSession(session: IntermediateSession, token: { lookupId: string; digest: Buffer }): Promise<void> {
    await this.#db
      .insertInto('intermediate_sessions')
      .values({
        intermediate_session_id: session.intermediateSessionId,
        token_lookup_id: token.lookupId,
        token_digest: token.digest.toString('base64url'),
        organization_id: session.organizationId,
        member_id: session.memberId,
        email_address: session.emailAddress,
        authentication_factors: toJson(session.authenticationFactors),
        created_at: session.createdAt,
        expires_at: session.expiresAt,
        consumed_at: session.consumedAt,
      })
      .execute();
  }

  async findIntermediateSessionByTokenLookupId(lookupId: string): Promise<{ intermediateSession: IntermediateSession; tokenDigest: Buffer } | undefined> {
    const row = await this.#db.selectFrom('intermediate_sessions').selectAll().where('token_lookup_id', '=', lookupId).executeTakeFirst();
    return row === undefined ? undefined : { intermediateSession: intermediateFromRow(row), tokenDigest: Buffer.from(row.token_digest, 'base64url') };
  }

  async findIntermediateSessionForUpdate(intermediateSessionId: string): Promise<IntermediateSession | undefined> {
    const select = this.#db.selectFrom('intermediate_sessions').selectAll().where('intermediate_session_id', '=', intermediateSessionId);
    // As findSessionForUpdate: SQLite's transaction already holds the write lock.
    const row = await (this.#dialect === 'postgres' ? select.forUpdate() : select).executeTakeFirst();
    return row === undefined ? undefined : intermediateFromRow(row);
  }

  async updateIntermediateSessionFactors(intermediateSessionId: string, factors: readonly AuthenticationFactor[], at: string): Promise<boolean> {
    const result = await this.#db
      .updateTable('intermediate_sessions')
      .set({ authentication_factors: toJson(factors) })
      .where('intermediate_session_id', '=', intermediateSessionId)
      .where('consumed_at', 'is', null)
      .where('expires_at', '>', at)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async consumeIntermediateSession(intermediateSessionId: string, at: string): Promise<boolean> {
    const result = await this.#db
      .updateTable('intermediate_sessions')
      .set({ consumed_at: at })
      .where('intermediate_session_id', '=', intermediateSessionId)
      .where('consumed_at', 'is', null)
      .where('expires_at', '>', at)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async deleteExpiredIntermediateSessions(before: string): Promise<number> {
    const result = await this.#db.deleteFrom('intermediate_sessions').where('expires_at', '<', before).executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  async deleteIntermediateSessionsForMember(memberId: string): Promise<void> {
    await this.#db.deleteFrom('intermediate_sessions').where('member_id', '=', memberId).execute();
  }

  /** The joined lookup by one unique column, compiled for this database's dialect; its one parameter is the key. */
  #joinedSql(column: 'sessions.token_lookup_id' | 'sessions.member_session_id'): string {
    const compiled = this.#joined().where(column, '=', '').compile();
    if (compiled.parameters.length !== 1) throw new Error(`the session lookup by ${column} should take exactly one parameter`);
    return markHotStatement(compiled.sql);
  }

  /** The one row a hot statement (hot-statements.ts) finds by a unique key, as column values in SELECT order. */
  async #first(sql: string, key: string): Promise<PositionalRow | undefined> {
    const result = await this.#db.executeQuery<PositionalRow>(CompiledQuery.raw(sql, [key]));
    return result.rows[0];
  }

  /** The session with its member and organization in one indexed query: the hot path of every authentication. */
  #joined() {
    return this.#db
      .selectFrom('sessions')
      .innerJoin('members', 'members.member_id', 'sessions.member_id')
      .innerJoin('organizations', 'organizations.organization_id', 'sessions.organization_id')
      // Named columns, not sessions.*: a kept prepared statement must not change shape when a table gains one.
      // The order of these lists is the order of the positional row (fromJoinedRow).
      .select(SESSION_COLUMNS.map((column) => `sessions.${column}` as const))
      .select(MEMBER_COLUMNS.map((column) => `members.${column} as m_${column}` as const))
      .select(ORGANIZATION_COLUMNS.map((column) => `organizations.${column} as o_${column}` as const));
  }
}

/** The joined lookup's row: the session's columns, then the member's, then the organization's, in the order of the lists above. */
type PositionalRow = readonly unknown[];

const TOKEN_DIGEST_POSITION = SESSION_COLUMNS.indexOf('token_digest');
const MEMBER_OFFSET = SESSION_COLUMNS.length;
const ORGANIZATION_OFFSET = MEMBER_OFFSET + MEMBER_COLUMNS.length;

const ORGANIZATION_END = ORGANIZATION_OFFSET + ORGANIZATION_COLUMNS.length;

/**
 * Members and organizations as last mapped from identical column values (row-memo.ts), shared by
 * every store of the process. The bound keeps it to the most recently active: with its wire object
 * and JSON text at the edge, a member costs about 5 KB, so 5,000 of them stay under 25 MB.
 */
const MEMBERS = new RowMemo<Member>(5_000);
const ORGANIZATIONS = new RowMemo<Organization>(1_000);

function fromJoinedRow(row: PositionalRow): SessionRecord {
  return {
    session: fromRow(named(row, SESSION_COLUMNS, 0) as unknown as Selectable<SessionRow>),
    member: MEMBERS.get(String(row[MEMBER_OFFSET]), row, MEMBER_OFFSET, ORGANIZATION_OFFSET, () =>
      memberFromRow(named(row, MEMBER_COLUMNS, MEMBER_OFFSET) as unknown as MemberRow),
    ),
    organization: ORGANIZATIONS.get(String(row[ORGANIZATION_OFFSET]), row, ORGANIZATION_OFFSET, ORGANIZATION_END, () =>
      organizationFromRow(named(row, ORGANIZATION_COLUMNS, ORGANIZATION_OFFSET) as unknown as OrganizationRow),
    ),
  };
}

/** The columns from `offset` on, by name, for the row mappers the other stores share. */
function named(row: PositionalRow, columns: readonly string[], offset: number): Record<string, unknown> {
  const picked: Record<string, unknown> = {};
  for (let index = 0; index < columns.length; index += 1) picked[columns[index] as string] = row[offset + index];
  return picked;
}

function toRow(session: MemberSession): Omit<SessionRow, 'token_lookup_id' | 'token_digest'> {
  return {
    member_session_id: session.memberSessionId,
    member_id: session.memberId,
    organization_id: session.organizationId,
    started_at: session.startedAt,
    last_accessed_at: session.lastAccessedAt,
    expires_at: session.expiresAt,
    revoked_at: session.revokedAt,
    authentication_factors: toJson(session.authenticationFactors),
    custom_claims: toJson(session.customClaims),
    attributes: toJson(session.attributes),
    roles: toJson(session.roles),
  };
}

function fromRow(row: Selectable<SessionRow>): MemberSession {
  return {
    memberSessionId: row.member_session_id,
    memberId: row.member_id,
    organizationId: row.organization_id,
    startedAt: row.started_at,
    lastAccessedAt: row.last_accessed_at,
    expiresAt: row.expires_at,
    revokedAt: row.revoked_at,
    authenticationFactors: fromJson<AuthenticationFactor[]>(row.authentication_factors),
    customClaims: fromJson<Record<string, unknown>>(row.custom_claims),
    attributes: fromJson<SessionAttributes>(row.attributes),
    roles: fromJson<string[]>(row.roles),
  };
}

function intermediateFromRow(row: Selectable<IntermediateSessionRow>): IntermediateSession {
  return {
    intermediateSessionId: row.intermediate_session_id,
    organizationId: row.organization_id,
    memberId: row.member_id,
    emailAddress: row.email_address,
    authenticationFactors: fromJson<AuthenticationFactor[]>(row.authentication_factors),
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    consumedAt: row.consumed_at,
  };
}
