import { createOneTimeCode, digestOneTimeCode } from '../../crypto/one-time-code.js';
import { toTimestamp, type Clock } from '../../platform/clock.js';
import type { IdGenerator } from '../../platform/ids.js';
import type { Random } from '../../platform/random.js';
import type { AuditRecorder } from '../audit/audit-recorder.js';
import type { AuditStore } from '../audit/audit-store.js';
import type { OperationContext } from '../common/operation-context.js';
import type { Member } from '../members/member.js';
import type { Organization } from '../organizations/organization.js';
import type { RateLimiter } from '../rate-limits/rate-limiter.js';
import type { RateLimitsStore } from '../rate-limits/rate-limits-store.js';
import type { OutgoingSms, SmsLocale } from '../sms/outgoing-sms.js';
import { mfaError } from './errors.js';
import { SMS_CODE_MINUTES, type SmsCode } from './sms-code.js';
import type { SmsCodesStore } from './sms-codes-store.js';

/** What issuing a code writes: the code, the limits' counters and the audit event. */
export type SmsCodePorts = { smsCodes: SmsCodesStore; rateLimits: RateLimitsStore; audit: AuditStore };

/** Who asked for the code: otps.sms.send, or a sign-in that ended needing MFA (Stytch's automatic SMS). */
export type SmsCodeTrigger = 'otps.sms.send' | 'sign_in';

/**
 * Issues members' SMS codes, for otps.sms.send and for the SMS a sign-in starts alike. Only to
 * numbers of the configured countries (UNDERSTUDY_SMS_ALLOWED_COUNTRY_CODES; all when none are).
 * Inside the caller's transaction, with the member locked: the costly-abuse limits are counted (per
 * number, per member, per organization, per project; refused with 429 and nothing counted when one
 * is used up), a new code replaces the member's previous one (which stops working), only its digest
 * is stored, and `member.sms_code_sent` is recorded (never the code). The caller hands the returned
 * message to delivery once the transaction committed.
 */
export class SmsCodeSender {
  readonly #rateLimits: Pick<RateLimiter, 'consumeAllIn' | 'prune'>;
  readonly #clock: Clock;
  readonly #random: Random;
  readonly #ids: IdGenerator;
  readonly #audit: AuditRecorder;
  readonly #projectId: string;
  readonly #allowedCountryCodes: readonly string[];

  constructor(dependencies: {
    rateLimits: Pick<RateLimiter, 'consumeAllIn' | 'prune'>;
    clock: Clock;
    random: Random;
    ids: IdGenerator;
    audit: AuditRecorder;
    projectId: string;
    /** Country calling codes (digits, `44`) numbers must begin with; none: every country. */
    allowedCountryCodes?: readonly string[] | undefined;
  }) {
    this.#rateLimits = dependencies.rateLimits;
    this.#clock = dependencies.clock;
    this.#random = dependencies.random;
    this.#ids = dependencies.ids;
    this.#audit = dependencies.audit;
    this.#projectId = dependencies.projectId;
    this.#allowedCountryCodes = dependencies.allowedCountryCodes ?? [];
  }

  /**
   * Whether codes may go to this E.164 number: its country calling code is one of those configured.
   * Calling codes are a prefix code (none begins another), so the number's first digits decide.
   */
  allowsCountryOf(phoneNumber: string): boolean {
    return this.#allowedCountryCodes.length === 0 || this.#allowedCountryCodes.some((code) => phoneNumber.startsWith(`+${code}`));
  }

  /** Deletes expired limit counters: run before a send's transaction (issue counts inside it). */
  prune(): Promise<void> {
    return this.#rateLimits.prune();
  }

  /** Refuses a number outside the configured countries (400 `phone_number_country_not_allowed`). */
  requireAllowedCountry(phoneNumber: string): void {
    if (!this.allowsCountryOf(phoneNumber)) throw mfaError('phone_number_country_not_allowed');
  }

  async issue(
    tx: SmsCodePorts,
    context: OperationContext,
    member: Member,
    organization: Organization,
    request: { readonly phoneNumber: string; readonly locale: SmsLocale; readonly trigger: SmsCodeTrigger; readonly linked: boolean },
  ): Promise<OutgoingSms> {
    // A number linked before the countries were restricted is refused too.
    this.requireAllowedCountry(request.phoneNumber);
    await this.#rateLimits.consumeAllIn(tx.rateLimits, [
      { name: 'sms_sends_per_number', key: numberBudgetKey(member, request.phoneNumber) },
      { name: 'sms_sends_per_member', key: member.memberId },
      { name: 'sms_sends_per_organization', key: organization.organizationId },
      { name: 'sms_sends_per_project', key: this.#projectId },
    ]);
    const now = this.#clock.now();
    const code = createOneTimeCode(this.#random);
    const smsCodeId = this.#ids.next('sms-code');
    const stored: SmsCode = {
      smsCodeId,
      memberId: member.memberId,
      organizationId: organization.organizationId,
      phoneNumber: request.phoneNumber,
      digest: digestOneTimeCode(smsCodeId, code).toString('hex'),
      failedAttempts: 0,
      createdAt: toTimestamp(now),
      expiresAt: toTimestamp(new Date(now.getTime() + SMS_CODE_MINUTES * 60_000)),
      consumedAt: null,
    };
    await tx.smsCodes.replaceSmsCode(stored);
    await this.#audit.record(tx.audit, context, {
      type: 'member.sms_code_sent',
      organizationId: organization.organizationId,
      memberId: member.memberId,
      occurredAt: stored.createdAt,
      details: { phone_number: request.phoneNumber, sent_by: request.trigger, phone_number_linked: request.linked, expires_at: stored.expiresAt },
    });
    return {
      template: 'sms_otp',
      to: request.phoneNumber,
      locale: request.locale,
      code,
      expiresAt: stored.expiresAt,
      organizationName: organization.organizationName,
      organizationId: organization.organizationId,
      memberId: member.memberId,
    };
  }
}

/**
 * Whose budget a send to `phoneNumber` spends of the per-number limit. A number the member verified
 * is theirs: its sends count for that member and number alone, so nobody else can use its budget up
 * by linking the same number to a member of their own (and so keep its owner from signing in). Sends
 * to an unverified number, whoever linked it, share the number's one budget: what bounds pumping
 * codes to a number through many members.
 */
function numberBudgetKey(member: Member, phoneNumber: string): string {
  return member.mfaPhoneNumberVerified && member.mfaPhoneNumber === phoneNumber ? `${phoneNumber} ${member.memberId}` : phoneNumber;
}
