import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { B2BClient } from 'stytch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTRACT_OPERATIONS } from '../../../src/api/generated/operations.js';
import { STYTCH_OPERATIONS } from '../../../src/api/operations.js';
import { expectStytchRejection } from '../../support/openapi.js';
import { startTestServer, type TestServer } from '../../support/test-server.js';

/**
 * Walks the contract: every operation Understudy implements (it has a module in STYTCH_OPERATIONS)
 * is called by some conformance test in this folder, and every other one, called through the
 * official SDK, answers 501 `not_implemented` naming its SDK method. Which operations are
 * implemented comes from the tables only, so adding a module moves its operation from one half to
 * the other. SQLite only: this is about routing, and a 501 never reaches the database.
 */
const HERE = dirname(fileURLToPath(import.meta.url));

/**
 * Calls that count as a conformance test of an SDK method whose operation other SDK methods also
 * call: the contract names the shortest of them, a test may use any (they send the same request).
 */
const EQUIVALENT_CALLS: Readonly<Record<string, readonly string[]>> = {
  'sessions.authenticate': ['sessions.authenticateJwt'],
  'sessions.getJWKS': ['sessions.authenticateJwtLocal'],
};

/** Every conformance test's source, read once. */
function conformanceSources(): string {
  return readdirSync(HERE, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ts') && join(HERE, file) !== fileURLToPath(import.meta.url))
    .map((file) => readFileSync(join(HERE, file), 'utf8'))
    .join('\n');
}

/** Whether `sources` call `client.<sdkMethod>(` (or `target.client.…`), or an equivalent call. */
function isCalled(sources: string, sdkMethod: string): boolean {
  return [sdkMethod, ...(EQUIVALENT_CALLS[sdkMethod] ?? [])].some((method) => sources.includes(`client.${method}(`));
}

/**
 * What the SDK is given: every field it reads (a path parameter such as organization_id, a body
 * field) is a placeholder, so each method builds its own URL and body as it would for a caller.
 */
const PLACEHOLDER_PARAMS = new Proxy({}, { get: (_target, key) => (key === 'then' || typeof key === 'symbol' ? undefined : 'placeholder-value') });

/** The SDK method at a dotted path, bound to the namespace it belongs to. */
function sdkMethodOf(client: B2BClient, dottedPath: string): (params: unknown) => Promise<unknown> {
  const names = dottedPath.split('.');
  const last = names.pop() as string;
  let owner: unknown = client;
  for (const name of names) owner = (owner as Record<string, unknown>)[name];
  const method = (owner as Record<string, unknown>)[last];
  if (typeof method !== 'function') throw new Error(`the SDK has no method ${dottedPath}`);
  return (params) => (method as (params: unknown) => Promise<unknown>).call(owner, params);
}

const implemented = new Set<string>(STYTCH_OPERATIONS.map((operation) => operation.operationId));
const implementedOperations = CONTRACT_OPERATIONS.filter((operation) => implemented.has(operation.operationId));
const missingOperations = CONTRACT_OPERATIONS.filter((operation) => !implemented.has(operation.operationId));

describe('every implemented operation has a conformance test', () => {
  const sources = conformanceSources();
  it.each(implementedOperations.map((operation) => [operation.sdkMethod]))('client.%s', (sdkMethod) => {
    const calls = [sdkMethod, ...(EQUIVALENT_CALLS[sdkMethod] ?? [])].map((method) => `client.${method}(`).join(' or ');
    expect(isCalled(sources, sdkMethod), `no file in tests/conformance/stytch-sdk calls ${calls}`).toBe(true);
  });
});

describe('every other operation of the contract answers 501 not_implemented (sqlite)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ store: 'sqlite' });
  });
  afterAll(async () => server?.stop());

  it.each(missingOperations.map((operation) => [operation.sdkMethod, operation.method, operation.url]))('client.%s (%s %s)', async (sdkMethod) => {
    const error = await expectStytchRejection(sdkMethodOf(server.client, sdkMethod)(PLACEHOLDER_PARAMS), { status: 501, errorType: 'not_implemented' });
    expect(error.error_message).toContain(sdkMethod);
  });
});
