import { toTimestamp, type Clock } from '../../platform/clock.js';
import type { IdGenerator } from '../../platform/ids.js';
import type { AuditRecorder } from '../audit/audit-recorder.js';
import type { OperationContext } from '../common/operation-context.js';
import type { Transactional } from '../common/transactional.js';
import { emailSignInError } from '../email-sign-in/errors.js';
import { memberError } from '../members/errors.js';
import type { Member } from '../members/member.js';
import type { MemberWithOrganization } from '../members/members-service.js';
import type { Organization } from '../organizations/organization.js';
import type { StorePorts } from '../ports.js';
import type { SessionIssued } from '../sessions/sign-in/auth-outcome.js';
import type { SignIn, SignInOptions } from '../sessions/sign-in/pipeline.js';
import type { AuthenticationFactor } from '../sessions/session.js';
import { SMS_LOCALES, type SmsDelivery, type SmsLocale } from '../sms/outgoing-sms.js';
import { mfaError } from './errors.js';
import type { MfaGuessLimit } from './mfa-guess-limit.js';
import { requireLiveMember } from '../members/require-live-member.js';
import { checkSetMfaEnrollment, requireActiveMember, requireEnrolmentProof, requireMfaMethodAllowed, type EnrolmentGuard, type PresentedProof } from './mfa-rules.js';
import { checkMfaPhoneNumber } from './phone-numbers.js';
import type { SecondFactorProof } from './second-factor-proof.js';
import type { SmsCodeSender } from './sms-code-sender.js';
import { SmsOtpVerifier } from './sms-otp-verifier.js';

export interface SmsSendInput extends PresentedProof {
  readonly organizationId: string;
  readonly memberId: string;
  readonly mfaPhoneNumber?: string | undefined;
  readonly locale?: string | undefined;
}

export interface SmsAuthenticateInput extends Omit<SignInOptions, 'locale'> {
  readonly organizationId: string;
  readonly memberId: string;
  readonly code: string;
  readonly setMfaEnrollment?: string | undefined;
  readonly setDefaultMfa?: boolean | undefined;
}

/**
 * SMS one-time codes as a second factor: otps.sms.send (which links a phone number to a member who
 * has none) and otps.sms.authenticate (which completes an intermediate session, or steps up a
 * session, and verifies the number). Codes are issued by SmsCodeSender, under the costly-abuse
 * limits, and delivered after their transaction commits.
 */
export class SmsOtpsService {
  readonly #store: Transactional<StorePorts>;
  readonly #signIn: SignIn<StorePorts>;
  readonly #sender: Pick<SmsCodeSender, 'issue' | 'requireAllowedCountry' | 'prune'>;
  readonly #delivery: SmsDelivery;
  readonly #guard: Pick<EnrolmentGuard, 'presentedFactors'>;
  readonly #proof: Pick<SecondFactorProof, 'require'>;
  readonly #guesses: MfaGuessLimit;
  readonly #clock: Clock;
  readonly #ids: IdGenerator;
  readonly #audit: AuditRecorder;

  constructor(dependencies: {
    store: Transactional<StorePorts>;
    signIn: SignIn<StorePorts>;
    sender: Pick<SmsCodeSender, 'issue' | 'requireAllowedCountry' | 'prune'>;
    delivery: SmsDelivery;
    guard: Pick<EnrolmentGuard, 'presentedFactors'>;
    /** Judges an authenticate's session arguments before its code is (second-factor-proof.ts). */
    proof: Pick<SecondFactorProof, 'require'>;
    /** The member's bound on wrong codes, shared with TOTP and recovery codes. */
    guesses: MfaGuessLimit;
    clock: Clock;
    ids: IdGenerator;
    audit: AuditRecorder;
  }) {
    this.#store = dependencies.store;
    this.#signIn = dependencies.signIn;
    this.#sender = dependencies.sender;
    this.#delivery = dependencies.delivery;
    this.#guard = dependencies.guard;
    this.#proof = dependencies.proof;
    this.#guesses = dependencies.guesses;
    this.#clock = dependencies.clock;
    this.#ids = dependencies.ids;
    this.#audit = dependencies.audit;
  }

  /**
   * otps.sms.send: a code to the member's number. A member without one must give `mfa_phone_number`,
   * which is linked now (unverified until a code sent to it is authenticated): that is enrolment, so
   * a member who already has an active second factor must present a token holding one. Sending to a
   * linked number that is still unverified is enrolment too (its code would verify it), judged the
   * same way. A number other than the member's is refused (deleteMFAPhoneNumber first), as is one
   * another member of the organization verified, or one outside the configured countries. A token,
   * if given, must be this member's.
   */
  async send(context: OperationContext, input: SmsSendInput): Promise<MemberWithOrganization> {
    const locale = checkSmsLocale(input.locale);
    const given = checkMfaPhoneNumber(input.mfaPhoneNumber);
    if (given !== undefined) this.#sender.requireAllowedCountry(given);
    // Tokens are resolved before the transaction (their reads are not the transaction's); the rule is judged on the member as locked.
    const seen = await requireLiveMember(this.#store, input.organizationId, input.memberId);
    const factors = await this.#guard.presentedFactors(input, seen.member);
    await this.#sender.prune();
    const { member, organization, sms } = await this.#store.transaction(async (tx) => {
      const { organization, member } = await requireLiveMember(tx, seen.organization.organizationId, seen.member.memberId, { locked: true });
      requireActiveMember(member);
      requireMfaMethodAllowed(organization, member, 'sms_otp');
      const linking = member.mfaPhoneNumber === '';
      if (!linking && given !== undefined && given !== member.mfaPhoneNumber) throw mfaError('mfa_phone_number_mismatch');
      // A code to an unverified number is the first step of enrolling it, whoever linked it and when.
      if (!linking && !member.mfaPhoneNumberVerified) requireEnrolmentProof(member, organization, factors);
      const phoneNumber = linking ? await this.#linkable(tx, organization, member, given, factors) : member.mfaPhoneNumber;
      const linked = linking ? await this.#link(tx, organization, member, phoneNumber) : member;
      // A limit reached (429) rolls the link back with the rest: a refused send changes nothing.
      const sms = await this.#sender.issue(tx, context, linked, organization, { phoneNumber, locale, trigger: 'otps.sms.send', linked: linking });
      return { member: linked, organization, sms };
    });
    this.#delivery.deliver(context, sms);
    return { member, organization };
  }

  /**
   * otps.sms.authenticate: the member's live code, for a full session (the pipeline requires this
   * member's intermediate session holding an allowed primary factor, or their session). The
   * session arguments are checked before the code is judged, so a caller without the member's own
   * proof uses up none of the code's attempts; their factors go to the verifier, which needs one
   * holding a second factor to verify a number of a member who has another one (enrolment).
   */
  async authenticate(context: OperationContext, input: SmsAuthenticateInput): Promise<SessionIssued> {
    const setMfaEnrollment = checkSetMfaEnrollment(input.setMfaEnrollment);
    const { organization, member } = await requireLiveMember(this.#store, input.organizationId, input.memberId);
    const presentedFactors = await this.#proof.require(input, member, organization, { context, method: 'sms_otp' });
    await this.#guesses.prune(this.#store);
    const verifier = new SmsOtpVerifier(
      { clock: this.#clock, environment: this.#ids.environment, guesses: this.#guesses, audit: this.#audit },
      { organizationId: organization.organizationId, memberId: member.memberId, code: input.code, setMfaEnrollment, setDefaultMfa: input.setDefaultMfa, presentedFactors },
    );
    const outcome = await this.#signIn.signIn(context, verifier, input);
    // A second factor always ends in a member session (the pipeline refuses it otherwise).
    if (!outcome.memberAuthenticated) throw new Error('an SMS code ended in an intermediate session');
    return outcome;
  }

  /** The number a member without one may link: given, E.164, theirs to enrol, and no other member's. */
  async #linkable(tx: StorePorts, organization: Organization, member: Member, given: string | undefined, factors: readonly AuthenticationFactor[] | undefined): Promise<string> {
    if (given === undefined) throw mfaError('member_phone_number_not_found');
    requireEnrolmentProof(member, organization, factors);
    const holders = await tx.members.findMembersWithVerifiedPhoneNumber(member.organizationId, given);
    if (holders.some((holder) => holder.memberId !== member.memberId)) throw mfaError('duplicate_member_phone_number');
    return given;
  }

  async #link(tx: StorePorts, organization: Organization, member: Member, phoneNumber: string): Promise<Member> {
    const at = toTimestamp(this.#clock.now());
    const stored = await tx.members.setMfaState(organization.organizationId, member.memberId, { mfaPhoneNumber: phoneNumber, mfaPhoneNumberVerified: false }, at);
    if (stored === undefined) throw memberError('member_not_found');
    return stored;
  }
}

/** Stytch's SMS `locale`: one of eight; English when omitted or empty. */
export function checkSmsLocale(locale: string | undefined): SmsLocale {
  if (locale === undefined || locale === '') return 'en';
  const known = SMS_LOCALES.find((candidate) => candidate === locale);
  if (known === undefined) throw emailSignInError('invalid_locale', `locale must be one of ${SMS_LOCALES.join(', ')}.`);
  return known;
}
