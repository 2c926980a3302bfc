import { toTimestamp, type Clock } from '../../platform/clock.js';
import type { MemberPasswords } from './member-passwords.js';
import type { DomainEventHandler } from '../common/domain-events.js';
import { FOR_UPDATE } from '../common/read-for-update.js';
import type { StorePorts } from '../ports.js';

/**
 * Passwords die with their member, their member's address or their organization, inside that
 * change's transaction: a deleted member's password (and its address's failed attempts) would
 * otherwise come back with a reactivation, or sign in a new member given the same address.
 */
export interface PasswordEventHandlers {
  readonly memberDeleted: DomainEventHandler<StorePorts, 'member.deleted'>;
  readonly memberEmailChanged: DomainEventHandler<StorePorts, 'member.email_changed'>;
  readonly organizationDeleted: DomainEventHandler<StorePorts, 'organization.deleted'>;
}

export function passwordEventHandlers(clock: Clock, passwords: Pick<MemberPasswords, 'deletePassword'>): PasswordEventHandlers {
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
    async memberEmailChanged(tx, context, event) {
      // A password belongs to an address: kept across a change, it would let whoever may change
      // addresses (an organization's admin) give someone else's address a password they know, which
      // with cross-organization passwords signs in to that person's other organizations. The member
      // sets a new one by a reset mailed to the new address.
      const member = await tx.members.findMemberById(event.memberId, FOR_UPDATE);
      if (member === undefined) return;
      await passwords.deletePassword(tx, context, member, 'email_changed');
      if (member.isLocked) await tx.members.setMemberLock(event.organizationId, member.memberId, null, toTimestamp(clock.now()));
    },
    async organizationDeleted(tx, _context, event) {
      await tx.passwords.deletePasswordsForOrganization(event.organizationId);
    },
  };
}
