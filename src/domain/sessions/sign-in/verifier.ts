import type { OperationContext } from '../../common/operation-context.js';
import type { Member } from '../../members/member.js';
import type { Organization } from '../../organizations/organization.js';
import type { AuthenticationFactor, MemberSession } from '../session.js';

/** What a sign-in method proved: who, in which organization, and by which factor. */
export interface VerifiedFactor<Tx> {
  /** As read (and locked, where the method needs it) inside the pipeline's transaction. */
  readonly member: Member;
  readonly organization: Organization;
  /** The entry this sign-in adds to the session's `authentication_factors`. */
  readonly factor: AuthenticationFactor;
  /**
   * The factor meets an MFA requirement by itself: a second factor (TOTP, SMS), or one that Stytch
   * never gates behind MFA (impersonation). Primary factors leave it unset.
   */
  readonly satisfiesMfa?: boolean;
  /**
   * The member signed themselves in (a magic link, a code, a password): the pipeline records one
   * `member.signed_in` event naming this method and the outcome (a session, or an intermediate
   * session still needing MFA). Unset for sign-ins that are not the member's own (impersonation).
   */
  readonly signInMethod?: string;
  /**
   * Runs in the same transaction once the factor is on a member session (started, or added to the
   * one the caller presented), after that session's audit event: for a method whose credential
   * records the session it opened (impersonation claims its token for that session here). A verifier
   * with one must satisfy MFA: a sign-in that would end in an intermediate session, where there is no
   * session to record, is refused as a programming error rather than leaving the credential unclaimed.
   */
  readonly onSession?: (tx: Tx, context: OperationContext, session: MemberSession) => Promise<void>;
}

/**
 * One way to sign in (a magic link, a password, an impersonation token): it turns its credential
 * into a verified factor inside the sign-in pipeline's transaction, and may write its own rows (claim
 * a single-use token) and audit events there, or throws a refusal, which rolls everything back. It
 * never starts a session, signs a JWT or decides about MFA: the pipeline does (pipeline.ts).
 */
export interface SignInVerifier<Tx> {
  verify(tx: Tx, context: OperationContext): Promise<VerifiedFactor<Tx>>;
}
