import type { OperationContext } from '../common/operation-context.js';
import type { Member } from '../members/member.js';
import type { Organization } from '../organizations/organization.js';
import { RateLimitedError } from '../rate-limits/errors.js';
import type { MfaPrompt, PromptStarted } from '../sessions/sign-in/mfa-prompt.js';
import { SMS_LOCALES, type SmsDelivery, type SmsLocale } from '../sms/outgoing-sms.js';
import type { SmsCodePorts, SmsCodeSender } from './sms-code-sender.js';

/**
 * Stytch's automatic SMS: when a primary sign-in ends needing MFA, a member with a verified phone
 * gets a code at once (`secondary_auth_initiated: "sms_otp"`), unless their default MFA method is
 * TOTP or the organization's `mfa_methods` leave SMS out (break-glass members are exempt). Written
 * in the sign-in's transaction and delivered after it commits. An abuse limit reached, or a number
 * outside the countries SMS may go to, means no SMS, never a refused sign-in: the member can use
 * another factor, or ask for a code with otps.sms.send (which says why it is refused).
 */
export class SmsMfaPrompt implements MfaPrompt<SmsCodePorts> {
  readonly #sender: Pick<SmsCodeSender, 'issue' | 'allowsCountryOf'>;
  readonly #delivery: SmsDelivery;

  constructor(dependencies: { sender: Pick<SmsCodeSender, 'issue' | 'allowsCountryOf'>; delivery: SmsDelivery }) {
    this.#sender = dependencies.sender;
    this.#delivery = dependencies.delivery;
  }

  async start(tx: SmsCodePorts, context: OperationContext, member: Member, organization: Organization, locale: string | undefined): Promise<PromptStarted | undefined> {
    if (!promptsSms(member, organization) || !this.#sender.allowsCountryOf(member.mfaPhoneNumber)) return undefined;
    try {
      const sms = await this.#sender.issue(tx, context, member, organization, { phoneNumber: member.mfaPhoneNumber, locale: smsLocaleOf(locale), trigger: 'sign_in', linked: false });
      return { initiated: 'sms_otp', afterCommit: () => this.#delivery.deliver(context, sms) };
    } catch (error) {
      if (error instanceof RateLimitedError) return undefined;
      throw error;
    }
  }
}

/** Whether a sign-in needing MFA sends this member an SMS code by itself. */
export function promptsSms(member: Member, organization: Organization): boolean {
  if (member.status !== 'active' || member.mfaPhoneNumber === '' || !member.mfaPhoneNumberVerified) return false;
  if (member.defaultMfaMethod === 'totp') return false;
  const { mfaMethods, allowedMfaMethods } = organization.settings;
  return mfaMethods !== 'RESTRICTED' || member.isBreakglass || allowedMfaMethods.includes('sms_otp');
}

/** The sign-in's `locale` (the primary methods take their own, e.g. the four email ones) as an SMS language: English when it is none of SMS's. */
function smsLocaleOf(locale: string | undefined): SmsLocale {
  return SMS_LOCALES.find((candidate) => candidate === locale) ?? 'en';
}
