import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { totpCode } from '../../src/crypto/totp.js';
import { ManualClock } from '../../src/platform/clock.js';
import { createLogger } from '../../src/platform/logger.js';
import { ConsoleClient, csrfIn } from '../integration/console/console-client.js';
import { startTestSession } from '../support/sessions.js';
import { STORES } from '../support/stores.js';
import { TEST_MASTER_KEY, startTestServer, type TestServer } from '../support/test-server.js';
import { findSecrets } from '../support/test-logs.js';
import { openDatabaseProbe } from './support/table-snapshot.js';

/**
 * Secrets hygiene (docs/reliability.md): a scripted scenario handles every kind of secret the
 * server knows while it logs at `trace` into memory. Afterwards no secret, token, JWT, password,
 * TOTP code, master key, private key member or stored digest may appear in the log, no response
 * may carry a private key member or a stored digest, and every response has the security headers.
 */
interface Recorded {
  readonly where: string;
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
}

const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi'];

function privateMembersIn(value: unknown, path = '$'): string[] {
  if (Array.isArray(value)) return value.flatMap((item, index) => privateMembersIn(item, `${path}[${index}]`));
  if (value === null || typeof value !== 'object') return [];
  const record = value as Record<string, unknown>;
  const isJwk = typeof record.kty === 'string';
  return Object.entries(record).flatMap(([key, item]) => [...(isJwk && PRIVATE_JWK_MEMBERS.includes(key) ? [`${path}.${key}`] : []), ...privateMembersIn(item, `${path}.${key}`)]);
}

describe.each(STORES)('secrets hygiene ($name)', ({ name: store }) => {
  const logLines: string[] = [];
  const responses: Recorded[] = [];
  const secrets: string[] = [TEST_MASTER_KEY];
  let server: TestServer;
  let digests: string[] = [];
  /** TOTP codes are six digits: looked for with digit boundaries, not as plain substrings of timestamps. */
  const totpCodes: string[] = [];

  const api = async (where: string, path: string, init: RequestInit & { json?: unknown } = {}): Promise<Record<string, unknown>> => {
    const reply = await server.fetch(path, init);
    responses.push({ where, status: reply.status, headers: reply.headers, text: JSON.stringify(reply.body) });
    return reply.body;
  };
  const consolePage = async (where: string, call: () => ReturnType<ConsoleClient['get']>) => {
    const response = await call();
    responses.push({ where, status: response.status, headers: response.headers, text: response.text });
    return response;
  };

  beforeAll(async () => {
    const clock = new ManualClock('2026-03-02T09:00:00Z');
    const logger = createLogger('trace', { write: (line: string) => void logLines.push(line) });
    server = await startTestServer({ store, clock, logger, config: { rateLimitsEnabled: false, impersonationRedirectUrl: 'http://placeholder.invalid/authenticate' } });
    secrets.push(server.secret);
    const basic = `Basic ${Buffer.from(`${server.projectId}:${server.secret}`).toString('base64')}`;
    secrets.push(basic.slice(6));

    // Organizations and members, with the project secret in Basic auth on every call.
    const created = await api('create organization', '/v1/b2b/organizations', { method: 'POST', json: { organization_name: 'Hygiene Org', organization_slug: 'hygiene-org' } });
    const organizationId = (created.organization as { organization_id: string }).organization_id;
    const member = await api('create member', `/v1/b2b/organizations/${organizationId}/members`, { method: 'POST', json: { email_address: 'ann@hygiene.example' } });
    const memberId = member.member_id as string;
    await api('wrong secret', '/v1/b2b/organizations/search', { method: 'POST', json: {}, headers: { authorization: `Basic ${Buffer.from(`${server.projectId}:${server.secret}x`).toString('base64')}` } });

    // Member sessions: tokens and JWTs in bodies and in the member-session headers.
    const session = await startTestSession(server, { organizationId, memberId });
    secrets.push(session.sessionToken, session.sessionJwt);
    const byToken = await api('authenticate token', '/v1/b2b/sessions/authenticate', { method: 'POST', json: { session_token: session.sessionToken } });
    secrets.push(byToken.session_jwt as string);
    await api('authenticate jwt', '/v1/b2b/sessions/authenticate', { method: 'POST', json: { session_jwt: session.sessionJwt, session_duration_minutes: 30 } });
    await api('session header', `/v1/b2b/organizations/${organizationId}`, { headers: { 'x-stytch-member-session': session.sessionToken } });
    await api('session jwt header', `/v1/b2b/organizations/${organizationId}`, { headers: { 'x-stytch-member-sessionjwt': session.sessionJwt } });
    await api('jwks', `/v1/b2b/sessions/jwks/${server.projectId}`);
    await server.server.app.services.keystore.rotate({ activationDelaySeconds: 0 });
    await api('jwks after rotation', `/v1/b2b/sessions/jwks/${server.projectId}`);

    // Impersonation: the token in bodies and in the impersonation URL, which here points back at this server.
    await api('policy', `/v1/b2b/impersonation/policies/${organizationId}`, { method: 'PUT', json: { impersonation_redirect_url: `${server.baseUrl}/app/authenticate` } });
    const minted = await api('mint', '/v1/b2b/impersonation', {
      method: 'POST',
      json: { organization_id: organizationId, member_id: memberId, impersonator_id: 'support-1', impersonator_email_address: 'sam@support.example', reason: 'Ticket 1: hygiene' },
    });
    const impersonationToken = minted.impersonation_token as string;
    secrets.push(impersonationToken);
    const landing = new URL(minted.impersonation_url as string);
    await api('impersonation url followed to this server', `${landing.pathname}${landing.search}`);
    const redeemed = await api('redeem', '/v1/b2b/impersonation/authenticate', { method: 'POST', json: { impersonation_token: impersonationToken } });
    secrets.push(redeemed.session_token as string, redeemed.session_jwt as string);
    await api('redeem again', '/v1/b2b/impersonation/authenticate', { method: 'POST', json: { impersonation_token: impersonationToken } });
    await api('redeem by token field', '/v1/b2b/impersonation/authenticate', { method: 'POST', json: { token: impersonationToken } });
    await api('impersonated sessions', `/v1/b2b/impersonation/sessions?organization_id=${organizationId}`);
    await api('audit', `/v1/b2b/impersonation/audit?organization_id=${organizationId}`);
    await api('audit ndjson', `/v1/b2b/impersonation/audit?organization_id=${organizationId}&format=ndjson`);
    await api('revoke session', '/v1/b2b/sessions/revoke', { method: 'POST', json: { session_token: session.sessionToken } });

    // The console: passwords, TOTP codes and secrets, session cookies, CSRF tokens.
    const operator = await server.server.app.services.operators.create(
      { requestId: 'request-id-test-00000000-0000-4000-8000-0000000000a1', actor: { type: 'cli' } },
      { emailAddress: 'admin@hygiene.example', name: 'Hygiene Admin', role: 'admin' },
    );
    secrets.push(operator.password, operator.totpSecret as string, operator.totpUri as string);
    const code = totpCode(operator.totpSecret as string, clock.now());
    totpCodes.push(code);
    const browser = new ConsoleClient(server.baseUrl);
    await consolePage('wrong password', () => browser.submitPassword('admin@hygiene.example', `${operator.password}-wrong`));
    await consolePage('wrong totp', async () => {
      await browser.submitPassword('admin@hygiene.example', operator.password);
      return browser.submitTotp(code === '000000' ? '111111' : '000000');
    });
    await consolePage('totp', () => browser.submitTotp(code));
    for (const value of browser.cookies.values()) secrets.push(value);
    await consolePage('member page', () => browser.get(`/console/organizations/${organizationId}/members/${memberId}`));
    const csrf = csrfIn((await consolePage('organizations', () => browser.get('/console/organizations'))).text) ?? '';
    secrets.push(csrf);
    const impersonated = await consolePage('console impersonation', () => browser.post(`/console/organizations/${organizationId}/members/${memberId}/impersonate`, { _csrf: csrf, reason: 'Ticket 2: console', totp: code }));
    const link = new URL((/href="([^"]*token=[^"]*)"/.exec(impersonated.text)?.[1] ?? 'http://missing.invalid/').replaceAll('&#38;', '&'));
    const consoleToken = link.searchParams.get('token') ?? '';
    expect(consoleToken, impersonated.text).toMatch(/^[A-Za-z0-9_-]{44}$/);
    secrets.push(consoleToken);
    await api('console impersonation url followed to this server', `${link.pathname}${link.search}`);
    const added = await consolePage('create operator', () => browser.post('/console/operators', { _csrf: csrf, email: 'sue@hygiene.example', name: 'Sue', role: 'support' }));
    secrets.push(...[...added.text.matchAll(/id="(?:password|totp)">([^<]+)</g)].map((match) => match[1] as string));
    await consolePage('audit export', () => browser.get('/console/audit/export'));
    await consolePage('sign out', () => browser.signOut());

    const probe = await openDatabaseProbe(server);
    try {
      for (const [table, column] of [
        ['projects', 'secret_digest'],
        ['sessions', 'token_digest'],
        ['impersonation_tokens', 'token_digest'],
        ['console_sessions', 'token_digest'],
        ['operators', 'password_hash'],
        ['operators', 'sealed_totp_secret'],
        ['signing_keys', 'sealed_private_jwk'],
      ] as const) {
        digests.push(...(await probe.values(table, column)));
      }
    } finally {
      await probe.close();
    }
    digests = digests.filter((value) => value.length >= 16);
  }, 60_000);
  afterAll(async () => server?.stop());

  it('captured the scenario in the trace log (every request, including the failures)', () => {
    const log = logLines.join('');
    expect(logLines.length).toBeGreaterThan(60);
    expect(log).toContain('"msg":"incoming request"');
    expect(log).toContain('/v1/b2b/impersonation/authenticate');
    expect(log).toContain('/console/login/totp');
  });

  it('logs no secret, token, JWT, password, TOTP code or secret, master key or stored digest', () => {
    const log = logLines.join('');
    expect(secrets.filter((secret) => secret.length >= 16).length).toBeGreaterThan(15);
    expect(digests.length).toBeGreaterThanOrEqual(7);
    expect(findSecrets(log, [...secrets, ...digests])).toEqual([]);
    for (const line of logLines) expect(line).not.toMatch(/"(?:d|p|q|dp|dq|qi)":/);
    expect(totpCodes).toHaveLength(1);
    for (const code of totpCodes) expect(log).not.toMatch(new RegExp(`(?<![0-9])${code}(?![0-9])`));
  });

  it('logs no request URL query string, where a token may have been put (here: the impersonation URL)', () => {
    for (const line of logLines.filter((candidate) => candidate.includes('"url":"'))) expect(line).not.toMatch(/"url":"[^"]*\?(?!\[query redacted\]")/);
  });

  it('never answers with a private key member or a stored digest, sealed value or password hash', () => {
    expect(responses.length).toBeGreaterThan(25);
    for (const response of responses) {
      for (const digest of digests) expect(response.text.includes(digest), `${response.where} contains a stored digest`).toBe(false);
      expect(response.text.includes(TEST_MASTER_KEY), `${response.where} contains the master key`).toBe(false);
      // JSON bodies and NDJSON exports, one document a line.
      for (const line of response.text.split('\n').filter((candidate) => candidate.startsWith('{'))) expect(privateMembersIn(JSON.parse(line)), response.where).toEqual([]);
    }
    const jwks = responses.filter((response) => response.where.startsWith('jwks'));
    expect(jwks.map((response) => (JSON.parse(response.text).keys as unknown[]).length)).toEqual([1, 2]);
  });

  it('puts nosniff on every response, no-store on every API response, and the CSP on every console response', () => {
    for (const response of responses) {
      expect(response.headers.get('x-content-type-options'), response.where).toBe('nosniff');
      expect(response.headers.get('cache-control'), response.where).toBe('no-store');
      if (response.headers.get('content-type')?.startsWith('text/html')) expect(response.headers.get('content-security-policy'), response.where).toContain("default-src 'none'");
    }
    expect(responses.some((response) => response.status >= 400)).toBe(true);
  });
});
