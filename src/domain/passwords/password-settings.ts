/**
 * The project's password policy: what Stytch keeps in its dashboard ("Password and user policies"),
 * here in configuration (src/config). One value for the whole project.
 */
export interface PasswordSettings {
  /** Which check decides that a new password is strong enough (`strength_policy` on the wire). */
  readonly validationPolicy: 'zxcvbn' | 'luds';
  /** LUDS: at least this many characters (8 to 32). */
  readonly ludsMinPasswordLength: number;
  /** LUDS: at least this many of lower case, upper case, digit and symbol (1 to 4). */
  readonly ludsMinPasswordComplexity: number;
  /** A new password found in the breach source is refused (`breached_password`). Needs a breach source. */
  readonly checkBreachOnCreation: boolean;
  /** A correct password found in the breach source must be reset (`member_reset_password`). Needs a breach source. */
  readonly checkBreachOnAuthentication: boolean;
  /** A correct password that no longer meets the policy must be reset (`member_reset_password`). */
  readonly validateOnAuthentication: boolean;
  /** One password per address across the project's organizations; enables the discovery password operations. */
  readonly crossOrgPasswordsEnabled: boolean;
  /** Consecutive wrong passwords that lock an address in an organization. */
  readonly userLockThreshold: number;
  /** Seconds a lock lasts. */
  readonly userLockTtlSeconds: number;
}

/** Stytch's defaults: zxcvbn, breach check on creation, lock after 10 failures for an hour. */
export const DEFAULT_PASSWORD_SETTINGS: PasswordSettings = {
  validationPolicy: 'zxcvbn',
  ludsMinPasswordLength: 8,
  ludsMinPasswordComplexity: 3,
  checkBreachOnCreation: true,
  checkBreachOnAuthentication: false,
  validateOnAuthentication: false,
  crossOrgPasswordsEnabled: false,
  userLockThreshold: 10,
  userLockTtlSeconds: 3600,
};
