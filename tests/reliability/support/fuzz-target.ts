import type { FastifyInstance } from 'fastify';
import { expect } from 'vitest';
import { CONTRACT_OPERATIONS } from '../../../src/api/generated/operations.js';
import { EXTENSION_OPERATIONS, STYTCH_OPERATIONS } from '../../../src/api/operations.js';
import { ManualClock } from '../../../src/platform/clock.js';
import { ConsoleClient } from '../../integration/console/console-client.js';
import { startTestSession } from '../../support/sessions.js';
import type { StoreFactory } from '../../support/stores.js';
import { startTestServer, type TestServer } from '../../support/test-server.js';
import { type RawOutcome, type RawRequest, sendRaw } from './raw-http.js';
import { changedTables, type DatabaseProbe, openDatabaseProbe, type TableSnapshot } from './table-snapshot.js';

/** Fuzz settings: a fixed seed by default so a failure replays; more runs with UNDERSTUDY_FUZZ_RUNS. */
export const FUZZ_SEED = Number(process.env.UNDERSTUDY_FUZZ_SEED ?? 20260302);
export const FUZZ_RUNS = Number(process.env.UNDERSTUDY_FUZZ_RUNS ?? 20);

export interface FuzzRoute {
  readonly method: string;
  /** The Fastify pattern, e.g. `/v1/b2b/organizations/:organization_id`. */
  readonly url: string;
}

/** Every route the running server registered, read from Fastify's route tree (HEAD routes folded into GET). */
export function registeredRoutes(app: FastifyInstance): FuzzRoute[] {
  const routes: FuzzRoute[] = [];
  const prefixes: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const marker = line.search(/[├└]── /);
    if (marker < 0) continue;
    const depth = marker / 4;
    const [, segment = '', methods = ''] = /^(.*?)(?: \(([A-Z, ]+)\))?$/.exec(line.slice(marker + 4)) ?? [];
    const url = (prefixes[depth - 1] ?? '') + segment;
    prefixes[depth] = url;
    for (const method of methods.split(', ').filter((name) => name !== '' && name !== 'HEAD')) routes.push({ method, url });
  }
  return routes;
}

/** The request schemas of every operation the table implements: the contract's, and our extensions' own. */
const OPERATION_SCHEMAS: readonly unknown[] = [
  ...CONTRACT_OPERATIONS.filter((contract) => STYTCH_OPERATIONS.some((operation) => operation.operationId === contract.operationId)).map((contract) => contract.schema),
  ...EXTENSION_OPERATIONS.map((operation) => operation.schema),
];

/** Field names the API and console read, so generated bodies and queries reach the services. */
export const API_KEYS: readonly string[] = [
  ...new Set([
    ...OPERATION_SCHEMAS.flatMap((schema) => propertyNames(schema)),
    'impersonation_token',
    'session_token',
    'session_jwt',
    'member_session_id',
    'organization_ids',
    'query',
    'operator',
    'operands',
    'filter_name',
    'filter_value',
    'cursor',
    'limit',
    'format',
  ]),
];

export const CONSOLE_KEYS: readonly string[] = ['_csrf', 'email', 'password', 'code', 'next', 'q', 'cursor', 'reason', 'totp', 'member_session_id', 'enabled', 'redirect_url', 'name', 'role', 'organization', 'member', 'operator', 'since', 'until', 'saved', 'revoked'];

function propertyNames(schema: unknown, depth = 0): string[] {
  if (schema === null || typeof schema !== 'object' || depth > 6) return [];
  const own = 'properties' in schema && typeof schema.properties === 'object' && schema.properties !== null ? Object.keys(schema.properties) : [];
  return [...own, ...Object.values(schema).flatMap((value) => propertyNames(value, depth + 1))];
}

export interface FuzzCounts {
  requests: number;
  errors: number;
  successes: number;
  refusalsAudited: number;
  /** Answered by Node's HTTP parser before Fastify (unknown method, malformed or huge headers), by status. */
  readonly httpLayer: Record<string, number>;
}

export interface FuzzTarget {
  readonly server: TestServer;
  readonly port: number;
  readonly probe: DatabaseProbe;
  readonly routes: readonly FuzzRoute[];
  /** Real ids of the fixture, and the project's own id, for path parameters and bodies. */
  readonly knownIds: readonly string[];
  readonly authorization: string;
  /** A signed-in admin's console cookies and the CSRF token bound to that session. */
  readonly console: { readonly cookie: string; readonly csrf: string };
  /** Sends a request and checks every invariant; returns what came back. */
  send(request: RawRequest): Promise<RawOutcome>;
  /** Requests sent so far, by outcome. */
  readonly counts: FuzzCounts;
  stop(): Promise<void>;
}

/**
 * A server on a frozen clock (so reading a console session rewrites the same values) with an
 * organization, a member with a live session, and a signed-in operator, and rate limits off so
 * thousands of requests from one address are all judged on their content.
 */
export async function startFuzzTarget(store: StoreFactory['name']): Promise<FuzzTarget> {
  const clock = new ManualClock('2026-03-02T09:00:00Z');
  const server = await startTestServer({ store, clock, config: { rateLimitsEnabled: false } });
  const { organization } = await server.client.organizations.create({ organization_name: 'Fuzz Org', organization_slug: 'fuzz-org' });
  const { member } = await server.client.organizations.members.create({ organization_id: organization.organization_id, email_address: 'ann@fuzz.example' });
  const session = await startTestSession(server, { organizationId: organization.organization_id, memberId: member.member_id });
  const created = await server.server.app.services.operators.create(
    { requestId: 'request-id-test-00000000-0000-4000-8000-0000000000f1', actor: { type: 'cli' } },
    { emailAddress: 'admin@fuzz.example', name: 'Fuzz Admin', role: 'admin' },
  );
  const browser = new ConsoleClient(server.baseUrl);
  await browser.signIn({ emailAddress: 'admin@fuzz.example', password: created.password, totpSecret: created.totpSecret }, clock.now());
  const csrf = await browser.csrfFrom('/console/organizations');
  const cookie = [...browser.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  const port = Number(new URL(server.baseUrl).port);
  const probe = await openDatabaseProbe(server);
  const counts: FuzzCounts = { requests: 0, errors: 0, successes: 0, refusalsAudited: 0, httpLayer: {} };
  let baseline: TableSnapshot = await probe.snapshot();

  return {
    server,
    port,
    probe,
    routes: registeredRoutes(server.server.app.http),
    knownIds: [organization.organization_id, 'fuzz-org', member.member_id, 'ann@fuzz.example', session.memberSessionId, created.operator.operatorId, server.projectId],
    authorization: `Basic ${Buffer.from(`${server.projectId}:${server.secret}`).toString('base64')}`,
    console: { cookie, csrf },
    counts,
    async send(request) {
      const outcome = await sendRaw(port, request);
      const label = `${request.method} ${request.target.slice(0, 300)}`;
      counts.requests += 1;
      if (outcome.kind !== 'response') return expect.fail(`${label}: the server must answer, never hang or drop the connection (${outcome.kind})`);
      const { status, headers, text } = outcome.response;
      // Mail and SMS are recorded after the answer: wait for them, so a message of an earlier,
      // successful request is never taken for a write of this one.
      await server.server.app.services.mail.idle();
      await server.server.app.services.sms.idle();
      const after = await probe.snapshot();
      if (status < 400) {
        counts.successes += 1;
      } else {
        counts.errors += 1;
        expect(changedTables(baseline, after), `${label} was refused (${status}) but changed stored rows`).toEqual([]);
        counts.refusalsAudited += after.refusals - baseline.refusals;
      }
      baseline = after;
      checkResponse(request, status, headers, text, label, counts);
      return outcome;
    },
    async stop() {
      await probe.close();
      await server.stop();
    },
  };
}

/** What every answer must look like, by where it came from. */
function checkResponse(request: RawRequest, status: number, headers: Readonly<Record<string, string>>, text: string, label: string, counts: FuzzCounts): void {
  const where = `${label} -> ${status} ${text.slice(0, 300)}`;
  // The one 5xx allowed: a contract operation this version does not implement says so (501 not_implemented).
  if (status === 501 && headers['x-request-id'] !== undefined) expectNotImplemented(text, where);
  else expect(status, `${where}: never a 5xx`).toBeLessThan(500);
  if (headers['x-request-id'] === undefined) {
    // Refused by Node's HTTP parser before Fastify saw it (an unknown method, a malformed header, an over-long URL).
    counts.httpLayer[status] = (counts.httpLayer[status] ?? 0) + 1;
    expect([400, 408, 413, 414, 431, 501, 505], where).toContain(status);
    return;
  }
  expect(headers['x-content-type-options'], `${where}: nosniff`).toBe('nosniff');
  const path = request.target.split('?')[0] ?? '';
  const isHead = request.method.toUpperCase() === 'HEAD';
  if (path === '/console' || path.startsWith('/console/')) {
    if (status >= 300 && status < 400) {
      expect(headers.location ?? '', `${where}: console redirects stay on the console`).toMatch(/^\/console(\/|$|\?)/);
      return;
    }
    const type = headers['content-type'] ?? '';
    if (path.startsWith('/console/assets/') && status === 200) return;
    if (path.startsWith('/console/audit/export') && status === 200) return void expect(type, where).toMatch(/^application\/x-ndjson/);
    expect(type, `${where}: console answers are HTML`).toBe('text/html; charset=utf-8');
    if (!isHead) expect(text, where).toMatch(/^<!doctype html>/i);
    return;
  }
  if (path === '/impersonation/end' && ['GET', 'HEAD', 'POST'].includes(request.method.toUpperCase())) {
    // The page a member reaches from an impersonation notification email: HTML for a browser, never
    // cached (its URL holds a token). A method it has no handler for is answered like any API route's.
    expect(headers['cache-control'], `${where}: the end page is never cached`).toBe('no-store');
    expect(headers['content-type'] ?? '', `${where}: the end page is HTML`).toBe('text/html; charset=utf-8');
    if (!isHead) expect(text, where).toMatch(/^<!doctype html>/i);
    return;
  }
  expect(headers['cache-control'], `${where}: API answers are never cached`).toBe('no-store');
  if (isHead) return;
  if (status === 200 && (headers['content-type'] ?? '').startsWith('application/x-ndjson')) return;
  expect(headers['content-type'] ?? '', where).toMatch(/^application\/json/);
  const body = JSON.parse(text) as Record<string, unknown>;
  expect(typeof body.request_id, where).toBe('string');
  expect(body.status_code, where).toBe(status);
  if (status >= 400) {
    expect(Object.keys(body).sort(), `${where}: the Stytch error envelope`).toEqual(['error_message', 'error_type', 'error_url', 'request_id', 'status_code']);
    expect(body.error_type, where).toMatch(/^[a-z_]+$/);
  }
}

/** SDK methods of the contract that answer 501 because no module implements them. */
const UNIMPLEMENTED_SDK_METHODS = new Set(
  CONTRACT_OPERATIONS.filter((operation) => !STYTCH_OPERATIONS.some((implemented) => implemented.operationId === operation.operationId)).map(
    (operation) => operation.sdkMethod as string,
  ),
);

/** Whether the route is a contract operation without a module, which answers 501 once the request is understood. */
export function isNotImplementedRoute(route: { readonly method: string; readonly url: string }): boolean {
  return CONTRACT_OPERATIONS.some((operation) => operation.method === route.method && operation.url === route.url && UNIMPLEMENTED_SDK_METHODS.has(operation.sdkMethod));
}

/** A 501 is only ever not_implemented, naming an SDK method that really has no module. */
function expectNotImplemented(text: string, where: string): void {
  const body = JSON.parse(text) as Record<string, unknown>;
  expect(body.error_type, where).toBe('not_implemented');
  const named = String(body.error_message).split(' ')[0] ?? '';
  expect(UNIMPLEMENTED_SDK_METHODS.has(named), `${where}: ${named} is really unimplemented`).toBe(true);
}

/** The server still answers its health check (after every batch). */
export async function expectHealthy(target: FuzzTarget): Promise<void> {
  const outcome = await sendRaw(target.port, { method: 'GET', target: '/healthz' });
  expect(outcome.kind === 'response' ? outcome.response.status : outcome.kind).toBe(200);
}
