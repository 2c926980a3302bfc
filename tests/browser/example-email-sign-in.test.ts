import type { Server } from 'node:http';
import { createServer } from 'node:net';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { B2BClient, type Organization } from 'stytch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExampleApp } from '../../examples/b2b-email-sign-in/app.mjs';
import { allTypes } from '../../src/domain/redirect-urls/redirect-url.js';
import { type ReceivedMessage, type SmtpTestServer, startSmtpTestServer } from '../support/smtp-test-server.js';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { collectPageErrors, HAS_CHROMIUM, launchBrowser, screenshot, visibleText } from './support/browser.js';

const ADA = 'ada@acme.example';

/**
 * The example customer app (examples/b2b-email-sign-in) driven in Chromium as a member uses it:
 * forms filled in and submitted, links and codes read from the messages a real SMTP server in this
 * process received (what would land in the member's inbox), and the app's pages checked for who is
 * signed in. The app talks to Understudy only through its own official SDK client. SQLite only, like
 * the other browser suites: the database makes no difference to what the pages show.
 */
describe.skipIf(!HAS_CHROMIUM)('example app: members sign in by email, in Chromium (needs /usr/bin/chromium)', () => {
  let smtp: SmtpTestServer;
  let server: TestServer;
  let app: Server;
  let appUrl: string;
  let browser: Browser;
  let acme: Organization;
  let globex: Organization;
  /** Ada's member id in each organization. */
  const adaIn = { acme: '', globex: '' };
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    // The redirect URL names the app's port, and Understudy reads it from its configuration at start.
    const port = await freePort();
    appUrl = `http://localhost:${port}`;
    smtp = await startSmtpTestServer();
    server = await startTestServer({
      config: {
        smtpUrl: smtp.url,
        smtpFrom: 'Example App <login@example-app.example>',
        redirectUrls: [{ url: `${appUrl}/authenticate`, types: allTypes(true) }],
      },
    });
    acme = (await server.client.organizations.create({ organization_name: 'Acme', organization_slug: 'acme' })).organization;
    globex = (await server.client.organizations.create({ organization_name: 'Globex', organization_slug: 'globex' })).organization;
    for (const [key, organization] of [['acme', acme], ['globex', globex]] as const) {
      const { member } = await server.client.organizations.members.create({ organization_id: organization.organization_id, email_address: ADA, name: 'Ada Lovelace' });
      expect(member.status).toBe('active');
      adaIn[key] = member.member_id;
    }
    // The app's own SDK client, built the way its server.mjs builds one.
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

  /** The next message the SMTP server accepts for `to`, after the `seen` it had before the send. */
  async function nextMessage(seen: number, to: string): Promise<ReceivedMessage> {
    const messages = await smtp.waitForMessages(seen + 1, 10_000);
    const message = messages[seen] as ReceivedMessage;
    expect(message.to).toEqual([to]);
    return message;
  }

  /** The sign-in link in a message's plain text, as a mail client without HTML shows it. */
  function linkIn(message: ReceivedMessage, type: 'multi_tenant_magic_links' | 'discovery'): string {
    const link = new RegExp(`${escapeRegExp(appUrl)}/authenticate\\?stytch_token_type=${type}&token=[A-Za-z0-9_-]+`).exec(message.text)?.[0];
    expect(link, message.text).toBeDefined();
    return link as string;
  }

  async function expectSignedIn(page: Page, organization: Organization, memberId: string, factor: string): Promise<void> {
    await page.waitForURL(`${appUrl}/`);
    expect(await visibleText(page.locator('h1'))).toBe('Signed in');
    const details = await visibleText(page.locator('dl'));
    expect(details).toContain(ADA);
    expect(details).toContain(`${organization.organization_name} (${organization.organization_slug})`);
    expect(details).toContain(`${memberId} (active)`);
    expect(details).toContain(factor);
    expect(await visibleText(page.locator('body'))).toContain('Welcome, Ada Lovelace.');
  }

  async function expectSignedOut(page: Page): Promise<void> {
    await page.goto(`${appUrl}/`);
    expect(await visibleText(page.locator('h1'))).toBe('Sign in');
    expect(await page.getByRole('button', { name: 'Sign out' }).count()).toBe(0);
  }

  it('magic link: the form sends an email, the button in the received message signs Ada in to Acme; signing out ends it and the link does not work twice', async () => {
    const { context, page, errors } = await newPage();
    await page.goto(`${appUrl}/`);
    expect(await visibleText(page.locator('h1'))).toBe('Sign in');
    await screenshot(page, 'example-sign-in-forms');

    const seen = smtp.messages.length;
    const form = page.locator('form[action="/login/magic-link"]');
    await form.getByLabel('Organization (slug or ID)').fill('acme');
    await form.getByLabel('Email').fill(ADA);
    await form.getByRole('button', { name: 'Email me a link' }).click();
    await page.waitForURL(`${appUrl}/login/magic-link`);
    expect(await visibleText(page.locator('h1'))).toBe('Check your email');
    expect(await visibleText(page.locator('body'))).toContain(`We sent a sign-in link to ${ADA}.`);
    await screenshot(page, 'example-magic-link-sent');

    const message = await nextMessage(seen, ADA);
    expect(message.subject).toBe('Your sign-in link for Acme on Understudy');
    const link = linkIn(message, 'multi_tenant_magic_links');

    // Read the message as a mail client shows its HTML, in another tab, and press its button, as Ada would.
    const inbox = await context.newPage();
    await inbox.setContent(message.html);
    await screenshot(inbox, 'example-magic-link-email');
    const button = inbox.getByRole('link', { name: 'Sign in' });
    expect(await button.getAttribute('href')).toBe(link);
    await button.click();
    await expectSignedIn(inbox, acme, adaIn.acme, 'magic_link (email)');
    await screenshot(inbox, 'example-magic-link-signed-in');
    // The app's first tab, reloaded, shares the browser's session cookie.
    await page.goto(`${appUrl}/`);
    await expectSignedIn(page, acme, adaIn.acme, 'magic_link (email)');

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(`${appUrl}/`);
    expect(await visibleText(page.locator('h1'))).toBe('Sign in');
    await expectSignedOut(page);
    await screenshot(page, 'example-signed-out');

    // A magic link works once: opened again, the app shows Understudy's refusal and signs nobody in.
    const again = await page.goto(link);
    expect(again?.status()).toBe(401);
    expect(await visibleText(page.locator('h1'))).toBe('That did not work');
    expect(await visibleText(page.locator('.muted code'))).toBe('unable_to_auth_magic_link');
    await screenshot(page, 'example-magic-link-used-twice');
    await expectSignedOut(page);

    expect(errors).toEqual([`401 ${link}`]);
  });

  it('discovery: the link from the received message lists both of Ada’s organizations; picking Globex signs her in there', async () => {
    const { page, errors } = await newPage();
    await page.goto(`${appUrl}/`);
    const seen = smtp.messages.length;
    const form = page.locator('form[action="/discovery/send"]');
    await form.getByLabel('Email').fill(ADA);
    await form.getByRole('button', { name: 'Email me a link' }).click();
    await page.waitForURL(`${appUrl}/discovery/send`);
    expect(await visibleText(page.locator('h1'))).toBe('Check your email');
    await screenshot(page, 'example-discovery-sent');

    const message = await nextMessage(seen, ADA);
    expect(message.subject).toBe('Your sign-in link for Understudy');
    await page.goto(linkIn(message, 'discovery'));
    expect(await visibleText(page.locator('h1'))).toBe('Choose an organization');
    expect(await visibleText(page.locator('body'))).toContain(`Signed in as ${ADA}. Where to?`);
    expect((await page.locator('section h2').allInnerTexts()).sort()).toEqual(['Acme', 'Create an organization', 'Globex']);
    for (const name of ['Acme', 'Globex']) {
      expect(await visibleText(page.locator('section', { has: page.getByRole('heading', { name, exact: true }) }))).toContain('You are a member.');
    }
    await screenshot(page, 'example-discovery-organizations');

    await page.getByRole('button', { name: 'Continue to Globex' }).click();
    await expectSignedIn(page, globex, adaIn.globex, 'magic_link (email)');
    await screenshot(page, 'example-discovery-signed-in');

    expect(errors).toEqual([]);
  });

  it('discovery for a new address: no organization is listed; creating one signs the member in as its first member', async () => {
    const { page, errors } = await newPage();
    const grace = 'grace@newco.example';
    await page.goto(`${appUrl}/`);
    const seen = smtp.messages.length;
    const form = page.locator('form[action="/discovery/send"]');
    await form.getByLabel('Email').fill(grace);
    await form.getByRole('button', { name: 'Email me a link' }).click();
    await page.waitForURL(`${appUrl}/discovery/send`);

    await page.goto(linkIn(await nextMessage(seen, grace), 'discovery'));
    expect(await visibleText(page.locator('h1'))).toBe('Choose an organization');
    expect(await visibleText(page.locator('body'))).toContain('You are not a member of any organization yet.');
    await page.getByLabel('Name').fill('Newco Labs');
    await page.getByLabel('Slug (optional)').fill('newco-labs');
    await screenshot(page, 'example-discovery-create');
    await page.getByRole('button', { name: 'Create and sign in' }).click();

    await page.waitForURL(`${appUrl}/`);
    expect(await visibleText(page.locator('h1'))).toBe('Signed in');
    const details = await visibleText(page.locator('dl'));
    expect(details).toContain(grace);
    expect(details).toContain('Newco Labs (newco-labs)');
    expect(details).toContain('(active)');
    await screenshot(page, 'example-discovery-created-signed-in');

    // The organization exists for the project, with Grace as its one member.
    const { organizations } = await server.client.organizations.search({ query: { operator: 'AND', operands: [{ filter_name: 'organization_slugs', filter_value: ['newco-labs'] }] } });
    expect(organizations.map((organization) => organization.organization_name)).toEqual(['Newco Labs']);
    const { members } = await server.client.organizations.members.search({ organization_ids: [organizations[0]?.organization_id as string] });
    expect(members.map((member) => [member.email_address, member.status])).toEqual([[grace, 'active']]);
    expect(errors).toEqual([]);
  });

  it('one-time code: the code from the received message signs Ada in to Acme; a wrong code first shows an error and signs nobody in', async () => {
    const { page, errors } = await newPage();
    await page.goto(`${appUrl}/`);
    const seen = smtp.messages.length;
    const form = page.locator('form[action="/login/code"]');
    await form.getByLabel('Organization (slug or ID)').fill('acme');
    await form.getByLabel('Email').fill(ADA);
    await form.getByRole('button', { name: 'Email me a code' }).click();
    await page.waitForURL(`${appUrl}/login/code`);
    expect(await visibleText(page.locator('h1'))).toBe('Enter your code');
    expect(await visibleText(page.locator('body'))).toContain(`We sent a code to ${ADA}.`);
    await screenshot(page, 'example-code-sent');

    const message = await nextMessage(seen, ADA);
    expect(message.subject).toBe('Your sign-in code for Acme on Understudy');
    const code = /^\s+(\d{6})$/m.exec(message.text)?.[1];
    expect(code, message.text).toBeDefined();
    const wrong = String((Number(code) + 1) % 1_000_000).padStart(6, '0');

    await page.getByLabel('Code').fill(wrong);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${appUrl}/login/code/verify`);
    expect(await visibleText(page.locator('h1'))).toBe('Enter your code');
    expect(await visibleText(page.getByRole('alert'))).toMatch(/code/i);
    expect(await page.getByLabel('Code').inputValue()).toBe('');
    await screenshot(page, 'example-code-wrong');
    expect(errors).toEqual([`400 ${appUrl}/login/code/verify`]);
    errors.length = 0;

    // Still signed out, in another tab of the same browser.
    const other = await page.context().newPage();
    await expectSignedOut(other);
    await other.close();

    // The form is shown again, ready for the right code.
    await page.getByLabel('Code').fill(code as string);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expectSignedIn(page, acme, adaIn.acme, 'email_otp (email)');
    await screenshot(page, 'example-code-signed-in');
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
