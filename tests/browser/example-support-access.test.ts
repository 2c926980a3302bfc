import type { Server } from 'node:http';
import { createServer } from 'node:net';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { B2BClient, type Member, type Organization } from 'stytch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExampleApp } from '../../examples/b2b-email-sign-in/app.mjs';
import { IMPERSONATOR, impersonate, mintToken, REVOKE_IMPERSONATIONS } from '../support/impersonation.js';
import { startTestSession } from '../support/sessions.js';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { collectPageErrors, HAS_CHROMIUM, launchBrowser, screenshot, visibleText } from './support/browser.js';

const ADA = 'ada@acme.example';
const GRACE = 'grace@acme.example';
const KIM = 'kim@support.example';

interface WireAccessGrant {
  readonly grant_id: string;
  readonly status: string;
  readonly member_ids: string[] | null;
  readonly duration_minutes: number;
  readonly reason: string;
  readonly opened_by: Record<string, unknown> | null;
  readonly closed_by: Record<string, unknown> | null;
}

/**
 * The example customer app's "Support access" page (examples/b2b-email-sign-in), driven in Chromium
 * as members use it: a plain member reads the impersonations of themselves; an admin opens access
 * for support through the form and revokes it with its button; support signed in as the member (an
 * impersonation) is not shown the member's history. The app calls Understudy through the official
 * SDK and, for these pages, its small extension helper with the member's session. Members are
 * signed in by handing the browser the session cookie the app sets at sign-in (the sign-in pages
 * have their own suites). SQLite only, like the other browser suites.
 */
describe.skipIf(!HAS_CHROMIUM)('example app: support access, in Chromium (needs /usr/bin/chromium)', () => {
  let server: TestServer;
  let app: Server;
  let appUrl: string;
  let browser: Browser;
  let acme: Organization;
  let ada: Member;
  let grace: Member;
  const contexts: BrowserContext[] = [];
  /** The server's clock runs with real time, moved ahead by this much: mints a test orders must not share a second. */
  let clockOffsetMs = 0;

  beforeAll(async () => {
    const port = await freePort();
    appUrl = `http://localhost:${port}`;
    server = await startTestServer({ clock: { now: () => new Date(Date.now() + clockOffsetMs) } });
    acme = (await server.client.organizations.create({ organization_name: 'Acme', organization_slug: 'acme' })).organization;
    ada = (await server.client.organizations.members.create({ organization_id: acme.organization_id, email_address: ADA, name: 'Ada Lovelace', roles: ['stytch_admin'] })).member;
    grace = (await server.client.organizations.members.create({ organization_id: acme.organization_id, email_address: GRACE, name: 'Grace Hopper' })).member;
    // The app's own SDK client and extension settings, built the way its server.mjs builds them.
    const client = new B2BClient({ project_id: server.projectId, secret: server.secret, env: `${server.baseUrl}/` });
    app = createExampleApp({ client, appUrl, understudy: { url: server.baseUrl, projectId: server.projectId, secret: server.secret } });
    await new Promise<void>((resolve, reject) => {
      app.once('error', reject);
      app.listen(port, '127.0.0.1', () => resolve());
    });
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await Promise.all(contexts.map((context) => context.close()));
    await browser?.close();
    if (app?.listening) {
      app.closeAllConnections();
      await new Promise<void>((resolve) => app.close(() => resolve()));
    }
    await server?.stop();
  });

  async function newPage(): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
    const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
    contexts.push(context);
    context.setDefaultTimeout(10_000);
    const errors = collectPageErrors(context);
    return { context, page: await context.newPage(), errors };
  }

  /** A browser in which `member` is signed in to the app: its session cookie, as the app sets it at sign-in. */
  async function signedInAs(member: Member): Promise<{ page: Page; errors: string[] }> {
    const session = await startTestSession(server, { organizationId: member.organization_id, memberId: member.member_id });
    const { context, page, errors } = await newPage();
    await context.addCookies([{ name: 'example_session', value: session.sessionToken, url: appUrl, httpOnly: true, sameSite: 'Lax' }]);
    return { page, errors };
  }

  /** From the signed-in home page to "Support access", by its link. */
  async function openSupportAccess(page: Page): Promise<void> {
    await page.goto(`${appUrl}/`);
    expect(await visibleText(page.locator('h1'))).toBe('Signed in');
    await page.getByRole('link', { name: 'Support access' }).click();
    await page.waitForURL(`${appUrl}/support-access`);
    expect(await visibleText(page.locator('h1'))).toBe('Support access');
  }

  async function grantsOfAcme(): Promise<WireAccessGrant[]> {
    const response = await server.fetch(`/v1/b2b/impersonation/access_grants?organization_id=${acme.organization_id}`);
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    return response.body.access_grants as WireAccessGrant[];
  }

  it('"Impersonations of me" lists the member’s own impersonations and what became of each, and nothing of anyone else', async () => {
    // Support impersonates Grace twice (one used and ended early, one never used), and Ada once.
    const used = await impersonate(server, grace, { reason: 'Ticket 11: cannot see invoices' });
    const ended = await server.fetch(REVOKE_IMPERSONATIONS, { method: 'POST', json: { member_session_id: used.redeemed.member_session?.member_session_id } });
    expect(ended.status).toBe(200);
    // The history is newest first by the time of the mint, which has whole seconds.
    clockOffsetMs += 2000;
    const unused = await mintToken(server, { organizationId: acme.organization_id, memberId: grace.member_id, impersonatorId: 'support-42', impersonatorEmailAddress: KIM, reason: 'Ticket 12: export fails' });
    await mintToken(server, { organizationId: acme.organization_id, memberId: ada.member_id, reason: 'Ticket 13: only about Ada' });

    const { page, errors } = await signedInAs(grace);
    await openSupportAccess(page);
    const history = page.getByRole('region', { name: 'Impersonations of me' });
    const rows = history.locator('tbody tr');
    expect(await rows.count()).toBe(2);
    // Newest first.
    expect(await rows.nth(0).getAttribute('data-token-id')).toBe(unused.token_id);
    const newest = await visibleText(rows.nth(0));
    expect(newest).toContain(KIM);
    expect(newest).toContain('Ticket 12: export fails');
    expect(newest).toContain(`Not used yet (until ${unused.expires_at})`);
    expect(await rows.nth(1).getAttribute('data-token-id')).toBe(used.minted.token_id);
    const older = await visibleText(rows.nth(1));
    expect(older).toContain(IMPERSONATOR.emailAddress);
    expect(older).toContain('Ticket 11: cannot see invoices');
    expect(older).toMatch(/Signed in as you at \S+; ended early at \S+/);
    expect(await visibleText(page.locator('body'))).not.toContain('Ticket 13');
    // A plain member may not open access for support: no form, and the page says why.
    expect(await page.locator('form[action="/support-access/grants"]').count()).toBe(0);
    expect(await visibleText(page.locator('body'))).toContain('Your role does not allow opening access for support');
    await screenshot(page, 'example-support-access-member');
    expect(errors).toEqual([]);
  });

  it('an admin opens access for chosen members with the form, sees it open, and revokes it with its button', async () => {
    const { page, errors } = await signedInAs(ada);
    await openSupportAccess(page);
    expect(await visibleText(page.locator('#access-mode'))).toBe('open');
    const form = page.locator('form[action="/support-access/grants"]');
    await form.getByLabel('Only these members').check();
    await form.getByLabel('Members (email addresses or member IDs, one per line)').fill(GRACE);
    await form.getByLabel('For').selectOption({ label: '4 hours' });
    await form.getByLabel('Reason').fill('Migration weekend');
    await screenshot(page, 'example-support-access-grant-form');
    await form.getByRole('button', { name: 'Open access' }).click();
    await page.waitForURL(`${appUrl}/support-access`);

    const [grant] = (await grantsOfAcme()).filter((candidate) => candidate.reason === 'Migration weekend');
    expect(grant).toMatchObject({ status: 'open', member_ids: [grace.member_id], duration_minutes: 240, opened_by: { type: 'member', member_id: ada.member_id } });
    const row = page.locator(`#access-grants tr[data-grant-id="${grant?.grant_id}"]`);
    const shown = await visibleText(row);
    expect(shown).toContain('open');
    expect(shown).toContain(grace.member_id);
    expect(shown).toContain(`a member (${ada.member_id})`);
    await screenshot(page, 'example-support-access-grant-open');

    await row.getByRole('button', { name: 'Revoke' }).click();
    await page.waitForURL(`${appUrl}/support-access`);
    expect(await visibleText(page.locator(`#access-grants tr[data-grant-id="${grant?.grant_id}"] td`).first())).toBe('revoked');
    expect(await page.locator(`#access-grants tr[data-grant-id="${grant?.grant_id}"]`).getByRole('button', { name: 'Revoke' }).count()).toBe(0);
    expect((await grantsOfAcme()).find((candidate) => candidate.grant_id === grant?.grant_id)).toMatchObject({ status: 'revoked', closed_by: { type: 'member', member_id: ada.member_id } });
    expect(errors).toEqual([]);
  });

  it('shows why Understudy refused a grant on the page, and refuses a form without its CSRF token', async () => {
    const { page, errors } = await signedInAs(ada);
    await openSupportAccess(page);
    const before = (await grantsOfAcme()).length;
    const form = page.locator('form[action="/support-access/grants"]');
    await form.getByLabel('Only these members').check();
    await form.getByLabel('Members (email addresses or member IDs, one per line)').fill('nobody@acme.example');
    await form.getByLabel('Reason').fill('Someone who is not a member');
    await form.getByRole('button', { name: 'Open access' }).click();
    await page.waitForURL(`${appUrl}/support-access/grants`);
    expect(await visibleText(page.getByRole('alert'))).not.toBe('');
    expect(await visibleText(page.locator('body'))).toContain('invalid_access_grant');
    expect(errors).toEqual([`400 ${appUrl}/support-access/grants`]);
    expect(await grantsOfAcme()).toHaveLength(before);

    // A form posted from elsewhere (no CSRF token) is refused before anything is called.
    const forged = await fetch(`${appUrl}/support-access/grants`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ scope: 'everyone', duration_minutes: '60', reason: 'forged' }),
    });
    expect(forged.status).toBe(403);
    expect(await grantsOfAcme()).toHaveLength(before);
  });

  it('support signed in as the member (through the app’s impersonation link) is not shown the member’s history', async () => {
    const minted = await mintToken(server, { organizationId: acme.organization_id, memberId: grace.member_id, reason: 'Ticket 14: curious' });
    const { page, errors } = await newPage();
    await page.goto(`${appUrl}/authenticate?stytch_token_type=multi_tenant_impersonation&token=${minted.impersonation_token}`);
    await page.waitForURL(`${appUrl}/`);
    expect(await visibleText(page.locator('dl'))).toContain('impersonated (impersonation)');
    await page.getByRole('link', { name: 'Support access' }).click();
    await page.waitForURL(`${appUrl}/support-access`);
    const history = await visibleText(page.getByRole('region', { name: 'Impersonations of me' }));
    expect(history).toContain('Not available to you');
    expect(history).toContain('member_impersonation_not_allowed');
    expect(await page.locator('#impersonations').count()).toBe(0);
    await screenshot(page, 'example-support-access-impersonated');
    expect(errors).toEqual([]);
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}
