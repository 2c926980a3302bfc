import type { DomainEventHandler } from '../common/domain-events.js';
import type { StorePorts } from '../ports.js';
import type { SessionsService } from './sessions-service.js';

/**
 * How member sessions end when another capability changes what they stand on, inside that change's
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
    },
    // A new email address ends the member's sessions unless the caller asks to keep them (Stytch's preserve_existing_sessions).
    async memberEmailChanged(tx, context, event) {
      if (event.preserveSessions) return;
      await sessions.revokeMemberSessionsIn(tx, context, { memberId: event.memberId, organizationId: event.organizationId });
    },
    async organizationDeleted(tx, context, event) {
      await sessions.revokeOrganizationSessionsIn(tx, context, event.organizationId);
    },
  };
}
