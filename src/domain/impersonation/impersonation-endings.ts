import type { Clock } from '../../platform/clock.js';
import { toTimestamp } from '../../platform/clock.js';
import type { AuditRecorder } from '../audit/audit-recorder.js';
import type { OperationContext } from '../common/operation-context.js';
import type { StorePorts } from '../ports.js';
import type { ImpersonatedSession, ImpersonationEndCause, ImpersonationSelector, ImpersonationToken } from './impersonation.js';
import type { ImpersonationLedger } from './impersonation-ledger.js';

/** Revoking member sessions inside the caller's transaction (SessionsService.revokeSessionsIn). */
export interface SessionRevoker {
  /** Revokes them and publishes each revocation with `why` (the ledger records the end), in that order. */
  revokeSessionsIn(
    tx: StorePorts,
    context: OperationContext,
    sessions: readonly { memberSessionId: string; organizationId: string; memberId: string }[],
    why?: ImpersonationEndCause,
  ): Promise<string[]>;
}

export interface EndedImpersonations {
  readonly sessions: readonly ImpersonatedSession[];
  readonly tokens: readonly ImpersonationToken[];
}

/**
 * Ends impersonations inside the caller's transaction, so the change that causes it (an operator
 * disabled, a member deleted, a policy switched off, a revocation asked for) and the ending commit
 * together: live impersonated sessions are revoked and unredeemed tokens can no longer be redeemed.
 * Each ended session is recorded as `impersonation.session_revoked` and each token as
 * `impersonation.token_revoked`, with `why`.
 */
export class ImpersonationEndings {
  readonly #sessions: SessionRevoker;
  readonly #ledger: Pick<ImpersonationLedger, 'sessionsRevoked'>;
  readonly #audit: AuditRecorder;
  readonly #clock: Clock;

  constructor(dependencies: { sessions: SessionRevoker; ledger: Pick<ImpersonationLedger, 'sessionsRevoked'>; audit: AuditRecorder; clock: Clock }) {
    this.#sessions = dependencies.sessions;
    this.#ledger = dependencies.ledger;
    this.#audit = dependencies.audit;
    this.#clock = dependencies.clock;
  }

  /** Revokes the matching live impersonated sessions and unredeemed tokens; returns what this call ended. */
  async endIn(tx: StorePorts, context: OperationContext, selector: ImpersonationSelector, why: ImpersonationEndCause): Promise<EndedImpersonations> {
    // Tokens first: on PostgreSQL this waits for a redemption holding the token's row, after which
    // the session it started is committed and found below; a later redemption finds the token revoked.
    const tokens = await this.revokeTokensIn(tx, context, selector, why);
    const sessions = await this.revokeSessionsIn(tx, context, selector, why);
    return { sessions, tokens };
  }

  /** Revokes the matching live impersonated sessions (and their member sessions); returns them. */
  async revokeSessionsIn(tx: StorePorts, context: OperationContext, selector: ImpersonationSelector, why: ImpersonationEndCause): Promise<ImpersonatedSession[]> {
    const at = toTimestamp(this.#clock.now());
    const active = await tx.impersonation.listActiveImpersonatedSessions(selector, at);
    if (active.length === 0) return [];
    const cause = why === 'revoked' ? undefined : why;
    // Member sessions first, then the ledger, as sessions.revoke and member deletion take them (the
    // lock order, read-for-update.ts; the other order deadlocked against them on PostgreSQL). Each
    // revocation is published as member_sessions.revoked, which the ledger records with its cause; the
    // second call records those whose member session had already ended. Each impersonation ends with
    // one session_revoked event.
    await this.#sessions.revokeSessionsIn(tx, context, active, cause);
    await this.#ledger.sessionsRevoked(
      tx,
      context,
      active.map((session) => session.memberSessionId),
      at,
      cause,
    );
    return active;
  }

  /** Revokes the matching unredeemed, unexpired tokens, each audited; returns them. */
  async revokeTokensIn(tx: StorePorts, context: OperationContext, selector: ImpersonationSelector, why: ImpersonationEndCause): Promise<ImpersonationToken[]> {
    const at = toTimestamp(this.#clock.now());
    const tokens = await tx.impersonation.revokeUnredeemedTokens(selector, at);
    for (const token of tokens) {
      await this.#audit.record(tx.audit, context, {
        type: 'impersonation.token_revoked',
        organizationId: token.organizationId,
        memberId: token.memberId,
        impersonatorId: token.impersonatorId,
        occurredAt: at,
        details: { token_id: token.tokenId, why, reason: token.reason, impersonator_email_address: token.impersonatorEmailAddress, expires_at: token.expiresAt },
      });
    }
    return tokens;
  }
}
