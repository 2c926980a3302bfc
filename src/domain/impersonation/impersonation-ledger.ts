import type { Clock } from '../../platform/clock.js';
import { toTimestamp } from '../../platform/clock.js';
import type { AuditRecorder } from '../audit/audit-recorder.js';
import type { AuditStore } from '../audit/audit-store.js';
import type { OperationContext } from '../common/operation-context.js';
import type { Transactional } from '../common/transactional.js';
import type { ImpersonatedSession, ImpersonationEndCause } from './impersonation.js';
import type { ImpersonationStore } from './impersonation-store.js';

type LedgerPorts = { impersonation: ImpersonationStore; audit: AuditStore };

/**
 * Keeps the record of how each impersonated session ended. It hears of every member-session
 * revocation (`member_sessions.revoked`, by any path: sessions.revoke, member deletion, email change,
 * organization deletion, the impersonation API) in the revoking transaction, so no impersonation
 * ends unrecorded.
 */
export class ImpersonationLedger {
  readonly #audit: AuditRecorder;
  readonly #clock: Clock;

  constructor(dependencies: { audit: AuditRecorder; clock: Clock }) {
    this.#audit = dependencies.audit;
    this.#clock = dependencies.clock;
  }

  /** `why` is recorded when the revocation had a cause beyond a direct request (an operator disabled, a policy switched off). */
  async sessionsRevoked(tx: LedgerPorts, context: OperationContext, memberSessionIds: readonly string[], at: string, why?: ImpersonationEndCause): Promise<void> {
    if (memberSessionIds.length === 0) return;
    const ended = await tx.impersonation.endImpersonatedSessions(memberSessionIds, at, 'revoked');
    for (const session of ended) await this.#recordEnd(tx, context, session, 'impersonation.session_revoked', at, why);
  }

  /**
   * Records the expiry of impersonated sessions whose hour is up. Each expiry is claimed by one
   * conditional update, so several processes sweeping at once record it once. Returns how many.
   */
  async recordExpiries(store: Transactional<LedgerPorts>, limit = 100): Promise<number> {
    const at = toTimestamp(this.#clock.now());
    const context: OperationContext = { requestId: 'sweeper', actor: { type: 'system' } };
    return store.transaction(async (tx) => {
      const due = await tx.impersonation.listUnrecordedExpiries(at, limit);
      const ended = await tx.impersonation.endImpersonatedSessions(
        due.map((session) => session.memberSessionId),
        at,
        'expired',
      );
      for (const session of ended) await this.#recordEnd(tx, context, session, 'impersonation.session_expired', session.expiresAt);
      return ended.length;
    });
  }

  async #recordEnd(
    tx: LedgerPorts,
    context: OperationContext,
    session: ImpersonatedSession,
    type: 'impersonation.session_revoked' | 'impersonation.session_expired',
    occurredAt: string,
    why?: ImpersonationEndCause,
  ): Promise<void> {
    await this.#audit.record(tx.audit, context, {
      type,
      organizationId: session.organizationId,
      memberId: session.memberId,
      impersonatorId: session.impersonatorId,
      occurredAt,
      details: {
        member_session_id: session.memberSessionId,
        impersonator_email_address: session.impersonatorEmailAddress,
        reason: session.reason,
        started_at: session.startedAt,
        ...(why !== undefined && { why }),
      },
    });
  }
}
