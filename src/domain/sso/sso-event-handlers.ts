import type { Clock } from '../../platform/clock.js';
import { toTimestamp } from '../../platform/clock.js';
import type { DomainEventHandler } from '../common/domain-events.js';
import type { StorePorts } from '../ports.js';

/** What a member's deletion does to their SSO identities. */
export interface SsoEventHandlers {
  readonly memberDeleted: DomainEventHandler<StorePorts, 'member.deleted'>;
}

/**
 * A deleted member lets go of the IdP subjects linked to them, inside the deletion's transaction:
 * the next sign-in of such a subject finds a live member by address or is provisioned anew, never
 * the deleted one. Their registrations and groups are cleared with the links (the member row is
 * locked already), so a reactivated member comes back with none and links again at their next SSO
 * sign-in.
 */
export function ssoEventHandlers(clock: Clock): SsoEventHandlers {
  return {
    async memberDeleted(tx, _context, event) {
      await tx.sso.unlinkMember(event.memberId);
      await tx.members.setSsoState(event.organizationId, event.memberId, { ssoRegistrations: [], ssoGroups: {} }, toTimestamp(clock.now()));
    },
  };
}
