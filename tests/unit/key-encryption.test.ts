import { describe, expect, it } from 'vitest';
import { decryptPrivateKey, encryptPrivateKey } from '../../src/crypto/keys/key-encryption.js';
import { cryptoRandom } from '../../src/platform/random.js';

const MASTER_KEY = Buffer.alloc(32, 7);
const OTHER_MASTER_KEY = Buffer.alloc(32, 8);
const KID = 'jwk-test-00000000-0000-4000-8000-000000000001';
const PRIVATE_JWK = JSON.stringify({ kty: 'RSA', kid: KID, d: 'secret-exponent', p: 'prime-one', q: 'prime-two' });

function seal(plaintext = PRIVATE_JWK, kid = KID): string {
  return encryptPrivateKey(plaintext, { masterKey: MASTER_KEY, kid, random: cryptoRandom });
}

/** Flips one bit of the base64url part at `index` (1 = iv, 2 = ciphertext, 3 = tag). */
function tamper(sealed: string, index: number): string {
  const parts = sealed.split('.');
  const bytes = Buffer.from(parts[index] ?? '', 'base64url');
  bytes[0] = (bytes[0] ?? 0) ^ 1;
  parts[index] = bytes.toString('base64url');
  return parts.join('.');
}

describe('private key encryption (AES-256-GCM under the master key)', () => {
  it('round-trips the private JWK and never carries it in clear', () => {
    const sealed = seal();
    expect(sealed).toMatch(/^v1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{22}$/);
    expect(sealed).not.toContain('secret-exponent');
    expect(decryptPrivateKey(sealed, { masterKey: MASTER_KEY, kid: KID })).toBe(PRIVATE_JWK);
  });

  it('uses a fresh IV each time, so sealing the same key twice gives different texts', () => {
    const first = seal();
    const second = seal();
    expect(first).not.toBe(second);
    expect(first.split('.')[1]).not.toBe(second.split('.')[1]);
    expect(decryptPrivateKey(second, { masterKey: MASTER_KEY, kid: KID })).toBe(PRIVATE_JWK);
  });

  it('refuses to decrypt under another master key', () => {
    expect(() => decryptPrivateKey(seal(), { masterKey: OTHER_MASTER_KEY, kid: KID })).toThrow();
  });

  it('refuses a ciphertext moved onto another kid (the kid is bound as additional data)', () => {
    expect(() => decryptPrivateKey(seal(), { masterKey: MASTER_KEY, kid: 'jwk-test-00000000-0000-4000-8000-000000000002' })).toThrow();
  });

  it.each([
    ['the IV', 1],
    ['the ciphertext', 2],
    ['the authentication tag', 3],
  ])('refuses a text whose %s was altered', (_label, index) => {
    expect(() => decryptPrivateKey(tamper(seal(), index), { masterKey: MASTER_KEY, kid: KID })).toThrow();
  });

  it.each([4, 8, 12, 15])('refuses the genuine tag truncated to %i bytes (GCM would otherwise check only that prefix)', (length) => {
    const [version, iv, ciphertext, tag] = seal().split('.') as [string, string, string, string];
    const truncated = Buffer.from(tag, 'base64url').subarray(0, length).toString('base64url');
    expect(() => decryptPrivateKey([version, iv, ciphertext, truncated].join('.'), { masterKey: MASTER_KEY, kid: KID })).toThrow();
  });

  it('refuses a missing part and an unknown format version', () => {
    const [version, iv, ciphertext, tag] = seal().split('.') as [string, string, string, string];
    const options = { masterKey: MASTER_KEY, kid: KID };
    expect(() => decryptPrivateKey([version, iv, ciphertext].join('.'), options)).toThrow(/unknown private key format/);
    expect(() => decryptPrivateKey(['v2', iv, ciphertext, tag].join('.'), options)).toThrow(/unknown private key format/);
  });
});
