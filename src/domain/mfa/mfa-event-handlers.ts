import type { DomainEventHandler } from '../common/domain-events.js';
import type { StorePorts } from '../ports.js';

/**
 * A member's second factors die with the member or its organization, inside that change's
 * transaction: a reactivated member, or a new member given the same address, must enrol again
 * rather than inherit an authenticator app or recovery codes someone else may hold; a pending SMS
 * code goes with them.
 */
export interface MfaEventHandlers {
  readonly memberDeleted: DomainEventHandler<StorePorts, 'member.deleted'>;
  readonly organizationDeleted: DomainEventHandler<StorePorts, 'organization.deleted'>;
}

export function mfaEventHandlers(): MfaEventHandlers {
  return {
    async memberDeleted(tx, _context, event) {
      await tx.totps.deleteTotp(event.memberId);
      await tx.smsCodes.deleteSmsCode(event.memberId);
    },
    async organizationDeleted(tx, _context, event) {
      await tx.totps.deleteTotpsForOrganization(event.organizationId);
      await tx.smsCodes.deleteSmsCodesForOrganization(event.organizationId);
    },
  };
}
