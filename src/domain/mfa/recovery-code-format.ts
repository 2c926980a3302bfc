import type { Random } from '../../platform/random.js';

/*
 * Recovery codes as Stytch shows them: three groups of four lower-case letters and digits,
 * `xxxx-xxxx-xxxx` (36^12, about 62 bits each).
 */

export const RECOVERY_CODE_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
const RECOVERY_CODE = /^[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}$/;
/** The largest multiple of 36 a byte can hold (7 × 36): bytes from 252 up are drawn again, so every character is equally likely. */
const UNBIASED_BYTES = 252;

/** One code, every character drawn uniformly from the alphabet (rejection sampling). */
export function newRecoveryCode(random: Random): string {
  const characters: string[] = [];
  while (characters.length < 12) {
    // As many bytes as characters are missing: only the rejected ones are drawn again.
    for (const byte of random.bytes(12 - characters.length)) {
      if (byte < UNBIASED_BYTES) characters.push(RECOVERY_CODE_ALPHABET[byte % RECOVERY_CODE_ALPHABET.length] as string);
    }
  }
  const code = characters.join('');
  return `${code.slice(0, 4)}-${code.slice(4, 8)}-${code.slice(8, 12)}`;
}

/** `count` distinct codes (a repeat is all but impossible, but two equal codes would be one code). */
export function newRecoveryCodes(random: Random, count: number): string[] {
  const codes = new Set<string>();
  while (codes.size < count) codes.add(newRecoveryCode(random));
  return [...codes];
}

/**
 * A presented code in its one stored form (codes are shown in lower case; a member may type them in
 * upper case or with spaces around), or undefined when it cannot be a recovery code.
 */
export function normaliseRecoveryCode(presented: string): string | undefined {
  const code = presented.trim().toLowerCase();
  return RECOVERY_CODE.test(code) ? code : undefined;
}
