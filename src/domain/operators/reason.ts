import { hasControlCharacters } from '../impersonation/impersonation-text.js';
import { operatorError } from './errors.js';
import { MAX_REASON_LENGTH } from './operator.js';

/**
 * The reason an operator gives for resetting someone's factors (a member's TOTP or MFA phone,
 * another operator's TOTP), as recorded in the audit trail: required, trimmed, 1 to 1024
 * characters, no control characters but line breaks and tabs (as for impersonation reasons).
 */
export function checkReason(reason: string | undefined): string {
  const trimmed = (reason ?? '').trim();
  if (trimmed === '' || trimmed.length > MAX_REASON_LENGTH) throw operatorError('invalid_operator_reason');
  if (hasControlCharacters(trimmed)) throw operatorError('invalid_operator_reason', 'The reason must not contain control characters (line breaks and tabs are allowed).');
  return trimmed;
}
