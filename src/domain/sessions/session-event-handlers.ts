import type { DomainEventHandler } from '../common/domain-events.js';
import type { StorePorts } from '../ports.js';
import type { SessionsService } from './sessions-service.js';

/**
 * How member sessions and intermediate sessions end when another capability changes what they stand on, inside that change's
 * transaction. src/services.ts subscribes these after the impersonations' handlers of the same
 * events (the lock order, read-for-update.ts).
 */
export interface SessionEventHandlers {
  readonly memberDeleted: DomainEventHandler<StorePorts, 'member.deleted'>;
  readonly memberEmailChanged: DomainEventHandler<StorePorts, 'member.email_changed'>;
  readonly organizationDeleted: DomainEventHandler<StorePorts, 'organization.deleted'>;
}

export function sessionEventHandlers(sessions: Pick<SessionsService, 'revokeMemberSessionsIn' | 'revokeOrganizationSessionsIn'>): SessionEventHandlers {
  return {
    async memberDeleted(tx, context, event) {
      await sessions.revokeMemberSessionsIn(tx, context, { memberId: event.memberId, organizationId: event.organizationId });
      await tx.sessions.deleteIntermediateSessionsForMember(event.memberId);
    },
    // A new email address ends the member's sessions unless the caller asks to keep them (Stytch's
    // preserve_existing_sessions). Intermediate sessions end regardless: the factors they hold were
    // proved for the old address, and no one asked to keep a sign-in that is still under way.
    async memberEmailChanged(tx, context, event) {
      if (!event.preserveSessions) await sessions.revokeMemberSessionsIn(tx, context, { memberId: event.memberId, organizationId: event.organizationId });
      await tx.sessions.deleteIntermediateSessionsForMember(event.memberId);
    },
    async organizationDeleted(tx, context, event) {
      await sessions.revokeOrganizationSessionsIn(tx, context, event.organizationId);
    },
  };
}
