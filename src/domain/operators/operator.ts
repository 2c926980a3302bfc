import type { IdGenerator } from '../../platform/ids.js';

/** Console users: support staff and admins, separate from the members of customers' organizations. */
export type OperatorRole = 'admin' | 'support' | 'viewer';

export const OPERATOR_ROLES: readonly OperatorRole[] = ['admin', 'support', 'viewer'];

export interface Operator {
  readonly operatorId: string;
  readonly emailAddress: string;
  readonly name: string;
  readonly role: OperatorRole;
  readonly passwordHash: string;
  /** The TOTP secret sealed with the master key; null when the operator has none (viewers may). */
  readonly sealedTotpSecret: string | null;
  /** The last 30-second TOTP step accepted, so a code cannot be replayed. */
  readonly lastTotpStep: number | null;
  readonly failedAttempts: number;
  readonly lockedUntil: string | null;
  readonly disabledAt: string | null;
  readonly createdAt: string;
  readonly updatedAt: string;
}

/** A signed-in browser. Only the lookup id and digest of its cookie token are stored. */
export interface ConsoleSession {
  readonly consoleSessionId: string;
  readonly operatorId: string;
  readonly createdAt: string;
  readonly lastSeenAt: string;
  /** Absolute end, whatever the activity. */
  readonly expiresAt: string;
  /** When TOTP was last proven in this session; null while only the password was. */
  readonly totpVerifiedAt: string | null;
  readonly revokedAt: string | null;
}

/** A new console session of the operator, live from `at`; `totpVerifiedAt` when a code (or a new authenticator) was just proven. */
export function newConsoleSession(ids: IdGenerator, operatorId: string, at: string, expiresAt: string, totpVerifiedAt: string | null = null): ConsoleSession {
  return { consoleSessionId: ids.next('console-session'), operatorId, createdAt: at, lastSeenAt: at, expiresAt, totpVerifiedAt, revokedAt: null };
}

/** Who may do what in the console. */
export function canImpersonate(role: OperatorRole): boolean {
  return role === 'admin' || role === 'support';
}

export function canManageOperators(role: OperatorRole): boolean {
  return role === 'admin';
}

/** Resetting a member's TOTP or MFA phone number (support cases: a lost phone or authenticator). */
export function canResetMemberFactors(role: OperatorRole): boolean {
  return role === 'admin';
}

/** Impersonation needs TOTP, so anyone who can impersonate must have it. */
export function requiresTotp(role: OperatorRole): boolean {
  return canImpersonate(role);
}

/**
 * An operator whose role requires TOTP but who has none (an admin reset it): signing in then ends
 * with setting up a new authenticator instead of entering a code. Viewers' TOTP is optional.
 */
export function needsTotpEnrolment(operator: Pick<Operator, 'role' | 'sealedTotpSecret'>): boolean {
  return operator.sealedTotpSecret === null && requiresTotp(operator.role);
}

/** Whether signing in takes a second step after the password: a code, or setting up an authenticator. */
export function hasSecondStep(operator: Pick<Operator, 'role' | 'sealedTotpSecret'>): boolean {
  return operator.sealedTotpSecret !== null || needsTotpEnrolment(operator);
}

export const MAX_FAILED_ATTEMPTS = 5;
export const LOCKOUT_MINUTES = 15;
export const SESSION_IDLE_MINUTES = 30;
export const SESSION_ABSOLUTE_HOURS = 8;
/** A sign-in that has passed the password must finish TOTP within this time. */
export const TOTP_STEP_MINUTES = 5;
/** Impersonating asks for a fresh TOTP code when the last one is older than this. */
export const FRESH_TOTP_MINUTES = 5;
export const MIN_PASSWORD_LENGTH = 12;
/** A new authenticator shown after re-authenticating (or at sign-in) must be confirmed with a code within this time. */
export const TOTP_ENROLMENT_MINUTES = 10;
/** Reasons an operator gives for resetting someone's factors, as for impersonating. */
export const MAX_REASON_LENGTH = 1024;
