import { toTimestamp, type Clock } from '../../platform/clock.js';
import type { DomainEventHandler } from '../common/domain-events.js';
import { FOR_UPDATE } from '../common/read-for-update.js';
import type { StorePorts } from '../ports.js';

/**
 * Passwords die with their member or organization, inside that change's transaction: a deleted
 * member's password (and its address's failed attempts) would otherwise come back with a
 * reactivation, or sign in a new member given the same address.
 */
export interface PasswordEventHandlers {
  readonly memberDeleted: DomainEventHandler<StorePorts, 'member.deleted'>;
  readonly organizationDeleted: DomainEventHandler<StorePorts, 'organization.deleted'>;
}

export function passwordEventHandlers(clock: Clock): PasswordEventHandlers {
  return {
    async memberDeleted(tx, _context, event) {
      // Locked by the deletion's transaction already: a reactivated member has no password and no lock.
      const member = await tx.members.findMemberById(event.memberId, FOR_UPDATE);
      await tx.passwords.deletePassword(event.memberId);
      if (member === undefined) return;
      if (member.memberPasswordId !== '' || member.isLocked) await tx.members.clearPasswordState(event.organizationId, member.memberId, toTimestamp(clock.now()));
      // The address's count starts again: a new member with it must not inherit a lock.
      await tx.passwords.clearFailures(event.organizationId, member.emailAddress);
    },
    async organizationDeleted(tx, _context, event) {
      await tx.passwords.deletePasswordsForOrganization(event.organizationId);
    },
  };
}
