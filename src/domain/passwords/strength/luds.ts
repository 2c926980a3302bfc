import type { LudsFeedback } from '../password-strength.js';

/** The LUDS part of the project's policy (password-settings.ts): length and character kinds. */
export interface LudsPolicy {
  /** At least this many characters (8 to 32). */
  readonly minLength: number;
  /** At least this many of lower case, upper case, digit and symbol (1 to 4). */
  readonly minComplexity: number;
}

/**
 * Lower case, Upper case, Digits, Symbols. Only ASCII letters and digits are letters and digits
 * here: every other character (punctuation, a space, `é`, `ß`, an emoji) is a symbol, as Stytch
 * counts them. Length is counted in Unicode code points, so an emoji is one character, not two.
 */
export function ludsFeedback(password: string, policy: LudsPolicy): LudsFeedback {
  let hasLowerCase = false;
  let hasUpperCase = false;
  let hasDigit = false;
  let hasSymbol = false;
  let length = 0;
  for (const character of password) {
    length += 1;
    if (character >= 'a' && character <= 'z') hasLowerCase = true;
    else if (character >= 'A' && character <= 'Z') hasUpperCase = true;
    else if (character >= '0' && character <= '9') hasDigit = true;
    else hasSymbol = true;
  }
  const kinds = Number(hasLowerCase) + Number(hasUpperCase) + Number(hasDigit) + Number(hasSymbol);
  return {
    hasLowerCase,
    hasUpperCase,
    hasDigit,
    hasSymbol,
    missingComplexity: Math.max(0, policy.minComplexity - kinds),
    missingCharacters: Math.max(0, policy.minLength - length),
  };
}

/** LUDS passes when nothing is missing. */
export function meetsLuds(feedback: LudsFeedback): boolean {
  return feedback.missingComplexity === 0 && feedback.missingCharacters === 0;
}
