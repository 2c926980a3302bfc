import { createRequire } from 'node:module';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import type { StoredSigningKey } from '../../../src/crypto/keys/signing-keys-store.js';
import { openStore } from '../../../src/storage/open-store.js';
import type { Store } from '../../../src/storage/store.js';
import type { StoreFactory } from '../../support/stores.js';
import { useFreshStore } from './contract-support.js';

let sequence = 0;

/** A stored key as the keystore writes it; the JWK texts are opaque to the store. Each call is created one second later. */
function aSigningKey(overrides: Partial<StoredSigningKey> = {}): StoredSigningKey {
  sequence += 1;
  const createdAt = new Date(Date.UTC(2026, 0, 1) + sequence * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const kid = `jwk-test-00000000-0000-4000-8000-${String(sequence).padStart(12, '0')}`;
  return {
    kid,
    publicJwk: JSON.stringify({ kty: 'RSA', kid, n: `modulus-${sequence}`, e: 'AQAB' }),
    sealedPrivateJwk: `v1.iv-${sequence}.ciphertext-${sequence}.tag-${sequence}`,
    createdAt,
    activeFrom: createdAt,
    activeUntil: null,
    publishedUntil: null,
    ...overrides,
  };
}

/** The SigningKeysStore port (src/crypto/keys/signing-keys-store.ts) against one adapter. Keys are project-wide: no organization scope. */
export function describeSigningKeysStoreContract(factory: StoreFactory): void {
  describe('SigningKeysStore', () => {
    const store = useFreshStore(factory);

    it('lists [] before any key is inserted', async () => {
      expect(await store().signingKeys.listSigningKeys()).toEqual([]);
    });

    it('round-trips every field, and lists oldest first with ties on created_at broken by kid', async () => {
      const retired = aSigningKey({ activeUntil: '2026-02-01T00:00:00Z', publishedUntil: '2026-02-01T00:06:00Z' });
      const current = aSigningKey();
      const tiedB = aSigningKey({ kid: 'jwk-test-b', createdAt: '2026-03-01T00:00:00Z', activeFrom: '2026-03-01T00:01:00Z' });
      const tiedA = aSigningKey({ kid: 'jwk-test-a', createdAt: '2026-03-01T00:00:00Z', activeFrom: '2026-03-01T00:01:00Z' });
      for (const key of [tiedB, current, tiedA, retired]) await store().signingKeys.insertSigningKey(key);
      expect(await store().signingKeys.listSigningKeys()).toEqual([retired, current, tiedA, tiedB]);
    });

    it('refuses a second key with the same kid and keeps the first', async () => {
      const key = aSigningKey();
      await store().signingKeys.insertSigningKey(key);
      await expect(store().signingKeys.insertSigningKey({ ...key, sealedPrivateJwk: 'v1.swapped.swapped.swapped' })).rejects.toThrow();
      expect(await store().signingKeys.listSigningKeys()).toEqual([key]);
    });

    it('schedules retirement of one key only, and is a no-op for an unknown kid', async () => {
      const old = aSigningKey();
      const next = aSigningKey();
      for (const key of [old, next]) await store().signingKeys.insertSigningKey(key);
      await store().signingKeys.scheduleSigningKeyRetirement(old.kid, '2026-05-01T00:01:00Z', '2026-05-01T00:07:00Z');
      await store().signingKeys.scheduleSigningKeyRetirement('jwk-test-unknown', '2026-05-01T00:01:00Z', '2026-05-01T00:07:00Z');
      expect(await store().signingKeys.listSigningKeys()).toEqual([
        { ...old, activeUntil: '2026-05-01T00:01:00Z', publishedUntil: '2026-05-01T00:07:00Z' },
        next,
      ]);
    });

    it('takes the lock inside a transaction, keeps the writes made under it, and releases it on commit and on rollback', async () => {
      const committed = aSigningKey();
      await store().transaction(async (tx) => {
        await tx.signingKeys.lockSigningKeys();
        await tx.signingKeys.insertSigningKey(committed);
      });
      const failure = new Error('rolled back under the lock');
      await expect(
        store().transaction(async (tx) => {
          await tx.signingKeys.lockSigningKeys();
          await tx.signingKeys.insertSigningKey(aSigningKey());
          throw failure;
        }),
      ).rejects.toBe(failure);
      const after = aSigningKey();
      await store().transaction(async (tx) => {
        await tx.signingKeys.lockSigningKeys();
        await tx.signingKeys.insertSigningKey(after);
      });
      expect(await store().signingKeys.listSigningKeys()).toEqual([committed, after]);
    });

    it('makes a second process wait for the lock: it then reads the key the holder inserted before committing', async () => {
      const probe = factory.name === 'postgres' ? await postgresContention(factory) : await sqliteContention();
      try {
        const held = aSigningKey();
        const seen = await probe.contend(held);
        expect(seen.map((key) => key.kid)).toEqual([held.kid]);
      } finally {
        await probe.close();
      }
    });
  });
}

interface Contention {
  /** The holder takes the lock and inserts `held` only once the contender is stuck behind it; returns what the contender read under the lock. */
  contend(held: StoredSigningKey): Promise<StoredSigningKey[]>;
  close(): Promise<void>;
}

/** Two stores on one PostgreSQL database, as two server processes have; the holder watches pg_locks for the waiting contender. */
async function postgresContention(factory: StoreFactory): Promise<Contention> {
  const opened = await factory.open();
  const databaseUrl = opened.databaseUrl as string;
  const contender = await openStore({ databaseUrl, sqliteFile: ':memory:' });
  const observer = new pg.Client({ connectionString: databaseUrl });
  await observer.connect();
  return {
    async contend(held) {
      let contenderDone = false;
      let markLocked: () => void = () => undefined;
      const locked = new Promise<void>((resolve) => {
        markLocked = resolve;
      });
      const holding = opened.store.transaction(async (tx) => {
        await tx.signingKeys.lockSigningKeys();
        markLocked();
        // Insert only once the contender is waiting on the advisory lock (or, if the lock did not hold it, has finished).
        while (!contenderDone && !(await isWaitingOnAdvisoryLock(observer))) await new Promise((resolve) => setTimeout(resolve, 5));
        await tx.signingKeys.insertSigningKey(held);
      });
      await locked;
      const contending = contender
        .transaction(async (tx) => {
          await tx.signingKeys.lockSigningKeys();
          return tx.signingKeys.listSigningKeys();
        })
        .finally(() => {
          contenderDone = true;
        });
      const [, seen] = await Promise.all([holding, contending]);
      return seen;
    },
    async close() {
      await observer.end();
      await contender.close();
      await opened.cleanup();
    },
  };
}

async function isWaitingOnAdvisoryLock(client: pg.Client): Promise<boolean> {
  const { rows } = await client.query<{ waiting: string }>(
    `select count(*) as waiting from pg_locks
      where locktype = 'advisory' and not granted and database = (select oid from pg_database where datname = current_database())`,
  );
  return Number(rows[0]?.waiting) > 0;
}

/**
 * A SQLite file shared with a worker thread standing in for a second process (better-sqlite3 blocks
 * its thread while it waits for a lock, so the holder cannot be in the same thread). The worker
 * holds the write lock, lets the store start its transaction, then inserts and commits.
 */
async function sqliteContention(): Promise<Contention> {
  const dataDir = mkdtempSync(join(tmpdir(), 'understudy-signing-keys-'));
  const file = join(dataDir, 'understudy.db');
  const store: Store = await openStore({ databaseUrl: undefined, sqliteFile: file });
  return {
    async contend(held) {
      const flag = new Int32Array(new SharedArrayBuffer(4));
      const worker = new Worker(HOLDER_SOURCE, { eval: true, workerData: { module: createRequire(import.meta.url).resolve('better-sqlite3'), file, flag, key: held } });
      const exited = new Promise<void>((resolve, reject) => {
        worker.once('error', reject);
        worker.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`holder exited with ${code}`))));
      });
      await new Promise<void>((resolve) => worker.once('message', () => resolve()));
      // The worker waits for this flag and then 50 ms more, so it commits only after the store's transaction
      // has begun waiting for the write lock (every SQLite transaction takes it first: src/storage/store.ts).
      Atomics.store(flag, 0, 1);
      Atomics.notify(flag, 0);
      const seen = store.transaction(async (tx) => {
        await tx.signingKeys.lockSigningKeys();
        return tx.signingKeys.listSigningKeys();
      });
      const [keys] = await Promise.all([seen, exited]);
      return keys;
    },
    async close() {
      await store.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

const HOLDER_SOURCE = `
const { workerData, parentPort } = require('node:worker_threads');
const SQLite = require(workerData.module);
const db = new SQLite(workerData.file);
db.pragma('busy_timeout = 5000');
db.exec('begin immediate');
parentPort.postMessage('locked');
Atomics.wait(workerData.flag, 0, 0);
Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
const key = workerData.key;
db.prepare('insert into signing_keys (kid, public_jwk, sealed_private_jwk, created_at, active_from, active_until, published_until) values (?, ?, ?, ?, ?, ?, ?)')
  .run(key.kid, key.publicJwk, key.sealedPrivateJwk, key.createdAt, key.activeFrom, key.activeUntil, key.publishedUntil);
db.exec('commit');
db.close();
`;
