import type { OperationContext } from '../../common/operation-context.js';
import type { Member } from '../../members/member.js';
import type { Organization } from '../../organizations/organization.js';
import type { IntermediateSession } from '../intermediate-session.js';
import type { AuthenticationFactor, MemberSession } from '../session.js';
import type { PrimaryRequirement } from './auth-outcome.js';

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
   * The latest time a session this sign-in starts may end (RFC 3339): its expiry is the earlier of
   * this and the session duration. Impersonation under an access grant sets it to the grant's end, so
   * the session cannot outlive the customer's consent.
   */
  readonly expiresNoLaterThan?: string;
  /**
   * A second factor (TOTP, an SMS code, a recovery code): it never starts a session alone. It
   * completes the presented intermediate session of this member and organization, which must hold a
   * primary factor the organization allows, or joins a presented session of the member (step-up).
   * Implies satisfiesMfa.
   */
  readonly secondFactor?: boolean;
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
 * An exchange rather than a new proof (discovery's intermediate-session exchange and organization
 * create, sessions.exchange): the address was proved before, in discovery or in a session of
 * another organization, and those proofs move into this member's organization. No factor is added:
 * the session gets the factors of the presented intermediate session plus `carriedFactors`. The
 * verifier matched the presented intermediate session to this member itself (by the address it
 * proved), so the pipeline accepts it whatever member or organization it was scoped to. Exchanged
 * factors are primary ones: they never satisfy MFA.
 */
export interface VerifiedExchange {
  readonly member: Member;
  readonly organization: Organization;
  /** Added over the intermediate session's factors, replacing one of the same type and delivery method (sessions.exchange: the source session's email proofs). */
  readonly carriedFactors: readonly AuthenticationFactor[];
  /**
   * The organization's `auth_methods` allow none of the factors: no session, and the intermediate
   * session (the presented one, unchanged, or a new one with the carried factors) names the methods
   * that would do. Null when a factor is allowed.
   */
  readonly primaryRequired: PrimaryRequirement | null;
  /** As for VerifiedFactor: the `member.signed_in` event names it. */
  readonly signInMethod: string;
  /**
   * The exchange made something of the presented intermediate session that must happen once only
   * (discovery.organizations.create: an organization). When a requirement is still unmet, the
   * presented intermediate session is then spent anyway, and a new one, bound to the new member,
   * carries its factors on; otherwise the same token could create organizations for ten minutes.
   */
  readonly spendsIntermediateSession?: boolean;
  /** Where the exchange started from, recorded with the session or intermediate session it leads to (no secrets). */
  readonly auditDetails?: Readonly<Record<string, string>>;
}

export function isExchange<Tx>(verified: VerifiedFactor<Tx> | VerifiedExchange): verified is VerifiedExchange {
  return 'carriedFactors' in verified;
}

/** What the pipeline found before its transaction, for the verifiers that depend on it. */
export interface Presented {
  /**
   * The intermediate session whose token the caller presented, as read before the transaction
   * (unlocked: its address, member and organization never change; the pipeline locks it and checks
   * it is still usable after the verifier ran). Undefined when none was presented.
   */
  readonly intermediateSession: IntermediateSession | undefined;
}

/**
 * One way to sign in (a magic link, a password, an impersonation token, an exchange): it turns its
 * credential into a verified factor inside the sign-in pipeline's transaction, and may write its own
 * rows (claim a single-use token) and audit events there, or throws a refusal, which rolls
 * everything back. It never starts a session, signs a JWT or decides about MFA: the pipeline does
 * (pipeline.ts).
 */
/**
 * Thrown by a verifier to refuse a sign-in while keeping what it wrote (a wrong one-time code
 * counted against the code, with its audit event): the pipeline commits the verifier's writes,
 * nothing else, and then throws `refusal`. Anything else a verifier throws rolls everything back.
 */
export class KeptRefusal extends Error {
  constructor(readonly refusal: Error) {
    super(refusal.message);
  }
}

export interface SignInVerifier<Tx> {
  verify(tx: Tx, context: OperationContext, presented: Presented): Promise<VerifiedFactor<Tx> | VerifiedExchange>;
}
