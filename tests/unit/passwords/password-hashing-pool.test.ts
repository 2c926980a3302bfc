import { hash as argon2Hash } from '@node-rs/argon2';
import bcrypt from 'bcryptjs';
import { describe, expect, it } from 'vitest';
import { PasswordHashingPool } from '../../../src/passwords/password-hashing-pool.js';
import { isDomainError } from '../../../src/domain/common/domain-error.js';
import { PASSWORD_ERRORS } from '../../../src/domain/passwords/errors.js';
import type { Argon2idParameters } from '../../../src/domain/passwords/password-hashing.js';
import type { PasswordHashConfig, PasswordHashType } from '../../../src/domain/passwords/stored-password.js';
import { RateLimitedError } from '../../../src/domain/rate-limits/errors.js';

/** Small parameters, so the tests stay fast; the defaults are OWASP's 19 MiB × 2. */
const SMALL: Argon2idParameters = { memoryKib: 1024, iterations: 1, parallelism: 1 };
const PASSWORD = 'correct horse battery staple';

describe('PasswordHashingPool', () => {
  it('hashes with argon2id and exactly the configured parameters', async () => {
    const pool = new PasswordHashingPool({ parameters: { memoryKib: 2048, iterations: 2, parallelism: 2 }, concurrency: 2, queueLength: 4 });
    const stored = await pool.hash(PASSWORD);
    expect(stored.hashType).toBe('argon_2id');
    expect(stored.config).toBeNull();
    expect(stored.hash).toMatch(/^\$argon2id\$v=19\$m=2048,t=2,p=2\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/);
    expect(await pool.hash(PASSWORD)).not.toEqual(stored);
  });

  it('verifies its own hashes without asking for a rehash', async () => {
    const pool = new PasswordHashingPool({ parameters: SMALL, concurrency: 1, queueLength: 4 });
    const stored = await pool.hash(PASSWORD);
    expect(await pool.verify(stored, PASSWORD)).toEqual({ matches: true, needsRehash: false });
    expect(await pool.verify(stored, `${PASSWORD}!`)).toEqual({ matches: false, needsRehash: false });
  });

  it('asks for a rehash of a matching argon2id hash with other parameters, and of a migrated type', async () => {
    const pool = new PasswordHashingPool({ parameters: SMALL, concurrency: 1, queueLength: 4 });
    const older = await argon2Hash(PASSWORD, { algorithm: 2, memoryCost: 1024, timeCost: 2, parallelism: 1 });
    expect(await pool.verify({ hashType: 'argon_2id', hash: older, config: null }, PASSWORD)).toEqual({ matches: true, needsRehash: true });
    const migrated = pool.checkMigratedHash('bcrypt', await bcrypt.hash(PASSWORD, 4), null);
    expect(await pool.verify(migrated, PASSWORD)).toEqual({ matches: true, needsRehash: true });
    // A wrong password is never rehashed, whatever the type.
    expect(await pool.verify(migrated, 'wrong')).toEqual({ matches: false, needsRehash: false });
  });

  it('refuses a migrated hash with the passwords error of the same code, and the detail where there is one', () => {
    const pool = new PasswordHashingPool({ parameters: SMALL, concurrency: 1, queueLength: 0 });
    const refusal = (hashType: PasswordHashType, hash: string, config: PasswordHashConfig | null) => {
      try {
        pool.checkMigratedHash(hashType, hash, config);
      } catch (error) {
        return isDomainError(error) ? { kind: error.kind, code: error.code, message: error.message } : error;
      }
      return undefined;
    };
    expect(refusal('md_5', 'abc', null)).toEqual({ kind: 'invalid_argument', code: 'invalid_md_5_hash', message: PASSWORD_ERRORS.invalid_md_5_hash.message });
    const config: PasswordHashConfig = { type: 'pbkdf_2', config: { salt: 'c2FsdA==', iterationAmount: 3_000_000, keyLength: 8, algorithm: 'sha256' } };
    expect(refusal('pbkdf_2', 'c2FsdHNhbHQ=', config)).toEqual({
      kind: 'invalid_argument',
      code: 'invalid_hash_config',
      message: 'pbkdf_2_config.iteration_amount must be at most 2000000.',
    });
  });

  it('verifies hashes whose cost is above the caps that migrate applies (our own may be configured so)', async () => {
    // 101 passes: more than passwords.migrate accepts, yet cheap with 64 KiB.
    const pool = new PasswordHashingPool({ parameters: SMALL, concurrency: 1, queueLength: 0 });
    const costly = await argon2Hash(PASSWORD, { algorithm: 2, memoryCost: 64, timeCost: 101, parallelism: 1 });
    expect(() => pool.checkMigratedHash('argon_2id', costly, null)).toThrow(/iterations/);
    expect(await pool.verify({ hashType: 'argon_2id', hash: costly, config: null }, PASSWORD)).toEqual({ matches: true, needsRehash: true });
  });

  it('runs at most `concurrency` at once, queues `queueLength`, and refuses the next at once with Retry-After', async () => {
    const pool = new PasswordHashingPool({ parameters: SMALL, concurrency: 1, queueLength: 2 });
    let settled = 0;
    const accepted = [pool.hash('one'), pool.hash('two'), pool.verify({ hashType: 'md_5', hash: '0'.repeat(32), config: null }, 'three')];
    for (const work of accepted) void work.finally(() => (settled += 1));
    expect(pool.load).toEqual({ running: 1, waiting: 2 });

    const refused = await pool.hash('four').then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(settled).toBe(0);
    expect(refused).toBeInstanceOf(RateLimitedError);
    expect((refused as RateLimitedError).code).toBe('too_many_requests');
    expect((refused as RateLimitedError).retryAfterSeconds).toBeGreaterThanOrEqual(1);

    const [one, two, three] = await Promise.all(accepted);
    expect(one).toMatchObject({ hashType: 'argon_2id' });
    expect(two).toMatchObject({ hashType: 'argon_2id' });
    expect(three).toEqual({ matches: false, needsRehash: false });
    expect(pool.load).toEqual({ running: 0, waiting: 0 });
    // Room again once the queue has drained.
    await expect(pool.hash('five')).resolves.toMatchObject({ hashType: 'argon_2id' });
  });

  it('with no queue, refuses whatever finds every slot busy', async () => {
    const pool = new PasswordHashingPool({ parameters: SMALL, concurrency: 2, queueLength: 0 });
    const running = [pool.hash('one'), pool.hash('two')];
    await expect(pool.hash('three')).rejects.toBeInstanceOf(RateLimitedError);
    await Promise.all(running);
  });

  it('admits a sign-in exactly when a hash would be accepted, and never refuses the hashes of one it admitted', async () => {
    const pool = new PasswordHashingPool({ parameters: SMALL, concurrency: 1, queueLength: 1 });
    const admitted = pool.admit();
    // The admission holds one of the two places (one slot, one in the queue); a hash takes the other.
    const accepted = pool.hash('one');
    expect(() => pool.admit()).toThrow(RateLimitedError);
    await expect(pool.hash('two')).rejects.toBeInstanceOf(RateLimitedError);
    // The admitted sign-in's hashes wait their turn, however full the pool is: its attempt was counted.
    await expect(pool.verifyNothing(PASSWORD, admitted)).resolves.toBeUndefined();
    await expect(pool.hash('three', admitted)).resolves.toMatchObject({ hashType: 'argon_2id' });
    admitted.release();
    admitted.release();
    await accepted;
    const again = pool.admit();
    const second = pool.admit();
    expect(() => pool.admit()).toThrow(RateLimitedError);
    again.release();
    second.release();
    expect(pool.load).toEqual({ running: 0, waiting: 0 });
  });

  it('verifyNothing spends a verification and resolves, inside the same bounds', async () => {
    const pool = new PasswordHashingPool({ parameters: SMALL, concurrency: 1, queueLength: 0 });
    await expect(pool.verifyNothing(PASSWORD)).resolves.toBeUndefined();
    await expect(pool.verifyNothing('')).resolves.toBeUndefined();
    const busy = pool.hash('one');
    await expect(pool.verifyNothing(PASSWORD)).rejects.toBeInstanceOf(RateLimitedError);
    await busy;
  });
});
