import { assertFiniteNumbers } from '../common/json-values.js';
import { sessionError } from './errors.js';

/**
 * One way the member proved who they are. `detail` is the factor's one
 * `*_factor` sub-object, named as on the wire (e.g. `impersonated_factor`), since each kind of
 * factor has its own fields.
 */
export interface AuthenticationFactor {
  readonly type: string;
  readonly deliveryMethod: string;
  readonly createdAt: string;
  readonly lastAuthenticatedAt: string;
  readonly updatedAt: string;
  readonly detail?: { readonly name: string; readonly fields: Readonly<Record<string, string>> };
}

export interface SessionAttributes {
  readonly ipAddress: string;
  readonly userAgent: string;
}

export interface MemberSession {
  readonly memberSessionId: string;
  readonly memberId: string;
  readonly organizationId: string;
  readonly startedAt: string;
  readonly lastAccessedAt: string;
  readonly expiresAt: string;
  readonly authenticationFactors: readonly AuthenticationFactor[];
  readonly customClaims: Readonly<Record<string, unknown>>;
  readonly attributes: SessionAttributes;
  /** The member's effective role ids, recomputed at every authentication. */
  readonly roles: readonly string[];
  readonly revokedAt: string | null;
}

export const MIN_SESSION_MINUTES = 5;
export const MAX_SESSION_MINUTES = 527_040;
export const DEFAULT_SESSION_MINUTES = 60;
const CUSTOM_CLAIMS_LIMIT_BYTES = 4096;
/**
 * RFC 7519 registered claims the JWT sets itself, RFC 8693 `act` and our `act_permissions` beside it,
 * which only impersonation sets.
 */
const RESERVED_CLAIMS = new Set(['iss', 'sub', 'aud', 'exp', 'nbf', 'iat', 'jti', 'act', 'act_permissions']);

export function checkSessionDuration(minutes: number): number {
  if (!Number.isInteger(minutes) || minutes < MIN_SESSION_MINUTES || minutes > MAX_SESSION_MINUTES) {
    throw sessionError('invalid_session_duration_minutes');
  }
  return minutes;
}

/** Impersonated sessions keep their fixed 60 minutes and accept no other factor. */
export function isImpersonated(session: Pick<MemberSession, 'authenticationFactors'>): boolean {
  return session.authenticationFactors.some((factor) => factor.type === 'impersonated');
}

export function isLive(session: MemberSession, now: string): boolean {
  return session.revokedAt === null && session.expiresAt > now;
}

/**
 * Merges `session_custom_claims` into the session's claims: `null` deletes a key, reserved and
 * `https://stytch.com/` names are refused, and the result must stay within 4 KB, Stytch's limit.
 */
export function mergeCustomClaims(current: Readonly<Record<string, unknown>>, changes: Readonly<Record<string, unknown>>): Record<string, unknown> {
  // 1e309 parses as Infinity and would be signed into the JWT as null: refuse it instead.
  assertFiniteNumbers(changes, 'session_custom_claims');
  const merged: Record<string, unknown> = { ...current };
  for (const [name, value] of Object.entries(changes)) {
    if (RESERVED_CLAIMS.has(name)) throw sessionError('reserved_claims_in_custom_claims', `"${name}" is a reserved claim.`);
    if (name.startsWith('https://stytch.com/')) throw sessionError('stytch_claims_in_custom_claims');
    if (value === null) delete merged[name];
    else merged[name] = value;
  }
  if (Buffer.byteLength(JSON.stringify(merged)) > CUSTOM_CLAIMS_LIMIT_BYTES) throw sessionError('custom_claims_too_large');
  return merged;
}
