import { describe, expect, it } from 'vitest';
import { newRecoveryCode, newRecoveryCodes, normaliseRecoveryCode } from '../../../src/domain/mfa/recovery-code-format.js';
import { cryptoRandom, type Random } from '../../../src/platform/random.js';

/** Stytch's recovery-code characters, in the order a byte (mod 36) picks them: a-z, then 0-9. */
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** A Random whose bytes are `sequence`, over and over. */
function scripted(sequence: readonly number[]): Random {
  let next = 0;
  return {
    uuid: () => '00000000-0000-4000-8000-000000000000',
    bytes(length) {
      return Buffer.from(Array.from({ length }, () => sequence[next++ % sequence.length] as number));
    },
  };
}

describe('recovery codes', () => {
  it('are three groups of four lower-case letters and digits, drawn from all 36', () => {
    const seen = new Set<string>();
    for (let index = 0; index < 500; index += 1) {
      const code = newRecoveryCode(cryptoRandom);
      expect(code).toMatch(/^[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}$/);
      for (const character of code.replaceAll('-', '')) seen.add(character);
    }
    expect([...seen].sort().join('')).toBe([...ALPHABET].sort().join(''));
    // Byte n picks the alphabet's n-th character.
    expect(newRecoveryCode(scripted(Array.from({ length: 12 }, (_, index) => 24 + index)))).toBe('yz01-2345-6789');
  });

  it('draw every character equally often: bytes 252 to 255, which would favour the first four, are drawn again', () => {
    // Every byte value once, in order: 252 are kept (each character exactly seven times), 4 are skipped.
    const everyByte = Array.from({ length: 256 }, (_, value) => value);
    const random = scripted(everyByte);
    const counts = new Map<string, number>();
    // 21 codes of 12 characters use 252 kept bytes: one full pass over the byte values.
    for (let index = 0; index < 21; index += 1) {
      for (const character of newRecoveryCode(random).replaceAll('-', '')) counts.set(character, (counts.get(character) ?? 0) + 1);
    }
    expect([...counts.values()]).toEqual(Array.from({ length: 36 }, () => 7));
    expect(newRecoveryCode(scripted([255, 254, 253, 252, 0, 35]))).toBe('a9a9-a9a9-a9a9');
  });

  it('come ten at a time, all different, even from a source that repeats itself', () => {
    expect(new Set(newRecoveryCodes(cryptoRandom, 10)).size).toBe(10);
    const repeating = scripted(Array.from({ length: 12 * 3 }, (_, index) => index % 36).concat([0]));
    expect(new Set(newRecoveryCodes(repeating, 4)).size).toBe(4);
  });

  it('are read in any case and with surrounding spaces, and nothing else', () => {
    expect(normaliseRecoveryCode(' ABCD-efgh-2345\n')).toBe('abcd-efgh-2345');
    for (const malformed of ['', '123456', 'abcd-efgh', 'abcdefghijkl', 'abcd efgh ijkl', 'abcd-efgh-ijk!', 'abcd-efgh-ijklm', 'äbcd-efgh-ijkl']) {
      expect(normaliseRecoveryCode(malformed), malformed).toBeUndefined();
    }
  });
});
