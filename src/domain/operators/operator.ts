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

/** Who may do what in the console. */
export function canImpersonate(role: OperatorRole): boolean {
  return role === 'admin' || role === 'support';
}

export function canManageOperators(role: OperatorRole): boolean {
  return role === 'admin';
}

/** Impersonation needs TOTP, so anyone who can impersonate must have it. */
export function requiresTotp(role: OperatorRole): boolean {
  return canImpersonate(role);
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
