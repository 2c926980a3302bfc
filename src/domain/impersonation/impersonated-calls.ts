import type { AuditRecorder } from '../audit/audit-recorder.js';
import type { AuditStore } from '../audit/audit-store.js';
import type { OperationContext } from '../common/operation-context.js';
import type { Transactional } from '../common/transactional.js';

/** How a call made with an impersonated session's member-session headers ended. */
export interface ImpersonatedCallOutcome {
  /** The operation, by its SDK method name (`organizations.members.update`). */
  readonly operation: string;
  readonly outcome: 'completed' | 'refused' | 'failed';
  /** The error's `error_type` when the call did not complete. */
  readonly errorType?: string | undefined;
}

/**
 * Records, in the impersonation audit trail, every admin call an impersonated session's headers
 * made: what was called, by whom (the impersonator, from the actor) and as whom (the member). The
 * call's own changes carry the impersonator too (AuditRecorder), in their own transaction; this
 * record is written after the call, whatever its outcome, so refused calls are on the trail as well.
 */
export class ImpersonatedCalls {
  readonly #store: Transactional<{ readonly audit: AuditStore }>;
  readonly #audit: AuditRecorder;

  constructor(dependencies: { store: Transactional<{ readonly audit: AuditStore }>; audit: AuditRecorder }) {
    this.#store = dependencies.store;
    this.#audit = dependencies.audit;
  }

  async record(context: OperationContext, call: ImpersonatedCallOutcome): Promise<void> {
    const actor = context.actor;
    if (actor.type !== 'member_session' || actor.impersonator === undefined) return;
    await this.#audit.record(this.#store.audit, context, {
      type: 'impersonation.session_acted',
      organizationId: actor.organizationId,
      memberId: actor.memberId,
      details: {
        operation: call.operation,
        outcome: call.outcome,
        member_session_id: actor.memberSessionId,
        impersonator_email_address: actor.impersonator.emailAddress,
        ...(call.errorType !== undefined && { error_type: call.errorType }),
      },
    });
  }
}
