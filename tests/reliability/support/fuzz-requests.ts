import fc from 'fast-check';
import { CONTENT_TYPES, hostileJson, hostileObject, hostileString, METHODS_OTHER_THAN_THE_ROUTES, pathSegment, queryString, rawBody } from './fuzz-inputs.js';
import { API_KEYS, CONSOLE_KEYS, type FuzzRoute, type FuzzTarget } from './fuzz-target.js';
import type { RawRequest } from './raw-http.js';

/** Header values must stay inside one header line: anything outside visible Latin-1 becomes `?`. */
const headerSafe = (value: string): string => value.replace(/[^\t\x20-\x7e\x80-\xff]/g, '?').slice(0, 8000);

const b64 = (bytes: Buffer | string): string => Buffer.from(bytes).toString('base64');

function badAuthorizations(target: FuzzTarget): string[] {
  const [, secretPart = ''] = Buffer.from(target.authorization.slice(6), 'base64').toString('utf8').split(':');
  return [
    '',
    'Basic',
    'Basic ',
    'Basic !!!!',
    'Basic =',
    `Basic ${b64('\u0000:\u0000')}`,
    `Basic ${b64(Buffer.from([0xff, 0xfe, 0x3a, 0xc0, 0xaf]))}`,
    `Basic ${b64(`project-test-x:${secretPart}`)}`,
    `Basic ${b64(`${target.server.projectId}:${secretPart}x`)}`,
    `Basic ${b64(`${target.server.projectId}${secretPart}`)}`,
    `Basic ${'A'.repeat(6000)}`,
    `Bearer ${target.authorization.slice(6)}`,
    `basic ${target.authorization.slice(6)}`,
    `${target.authorization} trailing`,
    `Basic ${target.authorization.slice(6)}=`,
    'Digest username="x"',
  ];
}

function pathOf(route: FuzzRoute, known: readonly string[]): fc.Arbitrary<string> {
  const parts = route.url.split('/').map((part) => (part.startsWith(':') ? pathSegment(known) : fc.constant(part)));
  return fc.tuple(...parts).map((segments) => segments.join('/'));
}

function methodFor(route: FuzzRoute): fc.Arbitrary<string> {
  return fc.oneof({ weight: 8, arbitrary: fc.constant(route.method) }, { weight: 2, arbitrary: fc.constantFrom(...METHODS_OTHER_THAN_THE_ROUTES) });
}

const jsonBytes = (value: unknown): Buffer => Buffer.from(JSON.stringify(value) ?? 'null', 'utf8');

function extraHeaders(target: FuzzTarget): fc.Arbitrary<[string, string][]> {
  const optional = (name: string, value: fc.Arbitrary<string>): fc.Arbitrary<[string, string][]> =>
    fc.option(value.map((text): [string, string][] => [[name, headerSafe(text)]]), { nil: [], freq: 3 }).map((entry) => entry);
  return fc
    .tuple(
      optional('X-Stytch-Member-Session', fc.oneof(hostileString, fc.constant('A'.repeat(44)))),
      optional('X-Stytch-Member-SessionJWT', fc.oneof(hostileString, fc.constant('eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.'))),
      optional('Accept', fc.constantFrom('application/x-ndjson', '*/*', 'text/html', '')),
      optional('X-Forwarded-For', hostileString),
      optional('User-Agent', hostileString),
      optional('Cookie', fc.oneof(hostileString, fc.constant(target.console.cookie))),
      fc.constantFrom<[string, string][]>([], [], [], [['Content-Encoding', 'gzip']], [['Expect', '100-continue']], [['X-HTTP-Method-Override', 'DELETE']]),
    )
    .map((groups) => groups.flat());
}

/** Random API requests for one route: its method (mostly), hostile ids, queries, bodies and headers. */
export function apiRequests(target: FuzzTarget, route: FuzzRoute): fc.Arbitrary<RawRequest> {
  // Never the fixture's own ids on a DELETE: deleting them would be a legitimate write, and the rest of the run needs them.
  const known = route.method === 'DELETE' ? ['organization-test-00000000-0000-4000-8000-000000000000'] : target.knownIds;
  const body = fc.oneof(
    { weight: 5, arbitrary: hostileObject([...API_KEYS, ...known]).map(jsonBytes) },
    { weight: 2, arbitrary: hostileJson(API_KEYS).map(jsonBytes) },
    { weight: 2, arbitrary: rawBody },
    { weight: 1, arbitrary: fc.constant(undefined) },
  );
  const authorization = fc.oneof({ weight: 8, arbitrary: fc.constant(target.authorization) }, { weight: 2, arbitrary: fc.constantFrom(...badAuthorizations(target)) });
  const contentType = fc.oneof({ weight: 8, arbitrary: fc.constant('application/json') }, { weight: 2, arbitrary: fc.constantFrom(...CONTENT_TYPES) });
  return fc
    .record({ method: methodFor(route), path: pathOf(route, known), query: queryString(API_KEYS), body, authorization, contentType, extra: extraHeaders(target) })
    .map(({ method, path, query, body: bytes, authorization: auth, contentType: type, extra }) => ({
      method,
      target: `${path}${query}`,
      headers: [...(auth === '' ? [] : [['Authorization', auth] as [string, string]]), ...(bytes === undefined ? [] : [['Content-Type', type] as [string, string]]), ...extra],
      ...(bytes !== undefined && { body: bytes }),
    }));
}

/** Random console requests: signed in or not, with or without the session's CSRF token, hostile form fields and queries. */
export function consoleRequests(target: FuzzTarget, route: FuzzRoute): fc.Arbitrary<RawRequest> {
  // The fixture's operator is never disabled and never signed out by the fuzz: the rest of the run uses that session.
  const mayUseRealCsrf = route.url !== '/console/logout';
  const known = route.url.includes(':operator') ? ['operator-test-00000000-0000-4000-8000-000000000000'] : target.knownIds;
  const form = fc
    .tuple(
      fc.array(fc.tuple(fc.constantFrom(...CONSOLE_KEYS), hostileString.filter((value) => value.length < 20_000)), { maxLength: 5 }),
      fc.constantFrom('real', 'none', 'wrong'),
    )
    .map(([pairs, csrf]) => {
      const fields = new URLSearchParams();
      if (csrf === 'real' && mayUseRealCsrf) fields.append('_csrf', target.console.csrf);
      if (csrf === 'wrong') fields.append('_csrf', 'A'.repeat(43));
      for (const [key, value] of pairs) fields.append(key, value);
      return Buffer.from(fields.toString(), 'utf8');
    });
  const body = fc.oneof({ weight: 6, arbitrary: form }, { weight: 2, arbitrary: rawBody }, { weight: 1, arbitrary: hostileObject(CONSOLE_KEYS).map(jsonBytes) }, { weight: 1, arbitrary: fc.constant(undefined) });
  const contentType = fc.oneof({ weight: 8, arbitrary: fc.constant('application/x-www-form-urlencoded') }, { weight: 2, arbitrary: fc.constantFrom(...CONTENT_TYPES) });
  const cookie = fc.oneof({ weight: 6, arbitrary: fc.constant(target.console.cookie) }, { weight: 2, arbitrary: fc.constant('') }, { weight: 2, arbitrary: hostileString.map(headerSafe) });
  return fc
    .record({ method: methodFor(route), path: pathOf(route, known), query: queryString(CONSOLE_KEYS), body, contentType, cookie })
    .map(({ method, path, query, body: bytes, contentType: type, cookie: jar }) => ({
      method,
      target: `${path}${query}`,
      headers: [...(jar === '' ? [] : [['Cookie', jar] as [string, string]]), ...(bytes === undefined ? [] : [['Content-Type', type] as [string, string]])],
      ...(bytes !== undefined && { body: bytes }),
    }));
}
