import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORES } from '../support/stores.js';
import { expectHealthy, type FuzzRoute, type FuzzTarget, isNotImplementedRoute, startFuzzTarget } from './support/fuzz-target.js';
import type { RawRequest, RawResponse } from './support/raw-http.js';

/**
 * The extreme cases the random generators rarely reach, sent to every route: 10,000 levels of
 * nesting, bodies at and over the 1 MiB limit, huge arrays and objects, a 64 KiB header,
 * duplicate Content-Type, broken Basic credentials, and methods no route has. `send` checks the
 * same invariants as the fuzz tests (no 5xx, envelope or HTML, nothing written when refused).
 */
const LIMIT = 1024 * 1024;
const deepArrays = (levels: number): string => `${'['.repeat(levels)}${']'.repeat(levels)}`;
const deepObjects = (levels: number): string => `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`;

function bodyCases(): { name: string; body: Buffer; status: (isConsole: boolean) => number | undefined }[] {
  const json = (text: string): Buffer => Buffer.from(text, 'utf8');
  return [
    { name: '10,000 nested arrays', body: json(deepArrays(10_000)), status: () => 400 },
    { name: '10,000 nested objects', body: json(deepObjects(10_000)), status: () => 400 },
    { name: '100,000 nested arrays inside a field', body: json(`{"trusted_metadata":{"a":${deepArrays(100_000)}}}`), status: () => 400 },
    { name: '60 nested objects inside metadata (under the depth limit)', body: json(`{"trusted_metadata":${deepObjects(60)},"untrusted_metadata":${deepObjects(60)}}`), status: () => undefined },
    { name: 'a body one byte over the limit', body: json(`{"organization_name":"${'x'.repeat(LIMIT - 23)}"}`), status: () => 413 },
    { name: 'a string just under the limit', body: json(`{"organization_name":"${'x'.repeat(LIMIT - 200)}","email_address":"a@b.c"}`), status: () => undefined },
    { name: '200,000 array elements', body: json(`{"organization_ids":[${new Array(200_000).fill('0').join(',')}]}`), status: () => undefined },
    { name: '50,000 keys', body: json(`{${Array.from({ length: 50_000 }, (_, index) => `"k${index}":${index}`).join(',')}}`), status: () => undefined },
    { name: 'lone surrogates and NUL escapes', body: json(`{"organization_name":"${'\\ud800\\u0000\\udfff'.repeat(10_000)}"}`), status: () => 400 },
  ];
}

const acceptsBody = (route: FuzzRoute): boolean => route.method !== 'GET';
/** Path parameters filled with ids that exist nowhere, so no request here can change a fixture row. */
const pathFor = (route: FuzzRoute): string => route.url.replace(/:[a-z_]+/g, (name) => `unknown-${name.slice(1)}-0000`);
/** Pages for browsers (the console, and the end link of impersonation notification emails): form bodies, HTML answers. */
const isConsole = (route: FuzzRoute): boolean => route.url.startsWith('/console') || route.url === '/impersonation/end';

describe.each(STORES)('extreme bodies, headers and methods on every route ($name)', ({ name: store }) => {
  let target: FuzzTarget;
  const request = (route: FuzzRoute, extra: Partial<RawRequest> & { headers?: [string, string][] } = {}): RawRequest => ({
    method: route.method,
    target: pathFor(route),
    ...extra,
    headers: [
      ...(isConsole(route) ? [['Cookie', target.console.cookie] as [string, string]] : [['Authorization', target.authorization] as [string, string]]),
      ...(extra.headers ?? []),
    ],
  });
  const answer = async (raw: RawRequest): Promise<RawResponse> => {
    const outcome = await target.send(raw);
    if (outcome.kind !== 'response') throw new Error('unreachable: send checks for an answer');
    return outcome.response;
  };

  beforeAll(async () => {
    target = await startFuzzTarget(store);
  });
  afterAll(async () => target?.stop());

  it('refuses deep nesting and oversized bodies on every route that takes a body, and survives the rest without a 5xx', async () => {
    const cases = bodyCases();
    for (const route of target.routes.filter(acceptsBody)) {
      for (const entry of cases) {
        const contentType = isConsole(route) ? 'application/x-www-form-urlencoded' : 'application/json';
        const response = await answer(request(route, { body: entry.body, headers: [['Content-Type', contentType]] }));
        const expected = isConsole(route) ? (entry.body.length > consoleBodyLimit(route) ? 413 : undefined) : entry.status(false);
        if (expected !== undefined) expect(response.status, `${route.method} ${route.url}: ${entry.name}`).toBe(expected);
        if (!isConsole(route) && expected === 400 && response.headers['x-request-id'] !== undefined) expect(JSON.parse(response.text).error_type).toMatch(/^(invalid_json|bad_request)$/);
      }
      await expectHealthy(target);
    }
  }, 120_000);

  it('answers a 64 KiB header with 431 before any route runs, API and console alike', async () => {
    for (const route of [target.routes.find((candidate) => candidate.url === '/v1/b2b/organizations/search'), target.routes.find((candidate) => candidate.url === '/console/login')]) {
      if (route === undefined) throw new Error('route missing');
      const response = await answer(request(route, { headers: [['X-Padding', 'p'.repeat(64 * 1024)]] }));
      expect(response.status).toBe(431);
    }
    await expectHealthy(target);
  });

  it('reads only the first of duplicate Content-Type headers (as Node does), without a 5xx', async () => {
    for (const route of target.routes.filter(acceptsBody)) {
      const where = `${route.method} ${route.url}`;
      // The first one decides: a text/plain body is refused even when application/json follows.
      const refused = await answer(request(route, { body: '{}', headers: [['Content-Type', 'text/plain'], ['Content-Type', 'application/json']] }));
      expect(refused.status, where).toBe(415);
      for (const types of [['application/json', 'application/json'], ['application/json', 'text/plain'], ['application/x-www-form-urlencoded', 'application/json']]) {
        await answer(request(route, { body: '{}', headers: types.map((type): [string, string] => ['Content-Type', type]) }));
      }
    }
  }, 60_000);

  it('answers broken Basic credentials on every API route with 401 unauthorized_credentials', async () => {
    const secret = target.server.secret;
    const broken = [
      'Basic',
      'Basic !!!!',
      `Basic ${Buffer.from('\u0000:\u0000').toString('base64')}`,
      `Basic ${Buffer.from([0xc0, 0xaf, 0x3a, 0xff]).toString('base64')}`,
      `Basic ${Buffer.from(`${target.server.projectId}:${secret}\u0000`).toString('base64')}`,
      `Basic ${Buffer.from(`${target.server.projectId}:${secret.slice(0, -1)}`).toString('base64')}`,
      `Bearer ${Buffer.from(`${target.server.projectId}:${secret}`).toString('base64')}`,
      `Basic ${'QUFB'.repeat(2000)}`,
    ];
    // The routes open to all take no credentials at all: JWKS, and SSO's start URL, IdP callback and SAML metadata.
    const open = ['/jwks/', '/v1/public/', '/v1/b2b/sso/callback/', '/v1/b2b/sso/saml/metadata/'];
    const protectedRoutes = target.routes.filter((route) => route.url.startsWith('/v1/') && !open.some((part) => route.url.includes(part)));
    for (const route of protectedRoutes) {
      for (const authorization of broken) {
        const response = await answer({ method: route.method, target: pathFor(route), headers: [['Authorization', authorization]] });
        expect({ route: `${route.method} ${route.url}`, status: response.status, type: JSON.parse(response.text).error_type }).toEqual({ route: `${route.method} ${route.url}`, status: 401, type: 'unauthorized_credentials' });
      }
    }
  }, 60_000);

  it('answers methods no route has (PROPFIND, TRACE, lowercase, unknown) with a 4xx on every path', async () => {
    for (const route of target.routes) {
      for (const method of ['PROPFIND', 'TRACE', 'PATCH', 'OPTIONS', 'get', 'FOO']) {
        const response = await answer(request(route, { method }));
        expect(response.status, `${method} ${route.url}`).toBeGreaterThanOrEqual(400);
      }
    }
    await expectHealthy(target);
  }, 60_000);

  it('answers overlong and surrogate UTF-8 sequences in paths and queries with 400 on every route', async () => {
    for (const route of target.routes) {
      for (const bad of ['%C0%AF', '%ED%A0%80', '%FF']) {
        const path = route.url.includes(':') ? route.url.replace(/:[a-z_]+/, bad) : `${route.url}?q=${bad}`;
        const response = await answer(request(route, { target: path }));
        // A stand-in for an unimplemented operation reads no query: a well-formed path reaches its 501.
        if (isNotImplementedRoute(route) && !route.url.includes(':')) expect(response.status, `${route.method} ${path}`).toBe(501);
        else expect(response.status, `${route.method} ${path}`).toBeLessThan(500);
        if (route.url.includes(':')) expect(response.status, `${route.method} ${path}`).toBe(400);
      }
    }
  }, 60_000);
});

/** The console's forms take 64 KiB; the RBAC policy editor, which holds a whole policy, takes 1 MiB. */
function consoleBodyLimit(route: { url: string }): number {
  if (route.url === '/impersonation/end') return 4 * 1024;
  return route.url === '/console/rbac' ? 1024 * 1024 : 64 * 1024;
}
