import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTRACT_OPERATIONS } from '../../src/api/generated/operations.js';
import { STYTCH_OPERATIONS } from '../../src/api/operations.js';
import type { RegisteredRoute } from '../../src/http/route-table.js';
import { STORES } from '../support/stores.js';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { sendRaw } from './support/raw-http.js';
import { changedTables, openDatabaseProbe, type DatabaseProbe } from './support/table-snapshot.js';

/**
 * Project authentication belongs to the route the router matched, not to the spelling of the URL.
 * Every route that needs the project's credentials is called without them, spelled every way a
 * router or proxy may normalise a path; each must answer 401 (or 404 when the spelling names no
 * route) and write nothing. The bodies and ids are real, so a request that got through would write.
 *
 * Every route that runs code gets every spelling. The contract operations Understudy does not
 * implement yet all share one handler that answers 501 and runs nothing; each of those gets the
 * spelling as is and a few of the others, rotating through the list so that every spelling is
 * tried on them too. They are most of the contract while Understudy grows, and giving each all
 * spellings more than tripled the time of this file for no more coverage of code that can write.
 */

/** Ways to spell the same path; each takes a path such as `/v1/b2b/organizations/…`. */
const SPELLINGS: readonly [string, (path: string) => string][] = [
  ['as is', (path) => path],
  ['a percent-encoded letter', (path) => path.replace('/v1/', '/%761/')],
  ['a percent-encoded digit', (path) => path.replace('/v1/', '/v%31/')],
  ['every character of the first segment encoded', (path) => path.replace('/v1/', '/%76%31/')],
  ['lower-case hex in a later segment', (path) => path.replace('/b2b/', '/%62%32%62/')],
  ['an encoded letter deep in the path', (path) => path.replace(/\/([a-z])([a-z_]*)$/, (_m, first: string, rest: string) => `/%${first.charCodeAt(0).toString(16)}${rest}`)],
  ['a leading double slash', (path) => `/${path}`],
  ['a double slash inside', (path) => path.replace('/v1/', '/v1//')],
  ['a dot segment', (path) => path.replace('/v1/', '/v1/./')],
  ['a dot-dot segment', (path) => `/x/..${path}`],
  ['an encoded dot-dot segment', (path) => `/x/%2e%2e${path}`],
  ['a matrix parameter on the first segment', (path) => path.replace('/v1/', '/v1;a=b/')],
  ['a matrix parameter at the end', (path) => `${path};a=b`],
  ['an empty query', (path) => `${path}?`],
  ['a trailing slash', (path) => `${path}/`],
  ['an encoded slash', (path) => path.replace('/v1/', '/v1%2F')],
  ['an upper-case first segment', (path) => path.replace('/v1/', '/V1/')],
  ['the absolute form', (path) => `http://127.0.0.1${path}`],
];

/** Spellings every route gets; the rest rotate over the 501 stand-ins (see above). */
const ESSENTIAL_SPELLINGS = SPELLINGS.slice(0, 1);
const ROTATING_SPELLINGS = SPELLINGS.slice(1);
/** How many rotating spellings each 501 stand-in gets besides the essential ones. */
const ROTATING_SPELLINGS_PER_STAND_IN = 2;

/** Contract operations with no module in the operation table: answered by the 501 stand-in. */
const UNIMPLEMENTED_ROUTES = new Set(
  CONTRACT_OPERATIONS.filter((contract) => !STYTCH_OPERATIONS.some((operation) => operation.operationId === contract.operationId)).map((contract) => `${contract.method} ${contract.url}`),
);

describe.each(STORES)('route authentication ($name)', ({ name: store }) => {
  let server: TestServer;
  let probe: DatabaseProbe;
  let routes: RegisteredRoute[];
  let ids: Record<string, string>;
  let counter = 0;

  beforeAll(async () => {
    server = await startTestServer({ store });
    const organization = await server.client.organizations.create({ organization_name: 'Guarded', organization_slug: 'guarded' });
    const organizationId = organization.organization.organization_id;
    const member = await server.client.organizations.members.create({ organization_id: organizationId, email_address: 'guarded@example.com' });
    ids = { organization_id: organizationId, member_id: member.member.member_id, project_id: server.projectId };
    // Fastify adds a HEAD route beside each GET; it shares the GET's options.
    routes = server.server.app.http.routeTable.routes().filter((route) => route.method !== 'HEAD');
    probe = await openDatabaseProbe(server);
  });
  afterAll(async () => {
    await probe?.close();
    await server?.stop();
  });

  /** A body every write route would accept, so a request that got past authentication would change something. */
  function bodyFor(): string {
    counter += 1;
    return JSON.stringify({
      organization_name: `Bypass ${counter}`,
      organization_slug: `bypass-${counter}`,
      organization_id: ids.organization_id,
      member_id: ids.member_id,
      email_address: `bypass-${counter}@example.com`,
      name: 'Bypass',
      impersonator_id: 'attacker',
      impersonator_email_address: 'attacker@example.com',
      reason: 'bypass',
      impersonation_enabled: true,
      impersonation_redirect_url: 'https://attacker.example/landing',
    });
  }

  it('lists the routes that need the project credentials, and marks only health, JWKS, the impersonation end link, the SSO browser routes and the console as open', () => {
    const open = routes.filter((route) => route.access !== 'project' && !route.url.startsWith('/console'));
    // The end link's page (GET) and confirmation (POST) answer the member, who has no project credentials: the link's token is the authority.
    // SSO's start URL (the public token), the identity providers' answers (the request's state token and the IdP's signature) and our SAML metadata are for browsers and IdPs.
    expect(open.map((route) => `${route.method} ${route.url}`).sort()).toEqual(
      [
        'GET /healthz',
        'GET /readyz',
        'GET /v1/b2b/sessions/jwks/:project_id',
        'GET /impersonation/end',
        'POST /impersonation/end',
        'GET /v1/public/sso/start',
        'GET /v1/b2b/sso/callback/:connection_id',
        'POST /v1/b2b/sso/callback/:connection_id',
        'GET /v1/b2b/sso/saml/metadata/:connection_id',
      ].sort(),
    );
    expect(routes.filter((route) => route.url.startsWith('/console')).every((route) => route.access === 'console')).toBe(true);
    expect(routes.filter((route) => route.access === 'project').length).toBeGreaterThanOrEqual(20);
  });

  /** The path of a route with real ids in it. */
  function pathOf(route: RegisteredRoute): string {
    return route.url.replace(/:([A-Za-z_]+)/g, (_match, name: string) => ids[name] ?? 'unknown');
  }

  /**
   * The routes that answer 501 and run nothing, found by asking each candidate from the tables with
   * the credentials and a bogus member session: a stand-in ignores the header and answers
   * `not_implemented`, while any other route refuses the header before its handler runs. Anything
   * that does not answer 501 counts as a route that runs code, and gets every spelling.
   */
  async function standIns(): Promise<Set<RegisteredRoute>> {
    const found = new Set<RegisteredRoute>();
    for (const route of routes.filter((candidate) => candidate.access === 'project' && UNIMPLEMENTED_ROUTES.has(`${candidate.method} ${candidate.url}`))) {
      const reply = await server.fetch(pathOf(route), { method: route.method, headers: { 'x-stytch-member-session': 'bogus-session-token' } });
      if (reply.status === 501 && reply.body.error_type === 'not_implemented') found.add(route);
    }
    return found;
  }

  it('refuses every spelling of every project route without credentials, and writes nothing', async () => {
    const notImplemented = await standIns();
    const before = await probe.snapshot();
    const answers: string[] = [];
    const rotated = new Set<string>();
    let rotation = 0;
    for (const route of routes.filter((candidate) => candidate.access === 'project')) {
      let spellings = SPELLINGS;
      if (notImplemented.has(route)) {
        const sample = Array.from({ length: ROTATING_SPELLINGS_PER_STAND_IN }, (_unused, offset) => ROTATING_SPELLINGS[(rotation + offset) % ROTATING_SPELLINGS.length] as (typeof SPELLINGS)[number]);
        rotation += ROTATING_SPELLINGS_PER_STAND_IN;
        for (const [spelling] of sample) rotated.add(spelling);
        spellings = [...ESSENTIAL_SPELLINGS, ...sample];
      }
      const path = pathOf(route);
      for (const [spelling, spell] of spellings) {
        for (const headers of [[], [['X-Stytch-Member-Session', 'bogus-session-token']]] as [string, string][][]) {
          const hasBody = route.method !== 'GET' && route.method !== 'DELETE';
          const outcome = await sendRaw(Number(new URL(server.baseUrl).port), {
            method: route.method,
            target: spell(path),
            headers: [...headers, ...(hasBody ? ([['Content-Type', 'application/json']] as [string, string][]) : [])],
            ...(hasBody && { body: bodyFor() }),
          });
          const status = outcome.kind === 'response' ? outcome.response.status : outcome.kind;
          // 405 comes from the not-found handler: the spelling names a path that exists only for other methods.
          if (status !== 401 && status !== 404 && status !== 405) answers.push(`${route.method} ${route.url} (${spelling}${headers.length > 0 ? ', member session header' : ''}): ${status}`);
        }
      }
    }
    expect(answers).toEqual([]);
    // Enough stand-ins to go round: every spelling was tried on one of them too.
    if (notImplemented.size * ROTATING_SPELLINGS_PER_STAND_IN >= ROTATING_SPELLINGS.length) expect(rotated.size).toBe(ROTATING_SPELLINGS.length);
    const after = await probe.snapshot();
    expect(changedTables(before, after)).toEqual([]);
    expect(after.refusals).toBe(before.refusals);
  });

  it('still answers the routes when the credentials are given, however the path is spelled', async () => {
    const reply = await server.fetch(`/%76%31/b2b/organizations/${ids.organization_id}`);
    expect(reply.status).toBe(200);
    expect((reply.body.organization as { organization_id: string }).organization_id).toBe(ids.organization_id);
    // The member-session header is judged by the matched route too: organizations.get takes none.
    const withSession = await server.fetch(`/v%31/b2b/organizations/${ids.organization_id}`, { headers: { 'x-stytch-member-session': 'bogus-session-token' } });
    expect(withSession.status).toBe(403);
    expect(withSession.body.error_type).toBe('unauthorized_action');
  });

  it('keeps the open routes open and the console behind its own sign-in', async () => {
    const port = Number(new URL(server.baseUrl).port);
    for (const target of ['/healthz', `/v1/b2b/sessions/jwks/${ids.project_id}`, `/%761/b2b/sessions/jwks/${ids.project_id}`]) {
      const outcome = await sendRaw(port, { method: 'GET', target });
      expect(outcome.kind === 'response' && outcome.response.status).toBe(200);
    }
    for (const target of ['/console/organizations', '/%63onsole/organizations', '/console/%6fperators', '//console/audit/export', '/console/./audit']) {
      const outcome = await sendRaw(port, { method: 'GET', target });
      const response = outcome.kind === 'response' ? outcome.response : undefined;
      // Either the router finds no page (404) or the console sends the visitor to sign in.
      expect([303, 404], target).toContain(response?.status);
      if (response?.status === 303) expect(response.headers.location).toMatch(/^\/console\/login\?next=/);
    }
    const plain = await sendRaw(port, { method: 'GET', target: '/console/organizations' });
    expect(plain.kind === 'response' && plain.response.status).toBe(303);
  });
});
