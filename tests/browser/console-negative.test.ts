import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { Member } from 'stytch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { totpCode } from '../../src/crypto/totp.js';
import { ManualClock } from '../../src/platform/clock.js';
import { auditEvents, policyPath } from '../support/impersonation.js';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { type ConsoleOperator, createOperator, HAS_CHROMIUM, launchBrowser, screenshot, signIn, submitPassword, visibleText } from './support/browser.js';

const WRONG_CREDENTIALS = 'The email address, password or code is wrong.';
const MINUTE = 60_000;

// Skipped (with this reason) only where /usr/bin/chromium is missing; CI installs it.
describe.skipIf(!HAS_CHROMIUM)('operator console refusals in Chromium (needs /usr/bin/chromium)', () => {
  const clock = new ManualClock('2026-03-02T09:00:00Z');
  let server: TestServer;
  let browser: Browser;
  let member: Member;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    server = await startTestServer({ clock });
    browser = await launchBrowser();
    const organization = (await server.client.organizations.create({ organization_name: 'Hooli', organization_slug: 'hooli' })).organization;
    member = (await server.client.organizations.members.create({ organization_id: organization.organization_id, email_address: 'gavin@hooli.example' })).member;
  });

  afterAll(async () => {
    await Promise.all(contexts.map((context) => context.close()));
    await browser?.close();
    await server?.stop();
  });

  async function newPage(): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    contexts.push(context);
    context.setDefaultTimeout(10_000);
    const page = await context.newPage();
    page.on('dialog', (dialog) => void dialog.accept());
    return { context, page };
  }

  function operator(role: 'admin' | 'support' | 'viewer', label: string): Promise<ConsoleOperator> {
    return createOperator(server.server.app.services, role, label);
  }

  async function sessionCookie(context: BrowserContext) {
    return (await context.cookies(`${server.baseUrl}/console/`)).find((cookie) => cookie.name === 'understudy_console');
  }

  /** Submits the current page's form by clicking `button`, returning the answer to the POST. */
  async function submit(page: Page, button: string) {
    const [response] = await Promise.all([page.waitForResponse((candidate) => candidate.request().method() === 'POST'), page.getByRole('button', { name: button }).click()]);
    await page.waitForLoadState();
    return response;
  }

  it('refuses a wrong password with an error and stays on the sign-in page, keeping the email address', async () => {
    const { context, page } = await newPage();
    const sam = await operator('support', 'wrong-password');
    await page.goto(`${server.baseUrl}/console/login`);
    await page.getByLabel('Email address').fill(sam.emailAddress);
    await page.getByLabel('Password').fill('not the password at all');
    expect((await submit(page, 'Continue')).status()).toBe(401);
    expect(new URL(page.url()).pathname).toBe('/console/login');
    expect(await visibleText(page.getByRole('alert'))).toBe(WRONG_CREDENTIALS);
    expect(await page.getByLabel('Email address').inputValue()).toBe(sam.emailAddress);
    expect(await sessionCookie(context)).toBeUndefined();
    await screenshot(page, 'login-wrong-password');
  });

  it('refuses a wrong TOTP code with an error, and the half-signed-in browser cannot open any page', async () => {
    const { page } = await newPage();
    const sam = await operator('support', 'wrong-totp');
    await submitPassword(page, server.baseUrl, sam.emailAddress, sam.password);
    await page.waitForURL(/\/console\/login\/totp/);
    const right = totpCode(sam.totpSecret ?? '', clock.now());
    await page.getByLabel('6-digit code from your authenticator app').fill(right === '123456' ? '654321' : '123456');
    expect((await submit(page, 'Sign in')).status()).toBe(401);
    expect(await visibleText(page.getByRole('alert'))).toBe(WRONG_CREDENTIALS);
    await screenshot(page, 'totp-wrong-code');
    await page.goto(`${server.baseUrl}/console/organizations`);
    expect(new URL(page.url()).pathname).toBe('/console/login');
  });

  it('locks the operator out after 5 wrong passwords: the 6th attempt, with the right password, is refused like a wrong one', async () => {
    const { context, page } = await newPage();
    const sam = await operator('support', 'lockout');
    for (let attempt = 1; attempt <= 5; attempt += 1) {
      await submitPassword(page, server.baseUrl, sam.emailAddress, `wrong password number ${attempt}`);
      expect(await visibleText(page.getByRole('alert')), `attempt ${attempt}`).toBe(WRONG_CREDENTIALS);
    }
    await page.goto(`${server.baseUrl}/console/login`);
    await page.getByLabel('Email address').fill(sam.emailAddress);
    await page.getByLabel('Password').fill(sam.password);
    // The same answer as a wrong password or an unknown address: sign-in does not reveal who is locked.
    expect((await submit(page, 'Continue')).status()).toBe(401);
    expect(new URL(page.url()).pathname).toBe('/console/login');
    expect(await visibleText(page.getByRole('alert'))).toBe(WRONG_CREDENTIALS);
    expect(await page.getByText('After 5 failed attempts in a row, signing in is locked for 15 minutes.').isVisible()).toBe(true);
    expect(await sessionCookie(context)).toBeUndefined();
    await screenshot(page, 'login-locked');
  });

  it('shows a viewer no Impersonate button and refuses their forged impersonation POST with 403, minting no token', async () => {
    const { page } = await newPage();
    const viewer = await operator('viewer', 'viewer');
    expect(viewer.totpSecret).toBeNull();
    await signIn(page, server.baseUrl, clock, viewer);
    await page.goto(`${server.baseUrl}/console/organizations/${member.organization_id}/members/${member.member_id}`);
    expect(await page.getByRole('button', { name: 'Impersonate' }).count()).toBe(0);
    expect(await visibleText(page.locator('main'))).toContain('Your role can view members but not impersonate them.');
    await screenshot(page, 'member-viewer');

    const csrf = await page.locator('input[name="_csrf"]').first().inputValue();
    const forged = await page.evaluate(
      async ({ url, csrf }) => {
        const response = await fetch(url, { method: 'POST', body: new URLSearchParams({ _csrf: csrf, reason: 'x' }) });
        return { status: response.status, text: await response.text() };
      },
      { url: `/console/organizations/${member.organization_id}/members/${member.member_id}/impersonate`, csrf },
    );
    expect(forged.status).toBe(403);
    // Refused for the role, not for a bad CSRF token: the token was this session's own.
    expect(forged.text).toContain('Your role does not allow this.');
    expect((await auditEvents(server, { member_id: member.member_id })).map((event) => event.type)).not.toContain('impersonation.token_minted');
    await page.getByRole('link', { name: 'Audit trail' }).click();
    await page.waitForURL('**/console/audit');
    expect(await visibleText(page.locator('main'))).not.toContain('token_minted');
  });

  it('refuses a form posted without its CSRF token with 403 and changes nothing (the policy form, as an admin)', async () => {
    const { page } = await newPage();
    const admin = await operator('admin', 'csrf-admin');
    await signIn(page, server.baseUrl, clock, admin);
    await page.goto(`${server.baseUrl}/console/organizations/${member.organization_id}`);
    await page.getByLabel('Redirect URL (empty for none)').fill('https://attacker.example/collect');
    await page.locator('form[action$="/policy"] input[name="_csrf"]').evaluate((input) => input.remove());
    expect((await submit(page, 'Save policy')).status()).toBe(403);
    expect(await visibleText(page.getByRole('alert'))).toContain('The form has expired or did not come from this console.');
    await screenshot(page, 'policy-without-csrf');
    const policy = await server.fetch(policyPath(member.organization_id));
    expect(policy.body).toMatchObject({ impersonation_redirect_url: null, impersonation_enabled: true, updated_at: null });
    expect((await auditEvents(server, { organization_id: member.organization_id })).map((event) => event.type)).not.toContain('impersonation.policy_updated');

    // The same form with its token is accepted: the refusal above was for the missing token alone.
    await page.goto(`${server.baseUrl}/console/organizations/${member.organization_id}`);
    await page.getByLabel('Redirect URL (empty for none)').fill('https://app.hooli.example/impersonate');
    expect((await submit(page, 'Save policy')).status()).toBe(303);
    expect(await visibleText(page.getByRole('status'))).toBe('Impersonation policy saved.');
    expect((await server.fetch(policyPath(member.organization_id))).body).toMatchObject({ impersonation_redirect_url: 'https://app.hooli.example/impersonate' });
  });

  it('ends a console session idle for 31 minutes (29 do not); signing in again returns to the page the operator was on', async () => {
    const { page } = await newPage();
    const sam = await operator('support', 'idle');
    await signIn(page, server.baseUrl, clock, sam);
    const memberPath = `/console/organizations/${member.organization_id}/members/${member.member_id}`;
    await page.goto(`${server.baseUrl}${memberPath}`);
    clock.advance(29 * MINUTE);
    await page.reload();
    expect(new URL(page.url()).pathname).toBe(memberPath);
    clock.advance(31 * MINUTE);
    await page.reload();
    expect(new URL(page.url()).pathname).toBe('/console/login');
    expect(new URL(page.url()).searchParams.get('next')).toBe(memberPath);
    await screenshot(page, 'session-idle-expired');

    await page.getByLabel('Email address').fill(sam.emailAddress);
    await page.getByLabel('Password').fill(sam.password);
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.waitForURL(/\/console\/login\/totp/);
    clock.advance(30_000);
    await page.getByLabel('6-digit code from your authenticator app').fill(totpCode(sam.totpSecret ?? '', clock.now()));
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`**${memberPath}`);
    expect(await visibleText(page.locator('h1'))).toBe(member.email_address);
  });

  it('ends a console session 8 hours after sign-in even with activity every 20 minutes', async () => {
    const { page } = await newPage();
    const sam = await operator('support', 'absolute');
    await signIn(page, server.baseUrl, clock, sam);
    // signIn spent 30 s between password and code; the 8 hours run from the password.
    for (let step = 1; step <= 23; step += 1) {
      clock.advance(20 * MINUTE);
      await page.reload();
      expect(new URL(page.url()).pathname, `after ${step * 20} minutes`).toBe('/console/organizations');
    }
    clock.advance(20 * MINUTE);
    await page.reload();
    expect(new URL(page.url()).pathname).toBe('/console/login');
  });

  it('signs out to the sign-in page, after which the old cookie opens nothing', async () => {
    const { context, page } = await newPage();
    const sam = await operator('support', 'sign-out');
    await signIn(page, server.baseUrl, clock, sam);
    const cookie = await sessionCookie(context);
    expect(cookie).toBeDefined();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL('**/console/login');
    expect(await page.getByLabel('Password').isVisible()).toBe(true);
    expect(await sessionCookie(context)).toBeUndefined();
    await screenshot(page, 'signed-out');

    const replay = await fetch(`${server.baseUrl}/console/organizations`, { headers: { cookie: `understudy_console=${cookie?.value}` }, redirect: 'manual' });
    expect(replay.status).toBe(303);
    expect(replay.headers.get('location')).toMatch(/^\/console\/login\?next=/);
  });
});
