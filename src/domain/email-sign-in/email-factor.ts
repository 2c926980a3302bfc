import { derivedUuid } from '../../crypto/derived-uuid.js';
import type { Environment } from '../../platform/ids.js';
import type { AuthenticationFactor } from '../sessions/session.js';

/**
 * The id of an email address, as Stytch names it in `method_id` and `email_factor.email_id`:
 * `member-email-<env>-<uuid>`. Understudy does not store one; it is derived from the member and
 * the address (a UUID made from their SHA-256, RFC 9562 version 8), so it is stable for as long as
 * the member keeps the address and changes with it. A discovery proof has no member yet: its id is
 * derived from the address alone.
 */
export function emailIdOf(environment: Environment, emailAddress: string, memberId: string | null): string {
  return `member-email-${environment}-${derivedUuid(`${memberId ?? ''}\n${emailAddress}`)}`;
}

/** The factor an email proof adds to a session: `magic_link` or `email_otp`, delivered by `email`, with its `email_factor`. */
export function emailFactor(type: 'magic_link' | 'email_otp', emailId: string, emailAddress: string, at: string): AuthenticationFactor {
  return {
    type,
    deliveryMethod: 'email',
    createdAt: at,
    lastAuthenticatedAt: at,
    updatedAt: at,
    detail: { name: 'email_factor', fields: { email_id: emailId, email_address: emailAddress } },
  };
}
