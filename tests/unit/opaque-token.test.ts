import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createOpaqueToken, digestToken, digestsMatch, findByOpaqueToken, parseOpaqueToken } from '../../src/crypto/opaque-token.js';
import { SequentialRandom, cryptoRandom } from '../../src/platform/random.js';

const URL_SAFE_44 = /^[A-Za-z0-9_-]{44}$/;

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

describe('createOpaqueToken', () => {
  it('makes 44 URL-safe characters whose first 12 are the lookup id and whose digest is the SHA-256 of the whole token', () => {
    for (const random of [cryptoRandom, new SequentialRandom()]) {
      const { token, lookupId, digest } = createOpaqueToken(random);
      expect(token).toMatch(URL_SAFE_44);
      expect(lookupId).toBe(token.slice(0, 12));
      expect(digest.equals(sha256(token))).toBe(true);
      expect(digest).toHaveLength(32);
    }
  });

  it('takes all its randomness from the injected Random: 33 bytes, the first 9 of which make the lookup id', () => {
    const requested: number[] = [];
    const fixed = {
      uuid: () => 'unused',
      bytes(length: number): Buffer {
        requested.push(length);
        return Buffer.alloc(length, requested.length === 1 ? 0xfb : 0x00);
      },
    };
    const { token, lookupId } = createOpaqueToken(fixed);
    expect(requested.reduce((sum, length) => sum + length, 0)).toBe(33);
    expect(lookupId).toBe(Buffer.alloc(9, 0xfb).toString('base64url'));
    expect(token).toBe(`${lookupId}${'A'.repeat(32)}`);
  });

  it('gives every token its own lookup id and digest', () => {
    const tokens = Array.from({ length: 200 }, () => createOpaqueToken(cryptoRandom));
    expect(new Set(tokens.map((token) => token.token)).size).toBe(200);
    expect(new Set(tokens.map((token) => token.lookupId)).size).toBe(200);
    expect(new Set(tokens.map((token) => token.digest.toString('hex'))).size).toBe(200);
  });
});

describe('parseOpaqueToken', () => {
  it('returns the lookup id and the digest of a well-formed token', () => {
    const created = createOpaqueToken(cryptoRandom);
    const parsed = parseOpaqueToken(created.token);
    expect(parsed?.lookupId).toBe(created.lookupId);
    expect(parsed?.digest.equals(created.digest)).toBe(true);
    expect(parseOpaqueToken(`${'-'.repeat(22)}${'_'.repeat(22)}`)?.lookupId).toBe('-'.repeat(12));
  });

  const valid = createOpaqueToken(cryptoRandom).token;
  it.each([
    ['an empty string', ''],
    ['43 characters', valid.slice(0, 43)],
    ['45 characters', `${valid}A`],
    ['a "+" (base64, not base64url)', `+${valid.slice(1)}`],
    ['a "/"', `${valid.slice(0, 43)}/`],
    ['"=" padding', `${valid.slice(0, 43)}=`],
    ['a space', ` ${valid.slice(1)}`],
    ['a trailing newline', `${valid.slice(0, 43)}\n`],
    ['a non-ASCII letter', `é${valid.slice(1)}`],
  ])('rejects %s', (_label, token) => {
    expect(parseOpaqueToken(token)).toBeUndefined();
  });
});

describe('digestsMatch', () => {
  it('is true for equal digests and false for different or shorter ones', () => {
    const digest = digestToken('a'.repeat(44));
    expect(digestsMatch(digest, Buffer.from(digest))).toBe(true);
    expect(digestsMatch(digest, digestToken('b'.repeat(44)))).toBe(false);
    const flipped = Buffer.from(digest);
    flipped[31] = (flipped[31] ?? 0) ^ 1;
    expect(digestsMatch(digest, flipped)).toBe(false);
    expect(digestsMatch(digest, digest.subarray(0, 31))).toBe(false);
    expect(digestsMatch(digest.subarray(0, 16), digest)).toBe(false);
    expect(digestsMatch(Buffer.alloc(0), digest)).toBe(false);
  });
});

describe('findByOpaqueToken', () => {
  const stored = createOpaqueToken(cryptoRandom);
  const table = new Map([[stored.lookupId, { id: 'row-1', digest: stored.digest }]]);
  const lookups: string[] = [];
  const find = async (lookupId: string) => {
    lookups.push(lookupId);
    return table.get(lookupId);
  };

  it('finds the row of the token it was stored for', async () => {
    expect(await findByOpaqueToken(stored.token, find, (row) => row.digest)).toEqual({ id: 'row-1', digest: stored.digest });
  });

  it('refuses a token with the same lookup id but another secret: the digest decides, not the lookup', async () => {
    const forged = `${stored.token.slice(0, 12)}${createOpaqueToken(cryptoRandom).token.slice(12)}`;
    expect(await findByOpaqueToken(forged, find, (row) => row.digest)).toBeUndefined();
  });

  it('answers undefined without a lookup for no token or one that cannot be ours', async () => {
    lookups.length = 0;
    for (const presented of [undefined, '', 'short', `${stored.token}x`, stored.token.replace(/.$/, '!')]) {
      expect(await findByOpaqueToken(presented, find, (row) => row.digest)).toBeUndefined();
    }
    expect(lookups).toEqual([]);
    expect(await findByOpaqueToken(createOpaqueToken(cryptoRandom).token, find, (row) => row.digest)).toBeUndefined();
  });
});
