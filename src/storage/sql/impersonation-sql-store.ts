import type { Kysely, Selectable } from 'kysely';
import type {
  ImpersonatedSession,
  ImpersonatedSessionSelector,
  ImpersonationEndReason,
  ImpersonationPolicy,
  ImpersonationToken,
} from '../../domain/impersonation/impersonation.js';
import type { ImpersonationStore } from '../../domain/impersonation/impersonation-store.js';
import type { Database, ImpersonatedSessionRow, ImpersonationTokenRow } from '../database.js';
import { fromFlag, toFlag } from './json-column.js';

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
        created_at: token.createdAt,
        expires_at: token.expiresAt,
        redeemed_at: token.redeemedAt,
        member_session_id: token.memberSessionId,
      })
      .execute();
  }

  async findTokenByLookupId(lookupId: string): Promise<{ token: ImpersonationToken; digest: Buffer } | undefined> {
    const row = await this.#db.selectFrom('impersonation_tokens').selectAll().where('token_lookup_id', '=', lookupId).executeTakeFirst();
    return row === undefined ? undefined : { token: tokenFromRow(row), digest: Buffer.from(row.token_digest, 'base64url') };
  }

  async redeemToken(tokenId: string, at: string, memberSessionId: string): Promise<boolean> {
    // One conditional UPDATE decides the race: on PostgreSQL a concurrent redeemer waits for the
    // row lock and then finds `redeemed_at` set; on SQLite writers are serialized.
    const result = await this.#db
      .updateTable('impersonation_tokens')
      .set({ redeemed_at: at, member_session_id: memberSessionId })
      .where('token_id', '=', tokenId)
      .where('redeemed_at', 'is', null)
      .where('expires_at', '>', at)
      .executeTakeFirst();
    return result.numUpdatedRows === 1n;
  }

  async insertImpersonatedSession(session: ImpersonatedSession): Promise<void> {
    await this.#db.insertInto('impersonated_sessions').values(sessionToRow(session)).execute();
  }

  async listActiveImpersonatedSessions(selector: ImpersonatedSessionSelector, now: string): Promise<ImpersonatedSession[]> {
    let query = this.#db.selectFrom('impersonated_sessions').selectAll().where('ended_at', 'is', null).where('expires_at', '>', now);
    if (selector.memberSessionId !== undefined) query = query.where('member_session_id', '=', selector.memberSessionId);
    if (selector.organizationId !== undefined) query = query.where('organization_id', '=', selector.organizationId);
    if (selector.memberId !== undefined) query = query.where('member_id', '=', selector.memberId);
    if (selector.impersonatorId !== undefined) query = query.where('impersonator_id', '=', selector.impersonatorId);
    const rows = await query.orderBy('started_at').orderBy('member_session_id').execute();
    return rows.map(sessionFromRow);
  }

  async endImpersonatedSessions(memberSessionIds: readonly string[], at: string, reason: ImpersonationEndReason): Promise<ImpersonatedSession[]> {
    if (memberSessionIds.length === 0) return [];
    const rows = await this.#db
      .updateTable('impersonated_sessions')
      .set({ ended_at: at, end_reason: reason })
      .where('member_session_id', 'in', memberSessionIds)
      .where('ended_at', 'is', null)
      .returningAll()
      .execute();
    return rows.map(sessionFromRow);
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
    return row === undefined
      ? undefined
      : { organizationId: row.organization_id, enabled: fromFlag(row.enabled), redirectUrl: row.redirect_url, updatedAt: row.updated_at };
  }

  async upsertPolicy(policy: ImpersonationPolicy): Promise<void> {
    const values = {
      organization_id: policy.organizationId,
      enabled: toFlag(policy.enabled),
      redirect_url: policy.redirectUrl,
      updated_at: policy.updatedAt ?? '',
    };
    await this.#db
      .insertInto('impersonation_policies')
      .values(values)
      .onConflict((conflict) => conflict.column('organization_id').doUpdateSet({ enabled: values.enabled, redirect_url: values.redirect_url, updated_at: values.updated_at }))
      .execute();
  }
}

function tokenFromRow(row: Selectable<ImpersonationTokenRow>): ImpersonationToken {
  return {
    tokenId: row.token_id,
    organizationId: row.organization_id,
    memberId: row.member_id,
    impersonatorId: row.impersonator_id,
    impersonatorEmailAddress: row.impersonator_email_address,
    reason: row.reason,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    redeemedAt: row.redeemed_at,
    memberSessionId: row.member_session_id,
  };
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
  };
}
