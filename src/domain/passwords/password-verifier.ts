import type { Clock } from '../../platform/clock.js';
import { toTimestamp } from '../../platform/clock.js';
import { isDomainError, type DomainError } from '../common/domain-error.js';
import type { OperationContext } from '../common/operation-context.js';
import { FOR_SHARE, FOR_UPDATE } from '../common/read-for-update.js';
import { checkMethodAllowed } from '../email-sign-in/email-member-rules.js';
import type { Member } from '../members/member.js';
import type { Organization } from '../organizations/organization.js';
import type { StorePorts } from '../ports.js';
import type { SignInVerifier, VerifiedFactor } from '../sessions/sign-in/verifier.js';
import { wrongPasswordError } from './errors.js';
import { passwordFactor, type MemberPasswords, type PasswordProof } from './member-passwords.js';

/**
 * A password sign-in refused inside the pipeline's transaction, after the password was found right:
 * the error the caller gets, and why, for the `member.sign_in_refused` event the service writes once
 * the transaction rolled back.
 */
export class PasswordSignInRefusal extends Error {
  constructor(
    readonly refusal: DomainError,
    readonly why: string,
  ) {
    super(refusal.message);
  }
}

/**
 * What a sign-in does besides adding the factor, in the same transaction, with the member locked and
 * their password confirmed (existingPassword.reset: the new password, and the end of the member's
 * other sessions). Returns the member as now stored.
 */
export type AfterConfirm = (tx: StorePorts, context: OperationContext, member: Member, organization: Organization) => Promise<Member>;

/**
 * The sign-in method of passwords.authenticate and passwords.existingPassword.reset. The password
 * was checked before the pipeline runs (MemberPasswords.prove: hashing never happens inside a
 * transaction); here, with the organization locked (shared) and then the member (for update), the
 * lock order, the member must still be live and active, the organization's `auth_methods` must
 * still allow passwords (break-glass members are exempt), and the password must still be the one
 * proved (MemberPasswords.confirm, which also clears the failures and writes a rehash).
 *
 * A password proves no address: the member's `email_address_verified` and status are left as they
 * are. Pending and invited members are refused: they have no password unless one was written to
 * the database directly (migrate and the email reset both activate the member), and a password
 * must not let them skip the invitation or signup.
 */
export class PasswordVerifier implements SignInVerifier<StorePorts> {
  readonly #proof: PasswordProof;
  readonly #passwords: Pick<MemberPasswords, 'confirm'>;
  readonly #clock: Clock;
  readonly #afterConfirm: AfterConfirm | undefined;

  constructor(dependencies: { passwords: Pick<MemberPasswords, 'confirm'>; clock: Clock }, input: { proof: PasswordProof; afterConfirm?: AfterConfirm | undefined }) {
    this.#proof = input.proof;
    this.#passwords = dependencies.passwords;
    this.#clock = dependencies.clock;
    this.#afterConfirm = input.afterConfirm;
  }

  async verify(tx: StorePorts, context: OperationContext): Promise<VerifiedFactor<StorePorts>> {
    const proved = this.#proof.member;
    const organization = await tx.organizations.findOrganization(proved.organizationId, FOR_SHARE);
    const member = organization === undefined ? undefined : await tx.members.findMemberById(proved.memberId, FOR_UPDATE);
    // Deleted since the password was checked: what the next attempt gets anyway (an unknown address).
    if (organization === undefined || member === undefined || member.status === 'deleted' || member.organizationId !== organization.organizationId) {
      throw new PasswordSignInRefusal(wrongPasswordError(), 'member_deleted');
    }
    if (member.status !== 'active') throw new PasswordSignInRefusal(wrongPasswordError(), 'member_not_active');
    refuseIfNotAllowed(organization, member);
    let confirmed: Member;
    try {
      confirmed = await this.#passwords.confirm(tx, this.#proof, member);
    } catch (error) {
      // Reset or locked meanwhile: refused, and audited as such.
      if (isDomainError(error)) throw new PasswordSignInRefusal(error, error.code === 'user_lock_limit_reached' ? 'locked' : 'password_changed');
      throw error;
    }
    const signedIn = this.#afterConfirm === undefined ? confirmed : await this.#afterConfirm(tx, context, confirmed, organization);
    return { member: signedIn, organization, factor: passwordFactor(toTimestamp(this.#clock.now())), signInMethod: 'password' };
  }
}

function refuseIfNotAllowed(organization: Organization, member: Member): void {
  try {
    checkMethodAllowed(organization, member, 'password');
  } catch (error) {
    if (isDomainError(error)) throw new PasswordSignInRefusal(error, 'method_not_allowed');
    throw error;
  }
}
