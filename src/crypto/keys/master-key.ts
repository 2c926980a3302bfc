import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Random } from '../../platform/random.js';

export const MASTER_KEY_FILE = 'master.key';
const KEY_BYTES = 32;

export class MasterKeyError extends Error {
  override readonly name = 'MasterKeyError';
}

/**
 * The key that encrypts signing keys at rest. From UNDERSTUDY_MASTER_KEY (32 bytes as base64,
 * base64url or hex) when set. Otherwise, on SQLite only, a generated key in `<data dir>/master.key`
 * (mode 0600): the database and its key then live side by side, which is fine for one machine but
 * not for a shared PostgreSQL, where every process must be given the same key explicitly.
 */
export function loadMasterKey(options: {
  configured: string | undefined;
  dataDir: string;
  isPostgres: boolean;
  random: Random;
}): { key: Buffer; source: 'configured' | 'file' | 'generated' } {
  if (options.configured !== undefined) return { key: parseMasterKey(options.configured), source: 'configured' };
  if (options.isPostgres) {
    throw new MasterKeyError('UNDERSTUDY_MASTER_KEY is required with PostgreSQL (32 random bytes, e.g. `openssl rand -base64 32`)');
  }
  const file = join(options.dataDir, MASTER_KEY_FILE);
  if (existsSync(file)) return { key: parseMasterKey(readFileSync(file, 'utf8').trim()), source: 'file' };
  const key = options.random.bytes(KEY_BYTES);
  writeFileSync(file, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(file, 0o600);
  return { key, source: 'generated' };
}

export function parseMasterKey(text: string): Buffer {
  const candidates = [/^[0-9a-fA-F]{64}$/.test(text) ? Buffer.from(text, 'hex') : undefined, Buffer.from(text, 'base64'), Buffer.from(text, 'base64url')];
  const key = candidates.find((candidate) => candidate !== undefined && candidate.length === KEY_BYTES);
  if (key === undefined) throw new MasterKeyError('the master key must be 32 bytes, given as base64, base64url or hex');
  return key;
}
