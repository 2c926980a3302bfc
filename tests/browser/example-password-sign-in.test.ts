import type { Server } from 'node:http';
import { createServer } from 'node:net';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { B2BClient, type Organization } from 'stytch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExampleApp } from '../../examples/b2b-email-sign-in/app.mjs';
import { DEFAULT_PASSWORD_SETTINGS } from '../../src/domain/passwords/password-settings.js';
import { allTypes } from '../../src/domain/redirect-urls/redirect-url.js';
import { type ReceivedMessage, type SmtpTestServer, startSmtpTestServer } from '../support/smtp-test-server.js';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { collectPageErrors, HAS_CHROMIUM, launchBrowser, screenshot, visibleText } from './support/browser.js';

const ADA = 'ada@acme.example';
const GRACE = 'grace@acme.example';
/** zxcvbn scores it 0: a common password with a digit appended. */
const WEAK = 'password1';
const STRONG = 'quartz-lantern-1987-orbit';
const STRONGER = 'velvet-harbor-quince-2041';
/** Wrong passwords in a row that lock an address (Stytch's default is 10; fewer keeps the test short). */
const LOCK_THRESHOLD = 3;

/**
 * The example customer app (examples/b2b-email-sign-in) driven in Chromium for its password pages:
 * a member an admin added (who has no password, as every B2B member at first) chooses one through
 * "Forgot password?", with the link read from the message a real SMTP server in this process
 * received; signs out and back in with it; and gets the app's pages for a wrong password, a weak
 * new one, a used link and a locked address. The app talks to Understudy only through its own
 * official SDK client. SQLite only, like the other browser suites.
 */
describe.skipIf(!HAS_CHROMIUM)('example app: members sign in with a password, in Chromium (needs /usr/bin/chromium)', () => {
  let smtp: SmtpTestServer;
  let server: TestServer;
  let app: Server;
  let appUrl: string;
  let browser: Browser;
  let acme: Organization;
  const memberIds = { ada: '', grace: '' };
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    const port = await freePort();
    appUrl = `http://localhost:${port}`;
    smtp = await startSmtpTestServer();
    server = await startTestServer({
      config: {
        smtpUrl: smtp.url,
        smtpFrom: 'Example App <login@example-app.example>',
        // The reset page is allowed for reset_password but is not its default: a reset link that
        // lands on it shows that the app named it in its request.
        redirectUrls: [
          { url: `${appUrl}/authenticate`, types: allTypes(true) },
          { url: `${appUrl}/reset`, types: [{ type: 'reset_password', isDefault: false }] },
        ],
        passwords: { ...DEFAULT_PASSWORD_SETTINGS, userLockThreshold: LOCK_THRESHOLD },
      },
    });
    acme = (await server.client.organizations.create({ organization_name: 'Acme', organization_slug: 'acme' })).organization;
    for (const [key, email, name] of [
      ['ada', ADA, 'Ada Lovelace'],
      ['grace', GRACE, 'Grace Hopper'],
    ] as const) {
      const { member } = await server.client.organizations.members.create({ organization_id: acme.organization_id, email_address: email, name });
      // Added by an admin: active, and without a password until they choose one.
      expect(member.status).toBe('active');
      expect(member.member_password_id).toBe('');
      memberIds[key] = member.member_id;
    }
    const client = new B2BClient({ project_id: server.projectId, secret: server.secret, env: `${server.baseUrl}/` });
    app = createExampleApp({ client, appUrl });
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
    await smtp?.close();
  });

  async function newPage(): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
    const context = await browser.newContext({ viewport: { width: 1000, height: 800 } });
    contexts.push(context);
    context.setDefaultTimeout(10_000);
    const errors = collectPageErrors(context);
    return { context, page: await context.newPage(), errors };
  }

  async function nextMessage(seen: number, to: string): Promise<ReceivedMessage> {
    const messages = await smtp.waitForMessages(seen + 1, 10_000);
    const message = messages[seen] as ReceivedMessage;
    expect(message.to).toEqual([to]);
    return message;
  }

  /** A link in a message's plain text, as a mail client without HTML shows it. */
  function linkIn(message: ReceivedMessage, path: '/reset' | '/authenticate', type: string): string {
    const link = new RegExp(`${escapeRegExp(appUrl)}${path}\\?stytch_token_type=${type}&token=[A-Za-z0-9_-]+`).exec(message.text)?.[0];
    expect(link, message.text).toBeDefined();
    return link as string;
  }

  async function openForgotPassword(page: Page): Promise<void> {
    await page.getByRole('link', { name: 'Forgot password?' }).click();
    await page.waitForURL(new RegExp(`^${escapeRegExp(appUrl)}/password/forgot`));
    expect(await visibleText(page.locator('h1'))).toBe('Forgot your password?');
  }

  /**
   * The "Forgot password?" form filled in and sent; returns the reset link of the message received,
   * which must be the first received after `seen` messages.
   */
  async function askForResetLink(page: Page, email: string, seen = smtp.messages.length): Promise<{ link: string; message: ReceivedMessage }> {
    await page.getByLabel('Organization (slug or ID)').fill('acme');
    await page.getByLabel('Email').fill(email);
    await page.getByRole('button', { name: 'Email me a link' }).click();
    await page.waitForURL(`${appUrl}/password/forgot`);
    expect(await visibleText(page.locator('h1'))).toBe('Check your email');
    expect(await visibleText(page.locator('body'))).toContain(`If ${email} is a member of this organization, we sent it a link to choose a new password.`);
    const message = await nextMessage(seen, email);
    expect(message.subject).toBe('Reset your password for Acme on Understudy');
    return { link: linkIn(message, '/reset', 'multi_tenant_passwords'), message };
  }

  async function chooseNewPassword(page: Page, password: string): Promise<void> {
    expect(await visibleText(page.locator('h1'))).toBe('Choose a new password');
    await page.getByLabel('New password').fill(password);
    await page.getByRole('button', { name: 'Save password and sign in' }).click();
  }

  async function signInWithPassword(page: Page, email: string, password: string): Promise<void> {
    const form = page.locator('form[action="/login/password"]');
    await form.getByLabel('Organization (slug or ID)').fill('acme');
    await form.getByLabel('Email').fill(email);
    await form.getByLabel('Password').fill(password);
    await form.getByRole('button', { name: 'Sign in' }).click();
  }

  async function expectSignedIn(page: Page, email: string, memberId: string, name: string): Promise<void> {
    await page.waitForURL(`${appUrl}/`);
    expect(await visibleText(page.locator('h1'))).toBe('Signed in');
    const details = await visibleText(page.locator('dl'));
    expect(details).toContain(email);
    expect(details).toContain(`${acme.organization_name} (${acme.organization_slug})`);
    expect(details).toContain(`${memberId} (active)`);
    expect(details).toContain('password (knowledge)');
    expect(await visibleText(page.locator('body'))).toContain(`Welcome, ${name}.`);
  }

  async function signOut(page: Page): Promise<void> {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(`${appUrl}/`);
    await expectSignedOut(page);
  }

  async function expectSignedOut(page: Page): Promise<void> {
    await page.goto(`${appUrl}/`);
    expect(await visibleText(page.locator('h1'))).toBe('Sign in');
    expect(await page.getByRole('button', { name: 'Sign out' }).count()).toBe(0);
  }

  it('a member an admin added chooses a first password through "Forgot password?": a weak one is refused, a strong one signs her in; she then signs out and in with it, and a wrong password shows the error', async () => {
    const { context, page, errors } = await newPage();
    await page.goto(`${appUrl}/`);
    expect(await visibleText(page.locator('h1'))).toBe('Sign in');
    expect(await visibleText(page.locator('section h2').first())).toBe('Sign in with a password');
    await screenshot(page, 'example-password-sign-in-forms');

    await openForgotPassword(page);
    await screenshot(page, 'example-password-forgot');
    // An address that is not a member gets the same page (the form tells nobody who is a member), and no message.
    const seen = smtp.messages.length;
    await page.getByLabel('Organization (slug or ID)').fill('acme');
    await page.getByLabel('Email').fill('nobody@acme.example');
    await page.getByRole('button', { name: 'Email me a link' }).click();
    await page.waitForURL(`${appUrl}/password/forgot`);
    expect(await visibleText(page.locator('h1'))).toBe('Check your email');
    expect(await visibleText(page.locator('body'))).toContain('If nobody@acme.example is a member of this organization, we sent it a link to choose a new password.');
    await page.goBack();
    const { link, message } = await askForResetLink(page, ADA, seen);
    await screenshot(page, 'example-password-reset-sent');
    // The message also offers a way in without a password: an ordinary sign-in link to the app.
    linkIn(message, '/authenticate', 'multi_tenant_magic_links');

    // Ada reads the message in another tab, as her mail client shows its HTML, and presses its button.
    const inbox = await context.newPage();
    await inbox.setContent(message.html);
    await screenshot(inbox, 'example-password-reset-email');
    const button = inbox.getByRole('link', { name: 'Reset password' });
    expect(await button.getAttribute('href')).toBe(link);
    await button.click();
    await inbox.waitForURL(link);
    expect(await visibleText(inbox.locator('h1'))).toBe('Choose a new password');
    await screenshot(inbox, 'example-password-reset-form');

    // Too weak: refused with the reason and the strength check's advice, the form ready again.
    await chooseNewPassword(inbox, WEAK);
    await inbox.waitForURL(`${appUrl}/reset`);
    expect(await visibleText(inbox.locator('h1'))).toBe('Choose a new password');
    expect(await visibleText(inbox.getByRole('alert'))).toBe('That password is too weak. Choose a longer one that is harder to guess.');
    expect(await visibleText(inbox.locator('p.muted code'))).toBe('weak_password');
    const strength = inbox.getByRole('region', { name: 'Password strength' });
    expect(await visibleText(strength)).toMatch(/\b[0-2] of 4 \(3 needed\)/);
    expect(await inbox.getByLabel('New password').inputValue()).toBe('');
    await screenshot(inbox, 'example-password-reset-weak');
    expect(errors).toEqual([`400 ${appUrl}/reset`]);
    errors.length = 0;
    await expectSignedOut(page);

    // The same link, a strong password: Ada is signed in with it.
    await chooseNewPassword(inbox, STRONG);
    await expectSignedIn(inbox, ADA, memberIds.ada, 'Ada Lovelace');
    await screenshot(inbox, 'example-password-reset-signed-in');
    const { member } = await server.client.organizations.members.get({ organization_id: acme.organization_id, member_id: memberIds.ada });
    expect(member.member_password_id).not.toBe('');
    await signOut(inbox);

    // The link works once: its form shows again, but saving says the link no longer works.
    await inbox.goto(link);
    await chooseNewPassword(inbox, STRONGER);
    await inbox.waitForURL(`${appUrl}/reset`);
    expect(await visibleText(inbox.locator('h1'))).toBe('This link no longer works');
    expect(await visibleText(inbox.getByRole('alert'))).toBe('The password reset link has expired or was already used.');
    await screenshot(inbox, 'example-password-reset-used-twice');
    expect(errors).toEqual([`401 ${appUrl}/reset`]);
    errors.length = 0;
    await expectSignedOut(inbox);

    // Signing in with the password chosen (the second one never was).
    await page.goto(`${appUrl}/`);
    await signInWithPassword(page, ADA, STRONG);
    await expectSignedIn(page, ADA, memberIds.ada, 'Ada Lovelace');
    await screenshot(page, 'example-password-signed-in');
    await signOut(page);

    // A wrong password: the error, the form again with the organization and address kept, nobody signed in.
    await signInWithPassword(page, ADA, STRONGER);
    await page.waitForURL(`${appUrl}/login/password`);
    expect(await visibleText(page.locator('h1'))).toBe('Sign in with a password');
    expect(await visibleText(page.getByRole('alert'))).toMatch(/password/i);
    expect(await visibleText(page.locator('p.muted code'))).toBe('unauthorized_credentials');
    expect(await page.getByLabel('Organization (slug or ID)').inputValue()).toBe('acme');
    expect(await page.getByLabel('Email').inputValue()).toBe(ADA);
    expect(await page.getByLabel('Password').inputValue()).toBe('');
    await screenshot(page, 'example-password-wrong');
    expect(errors).toEqual([`401 ${appUrl}/login/password`]);
    await expectSignedOut(page);
  });

  it(`${LOCK_THRESHOLD} wrong passwords in a row lock the address: the right one then gets "try again later"; choosing a new password lifts the lock`, async () => {
    // Grace's first password, set as a backend would, through the SDK and the link she was mailed.
    const seen = smtp.messages.length;
    await server.client.passwords.email.resetStart({ organization_id: acme.organization_id, email_address: GRACE, reset_password_redirect_url: `${appUrl}/reset` });
    const token = new URL(linkIn(await nextMessage(seen, GRACE), '/reset', 'multi_tenant_passwords')).searchParams.get('token') as string;
    await server.client.passwords.email.reset({ password_reset_token: token, password: STRONG });

    const { page, errors } = await newPage();
    await page.goto(`${appUrl}/`);
    for (let attempt = 1; attempt <= LOCK_THRESHOLD; attempt += 1) {
      if (attempt > 1) await page.goto(`${appUrl}/`);
      await signInWithPassword(page, GRACE, `${STRONGER}-${attempt}`);
      await page.waitForURL(`${appUrl}/login/password`);
      expect(await visibleText(page.locator('p.muted code'))).toBe('unauthorized_credentials');
    }

    await page.goto(`${appUrl}/`);
    await signInWithPassword(page, GRACE, STRONG);
    await page.waitForURL(`${appUrl}/login/password`);
    expect(await visibleText(page.locator('h1'))).toBe('Sign in with a password');
    expect(await visibleText(page.getByRole('alert'))).toBe(
      'Too many wrong passwords: signing in with a password is locked for now. Try again later, or choose a new password with "Forgot password?".',
    );
    expect(await visibleText(page.locator('p.muted code'))).toBe('user_lock_limit_reached');
    await screenshot(page, 'example-password-locked');
    expect(errors).toEqual([...Array.from({ length: LOCK_THRESHOLD }, () => `401 ${appUrl}/login/password`), `429 ${appUrl}/login/password`]);
    errors.length = 0;
    const other = await page.context().newPage();
    await expectSignedOut(other);
    await other.close();
    const locked = await server.client.organizations.members.get({ organization_id: acme.organization_id, member_id: memberIds.grace });
    expect(locked.member.is_locked).toBe(true);

    // "Forgot password?" from the refusal keeps the organization and address; a new password signs her in.
    await openForgotPassword(page);
    expect(page.url()).toBe(`${appUrl}/password/forgot?organization=acme&email=${encodeURIComponent(GRACE)}`);
    expect(await page.getByLabel('Organization (slug or ID)').inputValue()).toBe('acme');
    expect(await page.getByLabel('Email').inputValue()).toBe(GRACE);
    const { link } = await askForResetLink(page, GRACE);
    await page.goto(link);
    await chooseNewPassword(page, STRONGER);
    await expectSignedIn(page, GRACE, memberIds.grace, 'Grace Hopper');
    await signOut(page);

    // Unlocked: the new password signs her in.
    await signInWithPassword(page, GRACE, STRONGER);
    await expectSignedIn(page, GRACE, memberIds.grace, 'Grace Hopper');
    expect(errors).toEqual([]);
  });
});

/** A port nothing listens on right now (the app listens on it a moment later). */
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

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
