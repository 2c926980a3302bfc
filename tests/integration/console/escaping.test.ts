import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { escapeHtml } from '../../../src/console/html.js';
import { impersonate } from '../../support/impersonation.js';
import type { ConsoleClient } from './console-client.js';
import { type ConsoleHarness, startConsoleHarness } from './console-harness.js';

/** Text that members, projects and operators control, each shaped to break out of a different HTML context. */
const MEMBER_NAME = '<script>alert(1)</script>';
const ORGANIZATION_NAME = '"><img src=x onerror=alert(1)>';
const REASON = "Ticket 9 '><svg onload=alert(2)>";
const OPERATOR_NAME = '<b onmouseover=alert(3)>Eve</b>';
const REDIRECT_URL = 'https://app.example/imp?x="><script>alert(4)</script>';
const QUERY = '" autofocus onfocus="alert(5)"><script>alert(5)</script>';
const HOSTILE = [MEMBER_NAME, ORGANIZATION_NAME, REASON, OPERATOR_NAME, REDIRECT_URL, QUERY];

/** No hostile string appears raw, and no markup they carry survives in any form. */
function expectNoRawMarkup(page: string, where: string): void {
  for (const text of HOSTILE) expect(page.includes(text), `${where} contains raw ${text}`).toBe(false);
  expect(page, where).not.toMatch(/<(script|img|svg|b)[\s>][^>]*(alert|onerror|onload|onmouseover)/i);
  expect(page, where).not.toMatch(/<script>alert/);
  // A quote left unescaped would close the attribute and add an event handler, no angle bracket needed.
  expect(page, where).not.toMatch(/\son[a-z]+="/i);
}

describe('console pages escape member-, project- and operator-controlled text', () => {
  let harness: ConsoleHarness;
  let browser: ConsoleClient;
  let organizationId: string;
  let memberId: string;
  beforeAll(async () => {
    harness = await startConsoleHarness();
    const client = harness.server.client;
    const { organization } = await client.organizations.create({ organization_name: ORGANIZATION_NAME, organization_slug: 'hostile-org' });
    const { member } = await client.organizations.members.create({ organization_id: organization.organization_id, email_address: 'mallory@hostile.example', name: MEMBER_NAME });
    organizationId = organization.organization_id;
    memberId = member.member_id;
    await impersonate(harness.server, member, { reason: REASON });
    await harness.server.server.app.services.impersonationAdmin.setPolicy({ requestId: 'request-id-test-policy', actor: { type: 'cli' } }, organizationId, { redirectUrl: REDIRECT_URL });
    browser = await harness.signedIn(await harness.createOperator('admin', { name: OPERATOR_NAME }));
  });
  afterAll(() => harness.stop());

  it('shows the escaped forms on every page that displays them, and never the raw markup', async () => {
    const expectations: [string, string[]][] = [
      ['/console/organizations', [ORGANIZATION_NAME, OPERATOR_NAME]],
      [`/console/organizations/${organizationId}`, [ORGANIZATION_NAME, MEMBER_NAME, REDIRECT_URL]],
      [`/console/organizations/${organizationId}/members/${memberId}`, [ORGANIZATION_NAME, MEMBER_NAME, REASON]],
      ['/console/impersonations', [REASON]],
      ['/console/audit', [REASON]],
      ['/console/operators', [OPERATOR_NAME]],
    ];
    for (const [path, shown] of expectations) {
      const response = await browser.get(path);
      expect(response.status, path).toBe(200);
      for (const text of shown) expect(response.text, `${path} shows ${text} escaped`).toContain(escapeHtml(text));
      expectNoRawMarkup(response.text, path);
    }
  });

  it('escapes the exact characters & < > " \' as numeric references in what it shows', async () => {
    const page = (await browser.get(`/console/organizations/${organizationId}`)).text;
    expect(page).toContain('&#34;&#62;&#60;img src=x onerror=alert(1)&#62;');
    expect(page).toContain('&#60;script&#62;alert(1)&#60;/script&#62;');
    const memberPage = (await browser.get(`/console/organizations/${organizationId}/members/${memberId}`)).text;
    expect(memberPage).toContain('Ticket 9 &#39;&#62;&#60;svg onload=alert(2)&#62;');
  });

  it('escapes search terms and filters echoed back into the page, and the error pages of bad filters echo nothing raw', async () => {
    const query = encodeURIComponent(QUERY);
    const reflected: [string, number][] = [
      [`/console/organizations?q=${query}`, 200],
      [`/console/organizations/${organizationId}?q=${query}`, 200],
      [`/console/audit?operator=${query}`, 200],
      [`/console/audit?member=${query}`, 404],
      [`/console/audit?since=${query}`, 400],
      [`/console/organizations/${query}`, 404],
    ];
    for (const [path, status] of reflected) {
      const response = await browser.get(path);
      expect(response.status, path).toBe(status);
      if (status === 200) expect(response.text, path).toContain(escapeHtml(QUERY));
      expectNoRawMarkup(response.text, path);
    }
  });

  it('escapes `next` in the sign-in and TOTP forms and the email typed into a failed sign-in', async () => {
    const operator = await harness.createOperator('support');
    const fresh = harness.browser();
    await fresh.submitPassword(operator.emailAddress, operator.password);
    const totpPage = await fresh.get(`/console/login/totp?next=${encodeURIComponent(QUERY)}`);
    expect(totpPage.text).toContain(`name="next" value="${escapeHtml(QUERY)}"`);
    expectNoRawMarkup(totpPage.text, 'totp page');
    const signInPage = await harness.browser().get(`/console/login?next=${encodeURIComponent(QUERY)}`);
    expect(signInPage.text).toContain(escapeHtml(QUERY));
    expectNoRawMarkup(signInPage.text, 'sign-in page');
    const failed = await harness.browser().submitPassword(QUERY, 'wrong password 123');
    expect(failed.status).toBe(401);
    expect(failed.text).toContain(`value="${escapeHtml(QUERY)}"`);
    expectNoRawMarkup(failed.text, 'failed sign-in');
  });

  it('serves the audit export as an NDJSON attachment with nosniff, so a browser never renders the raw text as HTML', async () => {
    const exported = await browser.get(`/console/audit/export?organization=${organizationId}`);
    expect(exported.status).toBe(200);
    expect(exported.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
    expect(exported.headers.get('content-disposition')).toBe('attachment; filename="impersonation-audit.ndjson"');
    expect(exported.headers.get('x-content-type-options')).toBe('nosniff');
    const events = exported.text.trimEnd().split('\n').map((line) => JSON.parse(line) as { details?: { reason?: string } });
    expect(events.some((event) => event.details?.reason === REASON)).toBe(true);
  });
});
