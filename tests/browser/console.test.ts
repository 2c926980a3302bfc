import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { Member } from 'stytch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { totpCode } from '../../src/crypto/totp.js';
import { ManualClock } from '../../src/platform/clock.js';
import { activeImpersonations, auditEvents, policyPath } from '../support/impersonation.js';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { startAppUnderTest, type AppUnderTest } from './support/app-under-test.js';
import { collectPageErrors, type ConsoleOperator, createOperator, HAS_CHROMIUM, launchBrowser, screenshot, screenshotWhileLoading, signIn, visibleText } from './support/browser.js';

const REASON = 'Ticket 4711: invoices page is empty';

// Skipped (with this reason) only where /usr/bin/chromium is missing; CI installs it.
describe.skipIf(!HAS_CHROMIUM)('operator console in Chromium (needs /usr/bin/chromium)', () => {
  const clock = new ManualClock('2026-03-02T09:00:00Z');
  let server: TestServer;
  let app: AppUnderTest;
  let browser: Browser;
  let admin: ConsoleOperator;
  let support: ConsoleOperator;
  let ann: Member;
  let bob: Member;
  let emptyOrganizationId: string;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    server = await startTestServer({ clock });
    [app, browser] = await Promise.all([startAppUnderTest(server.client), launchBrowser()]);
    const { services } = server.server.app;
    admin = await createOperator(services, 'admin', 'ada');
    support = await createOperator(services, 'support', 'sam');
    const organizations = server.client.organizations;
    for (const name of ['Initech', 'Globex Widgets', 'Umbrella Labs']) await organizations.create({ organization_name: name, organization_slug: name.toLowerCase().replace(' ', '-') });
    const acme = (await organizations.create({ organization_name: 'Acme Rocket Works', organization_slug: 'acme-rocket' })).organization;
    ann = (await organizations.members.create({ organization_id: acme.organization_id, email_address: 'ann@acme-rocket.example', name: 'Ann Example' })).member;
    const globex = (await organizations.create({ organization_name: 'No Redirect Corp', organization_slug: 'no-redirect' })).organization;
    bob = (await organizations.members.create({ organization_id: globex.organization_id, email_address: 'bob@no-redirect.example', name: 'Bob Example' })).member;
    emptyOrganizationId = (await organizations.create({ organization_name: 'Brand New Inc', organization_slug: 'brand-new' })).organization.organization_id;
    const policy = await server.fetch(policyPath(acme.organization_id), { method: 'PUT', json: { impersonation_redirect_url: app.authenticateUrl } });
    expect(policy.status, JSON.stringify(policy.body)).toBe(200);
  });

  afterAll(async () => {
    await Promise.all(contexts.map((context) => context.close()));
    await browser?.close();
    await app?.stop();
    await server?.stop();
  });

  async function newPage(options: { width?: number; clipboard?: boolean } = {}): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
    const context = await browser.newContext({ viewport: { width: options.width ?? 1280, height: 800 } });
    contexts.push(context);
    context.setDefaultTimeout(10_000);
    if (options.clipboard) await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.baseUrl });
    const errors = collectPageErrors(context);
    const page = await context.newPage();
    page.on('dialog', (dialog) => void dialog.accept());
    return { context, page, errors };
  }

  it('signs in, finds the organization by part of its name, impersonates a member in a new tab that the SDK accepts as this operator, audits, lists and revokes it', async () => {
    const { context, page, errors } = await newPage();
    const hosts = new Set<string>();
    context.on('request', (request) => hosts.add(new URL(request.url()).host));

    await page.goto(`${server.baseUrl}/console/login`);
    await screenshot(page, 'login');
    await page.getByLabel('Email address').fill(support.emailAddress);
    await page.getByLabel('Password').fill(support.password);
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.waitForURL(/\/console\/login\/totp/);
    await screenshot(page, 'totp');
    clock.advance(30_000);
    await page.getByLabel('6-digit code from your authenticator app').fill(totpCode(support.totpSecret ?? '', clock.now()));
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(/\/console\/organizations$/);

    await page.getByLabel('Name, slug or id').fill('rocket');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.waitForURL(/\/console\/organizations\?q=rocket/);
    expect(await page.locator('main tbody tr').allInnerTexts()).toEqual([expect.stringContaining('Acme Rocket Works')]);
    await screenshot(page, 'organizations');

    await page.getByRole('link', { name: 'Acme Rocket Works' }).click();
    await page.waitForURL(`**/console/organizations/${ann.organization_id}`);
    expect(await visibleText(page.locator('h1'))).toBe('Acme Rocket Works');
    expect(await visibleText(page.locator('main'))).toContain(app.authenticateUrl);
    await screenshot(page, 'organization');

    await page.getByRole('link', { name: ann.email_address }).click();
    await page.waitForURL(`**/members/${ann.member_id}`);
    expect(await visibleText(page.locator('h1'))).toBe(ann.email_address);
    await screenshot(page, 'member');

    // Hold the new tab's console.js (which navigates on to the application) until the result page is photographed.
    let release = () => {};
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    await context.route('**/console/assets/console.js', async (route) => {
      if (route.request().frame().page() !== page) await released;
      await route.continue();
    });
    await page.getByLabel('Reason (required, e.g. the ticket)').fill(REASON);
    const [popup] = await Promise.all([page.waitForEvent('popup'), page.getByRole('button', { name: 'Impersonate' }).click()]);
    await popup.getByRole('status').waitFor();
    expect(await visibleText(popup.locator('main'))).toContain(`Impersonation of ${ann.email_address} started`);
    await screenshotWhileLoading(popup, 'impersonation-result');
    release();

    await popup.waitForURL(`${app.authenticateUrl}?**`);
    expect(new URL(popup.url()).searchParams.get('stytch_token_type')).toBe('multi_tenant_impersonation');
    expect(await visibleText(popup.locator('#member-email'))).toBe(ann.email_address);
    expect(await visibleText(popup.locator('#impersonator-email'))).toBe(support.emailAddress);
    const memberSessionId = await visibleText(popup.locator('#member-session-id'));
    const sessionToken = (await popup.locator('#session').getAttribute('data-session-token')) ?? '';
    await screenshot(popup, 'app-after-impersonation');

    expect(await activeImpersonations(server, { organization_id: ann.organization_id })).toEqual([
      expect.objectContaining({ member_session_id: memberSessionId, member_id: ann.member_id, impersonator_id: support.operatorId, impersonator_email_address: support.emailAddress, reason: REASON }),
    ]);
    expect((await server.client.sessions.authenticate({ session_token: sessionToken })).member_session.member_session_id).toBe(memberSessionId);

    // The member's page now shows the session and who is behind it.
    await page.reload();
    expect(await visibleText(page.locator('#sessions ~ .table-wrap'))).toContain(`impersonated by ${support.emailAddress}`);
    expect(await visibleText(page.locator('#history ~ .table-wrap'))).toContain(REASON);

    await page.getByRole('link', { name: 'Audit trail' }).click();
    await page.waitForURL('**/console/audit');
    for (const type of ['impersonation.token_minted', 'impersonation.token_redeemed']) {
      const row = await visibleText(page.locator('main tbody tr', { hasText: type }));
      expect(row, type).toContain(REASON);
      expect(row, type).toContain(support.emailAddress);
      expect(row, type).toContain(ann.member_id);
    }
    await screenshot(page, 'audit');

    await page.getByRole('link', { name: 'Active impersonations' }).click();
    await page.waitForURL('**/console/impersonations');
    const row = page.locator('main tbody tr', { hasText: ann.member_id });
    expect(await visibleText(row)).toContain(support.emailAddress);
    expect(await visibleText(row)).toContain(REASON);
    await screenshot(page, 'impersonations');
    await row.getByRole('button', { name: 'Revoke' }).click();
    await page.waitForURL('**/console/impersonations?revoked=1');
    expect(await visibleText(page.getByRole('status'))).toBe('Revoked 1 impersonated session(s).');
    expect(await visibleText(page.locator('main'))).toContain('Nobody is impersonating a member right now.');

    await expect(server.client.sessions.authenticate({ session_token: sessionToken })).rejects.toMatchObject({ error_type: 'session_not_found' });
    expect(await activeImpersonations(server, { organization_id: ann.organization_id })).toEqual([]);
    expect((await auditEvents(server, { member_id: ann.member_id })).map((event) => event.type)).toContain('impersonation.session_revoked');

    // Only the console and the customer's app were contacted: no CDN, fonts or analytics.
    expect([...hosts].sort()).toEqual([new URL(server.baseUrl).host, new URL(app.origin).host].sort());
    expect(errors).toEqual([]);
  });

  it('without a redirect URL, asks for a fresh TOTP code after 5 minutes and shows the token with a Copy button; the SDK accepts the copied token', async () => {
    const { page, errors } = await newPage({ clipboard: true });
    await signIn(page, server.baseUrl, clock, admin);
    clock.advance(6 * 60_000);
    await page.goto(`${server.baseUrl}/console/organizations/${bob.organization_id}/members/${bob.member_id}`);
    await page.getByLabel('Reason (required, e.g. the ticket)').fill('Ticket 99: export fails');
    await page.getByLabel('Current code from your authenticator app').fill(totpCode(admin.totpSecret ?? '', clock.now()));
    const [popup] = await Promise.all([page.waitForEvent('popup'), page.getByRole('button', { name: 'Impersonate' }).click()]);
    await popup.waitForLoadState();
    expect(popup.url()).toBe(`${server.baseUrl}/console/organizations/${bob.organization_id}/members/${bob.member_id}/impersonate`);
    const token = (await visibleText(popup.locator('#token'))).trim();
    expect(token).toMatch(/^[A-Za-z0-9_-]{44}$/);
    await popup.getByRole('button', { name: 'Copy token' }).click();
    await popup.getByRole('button', { name: 'Copied' }).waitFor();
    // A string, so this Node-typed file needs no DOM types.
    expect(await popup.evaluate('navigator.clipboard.readText()')).toBe(token);
    await screenshot(popup, 'impersonation-token');

    const redeemed = await server.client.impersonation.authenticate({ impersonation_token: token });
    expect(redeemed.member.email_address).toBe(bob.email_address);
    expect(redeemed.member_session?.authentication_factors[0]?.impersonated_factor).toMatchObject({ impersonator_id: admin.operatorId, impersonator_email_address: admin.emailAddress });
    expect(errors).toEqual([]);
  });

  it('works from the keyboard (Enter submits sign-in, Tab reaches the skip link then the search field), sends a strict CSP and a HttpOnly SameSite=Strict cookie', async () => {
    const { context, page, errors } = await newPage();
    const response = await page.goto(`${server.baseUrl}/console/login`);
    const csp = response?.headers()['content-security-policy'] ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(response?.headers()['x-frame-options']).toBe('DENY');

    // The email field has autofocus (applied by Chromium just after load): type, Tab, type, Enter.
    await page.locator('#email:focus').waitFor();
    await page.keyboard.type(admin.emailAddress);
    await page.keyboard.press('Tab');
    await page.keyboard.type(admin.password);
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/console\/login\/totp/);
    await page.locator('#code:focus').waitFor();
    clock.advance(30_000);
    await page.keyboard.type(totpCode(admin.totpSecret ?? '', clock.now()));
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/console\/organizations$/);

    const cookie = (await context.cookies(`${server.baseUrl}/console/`)).find((candidate) => candidate.name === 'understudy_console');
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/console' });

    await page.reload();
    await page.keyboard.press('Tab');
    const focused = page.locator(':focus');
    expect(await visibleText(focused)).toBe('Skip to content');
    expect(await focused.getAttribute('href')).toBe('#main');
    expect((await page.getByRole('link', { name: 'Skip to content' }).boundingBox())?.x).toBeGreaterThanOrEqual(0);
    await page.keyboard.press('Enter');
    await page.keyboard.press('Tab');
    expect(await focused.getAttribute('id')).toBe('q');

    await page.getByRole('link', { name: 'Operators' }).click();
    await page.waitForURL('**/console/operators');
    const operatorsText = await visibleText(page.locator('main'));
    expect(operatorsText).toContain(admin.emailAddress);
    expect(operatorsText).toContain(support.emailAddress);
    await screenshot(page, 'operators');
    expect(errors).toEqual([]);
  });

  it('fits a 375-pixel-wide phone screen without sideways scrolling', async () => {
    const { page, errors } = await newPage({ width: 375 });
    await signIn(page, server.baseUrl, clock, admin);
    await screenshot(page, 'organizations-375px');
    expect(await page.locator('html').evaluate((root) => root.scrollWidth)).toBeLessThanOrEqual(375);
    // Long ids scroll inside the table instead of being broken into one-character lines.
    const rowHeights = await page.locator('main tbody tr').evaluateAll((rows) => rows.map((row) => row.getBoundingClientRect().height));
    expect(rowHeights.length).toBe(6);
    for (const height of rowHeights) expect(height).toBeLessThan(100);
    expect(await page.getByLabel('Name, slug or id').isVisible()).toBe(true);
    expect(errors).toEqual([]);
  });

  it('shows the "no members yet" empty state for a new organization', async () => {
    const { page } = await newPage();
    await signIn(page, server.baseUrl, clock, admin);
    await page.goto(`${server.baseUrl}/console/organizations/${emptyOrganizationId}`);
    expect(await visibleText(page.locator('#members ~ p.empty'))).toContain('This organization has no members yet.');
    await screenshot(page, 'organization-empty');
  });
});
