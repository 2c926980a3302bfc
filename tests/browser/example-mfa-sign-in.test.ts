import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { B2BClient, type Member, type Organization } from 'stytch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExampleApp } from '../../examples/b2b-email-sign-in/app.mjs';
import { newTotpSecret, totpCode } from '../../src/crypto/totp.js';
import { ManualClock } from '../../src/platform/clock.js';
import { allTypes } from '../../src/domain/redirect-urls/redirect-url.js';
import { linkToken, listEmails, waitForEmail } from '../support/outbox.js';
import { waitForSms } from '../support/sms.js';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { argon2idOf, PASSWORD } from '../conformance/stytch-sdk/passwords-sign-in-fixtures.js';
import { collectPageErrors, HAS_CHROMIUM, launchBrowser, screenshot, visibleText } from './support/browser.js';

const ADA = 'ada@secure.example';

/**
 * The example customer app (examples/b2b-email-sign-in) driven in Chromium for an organization that
 * requires MFA of every member: Ada, added by an admin with no second factor, signs in with an
 * emailed link (read from Understudy's outbox), is asked to set up an authenticator app, and types
 * the code her app would show for the key on the page (computed here from that key at the server's
 * clock); she lands signed in with both factors. A member whose app was set up before (totps.migrate)
 * is asked only for its code, or takes one of their recovery codes; a member with a verified phone is
 * texted a code at once (read from the SMS outbox). Each test sets up the member it signs in. The app talks to Understudy only through its own official SDK client.
 * SQLite only, like the other browser suites.
 */
describe.skipIf(!HAS_CHROMIUM)('example app: MFA with an authenticator app, in Chromium (needs /usr/bin/chromium)', () => {
  let server: TestServer;
  let clock: ManualClock;
  let app: Server;
  let appUrl: string;
  let browser: Browser;
  let organization: Organization;
  let ada: Member;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    // The app's address is part of its redirect URLs, so its port is bound first (port 0: whichever is
    // free) and the example app, created once the address is known, answers that server's requests.
    app = createServer();
    await new Promise<void>((resolve, reject) => {
      app.once('error', reject);
      app.listen(0, '127.0.0.1', () => resolve());
    });
    appUrl = `http://localhost:${(app.address() as AddressInfo).port}`;
    clock = new ManualClock(new Date());
    server = await startTestServer({ clock, config: { redirectUrls: [{ url: `${appUrl}/authenticate`, types: allTypes(true) }] } });
    organization = (await server.client.organizations.create({ organization_name: 'Secure Co', organization_slug: 'secure-co', mfa_policy: 'REQUIRED_FOR_ALL' })).organization;
    ada = (await server.client.organizations.members.create({ organization_id: organization.organization_id, email_address: ADA, name: 'Ada Lovelace' })).member;
    expect(ada).toMatchObject({ status: 'active', totp_registration_id: '', mfa_phone_number: '' });
    const client = new B2BClient({ project_id: server.projectId, secret: server.secret, env: `${server.baseUrl}/` });
    const example = createExampleApp({ client, appUrl });
    app.on('request', (request, response) => example.emit('request', request, response));
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

  async function newPage(): Promise<{ page: Page; errors: string[] }> {
    const context = await browser.newContext({ viewport: { width: 1000, height: 900 } });
    contexts.push(context);
    context.setDefaultTimeout(10_000);
    const errors = collectPageErrors(context);
    return { page: await context.newPage(), errors };
  }

  /** Fills the email-link form and follows the link the outbox received, as the member opening their email would. */
  async function signInByLink(page: Page, address = ADA): Promise<void> {
    const [latest] = await listEmails(server, address);
    await page.goto(`${appUrl}/`);
    const form = page.locator('form[action="/login/magic-link"]');
    await form.getByLabel('Organization (slug or ID)').fill('secure-co');
    await form.getByLabel('Email').fill(address);
    await form.getByRole('button', { name: 'Email me a link' }).click();
    await page.waitForURL(`${appUrl}/login/magic-link`);
    expect(await visibleText(page.locator('h1'))).toBe('Check your email');
    const message = await waitForEmail(server, address, { template: 'login', ...(latest && { after: latest }) });
    const link = message.link as string;
    expect(link.startsWith(`${appUrl}/authenticate?`)).toBe(true);
    expect(linkToken(link)).not.toBe('');
    await page.goto(link);
  }

  /**
   * A member whose authenticator app was set up before (imported with totps.migrate, active at once):
   * the key the app holds and the recovery codes minted for it.
   */
  async function memberWithAuthenticatorApp(emailAddress: string): Promise<{ member: Member; secret: string; recoveryCodes: string[] }> {
    const { member } = await server.client.organizations.members.create({ organization_id: organization.organization_id, email_address: emailAddress });
    const secret = newTotpSecret(randomBytes(20));
    const migrated = await server.client.totps.migrate({ organization_id: organization.organization_id, member_id: member.member_id, secret, recovery_codes: [] });
    expect(migrated.recovery_codes).toHaveLength(10);
    return { member: migrated.member, secret, recoveryCodes: migrated.recovery_codes };
  }

  async function expectSignedInWithBothFactors(page: Page, factors: string, member: Member = ada): Promise<void> {
    await page.waitForURL(`${appUrl}/`);
    expect(await visibleText(page.locator('h1'))).toBe('Signed in');
    const details = await visibleText(page.locator('dl'));
    expect(details).toContain(member.email_address);
    expect(details).toContain('Secure Co (secure-co)');
    expect(details).toContain(`${member.member_id} (active)`);
    expect(details).toContain(factors);
  }

  it('first sign-in: the link leads to setting up an authenticator app (QR code, key, recovery codes); its code signs Ada in with both factors', async () => {
    const { page, errors } = await newPage();
    await signInByLink(page);

    expect(await visibleText(page.locator('h1'))).toBe('Set up your authenticator app');
    // The QR code is totps.create's data: URL, and the browser renders it (the page's CSP allows data: images).
    const qr = page.getByRole('img', { name: 'QR code for your authenticator app' });
    expect(await qr.getAttribute('src')).toMatch(/^data:image\/png;base64, /);
    expect(
      await qr.evaluate((element) => {
        const image = element as unknown as { complete: boolean; naturalWidth: number };
        return image.complete && image.naturalWidth > 0;
      }),
    ).toBe(true);
    const secret = (await visibleText(page.locator('#totp-secret'))).trim();
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    const recoveryCodes = await page.locator('#recovery-codes li').allInnerTexts();
    expect(recoveryCodes).toHaveLength(10);
    for (const code of recoveryCodes) expect(code).toMatch(/^[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}$/);
    await screenshot(page, 'example-mfa-totp-enrolment');
    // Pending until its first code: nobody is signed in yet.
    expect((await server.client.sessions.get({ organization_id: organization.organization_id, member_id: ada.member_id })).member_sessions).toEqual([]);

    await page.getByLabel('6-digit code from your authenticator app').fill(totpCode(secret, clock.now()));
    await page.getByRole('button', { name: 'Verify and sign in' }).click();
    await expectSignedInWithBothFactors(page, 'magic_link (email), totp (authenticator_app)');
    await screenshot(page, 'example-mfa-signed-in');

    // What Understudy holds: one session with both factors, and Ada's app registered.
    const { member_sessions: sessions } = await server.client.sessions.get({ organization_id: organization.organization_id, member_id: ada.member_id });
    expect(sessions.map((session) => session.authentication_factors.map((factor) => [factor.type, factor.delivery_method]))).toEqual([
      [
        ['magic_link', 'email'],
        ['totp', 'authenticator_app'],
      ],
    ]);
    const { member } = await server.client.organizations.members.get({ organization_id: organization.organization_id, member_id: ada.member_id });
    expect(member.totp_registration_id).not.toBe('');
    expect(errors).toEqual([]);
  });

  it('next sign-in: only the code is asked for; a wrong one shows an error and signs nobody in, the right one signs the member in', async () => {
    const bob = await memberWithAuthenticatorApp('bob@secure.example');
    const { page, errors } = await newPage();
    await signInByLink(page, bob.member.email_address);
    expect(await visibleText(page.locator('h1'))).toBe('Enter your authenticator code');
    expect(await page.getByRole('img').count()).toBe(0);
    expect(await page.locator('#totp-secret').count()).toBe(0);

    const code = totpCode(bob.secret, clock.now());
    const wrong = String((Number(code) + 500_000) % 1_000_000).padStart(6, '0');
    await page.getByLabel('6-digit code from your authenticator app').fill(wrong);
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.waitForURL(`${appUrl}/mfa/totp`);
    expect(await visibleText(page.locator('h1'))).toBe('Enter your authenticator code');
    expect(await visibleText(page.getByRole('alert'))).not.toBe('');
    await screenshot(page, 'example-mfa-wrong-code');
    expect(errors).toEqual([`401 ${appUrl}/mfa/totp`]);
    errors.length = 0;
    expect((await server.client.sessions.get({ organization_id: organization.organization_id, member_id: bob.member.member_id })).member_sessions).toEqual([]);

    await page.getByLabel('6-digit code from your authenticator app').fill(code);
    await page.getByRole('button', { name: 'Verify' }).click();
    await expectSignedInWithBothFactors(page, 'magic_link (email), totp (authenticator_app)', bob.member);
    expect(errors).toEqual([]);
  });

  it("a lost device: one of the member's recovery codes signs them in instead of the app's code", async () => {
    const carol = await memberWithAuthenticatorApp('carol@secure.example');
    const { page, errors } = await newPage();
    await signInByLink(page, carol.member.email_address);
    expect(await visibleText(page.locator('h1'))).toBe('Enter your authenticator code');
    await page.getByLabel('Recovery code').fill(carol.recoveryCodes[0] as string);
    await page.getByRole('button', { name: 'Use recovery code' }).click();
    await expectSignedInWithBothFactors(page, 'magic_link (email), recovery_codes (recovery_code)', carol.member);
    expect(errors).toEqual([]);
  });

  it('a member with a verified phone: the sign-in texts a code at once (read from the SMS outbox); it signs her in', async () => {
    const grace = 'grace@secure.example';
    const phone = '+14155550142';
    // Imported from another system with a phone already verified there.
    const { member } = await server.client.passwords.migrate({
      organization_id: organization.organization_id,
      email_address: grace,
      hash: await argon2idOf(PASSWORD),
      hash_type: 'argon_2id',
      mfa_phone_number: phone,
      set_phone_number_verified: true,
    });
    const { page, errors } = await newPage();
    await signInByLink(page, grace);
    expect(await visibleText(page.locator('h1'))).toBe('Enter the code we texted you');
    expect(await visibleText(page.locator('body'))).toContain(`We texted a code to ${phone}.`);
    const code = (await waitForSms(server, phone)).code as string;
    expect(code).toMatch(/^\d{6}$/);
    await page.getByLabel('Code from the text message').fill(code);
    await page.getByRole('button', { name: 'Verify' }).click();
    await expectSignedInWithBothFactors(page, 'magic_link (email), otp (sms)', member);
    await screenshot(page, 'example-mfa-sms-signed-in');
    expect(errors).toEqual([]);
  });
});
