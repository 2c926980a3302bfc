import type { DomainEventHandler } from '../common/domain-events.js';
import type { StorePorts } from '../ports.js';
import type { ImpersonationEndings } from './impersonation-endings.js';

/**
 * How impersonations end when another capability changes what they stand on, inside that change's
 * transaction. src/services.ts subscribes these before the member sessions' handlers of the same
 * events: unredeemed tokens are locked before member sessions (read-for-update.ts), and revoking a
 * token first waits for a redemption in flight, whose session the sessions' handler then sees.
 */
export interface ImpersonationEventHandlers {
  readonly memberDeleted: DomainEventHandler<StorePorts, 'member.deleted'>;
  readonly memberEmailChanged: DomainEventHandler<StorePorts, 'member.email_changed'>;
  readonly organizationDeleted: DomainEventHandler<StorePorts, 'organization.deleted'>;
  readonly operatorDisabled: DomainEventHandler<StorePorts, 'operator.disabled'>;
  readonly operatorPasswordReset: DomainEventHandler<StorePorts, 'operator.password_reset'>;
  readonly operatorTotpReset: DomainEventHandler<StorePorts, 'operator.totp_reset'>;
}

export function impersonationEventHandlers(endings: Pick<ImpersonationEndings, 'endIn' | 'revokeTokensIn'>): ImpersonationEventHandlers {
  return {
    // Revoked, not just refused while deleted: reactivating the member must not bring the tokens back.
    // Their live impersonated sessions end with their member sessions (the sessions' handler). The
    // impersonations they started themselves (delegated) end too: a removed admin acts as nobody.
    async memberDeleted(tx, context, event) {
      await endings.revokeTokensIn(tx, context, { memberId: event.memberId }, 'member_deleted');
      await endings.endIn(tx, context, { organizationId: event.organizationId, kind: 'delegated', impersonator: { ids: [event.memberId], emailAddresses: [] } }, 'impersonator_removed');
    },
    // A token minted for the old address must not open the account under the new one, whatever preserve_existing_sessions says.
    async memberEmailChanged(tx, context, event) {
      await endings.revokeTokensIn(tx, context, { memberId: event.memberId }, 'member_email_changed');
    },
    async organizationDeleted(tx, context, event) {
      await endings.endIn(tx, context, { organizationId: event.organizationId }, 'organization_deleted');
    },
    async operatorDisabled(tx, context, event) {
      await endings.endIn(tx, context, { impersonator: impersonatorOf(event) }, 'operator_disabled');
    },
    async operatorPasswordReset(tx, context, event) {
      await endings.endIn(tx, context, { impersonator: impersonatorOf(event) }, 'operator_password_reset');
    },
    // Whoever held the lost or exposed authenticator may have started them: they end with the reset.
    async operatorTotpReset(tx, context, event) {
      await endings.endIn(tx, context, { impersonator: impersonatorOf(event) }, 'operator_totp_reset');
    },
  };
}

/**
 * An operator's impersonations, live sessions and unredeemed tokens alike, are those recorded under
 * their operator id or their email address (as the CLI and API may have named them).
 */
function impersonatorOf(operator: { operatorId: string; emailAddress: string }): { ids: string[]; emailAddresses: string[] } {
  return { ids: [operator.operatorId, operator.emailAddress], emailAddresses: [operator.emailAddress] };
}
