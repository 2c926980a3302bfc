import type { DomainEventHandler } from '../common/domain-events.js';
import type { StorePorts } from '../ports.js';

/**
 * Magic links and one-time codes die with what they were sent for, inside that change's
 * transaction: a deleted member (which is also how an invitation is revoked), a member's new
 * address (the old one received them), a deleted organization.
 */
export interface EmailSignInEventHandlers {
  readonly memberDeleted: DomainEventHandler<StorePorts, 'member.deleted'>;
  readonly memberEmailChanged: DomainEventHandler<StorePorts, 'member.email_changed'>;
  readonly organizationDeleted: DomainEventHandler<StorePorts, 'organization.deleted'>;
}

export function emailSignInEventHandlers(): EmailSignInEventHandlers {
  return {
    async memberDeleted(tx, _context, event) {
      await tx.emailCredentials.deleteCredentialsForMember(event.memberId);
    },
    async memberEmailChanged(tx, _context, event) {
      await tx.emailCredentials.deleteCredentialsForMember(event.memberId);
    },
    async organizationDeleted(tx, _context, event) {
      await tx.emailCredentials.deleteCredentialsForOrganization(event.organizationId);
    },
  };
}
