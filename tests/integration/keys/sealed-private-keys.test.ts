import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decryptPrivateKey } from '../../../src/crypto/keys/key-encryption.js';
import { parseMasterKey } from '../../../src/crypto/keys/master-key.js';
import { createThrowawayPostgresDatabase, STORES } from '../../support/stores.js';
import { startTestServer, TEST_MASTER_KEY, type TestServer } from '../../support/test-server.js';

/**
 * The private half of every signing key is sealed with the master key before it reaches the
 * database: the rows are read with a plain SQL client, not through Understudy.
 */
interface SigningKeyRow {
  kid: string;
  public_jwk: string;
  sealed_private_jwk: string;
}

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi'] as const;

for (const store of STORES) {
  describe(`signing keys at rest (${store.name})`, () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'understudy-sealed-'));
    let postgres: { url: string; drop: () => Promise<void> } | undefined;
    let target: TestServer;
    let rows: SigningKeyRow[];

    beforeAll(async () => {
      postgres = store.name === 'postgres' ? await createThrowawayPostgresDatabase() : undefined;
      target = await startTestServer({ config: { dataDir, databaseUrl: postgres?.url } });
      await target.server.app.services.keystore.rotate({ activationDelaySeconds: 0 });
      rows = await readSigningKeyRows(dataDir, postgres?.url);
    });
    afterAll(async () => {
      await target?.stop();
      await postgres?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    });

    it('stores each key as an AES-GCM envelope that holds none of the private JWK members in clear', () => {
      expect(rows).toHaveLength(2);
      for (const row of rows) {
        expect(row.sealed_private_jwk).toMatch(/^v1\.[\w-]{16}\.[\w-]+\.[\w-]{22}$/);
        const privateJwk = JSON.parse(decryptPrivateKey(row.sealed_private_jwk, { masterKey: parseMasterKey(TEST_MASTER_KEY), kid: row.kid })) as Record<string, string>;
        expect(privateJwk).toMatchObject({ kty: 'RSA', kid: row.kid, alg: 'RS256' });
        for (const member of PRIVATE_MEMBERS) {
          const value = privateJwk[member];
          expect(value, `decrypted private JWK has ${member}`).toMatch(/^[\w-]{40,}$/);
          expect(row.sealed_private_jwk, `${member} is not in the sealed column`).not.toContain(value);
          expect(row.public_jwk, `${member} is not in the public column`).not.toContain(value);
        }
        expect(row.sealed_private_jwk).not.toContain('"d"');
      }
    });

    it('keeps the public JWK public-only and matching its private key', () => {
      for (const row of rows) {
        const publicJwk = JSON.parse(row.public_jwk) as Record<string, unknown>;
        const privateJwk = JSON.parse(decryptPrivateKey(row.sealed_private_jwk, { masterKey: parseMasterKey(TEST_MASTER_KEY), kid: row.kid })) as Record<string, unknown>;
        expect(Object.keys(publicJwk).filter((name) => (PRIVATE_MEMBERS as readonly string[]).includes(name))).toEqual([]);
        expect({ n: publicJwk.n, e: publicJwk.e, kid: publicJwk.kid }).toEqual({ n: privateJwk.n, e: privateJwk.e, kid: row.kid });
      }
    });

    it('cannot be opened with another master key, nor under another key id', () => {
      const [first, second] = rows as [SigningKeyRow, SigningKeyRow];
      const otherMasterKey = Buffer.alloc(32, 8);
      expect(() => decryptPrivateKey(first.sealed_private_jwk, { masterKey: otherMasterKey, kid: first.kid })).toThrow();
      // The kid is bound as additional data: a sealed key copied onto another row does not open.
      expect(() => decryptPrivateKey(first.sealed_private_jwk, { masterKey: parseMasterKey(TEST_MASTER_KEY), kid: second.kid })).toThrow();
    });

    it('publishes only public members in the JWKS', async () => {
      const response = await fetch(`${target.baseUrl}/v1/b2b/sessions/jwks/${target.projectId}`);
      const body = (await response.json()) as { keys: Record<string, unknown>[] };
      expect(body.keys.map((key) => key.kid).sort()).toEqual(rows.map((row) => row.kid).sort());
      for (const key of body.keys) expect(Object.keys(key).filter((name) => (PRIVATE_MEMBERS as readonly string[]).includes(name))).toEqual([]);
    });
  });
}

async function readSigningKeyRows(dataDir: string, postgresUrl: string | undefined): Promise<SigningKeyRow[]> {
  const query = 'SELECT kid, public_jwk, sealed_private_jwk FROM signing_keys ORDER BY kid';
  if (postgresUrl === undefined) {
    const db = new Database(join(dataDir, 'understudy.db'), { readonly: true });
    try {
      return db.prepare(query).all() as SigningKeyRow[];
    } finally {
      db.close();
    }
  }
  const client = new pg.Client({ connectionString: postgresUrl });
  await client.connect();
  try {
    return (await client.query<SigningKeyRow>(query)).rows;
  } finally {
    await client.end();
  }
}
