import { createHash, pbkdf2, randomBytes, scrypt } from 'node:crypto';
import { promisify } from 'node:util';
import { hash as argon2Hash, hashRaw as argon2HashRaw } from '@node-rs/argon2';
import bcrypt from 'bcryptjs';
import { describe, expect, it } from 'vitest';
// An independent phpass implementation (WordPress's portable hash), so the fixtures are not ours.
import { HashPassword as phpassHash } from 'wordpress-hash-node';
import { checkMigratedHash, verifyMigratedHash } from '../../../src/crypto/passwords/migrated-hashes.js';
import { MigratedHashError } from '../../../src/crypto/passwords/migrated-hash-types.js';
import type { PasswordHash, PasswordHashConfig, PasswordHashType } from '../../../src/domain/passwords/stored-password.js';

const PASSWORD = 'correct horse battery staple';
const WRONG = 'correct horse battery stapler';

/** The Stytch error type `run` throws (the pool turns it into the domain's error), or undefined. */
function codeOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    return error instanceof MigratedHashError ? error.code : `not a MigratedHashError: ${String(error)}`;
  }
  return undefined;
}

/** Checks like passwords.migrate, then verifies the stored form the right and a wrong password. */
async function matches(hashType: PasswordHashType, hash: string, config: PasswordHashConfig | null): Promise<[boolean, boolean]> {
  const stored = checkMigratedHash(hashType, hash, config);
  return [await verifyMigratedHash(stored, PASSWORD), await verifyMigratedHash(stored, WRONG)];
}

const scryptAsync = promisify(scrypt) as (password: string, salt: Buffer, keyLength: number, options: object) => Promise<Buffer>;
const pbkdf2Async = promisify(pbkdf2);

describe('checkMigratedHash: what passwords.migrate accepts', () => {
  it('refuses an unknown hash type and an empty hash', () => {
    expect(codeOf(() => checkMigratedHash('sha_256' as PasswordHashType, 'abc', null))).toBe('invalid_hash_type');
    expect(codeOf(() => checkMigratedHash('md_5', '', null))).toBe('invalid_hash');
  });
});

describe('bcrypt', () => {
  it('verifies $2a$, $2b$ and $2y$ hashes made by bcryptjs', async () => {
    const salt = (await bcrypt.genSalt(4)).slice(7);
    for (const prefix of ['$2a$04$', '$2b$04$', '$2y$04$']) {
      const hash = await bcrypt.hash(PASSWORD, prefix + salt);
      expect(hash.startsWith(prefix)).toBe(true);
      expect(await matches('bcrypt', hash, null)).toEqual([true, false]);
    }
  });

  it('refuses malformed hashes, a cost above 14 and any configuration', async () => {
    const hash = await bcrypt.hash(PASSWORD, 4);
    expect(codeOf(() => checkMigratedHash('bcrypt', 'not a bcrypt hash', null))).toBe('invalid_bcrypt_hash');
    expect(codeOf(() => checkMigratedHash('bcrypt', hash.slice(0, -1), null))).toBe('invalid_bcrypt_hash');
    expect(codeOf(() => checkMigratedHash('bcrypt', hash.replace('$2b$', '$2x$'), null))).toBe('invalid_bcrypt_hash');
    expect(codeOf(() => checkMigratedHash('bcrypt', hash.replace('$04$', '$15$'), null))).toBe('invalid_bcrypt_hash');
    expect(codeOf(() => checkMigratedHash('bcrypt', hash.replace('$04$', '$03$'), null))).toBe('invalid_bcrypt_hash');
    const salted: PasswordHashConfig = { type: 'salted_digest', config: { prependSalt: 'a', appendSalt: '' } };
    expect(codeOf(() => checkMigratedHash('bcrypt', hash, salted))).toBe('invalid_hash_config');
  });
});

describe.each([
  { hashType: 'md_5', algorithm: 'md5', error: 'invalid_md_5_hash' },
  { hashType: 'sha_1', algorithm: 'sha1', error: 'invalid_sha_1_hash' },
  { hashType: 'sha_512', algorithm: 'sha512', error: 'invalid_sha_512_hash' },
] as const)('$hashType', ({ hashType, algorithm, error }) => {
  const digest = (text: string) => createHash(algorithm).update(text, 'utf8').digest('hex');

  it('verifies the hex digest of prepend_salt + password + append_salt, in either case', async () => {
    const config: PasswordHashConfig = { type: 'salted_digest', config: { prependSalt: 'før-', appendSalt: '-after' } };
    const hash = digest(`før-${PASSWORD}-after`).toUpperCase();
    expect(checkMigratedHash(hashType, hash, config)).toEqual({ hashType, hash: hash.toLowerCase(), config });
    expect(await matches(hashType, hash, config)).toEqual([true, false]);
    // The salts' places matter.
    const swapped: PasswordHashConfig = { type: 'salted_digest', config: { prependSalt: '-after', appendSalt: 'før-' } };
    expect(await matches(hashType, hash, swapped)).toEqual([false, false]);
  });

  it('verifies an unsalted digest, with or without an empty configuration', async () => {
    const empty: PasswordHashConfig = { type: 'salted_digest', config: { prependSalt: '', appendSalt: '' } };
    expect(await matches(hashType, digest(PASSWORD), null)).toEqual([true, false]);
    expect(await matches(hashType, digest(PASSWORD), empty)).toEqual([true, false]);
    // Passwords are hashed as UTF-8, as PHP, Python and Node write them.
    expect(await verifyMigratedHash(checkMigratedHash(hashType, digest('pässwörd'), null), 'pässwörd')).toBe(true);
  });

  it('refuses a digest of the wrong length or not hex, and another kind of configuration', () => {
    const hash = digest(PASSWORD);
    expect(codeOf(() => checkMigratedHash(hashType, hash.slice(2), null))).toBe(error);
    expect(codeOf(() => checkMigratedHash(hashType, `${hash}00`, null))).toBe(error);
    expect(codeOf(() => checkMigratedHash(hashType, `${hash.slice(1)}g`, null))).toBe(error);
    const pbkdf2Config: PasswordHashConfig = { type: 'pbkdf_2', config: { salt: 'c2FsdA==', iterationAmount: 1, keyLength: 32, algorithm: 'sha256' } };
    expect(codeOf(() => checkMigratedHash(hashType, hash, pbkdf2Config))).toBe('invalid_hash_config');
  });
});

describe.each([
  { hashType: 'argon_2i', algorithm: 1, other: 2 },
  { hashType: 'argon_2id', algorithm: 2, other: 1 },
] as const)('$hashType', ({ hashType, algorithm, other }) => {
  const small = { algorithm, memoryCost: 1024, timeCost: 2, parallelism: 1 } as const;

  it('verifies a PHC string made by @node-rs/argon2', async () => {
    const hash = await argon2Hash(PASSWORD, small);
    expect(await matches(hashType, hash, null)).toEqual([true, false]);
  });

  it('verifies a raw hex hash with argon_2_config, recomputed with its salt and parameters', async () => {
    const salt = 'a salt of some length';
    const raw = await argon2HashRaw(PASSWORD, { ...small, salt: Buffer.from(salt), outputLen: 24 });
    const config: PasswordHashConfig = { type: 'argon_2', config: { salt, iterationAmount: 2, memory: 1024, threads: 1, keyLength: 24 } };
    const hash = raw.toString('hex').toUpperCase();
    expect(checkMigratedHash(hashType, hash, config).hash).toBe(raw.toString('hex'));
    expect(await matches(hashType, hash, config)).toEqual([true, false]);
    const otherSalt: PasswordHashConfig = { type: 'argon_2', config: { ...config.config, salt: 'another salt value' } };
    expect(await matches(hashType, hash, otherSalt)).toEqual([false, false]);
  });

  it('refuses the other variant, malformed strings, and hex without a configuration or of another length', async () => {
    const hash = await argon2Hash(PASSWORD, small);
    const otherVariant = await argon2Hash(PASSWORD, { ...small, algorithm: other });
    expect(codeOf(() => checkMigratedHash(hashType, otherVariant, null))).toBe('invalid_argon_2_hash');
    expect(codeOf(() => checkMigratedHash(hashType, 'argon2 but not really', null))).toBe('invalid_argon_2_hash');
    expect(codeOf(() => checkMigratedHash(hashType, hash.replace('m=1024', 'm=lots'), null))).toBe('invalid_argon_2_hash');
    expect(codeOf(() => checkMigratedHash(hashType, hash.slice(0, hash.lastIndexOf('$') + 4), null))).toBe('invalid_argon_2_hash');
    const hex = randomBytes(32).toString('hex');
    expect(codeOf(() => checkMigratedHash(hashType, hex, null))).toBe('invalid_argon_2_config');
    const config: PasswordHashConfig = { type: 'argon_2', config: { salt: 'saltsaltsalt', iterationAmount: 2, memory: 1024, threads: 1, keyLength: 16 } };
    expect(codeOf(() => checkMigratedHash(hashType, hex, config))).toBe('argon_2_key_length_mismatch');
    expect(codeOf(() => checkMigratedHash(hashType, hash, config))).toBe('invalid_argon_2_hash');
    const shortSalt: PasswordHashConfig = { type: 'argon_2', config: { ...config.config, salt: 'short', keyLength: 32 } };
    expect(codeOf(() => checkMigratedHash(hashType, hex, shortSalt))).toBe('invalid_argon_2_config');
    const scryptConfig: PasswordHashConfig = { type: 'scrypt', config: { salt: 'c2FsdA==', nParameter: 2, rParameter: 1, pParameter: 1, keyLength: 32 } };
    expect(codeOf(() => checkMigratedHash(hashType, hex, scryptConfig))).toBe('invalid_hash_config');
  });

  it('refuses at check time a cost above the caps (memory, iterations, lanes, memory × iterations)', async () => {
    const hash = await argon2Hash(PASSWORD, small);
    for (const [from, to] of [
      ['m=1024', 'm=262145'],
      ['m=1024', 'm=1048576'],
      ['t=2', 't=101'],
      ['p=1', 'p=17'],
      ['m=1024,t=2', 'm=262144,t=5'],
    ] as const) {
      expect(codeOf(() => checkMigratedHash(hashType, hash.replace(from, to), null))).toBe('invalid_argon_2_hash');
    }
    const hex = randomBytes(32).toString('hex');
    const base = { salt: 'saltsaltsalt', iterationAmount: 2, memory: 1024, threads: 1, keyLength: 32 };
    expect(codeOf(() => checkMigratedHash(hashType, hex, { type: 'argon_2', config: base }))).toBeUndefined();
    for (const change of [{ memory: 4_194_304 }, { iterationAmount: 1000 }, { threads: 64 }, { memory: 262_144, iterationAmount: 8 }, { memory: 4 }]) {
      expect(codeOf(() => checkMigratedHash(hashType, hex, { type: 'argon_2', config: { ...base, ...change } }))).toBe('invalid_argon_2_config');
    }
  });
});

describe('scrypt', () => {
  const salt = randomBytes(16);
  const parameters = { N: 1024, r: 8, p: 1 };
  const config = (changes: object = {}): PasswordHashConfig => ({
    type: 'scrypt',
    config: { salt: salt.toString('base64'), nParameter: 1024, rParameter: 8, pParameter: 1, keyLength: 32, ...changes },
  });

  it('verifies a base64 key made by node:crypto scrypt, with scrypt_config', async () => {
    const key = await scryptAsync(PASSWORD, salt, 32, parameters);
    expect(await matches('scrypt', key.toString('base64'), config())).toEqual([true, false]);
    expect(await matches('scrypt', key.toString('base64'), config({ salt: randomBytes(16).toString('base64') }))).toEqual([false, false]);
  });

  it('verifies the PHC form $scrypt$ln=…,r=…,p=…$salt$hash, unpadded or with passlib’s "." for "+"', async () => {
    const key = await scryptAsync(PASSWORD, salt, 32, parameters);
    const b64 = (bytes: Buffer) => bytes.toString('base64').replace(/=+$/, '');
    const phc = `$scrypt$ln=10,r=8,p=1$${b64(salt)}$${b64(key)}`;
    expect(await matches('scrypt', phc, null)).toEqual([true, false]);
    expect(await matches('scrypt', phc.replaceAll('+', '.'), null)).toEqual([true, false]);
    expect(await matches('scrypt', phc.replace('ln=10', 'ln=11'), null)).toEqual([false, false]);
  });

  it('refuses a hash that is not base64, a missing or mismatched configuration', async () => {
    const key = (await scryptAsync(PASSWORD, salt, 32, parameters)).toString('base64');
    expect(codeOf(() => checkMigratedHash('scrypt', 'not*base64', config()))).toBe('invalid_base64_scrypt_hash');
    expect(codeOf(() => checkMigratedHash('scrypt', key, null))).toBe('invalid_base64_scrypt_hash');
    expect(codeOf(() => checkMigratedHash('scrypt', key, config({ keyLength: 64 })))).toBe('invalid_base64_scrypt_hash');
    expect(codeOf(() => checkMigratedHash('scrypt', key, config({ salt: 'not*base64' })))).toBe('invalid_hash_config');
    expect(codeOf(() => checkMigratedHash('scrypt', '$scrypt$ln=10,r=8,p=1$c2FsdA$', null))).toBe('invalid_base64_scrypt_hash');
    expect(codeOf(() => checkMigratedHash('scrypt', `$scrypt$ln=10,r=8,p=1$c2FsdA$${key}`, config()))).toBe('invalid_hash_config');
    const bcryptHash = await bcrypt.hash(PASSWORD, 4);
    expect(codeOf(() => checkMigratedHash('scrypt', bcryptHash, null))).toBe('invalid_base64_scrypt_hash');
  });

  it('refuses at check time an N that is not a power of two or too big, and memory or work above the caps', async () => {
    const key = (await scryptAsync(PASSWORD, salt, 32, parameters)).toString('base64');
    expect(codeOf(() => checkMigratedHash('scrypt', key, config({ nParameter: 262_144, rParameter: 8 })))).toBeUndefined();
    for (const changes of [
      { nParameter: 1000 },
      { nParameter: 1 },
      { nParameter: 524_288, rParameter: 1 },
      { nParameter: 262_144, rParameter: 9 },
      { pParameter: 17 },
      { pParameter: 0 },
      { nParameter: 262_144, rParameter: 8, pParameter: 5 },
    ]) {
      expect(codeOf(() => checkMigratedHash('scrypt', key, config(changes)))).toBe('invalid_hash_config');
    }
    expect(codeOf(() => checkMigratedHash('scrypt', `$scrypt$ln=20,r=8,p=1$c2FsdA$${key}`, null))).toBe('invalid_base64_scrypt_hash');
  });
});

describe('pbkdf_2', () => {
  const salt = randomBytes(16);
  const config = (changes: object = {}): PasswordHashConfig => ({
    type: 'pbkdf_2',
    config: { salt: salt.toString('base64'), iterationAmount: 1000, keyLength: 32, algorithm: 'sha256', ...changes },
  });

  it.each(['sha256', 'sha512'] as const)('verifies a base64 key made by node:crypto pbkdf2 with %s', async (algorithm) => {
    const key = await pbkdf2Async(PASSWORD, salt, 1000, 32, algorithm);
    expect(await matches('pbkdf_2', key.toString('base64'), config({ algorithm }))).toEqual([true, false]);
    const otherAlgorithm = algorithm === 'sha256' ? 'sha512' : 'sha256';
    expect(await matches('pbkdf_2', key.toString('base64'), config({ algorithm: otherAlgorithm }))).toEqual([false, false]);
    expect(await matches('pbkdf_2', key.toString('base64'), config({ algorithm, iterationAmount: 1001 }))).toEqual([false, false]);
  });

  it('takes an empty algorithm for sha256, and stores it spelled out', async () => {
    const key = (await pbkdf2Async(PASSWORD, salt, 1000, 32, 'sha256')).toString('base64');
    const stored = checkMigratedHash('pbkdf_2', key, config({ algorithm: '' }));
    expect(stored.config).toEqual(config({ algorithm: 'sha256' }));
    expect([await verifyMigratedHash(stored, PASSWORD), await verifyMigratedHash(stored, WRONG)]).toEqual([true, false]);
  });

  it('refuses a missing configuration, a hash that is not base64 or not key_length bytes, and a bad configuration', async () => {
    const key = (await pbkdf2Async(PASSWORD, salt, 1000, 32, 'sha256')).toString('base64');
    expect(codeOf(() => checkMigratedHash('pbkdf_2', key, null))).toBe('invalid_pbkdf_2_hash');
    expect(codeOf(() => checkMigratedHash('pbkdf_2', 'not*base64', config()))).toBe('invalid_pbkdf_2_hash');
    expect(codeOf(() => checkMigratedHash('pbkdf_2', key, config({ keyLength: 64 })))).toBe('invalid_pbkdf_2_hash');
    expect(codeOf(() => checkMigratedHash('pbkdf_2', key, config({ algorithm: 'sha1' })))).toBe('invalid_hash_config');
    expect(codeOf(() => checkMigratedHash('pbkdf_2', key, config({ salt: '' })))).toBe('invalid_hash_config');
    expect(codeOf(() => checkMigratedHash('pbkdf_2', key, config({ iterationAmount: 0 })))).toBe('invalid_hash_config');
  });

  it('refuses at check time more than 2,000,000 iterations', async () => {
    const key = (await pbkdf2Async(PASSWORD, salt, 1000, 32, 'sha256')).toString('base64');
    expect(codeOf(() => checkMigratedHash('pbkdf_2', key, config({ iterationAmount: 2_000_000 })))).toBeUndefined();
    expect(codeOf(() => checkMigratedHash('pbkdf_2', key, config({ iterationAmount: 2_000_001 })))).toBe('invalid_hash_config');
  });
});

describe('phpass', () => {
  it('verifies a $P$ portable hash made by wordpress-hash-node, and the same hash as phpBB writes it ($H$)', async () => {
    const hash = phpassHash(PASSWORD);
    expect(hash).toMatch(/^\$P\$B.{30}$/);
    expect(await matches('phpass', hash, null)).toEqual([true, false]);
    expect(await matches('phpass', `$H$${hash.slice(3)}`, null)).toEqual([true, false]);
  });

  it('refuses another prefix, another length or alphabet, rounds outside 2^7–2^16, and any configuration', () => {
    const hash = phpassHash(PASSWORD);
    expect(codeOf(() => checkMigratedHash('phpass', `$S$${hash.slice(3)}`, null))).toBe('invalid_phpass_hash_prefix');
    expect(codeOf(() => checkMigratedHash('phpass', 'not phpass', null))).toBe('invalid_phpass_hash_prefix');
    expect(codeOf(() => checkMigratedHash('phpass', hash.slice(0, 33), null))).toBe('invalid_phpass_hash_format');
    expect(codeOf(() => checkMigratedHash('phpass', `${hash.slice(0, 33)}!`, null))).toBe('invalid_phpass_hash_format');
    // The fourth character is log2 of the rounds in phpass's alphabet: '4' = 6, 'F' = 17.
    expect(codeOf(() => checkMigratedHash('phpass', `$P$4${hash.slice(4)}`, null))).toBe('invalid_phpass_hash_format');
    expect(codeOf(() => checkMigratedHash('phpass', `$P$F${hash.slice(4)}`, null))).toBe('invalid_phpass_hash_format');
    expect(codeOf(() => checkMigratedHash('phpass', `$P$E${hash.slice(4)}`, null))).toBeUndefined();
    const salted: PasswordHashConfig = { type: 'salted_digest', config: { prependSalt: '', appendSalt: '' } };
    expect(codeOf(() => checkMigratedHash('phpass', hash, salted))).toBe('invalid_hash_config');
  });
});

describe('verifyMigratedHash never throws', () => {
  it.each<PasswordHash>([
    { hashType: 'nope' as PasswordHashType, hash: 'x', config: null },
    { hashType: 'bcrypt', hash: '$2b$04$short', config: null },
    { hashType: 'md_5', hash: 'zz', config: null },
    { hashType: 'sha_1', hash: 'ab'.repeat(20), config: { type: 'scrypt', config: { salt: '', nParameter: 2, rParameter: 1, pParameter: 1, keyLength: 8 } } },
    { hashType: 'argon_2id', hash: '$argon2id$v=19$m=1,t=1,p=1$$', config: null },
    { hashType: 'argon_2i', hash: 'abcd', config: { type: 'argon_2', config: { salt: 'x', iterationAmount: 0, memory: 0, threads: 0, keyLength: 2 } } },
    { hashType: 'scrypt', hash: '$scrypt$ln=99,r=8,p=1$c2FsdA$c2FsdA', config: null },
    { hashType: 'scrypt', hash: 'c2FsdHNhbHQ=', config: { type: 'scrypt', config: { salt: 'c2FsdA==', nParameter: 1000, rParameter: 8, pParameter: 1, keyLength: 8 } } },
    { hashType: 'pbkdf_2', hash: 'c2FsdHNhbHQ=', config: null },
    { hashType: 'pbkdf_2', hash: 'c2FsdHNhbHQ=', config: { type: 'pbkdf_2', config: { salt: 'c2FsdA==', iterationAmount: 1, keyLength: 8, algorithm: 'md4' as 'sha256' } } },
    { hashType: 'phpass', hash: '$P$~'.padEnd(34, 'a'), config: null },
  ])('false for a malformed stored $hashType hash', async (stored) => {
    await expect(verifyMigratedHash(stored, PASSWORD)).resolves.toBe(false);
  });
});
