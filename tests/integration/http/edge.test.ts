import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTRACT_OPERATIONS } from '../../../src/api/generated/operations.js';
import { EXTENSION_OPERATIONS, STYTCH_OPERATIONS } from '../../../src/api/operations.js';
import { SHARED_ERRORS } from '../../../src/domain/common/errors.js';
import { STORES } from '../../support/stores.js';
import { startTestServer, TEST_PROJECT_ID, TEST_PROJECT_SECRET, type TestServer } from '../../support/test-server.js';

type Reply = Awaited<ReturnType<TestServer['fetch']>>;

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
const REQUEST_ID = new RegExp(`^request-id-test-${UUID}$`);
const ENVELOPE_KEYS = ['error_message', 'error_type', 'error_url', 'request_id', 'status_code'];
const basic = (credentials: string): string => `Basic ${Buffer.from(credentials).toString('base64')}`;

/** Every response: JSON, `request_id` in the body and the `x-request-id` header, `status_code` = HTTP status. */
function expectRequestId(reply: Reply, status: number): void {
  expect(reply.status).toBe(status);
  expect(reply.headers.get('content-type')).toMatch(/^application\/json/);
  expect(reply.body.request_id).toMatch(REQUEST_ID);
  expect(reply.headers.get('x-request-id')).toBe(reply.body.request_id);
  expect(reply.body.status_code).toBe(status);
}

/** Stytch's error envelope, exactly these five fields. */
function expectError(reply: Reply, status: number, errorType: string): void {
  expectRequestId(reply, status);
  expect(Object.keys(reply.body).sort()).toEqual(ENVELOPE_KEYS);
  expect(reply.body.error_type).toBe(errorType);
  expect(reply.body.error_url).toBe(`https://stytch.com/docs/api-reference/b2b/api/errors/${status}#${errorType}`);
  expect(typeof reply.body.error_message === 'string' && reply.body.error_message.length > 0).toBe(true);
}

/** A request with exactly the headers given (no credentials added); the body must be JSON. */
async function rawFetch(server: TestServer, path: string, init: RequestInit = {}): Promise<Reply> {
  const response = await fetch(`${server.baseUrl}${path}`, init);
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: JSON.parse(text) as Record<string, unknown> };
}

/** Every implemented operation (Stytch's and our extensions) that needs project credentials, as `[method, path pattern]`. */
function registeredRoutes(): [string, string][] {
  const routes: [string, string][] = [];
  for (const operation of STYTCH_OPERATIONS) {
    const contract = CONTRACT_OPERATIONS.find((candidate) => candidate.operationId === operation.operationId);
    if (contract === undefined || operation.config?.access === 'public') continue;
    routes.push([contract.method, contract.url]);
  }
  for (const extension of EXTENSION_OPERATIONS) {
    if (extension.config?.access !== 'public') routes.push([extension.method as string, extension.url]);
  }
  return routes;
}

/** What the database holds, as the API shows it, plus how many audit events exist. */
async function snapshot(server: TestServer): Promise<unknown> {
  const organizations = await server.fetch('/v1/b2b/organizations/search', { method: 'POST', json: { limit: 1000 } });
  const ids = (organizations.body.organizations as { organization_id: string }[]).map((organization) => organization.organization_id);
  const members = await server.fetch('/v1/b2b/organizations/members/search', { method: 'POST', json: { organization_ids: ids, limit: 1000 } });
  const events = await server.server.store.audit.listEvents({ organizationId: null, limit: 100_000 });
  return { organizations: organizations.body.organizations, members: members.body.members, events: events.length };
}

describe.each(STORES)('HTTP edge ($name)', ({ name: store }) => {
  let server: TestServer;
  let organizationId: string;
  let memberId: string;

  beforeAll(async () => {
    server = await startTestServer({ store, config: { bodyLimitBytes: 2048 } });
    const organization = await server.fetch('/v1/b2b/organizations', { method: 'POST', json: { organization_name: 'Edge Org', organization_slug: 'edge-org' } });
    organizationId = (organization.body.organization as { organization_id: string }).organization_id;
    const member = await server.fetch(`/v1/b2b/organizations/${organizationId}/members`, { method: 'POST', json: { email_address: 'edge@example.com' } });
    memberId = member.body.member_id as string;
  });
  afterAll(async () => server?.stop());

  describe('request ids', () => {
    it('gives success responses a fresh request_id, echoed in x-request-id, and status_code 200', async () => {
      const first = await server.fetch(`/v1/b2b/organizations/${organizationId}`);
      const second = await server.fetch(`/v1/b2b/organizations/${organizationId}`);
      expectRequestId(first, 200);
      expectRequestId(second, 200);
      expect(second.body.request_id).not.toBe(first.body.request_id);
    });

    it('ignores a request id sent by the client', async () => {
      const reply = await server.fetch('/healthz', { headers: { 'x-request-id': 'attacker-chosen' } });
      expectRequestId(reply, 200);
    });

    it('answers a badly percent-encoded URL or an absurdly long path parameter with the envelope', async () => {
      expectError(await rawFetch(server, '/v1/b2b/organizations/%E0%A4%A'), 400, 'bad_request');
      expectError(await server.fetch(`/v1/b2b/organizations/${'x'.repeat(1100)}`), 400, 'bad_request');
    });

    it('accepts path parameters of 128 characters (the longest slug or external id)', async () => {
      const externalId = 'x'.repeat(128);
      const created = await server.fetch('/v1/b2b/organizations', {
        method: 'POST',
        json: { organization_name: 'Long Ids', organization_slug: 's'.repeat(128), organization_external_id: externalId },
      });
      expectRequestId(created, 200);
      expectRequestId(await server.fetch(`/v1/b2b/organizations/${externalId}`), 200);
      expectRequestId(await server.fetch(`/v1/b2b/organizations/${'s'.repeat(128)}`), 200);
      expectRequestId(await server.fetch(`/v1/b2b/organizations/${externalId}`, { method: 'DELETE' }), 200);
    });
  });

  describe('project authentication', () => {
    const badCredentials: [string, Record<string, string>][] = [
      ['no Authorization header', {}],
      ['a wrong secret', { authorization: basic(`${TEST_PROJECT_ID}:secret-test-wrong`) }],
      ['an empty secret', { authorization: basic(`${TEST_PROJECT_ID}:`) }],
      ['a wrong project id', { authorization: basic(`project-test-00000000-0000-4000-8000-000000000000:${TEST_PROJECT_SECRET}`) }],
      ['malformed Basic (not base64)', { authorization: 'Basic %%%not-base64%%%' }],
      ['malformed Basic (no colon)', { authorization: basic(`${TEST_PROJECT_ID}${TEST_PROJECT_SECRET}`) }],
      ['the Bearer scheme', { authorization: `Bearer ${TEST_PROJECT_SECRET}` }],
    ];

    it.each(badCredentials)('refuses %s on every /v1/ route with 401 and writes nothing', async (_label, headers) => {
      const before = await snapshot(server);
      const routes = registeredRoutes().filter(([, path]) => path.startsWith('/v1/'));
      expect(routes.length).toBeGreaterThanOrEqual(16);
      for (const [method, pattern] of routes) {
        const path = pattern.replaceAll(':organization_id', organizationId).replaceAll(':member_id', memberId).replace(/:[a-z_]+/g, 'x');
        const body = method === 'GET' ? undefined : JSON.stringify({ organization_name: 'Sneaky', email_address: 'sneak@example.com', name: 'Sneaky' });
        const reply = await rawFetch(server, `${path}?member_id=${memberId}`, { method, body, headers: { ...headers, 'content-type': 'application/json' } });
        expectError(reply, 401, 'unauthorized_credentials');
      }
      // A path that names no route runs nothing: it is 404 with or without credentials.
      expectError(await rawFetch(server, '/v1/b2b/no-such-route', { headers }), 404, 'route_not_found');
      expect(await snapshot(server)).toEqual(before);
    });

    it('accepts the Basic scheme name in any case (RFC 7235)', async () => {
      const reply = await server.fetch(`/v1/b2b/organizations/${organizationId}`, { headers: { authorization: basic(`${TEST_PROJECT_ID}:${TEST_PROJECT_SECRET}`).replace('Basic', 'basic') } });
      expectRequestId(reply, 200);
    });

    it('serves /healthz and /readyz as JSON 200 without credentials, even with bad ones', async () => {
      for (const path of ['/healthz', '/readyz']) {
        expectRequestId(await rawFetch(server, path), 200);
        expectRequestId(await rawFetch(server, path, { headers: { authorization: 'Bearer nonsense' } }), 200);
      }
      expect((await rawFetch(server, '/readyz')).body).toMatchObject({ status: 'ready', database: 'reachable' });
    });
  });

  describe('routing', () => {
    it('answers an unknown route with 404 route_not_found', async () => {
      expectError(await server.fetch('/v1/b2b/no-such-route'), 404, 'route_not_found');
      expectError(await rawFetch(server, '/no-such-page'), 404, 'route_not_found');
    });

    it('answers a known path with the wrong method with 405 method_not_allowed', async () => {
      expectError(await server.fetch('/v1/b2b/organizations'), 405, 'method_not_allowed');
      expectError(await server.fetch(`/v1/b2b/organizations/${organizationId}`, { method: 'PATCH', json: {} }), 405, 'method_not_allowed');
      expectError(await server.fetch(`/v1/b2b/organizations/${organizationId}/metrics`, { method: 'POST', json: {} }), 405, 'method_not_allowed');
      expectError(await rawFetch(server, '/healthz', { method: 'POST' }), 405, 'method_not_allowed');
    });
  });

  describe('request bodies', () => {
    const create = (init: RequestInit & { json?: unknown }): Promise<Reply> => server.fetch('/v1/b2b/organizations', { method: 'POST', ...init });
    const organizationCount = async (): Promise<unknown> =>
      (await server.fetch('/v1/b2b/organizations/search', { method: 'POST', json: {} })).body.results_metadata;

    it.each([
      ['text/plain', 'text/plain'],
      ['form-urlencoded', 'application/x-www-form-urlencoded'],
    ])('refuses a %s body with 415 unsupported_content_type and creates nothing', async (_label, contentType) => {
      const before = await organizationCount();
      expectError(await create({ headers: { 'content-type': contentType }, body: '{"organization_name":"Plain"}' }), 415, 'unsupported_content_type');
      expect(await organizationCount()).toEqual(before);
    });

    it('refuses a body without a content type with 415', async () => {
      expectError(await create({ body: new TextEncoder().encode('{"organization_name":"None"}') }), 415, 'unsupported_content_type');
    });

    it('accepts application/json with a charset parameter', async () => {
      expectRequestId(await create({ headers: { 'content-type': 'application/json; charset=utf-8' }, body: '{"organization_name":"Charset Org"}' }), 200);
    });

    it('answers malformed JSON with 400 invalid_json', async () => {
      expectError(await create({ headers: { 'content-type': 'application/json' }, body: '{"organization_name":' }), 400, 'invalid_json');
    });

    it.each([
      ['__proto__', '{"organization_name":"Proto","__proto__":{"polluted":"yes"}}'],
      ['constructor.prototype', '{"organization_name":"Ctor","constructor":{"prototype":{"polluted":"yes"}}}'],
    ])('refuses a %s key with 400, creating nothing and polluting nothing', async (_label, body) => {
      const before = await organizationCount();
      expectError(await create({ headers: { 'content-type': 'application/json' }, body }), 400, 'invalid_json');
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      expect(await organizationCount()).toEqual(before);
    });

    it('refuses a body over bodyLimitBytes with 413 request_body_too_large and writes nothing', async () => {
      const before = await snapshot(server);
      const metadata = { blob: 'x'.repeat(3000) };
      expectError(await create({ json: { organization_name: 'Huge', trusted_metadata: metadata } }), 413, 'request_body_too_large');
      const update = { method: 'PUT', json: { trusted_metadata: metadata } };
      expectError(await server.fetch(`/v1/b2b/organizations/${organizationId}`, update), 413, 'request_body_too_large');
      expect(await snapshot(server)).toEqual(before);
      expectRequestId(await create({ json: { organization_name: 'Just Under', trusted_metadata: { blob: 'x'.repeat(1500) } } }), 200);
    });

    it('answers an empty JSON body on a create with 400 bad_request naming the missing field', async () => {
      const before = await snapshot(server);
      const emptyJson = { method: 'POST', headers: { 'content-type': 'application/json' }, body: '' };
      const reply = await server.fetch(`/v1/b2b/organizations/${organizationId}/members`, emptyJson);
      expectError(reply, 400, 'bad_request');
      expect(reply.body.error_message).toContain('email_address');
      expect(await snapshot(server)).toEqual(before);
    });

    it('treats an empty JSON body on an organization create as {}, so the missing name is organization_name_missing', async () => {
      const before = await snapshot(server);
      const reply = await create({ headers: { 'content-type': 'application/json' }, body: '' });
      expectError(reply, 400, 'organization_name_missing');
      expect(reply.body.error_message).toContain('organization_name');
      expect(await snapshot(server)).toEqual(before);
    });

    it('accepts DELETE with the body {} (as the SDK sends it) and with no body', async () => {
      for (const init of [{ json: {} }, {}, { headers: { 'content-type': 'application/json' }, body: '' }]) {
        const made = await create({ json: { organization_name: 'Short Lived' } });
        const id = (made.body.organization as { organization_id: string }).organization_id;
        const reply = await server.fetch(`/v1/b2b/organizations/${id}`, { method: 'DELETE', ...init });
        expectRequestId(reply, 200);
        expect(reply.body.organization_id).toBe(id);
        expectError(await server.fetch(`/v1/b2b/organizations/${id}`), 404, 'organization_not_found');
      }
    });

    it('ignores unknown body fields and never echoes them', async () => {
      const reply = await create({ json: { organization_name: 'Extra Fields', not_a_stytch_field: 'x', nested_unknown: { a: 1 } } });
      expectRequestId(reply, 200);
      const organization = reply.body.organization as Record<string, unknown>;
      const fetched = (await server.fetch(`/v1/b2b/organizations/${organization.organization_id as string}`)).body.organization;
      for (const body of [reply.body, organization, fetched as Record<string, unknown>]) {
        expect(body).not.toHaveProperty('not_a_stytch_field');
        expect(body).not.toHaveProperty('nested_unknown');
      }
    });

    it.each(['yes', '1', 'TRUE', ''])('refuses the query-string boolean include_deleted=%j with 400', async (value) => {
      const reply = await server.fetch(`/v1/b2b/organizations/members/dangerously_get/${memberId}?include_deleted=${value}`);
      expectError(reply, 400, 'bad_request');
    });

    it.each(['true', 'false'])('accepts the query-string boolean include_deleted=%s', async (value) => {
      expectRequestId(await server.fetch(`/v1/b2b/organizations/members/dangerously_get/${memberId}?include_deleted=${value}`), 200);
    });

    it('checks an incomplete authorization_check as a check, not as a malformed body (contract/overrides.json)', async () => {
      const reply = await server.fetch('/v1/b2b/sessions/authenticate', { method: 'POST', json: { session_token: 'not-a-session', authorization_check: { organization_id: 1 } } });
      expectError(reply, 404, 'session_not_found');
    });

    it('refuses a JWKS project id over 128 characters as malformed, without credentials', async () => {
      expectError(await rawFetch(server, `/v1/b2b/sessions/jwks/${'p'.repeat(129)}`), 400, 'bad_request');
      expectError(await rawFetch(server, `/v1/b2b/sessions/jwks/${'p'.repeat(128)}`), 404, 'route_not_found');
    });
  });

  describe('failures', () => {
    it('answers /readyz with 503 JSON once the database is gone', async () => {
      const doomed = await startTestServer({ store });
      try {
        await doomed.server.store.close();
        const reply = await rawFetch(doomed, '/readyz');
        expectRequestId(reply, 503);
        expect(reply.body).toMatchObject({ status: 'unavailable', database: 'unreachable' });
        expectRequestId(await rawFetch(doomed, '/healthz'), 200);
      } finally {
        await doomed.stop();
      }
    });

    it('renders an unexpected store failure as a generic 500 that leaks nothing', async () => {
      const broken = await startTestServer({ store });
      try {
        const secret = 'SECRET-hunter2 at postgres://admin:hunter2@db.internal:5432';
        broken.server.store.organizations.findOrganization = async () => {
          throw new Error(secret);
        };
        for (const path of [`/v1/b2b/organizations/${organizationId}`, `/v1/b2b/organizations/${organizationId}/member?member_id=${memberId}`]) {
          const reply = await broken.fetch(path);
          expectError(reply, 500, 'internal_server_error');
          expect(reply.body.error_message).toBe(SHARED_ERRORS.internal_server_error.message);
          expect(JSON.stringify(reply.body)).not.toMatch(/hunter2|SECRET|postgres:|db\.internal/);
        }
      } finally {
        await broken.stop();
      }
    });
  });
});
