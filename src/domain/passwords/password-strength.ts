/** What passwords.strengthCheck answers (and what a new password is judged by), before encoding. */
export interface PasswordStrength {
  readonly validPassword: boolean;
  /** zxcvbn's score, 0 to 4 (under LUDS: the zxcvbn score too, for information). */
  readonly score: number;
  readonly breachedPassword: boolean;
  readonly strengthPolicy: 'zxcvbn' | 'luds';
  readonly breachDetectionOnCreate: boolean;
  readonly ludsFeedback: LudsFeedback;
  readonly zxcvbnFeedback: { readonly warning: string; readonly suggestions: readonly string[] };
}

export interface LudsFeedback {
  readonly hasLowerCase: boolean;
  readonly hasUpperCase: boolean;
  readonly hasDigit: boolean;
  readonly hasSymbol: boolean;
  /** How many more of the four character kinds the policy needs. */
  readonly missingComplexity: number;
  /** How many more characters the policy needs. */
  readonly missingCharacters: number;
}

/**
 * Judges a password under the project's policy (password-settings.ts): zxcvbn or LUDS, and the
 * breach source when one is configured. Implemented in src/domain/passwords/strength/.
 */
export interface PasswordStrengthChecker {
  /**
   * `userInputs` (the address, the member's name) count against the password under zxcvbn.
   * `checkBreach`: look the password up in the breach source (when one is configured).
   */
  check(password: string, options: { readonly userInputs: readonly string[]; readonly checkBreach: boolean }): Promise<PasswordStrength>;
}

/**
 * Passwords known from breaches, by k-anonymity range (the first five hex characters of the
 * password's SHA-1): a directory of HaveIBeenPwned-format range files, or a range API.
 */
export interface BreachedPasswords {
  /** Whether the password appears in the source. Throws when the source cannot answer. */
  isBreached(password: string): Promise<boolean>;
}
