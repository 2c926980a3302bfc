import type { OperationContext } from '../../common/operation-context.js';
import type { Member } from '../../members/member.js';
import type { Organization } from '../../organizations/organization.js';

/** A second factor started for the member by the sign-in itself (Stytch's `secondary_auth_initiated`). */
export interface PromptStarted {
  readonly initiated: 'sms_otp';
  /** Runs after the sign-in's transaction commits: hands the message to delivery. */
  readonly afterCommit: () => void;
}

/**
 * What the pipeline asks, inside a sign-in's transaction, when the sign-in ends in an intermediate
 * session that still needs MFA: Stytch sends an SMS code at once to a member with a phone. The
 * implementation (src/domain/mfa) decides whether it applies (a verified phone, the organization's
 * MFA methods, the abuse limits) and writes the code; undefined when it started nothing. It never
 * refuses the sign-in: a limit reached means no SMS, and the member can ask for one.
 */
export interface MfaPrompt<Tx> {
  start(tx: Tx, context: OperationContext, member: Member, organization: Organization, locale: string | undefined): Promise<PromptStarted | undefined>;
}
