import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { totpCode } from '../../../src/crypto/totp.js';
import { makeSelfSignedCertificate, trustingDispatcher } from '../../support/tls.js';
import { type ConsoleResponse, cookieAttributes } from './console-client.js';
import { type ConsoleHarness, startConsoleHarness } from './console-harness.js';

/** What every console response must carry, whatever its status (docs/console.md, "Security properties"). */
function expectSecurityHeaders(response: ConsoleResponse, where: string): void {
  const csp = response.headers.get('content-security-policy') ?? '';
  const directives = new Map(csp.split(';').map((part) => part.trim().split(/\s+/)).map(([name = '', ...values]) => [name, values]));
  expect(directives.get('default-src'), `${where}: ${csp}`).toEqual(["'none'"]);
  expect(directives.get('script-src'), where).toEqual(["'self'"]);
  expect(directives.get('style-src'), where).toEqual(["'self'"]);
  expect(directives.get('frame-ancestors'), where).toEqual(["'none'"]);
  expect(directives.get('form-action'), where).toEqual(["'self'"]);
  expect(csp, where).not.toContain('unsafe-inline');
  expect(csp, where).not.toContain('unsafe-eval');
  expect(csp, where).not.toMatch(/https?:|\*/);
  expect(response.headers.get('x-frame-options'), where).toBe('DENY');
  expect(response.headers.get('x-content-type-options'), where).toBe('nosniff');
  expect(response.headers.get('referrer-policy'), where).toBe('no-referrer');
}

function expectNoStore(response: ConsoleResponse, where: string): void {
  expect(response.headers.get('cache-control'), where).toBe('no-store');
}

/** The page works under the CSP: no inline script or style, and every script and stylesheet is the console's own. */
function expectCspCompatibleHtml(page: string, where: string): void {
  expect(page, where).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/i);
  expect(page, where).not.toMatch(/<style[\s>]/i);
  expect(page, where).not.toMatch(/\sstyle=/i);
  expect(page, where).not.toMatch(/\son[a-z]+=/i);
  for (const [, source] of page.matchAll(/<(?:script|link|img)[^>]*\s(?:src|href)="([^"]*)"/gi)) expect(source, where).toMatch(/^\/console\/assets\//);
}

describe('console security headers and cookies over HTTP', () => {
  let harness: ConsoleHarness;
  let organizationId: string;
  let memberId: string;
  beforeAll(async () => {
    harness = await startConsoleHarness();
    const { organization } = await harness.server.client.organizations.create({ organization_name: 'Acme', organization_slug: 'acme-headers' });
    const { member } = await harness.server.client.organizations.members.create({ organization_id: organization.organization_id, email_address: 'ann@acme.example' });
    organizationId = organization.organization_id;
    memberId = member.member_id;
  });
  afterAll(() => harness.stop());

  const pages = (): string[] => [
    '/console/organizations',
    '/console/organizations?q=acme',
    `/console/organizations/${organizationId}`,
    `/console/organizations/${organizationId}/members/${memberId}`,
    '/console/impersonations',
    '/console/audit',
    '/console/operators',
  ];

  it('puts the CSP, framing, sniffing, referrer and no-store headers on every signed-in page, and the pages need no inline code', async () => {
    const browser = await harness.signedIn(await harness.createOperator('admin'));
    for (const path of pages()) {
      const response = await browser.get(path);
      expect(response.status, path).toBe(200);
      expect(response.headers.get('content-type'), path).toBe('text/html; charset=utf-8');
      expectSecurityHeaders(response, path);
      expectNoStore(response, path);
      expectCspCompatibleHtml(response.text, path);
    }
    const exported = await browser.get('/console/audit/export');
    expect(exported.status).toBe(200);
    expectSecurityHeaders(exported, 'export');
    expectNoStore(exported, 'export');
  });

  it('puts the same headers on the sign-in pages, redirects, error pages and the 404 page', async () => {
    const browser = harness.browser();
    const signIn = await browser.get('/console/login');
    expect(signIn.status).toBe(200);
    expectCspCompatibleHtml(signIn.text, 'login');
    const responses: [string, ConsoleResponse][] = [
      ['login', signIn],
      ['redirect', await browser.get('/console/organizations')],
      ['root redirect', await browser.get('/console/')],
      ['404', await browser.get('/console/no-such-page')],
      ['403 (no CSRF)', await browser.post('/console/login', { email: 'x@example.com', password: 'y' })],
      ['401 (wrong password)', await browser.submitPassword('nobody@example.com', 'wrong password 123')],
    ];
    for (const [where, response] of responses) {
      expectSecurityHeaders(response, where);
      expectNoStore(response, where);
    }
    expect(responses.map(([, response]) => response.status)).toEqual([200, 303, 303, 404, 403, 401]);
  });

  it('serves its only stylesheet and script from the process itself, with the security headers, cacheable for 5 minutes', async () => {
    for (const [path, type] of [
      ['/console/assets/console.css', 'text/css; charset=utf-8'],
      ['/console/assets/console.js', 'text/javascript; charset=utf-8'],
    ] as const) {
      const response = await harness.browser().get(path);
      expect(response.status, path).toBe(200);
      expect(response.headers.get('content-type'), path).toBe(type);
      expectSecurityHeaders(response, path);
      // Public static files with no secret in them: the one place a cache is allowed.
      expect(response.headers.get('cache-control'), path).toBe('public, max-age=300');
      expect(response.text, path).not.toMatch(/https?:\/\//);
    }
  });

  it('sets the pre-session CSRF and session cookies HttpOnly, SameSite=Strict, Path=/console, without Secure over plain HTTP', async () => {
    const operator = await harness.createOperator('admin');
    const browser = harness.browser();
    const first = await browser.get('/console/login');
    expect(cookieAttributes(first.setCookies, 'understudy_console_csrf')?.sort()).toEqual(['httponly', 'path=/console', 'samesite=strict']);
    const password = await browser.submitPassword(operator.emailAddress, operator.password);
    expect(cookieAttributes(password.setCookies, 'understudy_console')?.sort()).toEqual(['httponly', 'path=/console', 'samesite=strict']);
  });

  it('answers unauthenticated GETs of every page with 303 to /console/login?next=<the page>', async () => {
    const browser = harness.browser();
    for (const path of [...pages(), '/console/audit/export?organization=acme']) {
      const response = await browser.get(path);
      expect(response.status, path).toBe(303);
      expect(response.location, path).toBe(`/console/login?next=${encodeURIComponent(path)}`);
      expect(response.text, path).not.toContain('Acme');
    }
  });
});

describe('console cookies over HTTPS', () => {
  const certificate = makeSelfSignedCertificate();
  const dispatcher = trustingDispatcher(certificate.pem);
  let harness: ConsoleHarness;
  beforeAll(async () => {
    harness = await startConsoleHarness({ https: { cert: certificate.cert, key: certificate.key }, dispatcher });
  });
  afterAll(async () => {
    await harness.stop();
    await dispatcher.close();
    certificate.cleanup();
  });

  it('adds Secure to both cookies, and a full sign-in over HTTPS works', async () => {
    expect(harness.server.baseUrl).toMatch(/^https:/);
    const operator = await harness.createOperator('admin');
    const browser = harness.browser();
    const first = await browser.get('/console/login');
    expectSecurityHeaders(first, 'https login');
    expect(cookieAttributes(first.setCookies, 'understudy_console_csrf')?.sort()).toEqual(['httponly', 'path=/console', 'samesite=strict', 'secure']);
    const password = await browser.submitPassword(operator.emailAddress, operator.password);
    expect(cookieAttributes(password.setCookies, 'understudy_console')?.sort()).toEqual(['httponly', 'path=/console', 'samesite=strict', 'secure']);
    expect((await browser.submitTotp(totpCode(operator.totpSecret ?? '', harness.clock.now()))).status).toBe(303);
    expect((await browser.get('/console/organizations')).status).toBe(200);
  });
});
