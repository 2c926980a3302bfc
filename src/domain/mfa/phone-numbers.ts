import { derivedUuid } from '../../crypto/derived-uuid.js';
import type { Environment } from '../../platform/ids.js';
import { checkPhoneNumber } from '../members/member.js';
import type { AuthenticationFactor } from '../sessions/session.js';

/** `mfa_phone_number` as otps.sms.send takes it: E.164 (`invalid_phone_number` otherwise); undefined when omitted or "". */
export function checkMfaPhoneNumber(phoneNumber: string | undefined): string | undefined {
  if (phoneNumber === undefined || phoneNumber === '') return undefined;
  return checkPhoneNumber(phoneNumber);
}

/**
 * The `phone_id` of a member's number, as Stytch names it in `phone_number_factor`:
 * `phone-number-<env>-<uuid>`. Understudy stores none; it is derived from the member and the number
 * (as email ids are, email-factor.ts), so it stays the same while the member keeps the number and
 * changes with it.
 */
export function phoneIdOf(environment: Environment, memberId: string, phoneNumber: string): string {
  return `phone-number-${environment}-${derivedUuid(`${memberId}\n${phoneNumber}`)}`;
}

/** The factor an SMS code adds to a session: `otp` delivered by `sms`, with its `phone_number_factor`. */
export function smsFactor(phoneId: string, phoneNumber: string, at: string): AuthenticationFactor {
  return {
    type: 'otp',
    deliveryMethod: 'sms',
    createdAt: at,
    lastAuthenticatedAt: at,
    updatedAt: at,
    detail: { name: 'phone_number_factor', fields: { phone_id: phoneId, phone_number: phoneNumber } },
  };
}
