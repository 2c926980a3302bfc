import { sql, type Expression, type ExpressionBuilder, type Kysely, type Selectable, type SqlBool } from 'kysely';
import {
  DEFAULT_DELEGATED_IMPERSONATION,
  type AccessMode,
  type DelegatedImpersonation,
  type ImpersonatedSession,
  type ImpersonationEndReason,
  type ImpersonationKind,
  type ImpersonationPolicy,
  type ImpersonationPolicyChange,
  type ImpersonationSelector,
  type ImpersonationToken,
  type PermissionMask,
} from '../../domain/impersonation/impersonation.js';
import type { ImpersonationStore } from '../../domain/impersonation/impersonation-store.js';
import type { Database, ImpersonatedSessionRow, ImpersonationPolicyRow, ImpersonationTokenRow } from '../database.js';
import { fromFlag, toFlag } from './json-column.js';

/** How many ids one `IN (…)` list carries at most. */
const IDS_PER_STATEMENT = 1000;

export class ImpersonationSqlStore implements ImpersonationStore {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async insertToken(token: ImpersonationToken, secret: { lookupId: string; digest: Buffer }): Promise<void> {
    await this.#db
      .insertInto('impersonation_tokens')
      .values({
        token_id: token.tokenId,
        token_lookup_id: secret.lookupId,
        token_digest: secret.digest.toString('base64url'),
        organization_id: token.organizationId,
        member_id: token.memberId,
        impersonator_id: token.impersonatorId,
        impersonator_email_address: token.impersonatorEmailAddress,
        reason: token.reason,
        member_email_address: token.memberEmailAddress,
        created_at: token.createdAt,
        expires_at: token.expiresAt,
        redeemed_at: token.redeemedAt,
        member_session_id: token.memberSessionId,
        revoked_at: token.revokedAt,
        grant_id: token.grantId,
        kind: token.kind,
        permission_mask: maskToColumn(token.permissionMask),
      })
      .execute();
  }

  async findTokenByLookupId(lookupId: string): Promise<{ token: ImpersonationToken; digest: Buffer } | undefined> {
    const row = await this.#db.selectFrom('impersonation_tokens').selectAll().where('token_lookup_id', '=', lookupId).executeTakeFirst();
    return row === undefined ? undefined : { token: tokenFromRow(row), digest: Buffer.from(row.token_digest, 'base64url') };
  }

  async redeemToken(tokenId: string, at: string, memberSessionId: string): Promise<boolean> {
    // One conditional UPDATE decides the race: on PostgreSQL a concurrent redeemer (or revoker)
    // waits for the row lock and then finds `redeemed_at` (or `revoked_at`) set; on SQLite writers are serialized.
    const result = await this.#db
      .updateTable('impersonation_tokens')
      .set({ redeemed_at: at, member_session_id: memberSessionId })
      .where('token_id', '=', tokenId)
      .where('redeemed_at', 'is', null)
      .where('revoked_at', 'is', null)
      .where('expires_at', '>', at)
      .executeTakeFirst();
    return result.numUpdatedRows === 1n;
  }

  async revokeUnredeemedTokens(selector: ImpersonationSelector, at: string): Promise<ImpersonationToken[]> {
    const rows = await this.#db
      .updateTable('impersonation_tokens')
      .set({ revoked_at: at })
      .where('redeemed_at', 'is', null)
      .where('revoked_at', 'is', null)
      .where('expires_at', '>', at)
      .where((eb) => matches(eb, { ...selector, memberSessionId: undefined }))
      .returningAll()
      .execute();
    return rows.map(tokenFromRow).sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.tokenId.localeCompare(b.tokenId));
  }

  async insertImpersonatedSession(session: ImpersonatedSession): Promise<void> {
    await this.#db.insertInto('impersonated_sessions').values(sessionToRow(session)).execute();
  }

  async findImpersonatedSession(memberSessionId: string): Promise<ImpersonatedSession | undefined> {
    const row = await this.#db.selectFrom('impersonated_sessions').selectAll().where('member_session_id', '=', memberSessionId).executeTakeFirst();
    return row === undefined ? undefined : sessionFromRow(row);
  }

  async listActiveImpersonatedSessions(selector: ImpersonationSelector, now: string): Promise<ImpersonatedSession[]> {
    const rows = await this.#db
      .selectFrom('impersonated_sessions')
      .selectAll()
      .where('ended_at', 'is', null)
      .where('expires_at', '>', now)
      .where((eb) => matches(eb, selector))
      .orderBy('started_at')
      .orderBy('member_session_id')
      .execute();
    return rows.map(sessionFromRow);
  }

  async endImpersonatedSessions(memberSessionIds: readonly string[], at: string, reason: ImpersonationEndReason): Promise<ImpersonatedSession[]> {
    // In slices: the ids are every session an organization's deletion revoked, which may be more
    // than one statement can carry as parameters (SQLite 32,766, PostgreSQL 65,535).
    const ended: ImpersonatedSession[] = [];
    for (let start = 0; start < memberSessionIds.length; start += IDS_PER_STATEMENT) {
      const rows = await this.#db
        .updateTable('impersonated_sessions')
        .set({ ended_at: at, end_reason: reason })
        .where('member_session_id', 'in', memberSessionIds.slice(start, start + IDS_PER_STATEMENT))
        .where('ended_at', 'is', null)
        .returningAll()
        .execute();
      ended.push(...rows.map(sessionFromRow));
    }
    return ended;
  }

  async listUnrecordedExpiries(now: string, limit: number): Promise<ImpersonatedSession[]> {
    const rows = await this.#db
      .selectFrom('impersonated_sessions')
      .selectAll()
      .where('ended_at', 'is', null)
      .where('expires_at', '<=', now)
      .orderBy('expires_at')
      .limit(limit)
      .execute();
    return rows.map(sessionFromRow);
  }

  async findPolicy(organizationId: string): Promise<ImpersonationPolicy | undefined> {
    const row = await this.#db.selectFrom('impersonation_policies').selectAll().where('organization_id', '=', organizationId).executeTakeFirst();
    return row === undefined ? undefined : policyFromRow(row);
  }

  async updatePolicy(organizationId: string, change: ImpersonationPolicyChange, at: string): Promise<ImpersonationPolicy> {
    // Only the given columns are written, so two callers changing different parts both keep theirs.
    // `enabled` and `access_mode` are written together (enabled = the mode is not off); `enabled: true`
    // alone turns `off` into `open` and leaves `by_grant` as it is, decided in the statement itself.
    const mode =
      change.accessMode !== undefined
        ? sql<string>`${change.accessMode}`
        : change.enabled === undefined
          ? undefined
          : change.enabled
            ? sql<string>`case when coalesce(impersonation_policies.access_mode, 'open') = 'off' then 'open' else coalesce(impersonation_policies.access_mode, 'open') end`
            : sql<string>`'off'`;
    const enabled = change.accessMode !== undefined ? toFlag(change.accessMode !== 'off') : change.enabled === undefined ? undefined : toFlag(change.enabled);
    const changed = {
      ...(enabled !== undefined && { enabled }),
      ...(mode !== undefined && { access_mode: mode }),
      ...(change.delegated !== undefined && { delegated_impersonation: change.delegated }),
      ...(change.notifyMember !== undefined && { notify_member: toFlag(change.notifyMember) }),
      ...(change.notifyAdmins !== undefined && { notify_admins: toFlag(change.notifyAdmins) }),
      ...(change.chosenByOrganization === true && { chosen_by_organization: toFlag(true) }),
      ...(change.redirectUrl !== undefined && { redirect_url: change.redirectUrl }),
      updated_at: at,
    };
    const initialMode: AccessMode = change.accessMode ?? (change.enabled === false ? 'off' : 'open');
    const row = await this.#db
      .insertInto('impersonation_policies')
      .values({
        organization_id: organizationId,
        enabled: toFlag(initialMode !== 'off'),
        access_mode: initialMode,
        delegated_impersonation: change.delegated ?? null,
        notify_member: toFlag(change.notifyMember ?? false),
        notify_admins: toFlag(change.notifyAdmins ?? false),
        chosen_by_organization: toFlag(change.chosenByOrganization === true),
        redirect_url: change.redirectUrl ?? null,
        updated_at: at,
      })
      .onConflict((conflict) => conflict.column('organization_id').doUpdateSet(changed))
      .returningAll()
      .executeTakeFirstOrThrow();
    return policyFromRow(row);
  }

  async listMemberImpersonations(
    organizationId: string,
    memberId: string,
    page: { readonly limit: number; readonly before: { readonly createdAt: string; readonly tokenId: string } | null },
  ): Promise<{ token: ImpersonationToken; session: ImpersonatedSession | undefined }[]> {
    let query = this.#db.selectFrom('impersonation_tokens').selectAll().where('member_id', '=', memberId).where('organization_id', '=', organizationId);
    const before = page.before;
    if (before !== null) {
      query = query.where((eb) => eb.or([eb('created_at', '<', before.createdAt), eb.and([eb('created_at', '=', before.createdAt), eb('token_id', '<', before.tokenId)])]));
    }
    const tokens = await query.orderBy('created_at', 'desc').orderBy('token_id', 'desc').limit(page.limit).execute();
    // A page is at most a few hundred tokens: their sessions in one statement, by primary key.
    const sessionIds = tokens.flatMap((row) => (row.member_session_id === null ? [] : [row.member_session_id]));
    const sessions =
      sessionIds.length === 0 ? [] : await this.#db.selectFrom('impersonated_sessions').selectAll().where('member_session_id', 'in', sessionIds).execute();
    const byId = new Map(sessions.map((row) => [row.member_session_id, sessionFromRow(row)]));
    return tokens.map((row) => ({ token: tokenFromRow(row), session: row.member_session_id === null ? undefined : byId.get(row.member_session_id) }));
  }
}

function policyFromRow(row: Selectable<ImpersonationPolicyRow>): ImpersonationPolicy {
  const accessMode = (row.access_mode ?? (fromFlag(row.enabled) ? 'open' : 'off')) as AccessMode;
  return {
    organizationId: row.organization_id,
    enabled: accessMode !== 'off',
    accessMode,
    delegated: (row.delegated_impersonation ?? DEFAULT_DELEGATED_IMPERSONATION) as DelegatedImpersonation,
    notifyMember: fromFlag(row.notify_member),
    notifyAdmins: fromFlag(row.notify_admins),
    // undefined: a row read through a database not yet past migration 0018 (migration tests do).
    chosenByOrganization: row.chosen_by_organization === undefined ? false : fromFlag(row.chosen_by_organization),
    redirectUrl: row.redirect_url,
    updatedAt: row.updated_at,
  };
}

/**
 * The mask as stored: `{"read_only":true}`, or `{"actions":[{"resource_id":…,"action":…}]}` with each
 * pair as the mint read it (not its `resource:action` text, which a later policy could read otherwise); null for none.
 */
function maskToColumn(mask: PermissionMask | null): string | null {
  if (mask === null) return null;
  return JSON.stringify('readOnly' in mask ? { read_only: true } : { actions: mask.actions.map((allowed) => ({ resource_id: allowed.resourceId, action: allowed.action })) });
}

function maskFromColumn(column: string | null | undefined): PermissionMask | null {
  // undefined: a row read through a database not yet past migration 0018 (migration tests do).
  if (column === null || column === undefined) return null;
  const parsed = JSON.parse(column) as { read_only?: boolean; actions?: { resource_id: string; action: string }[] };
  return parsed.read_only === true ? { readOnly: true } : { actions: (parsed.actions ?? []).map((allowed) => ({ resourceId: allowed.resource_id, action: allowed.action })) };
}

function tokenFromRow(row: Selectable<ImpersonationTokenRow>): ImpersonationToken {
  return {
    tokenId: row.token_id,
    organizationId: row.organization_id,
    memberId: row.member_id,
    impersonatorId: row.impersonator_id,
    impersonatorEmailAddress: row.impersonator_email_address,
    reason: row.reason,
    memberEmailAddress: row.member_email_address ?? '',
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    redeemedAt: row.redeemed_at,
    memberSessionId: row.member_session_id,
    revokedAt: row.revoked_at,
    grantId: row.grant_id,
    kind: (row.kind ?? 'support') as ImpersonationKind,
    permissionMask: maskFromColumn(row.permission_mask),
  };
}

type SelectorTable = 'impersonation_tokens' | 'impersonated_sessions';

/** The selector as one condition over either table (both have these columns); true when it narrows nothing. */
function matches<T extends SelectorTable>(eb: ExpressionBuilder<Database, T>, selector: ImpersonationSelector): Expression<SqlBool> {
  const any = eb as unknown as ExpressionBuilder<Database, SelectorTable>;
  const conditions: Expression<SqlBool>[] = [];
  if (selector.memberSessionId !== undefined) conditions.push(any('member_session_id', '=', selector.memberSessionId));
  if (selector.tokenId !== undefined) conditions.push(any('token_id', '=', selector.tokenId));
  if (selector.organizationId !== undefined) conditions.push(any('organization_id', '=', selector.organizationId));
  if (selector.memberId !== undefined) conditions.push(any('member_id', '=', selector.memberId));
  if (selector.grantId !== undefined) conditions.push(selector.grantId === null ? any('grant_id', 'is', null) : any('grant_id', '=', selector.grantId));
  if (selector.kind !== undefined) conditions.push(any('kind', '=', selector.kind));
  if (selector.impersonator !== undefined) {
    const { ids, emailAddresses } = selector.impersonator;
    const either: Expression<SqlBool>[] = [];
    if (ids.length > 0) either.push(any('impersonator_id', 'in', ids));
    if (emailAddresses.length > 0) either.push(any('impersonator_email_address', 'in', emailAddresses));
    // An identity with no names matches nobody, never everybody.
    conditions.push(either.length === 0 ? sql<SqlBool>`1 = 0` : any.or(either));
  }
  return conditions.length === 0 ? sql<SqlBool>`1 = 1` : any.and(conditions);
}

function sessionToRow(session: ImpersonatedSession): ImpersonatedSessionRow {
  return {
    member_session_id: session.memberSessionId,
    token_id: session.tokenId,
    organization_id: session.organizationId,
    member_id: session.memberId,
    impersonator_id: session.impersonatorId,
    impersonator_email_address: session.impersonatorEmailAddress,
    reason: session.reason,
    started_at: session.startedAt,
    expires_at: session.expiresAt,
    ended_at: session.endedAt,
    end_reason: session.endReason,
    grant_id: session.grantId,
    kind: session.kind,
    permission_mask: maskToColumn(session.permissionMask),
  };
}

function sessionFromRow(row: Selectable<ImpersonatedSessionRow>): ImpersonatedSession {
  return {
    memberSessionId: row.member_session_id,
    tokenId: row.token_id,
    organizationId: row.organization_id,
    memberId: row.member_id,
    impersonatorId: row.impersonator_id,
    impersonatorEmailAddress: row.impersonator_email_address,
    reason: row.reason,
    startedAt: row.started_at,
    expiresAt: row.expires_at,
    endedAt: row.ended_at,
    endReason: row.end_reason as ImpersonationEndReason | null,
    grantId: row.grant_id,
    kind: (row.kind ?? 'support') as ImpersonationKind,
    permissionMask: maskFromColumn(row.permission_mask),
  };
}
