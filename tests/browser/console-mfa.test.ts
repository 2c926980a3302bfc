import { randomBytes } from 'node:crypto';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { Member } from 'stytch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newTotpSecret, totpCode } from '../../src/crypto/totp.js';
import { ManualClock } from '../../src/platform/clock.js';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { collectPageErrors, type ConsoleOperator, createOperator, HAS_CHROMIUM, launchBrowser, screenshot, signIn, submitPassword, visibleText } from './support/browser.js';

const REASON = 'Ticket 8120: phone lost, member verified by video call';

// Skipped (with this reason) only where /usr/bin/chromium is missing; CI installs it.
describe.skipIf(!HAS_CHROMIUM)('console MFA pages in Chromium (needs /usr/bin/chromium)', () => {
  const clock = new ManualClock('2026-03-02T09:00:00Z');
  let server: TestServer;
  let browser: Browser;
  let admin: ConsoleOperator;
  let ann: Member;
  let annSecret: string;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    server = await startTestServer({ clock });
    browser = await launchBrowser();
    admin = await createOperator(server.server.app.services, 'admin', 'ada');
    const { organization } = await server.client.organizations.create({ organization_name: 'Acme MFA Works', organization_slug: 'acme-mfa' });
    const created = await server.client.organizations.members.create({ organization_id: organization.organization_id, email_address: 'ann@acme-mfa.example', name: 'Ann Example' });
    annSecret = newTotpSecret(randomBytes(20));
    const totp = await server.client.totps.migrate({ organization_id: organization.organization_id, member_id: created.member.member_id, secret: annSecret, recovery_codes: [] });
    ann = totp.member;
  });

  afterAll(async () => {
    await Promise.all(contexts.map((context) => context.close()));
    await browser?.close();
    await server?.stop();
  });

  async function newPage(): Promise<{ page: Page; errors: string[] }> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    contexts.push(context);
    context.setDefaultTimeout(10_000);
    const errors = collectPageErrors(context);
    return { page: await context.newPage(), errors };
  }

  /** Fills the code field of the page (after moving the server's clock to a step not used yet) and submits. */
  async function enterCode(page: Page, label: string, secret: string, button: string): Promise<void> {
    clock.advance(30_000);
    await page.getByLabel(label).fill(totpCode(secret, clock.now()));
    await page.getByRole('button', { name: button }).click();
  }

  it('an admin resets a member’s TOTP with a reason after a confirmation page, and finds it in the audit trail', async () => {
    const { page, errors } = await newPage();
    await signIn(page, server.baseUrl, clock, admin);
    await page.goto(`${server.baseUrl}/console/organizations/${ann.organization_id}/members/${ann.member_id}`);
    const mfa = page.locator('section[aria-labelledby="mfa"]');
    const before = await visibleText(mfa);
    expect(before).toContain('Multi-factor authentication');
    expect(before).toContain(`active ${ann.totp_registration_id}`);
    expect(await visibleText(page.locator('main'))).not.toContain(annSecret);
    await screenshot(page, 'member-mfa');

    await mfa.getByRole('link', { name: 'Reset TOTP…' }).click();
    await page.waitForURL(`**/members/${ann.member_id}/reset-totp`);
    expect(await visibleText(page.locator('h2#confirm'))).toBe('Reset TOTP of ann@acme-mfa.example (Acme MFA Works)?');
    await page.getByLabel('Reason (required, e.g. the ticket)').fill(REASON);
    await screenshot(page, 'member-reset-totp-confirm');
    await page.getByRole('button', { name: 'Reset TOTP' }).click();
    await page.waitForURL(`**/members/${ann.member_id}?reset=reset-totp`);
    expect(await visibleText(mfa.getByRole('status'))).toBe('TOTP reset.');
    expect(await visibleText(mfa)).toMatch(/TOTP\s+none/);
    expect((await server.client.organizations.members.get({ organization_id: ann.organization_id, member_id: ann.member_id })).member.totp_registration_id).toBe('');

    await mfa.getByRole('link', { name: "Show this member's events" }).click();
    await page.waitForURL('**/console/audit?trail=member**');
    const row = page.locator('main tbody tr', { hasText: 'member.totp_deleted' });
    const text = await visibleText(row);
    expect(text).toContain(REASON);
    expect(text).toContain(`operator ${admin.emailAddress}`);
    expect(text).toContain(ann.member_id);
    await screenshot(page, 'audit-member-trail');
    expect(errors).toEqual([]);
  });

  it('an operator replaces their own authenticator: password and current code, a QR code shown once, a mistyped code changes nothing, the new code does', async () => {
    const sam = await createOperator(server.server.app.services, 'support', 'sam');
    const { page, errors } = await newPage();
    await signIn(page, server.baseUrl, clock, sam);
    await page.getByRole('link', { name: 'Your account' }).click();
    await page.waitForURL('**/console/account');
    await page.getByLabel('Password').fill(sam.password);
    await enterCode(page, 'Current code from your authenticator app', sam.totpSecret ?? '', 'Get a new secret');
    await page.waitForURL('**/console/account/totp');
    const qr = page.locator('svg.qr');
    expect((await qr.boundingBox())?.width).toBeGreaterThan(150);
    const secret = (await visibleText(page.locator('#totp-secret'))).trim();
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(await visibleText(page.locator('#totp-uri'))).toContain(`secret=${secret}`);
    await screenshot(page, 'account-new-authenticator');

    // A typo: the same secret again, and the old authenticator still signs in meanwhile.
    await page.getByLabel('Code from the new authenticator entry').fill('000000');
    await page.getByRole('button', { name: 'Confirm new authenticator' }).click();
    await page.getByRole('alert').waitFor();
    expect(await visibleText(page.getByRole('alert'))).toContain('That code does not match the new authenticator entry.');
    expect((await visibleText(page.locator('#totp-secret'))).trim()).toBe(secret);

    await enterCode(page, 'Code from the new authenticator entry', secret, 'Confirm new authenticator');
    await page.waitForURL('**/console/account?totp=replaced');
    expect(await visibleText(page.getByRole('status'))).toContain('Your new authenticator is set up.');
    await screenshot(page, 'account-authenticator-replaced');

    // Signing in again takes a code from the new secret.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL('**/console/login');
    await signIn(page, server.baseUrl, clock, { ...sam, totpSecret: secret });
    expect(errors).toEqual([`401 ${server.baseUrl}/console/account/totp/confirm`]);
  });

  it('after an admin resets an operator’s TOTP, their next sign-in sets up a new authenticator before any page', async () => {
    const vic = await createOperator(server.server.app.services, 'support', 'vic');
    const adminPage = await newPage();
    await signIn(adminPage.page, server.baseUrl, clock, admin);
    await adminPage.page.getByRole('link', { name: 'Operators' }).click();
    await adminPage.page.locator('main tbody tr', { hasText: vic.emailAddress }).getByRole('link', { name: 'Reset TOTP…' }).click();
    await adminPage.page.getByLabel('Reason (required, e.g. the ticket)').fill('Ticket 8121: new phone');
    await adminPage.page.getByRole('button', { name: 'Reset TOTP' }).click();
    await adminPage.page.waitForURL('**/console/operators?totp_reset=**');
    expect(await visibleText(adminPage.page.getByRole('status'))).toContain(`TOTP of ${vic.emailAddress} reset`);

    const { page, errors } = await newPage();
    await submitPassword(page, server.baseUrl, vic.emailAddress, vic.password);
    await page.waitForURL(/\/console\/login\/totp/);
    expect(await visibleText(page.locator('h1'))).toBe('Set up your authenticator');
    const secret = (await visibleText(page.locator('#totp-secret'))).trim();
    await screenshot(page, 'sign-in-set-up-authenticator');
    await enterCode(page, 'Code from the new authenticator entry', secret, 'Confirm new authenticator');
    await page.waitForURL(/\/console\/organizations$/);
    expect(await visibleText(page.locator('header'))).toContain('vic');
    expect(errors).toEqual([]);
  });
});
