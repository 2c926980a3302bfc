import type { Server } from 'node:http';
import { createServer } from 'node:net';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { Webhook } from 'standardwebhooks';
import { B2BClient, type Member, type Organization } from 'stytch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExampleApp } from '../../examples/b2b-email-sign-in/app.mjs';
import { allTypes } from '../../src/domain/redirect-urls/redirect-url.js';
import { ManualClock } from '../../src/platform/clock.js';
import { ACCESS_GRANTS, listGrants, setPolicy, type WireAccessGrant } from '../support/access-grants.js';
import { expectErrorResponse, IMPERSONATOR, mintBody, mintRaw, type MintedToken } from '../support/impersonation.js';
import { type ReceivedMessage, type SmtpTestServer, startSmtpTestServer } from '../support/smtp-test-server.js';
import { STORES } from '../support/stores.js';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { type ReceivedWebhook, startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';
import { collectPageErrors, HAS_CHROMIUM, launchBrowser, screenshot, visibleText } from './support/browser.js';

const ADA = 'ada@acme.example';
const ANN = 'ann@acme.example';
const BOB = 'bob@acme.example';
const TICKET = 'Ticket 5120: Ann cannot export invoices';
const GRANT_REASON = 'Ann’s export problem (ticket 5120)';
const ENDPOINTS = '/v1/b2b/impersonation/webhooks/endpoints';
const DELIVERIES = '/v1/b2b/impersonation/webhooks/deliveries';
const MINUTE = 60_000;

/**
 * The whole consent story of a customer, the way its people and the vendor's support meet it:
 * Acme says support may impersonate only under a grant, with the member told and Acme's own webhook
 * receiver told of every step. Support is refused; Acme's admin signs in to the example customer app
 * (examples/b2b-email-sign-in) in Chromium with a magic link read from a real SMTP server and opens
 * access for Ann alone on its "Support access" page; support may then impersonate Ann (only Ann);
 * Ann gets the email saying who, why and until when, with a link to end it; the receiver gets
 * signed events it verifies with the `standardwebhooks` package; when the grant runs out (the
 * server's clock moved by hand) support is refused again and the impersonated session is over; and
 * the audit chain still verifies.
 *
 * Standard Webhooks receivers refuse a `webhook-timestamp` more than five minutes from their own
 * clock, and the server signs with its (injected) clock: the clock starts two minutes behind the
 * real one and moves four minutes forward before support mints, so every event the receiver must
 * accept is within its tolerance. Events after the clock jumps past the grant's end are not checked.
 */
describe.skipIf(!HAS_CHROMIUM).each(STORES)('example app: a customer consents to support access, end to end ($name; needs /usr/bin/chromium)', ({ name: store }) => {
  let clock: ManualClock;
  let smtp: SmtpTestServer;
  let receiver: WebhookReceiver;
  let server: TestServer;
  let app: Server;
  let appUrl: string;
  let publicUrl: string;
  let browser: Browser;
  let acme: Organization;
  let ada: Member;
  let ann: Member;
  let bob: Member;
  /** The secret the endpoint's creation answered; the receiver checks every delivery with it. */
  let webhookSecret = '';
  /** Deliveries whose signature (and timestamp) checked out, as the receiver accepted them. */
  const verified: ReceivedWebhook['body'][] = [];
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    clock = new ManualClock(new Date(Date.now() - 2 * MINUTE));
    // Both ports are chosen first: the magic link's redirect URL names the app, and the end link
    // in the notification names Understudy's public URL, here the server itself.
    const [appPort, serverPort] = [await freePort(), await freePort()];
    appUrl = `http://localhost:${appPort}`;
    publicUrl = `http://127.0.0.1:${serverPort}`;
    smtp = await startSmtpTestServer();
    receiver = await startWebhookReceiver({
      // A customer's receiver: accepts what verifies with the endpoint's secret, refuses the rest.
      script: (_attempt, request) => {
        try {
          const payload = new Webhook(webhookSecret).verify(request.raw, {
            'webhook-id': String(request.headers['webhook-id']),
            'webhook-timestamp': String(request.headers['webhook-timestamp']),
            'webhook-signature': String(request.headers['webhook-signature']),
          });
          verified.push(payload as ReceivedWebhook['body']);
          return 204;
        } catch {
          return 401;
        }
      },
    });
    server = await startTestServer({
      store,
      clock,
      config: {
        port: serverPort,
        publicUrl,
        smtpUrl: smtp.url,
        smtpFrom: 'Example App <login@example-app.example>',
        redirectUrls: [{ url: `${appUrl}/authenticate`, types: allTypes(true) }],
      },
    });
    expect(server.baseUrl).toBe(publicUrl);
    // The app's own SDK client and extension settings, built the way its server.mjs builds them.
    const client = new B2BClient({ project_id: server.projectId, secret: server.secret, env: `${server.baseUrl}/` });
    app = createExampleApp({ client, appUrl, understudy: { url: server.baseUrl, projectId: server.projectId, secret: server.secret } });
    await new Promise<void>((resolve, reject) => {
      app.once('error', reject);
      app.listen(appPort, '127.0.0.1', () => resolve());
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
    await receiver?.close();
    await smtp?.close();
  });

  async function newPage(): Promise<{ page: Page; errors: string[] }> {
    const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
    contexts.push(context);
    context.setDefaultTimeout(10_000);
    const errors = collectPageErrors(context);
    return { page: await context.newPage(), errors };
  }

  /** The first message the SMTP server accepted for `to` whose subject starts with `subject`. */
  async function messageTo(to: string, subject: string): Promise<ReceivedMessage> {
    const deadline = performance.now() + 10_000;
    for (;;) {
      const found = smtp.messages.find((message) => message.to.includes(to) && message.subject.startsWith(subject));
      if (found !== undefined) return found;
      if (performance.now() > deadline) throw new Error(`no message "${subject}…" for ${to}; received: ${smtp.messages.map((m) => `${m.to.join(',')}: ${m.subject}`).join('; ')}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** Support's mint for `member` with the project's credentials, as the vendor's support tool calls it. */
  function supportMints(member: Member) {
    return mintRaw(server, mintBody({ organizationId: acme.organization_id, memberId: member.member_id, reason: TICKET }));
  }

  it('refused without consent; the admin opens access for Ann in the app; support impersonates Ann only; Ann is told; the receiver verifies every event; it ends with the grant; the chain verifies', async () => {
    // 2. The vendor sets Acme up with the official SDK, and Acme's policy and webhook endpoint.
    acme = (await server.client.organizations.create({ organization_name: 'Acme', organization_slug: 'acme' })).organization;
    const organization_id = acme.organization_id;
    ada = (await server.client.organizations.members.create({ organization_id, email_address: ADA, name: 'Ada Lovelace', roles: ['stytch_admin'] })).member;
    ann = (await server.client.organizations.members.create({ organization_id, email_address: ANN, name: 'Ann Example' })).member;
    bob = (await server.client.organizations.members.create({ organization_id, email_address: BOB, name: 'Bob Example' })).member;
    const policy = await setPolicy(server, organization_id, { access_mode: 'by_grant', notify_member: true });
    expect(policy.body).toMatchObject({ access_mode: 'by_grant', notify_member: true, notify_admins: false });
    const endpoint = await server.fetch(ENDPOINTS, { method: 'POST', json: { organization_id, url: receiver.url, description: 'Acme security inbox' } });
    expect(endpoint.status, JSON.stringify(endpoint.body)).toBe(200);
    expect(endpoint.body.endpoint).toMatchObject({ organization_id, url: receiver.url, disabled_at: null });
    webhookSecret = endpoint.body.secret as string;
    expect(webhookSecret).toMatch(/^whsec_/);

    // 3. Support tries before anyone at Acme said yes.
    expectErrorResponse(await supportMints(ann), 403, 'impersonation_access_not_granted');

    // 4. Ada signs in to the app with a magic link and opens access for Ann alone, for an hour.
    const { page, errors } = await newPage();
    await page.goto(`${appUrl}/`);
    expect(await visibleText(page.locator('h1'))).toBe('Sign in');
    const signIn = page.locator('form[action="/login/magic-link"]');
    await signIn.getByLabel('Organization (slug or ID)').fill('acme');
    await signIn.getByLabel('Email').fill(ADA);
    await signIn.getByRole('button', { name: 'Email me a link' }).click();
    await page.waitForURL(`${appUrl}/login/magic-link`);
    expect(await visibleText(page.locator('h1'))).toBe('Check your email');
    const signInMessage = await messageTo(ADA, 'Your sign-in link for Acme');
    const signInLink = new RegExp(`${escapeRegExp(appUrl)}/authenticate\\?stytch_token_type=multi_tenant_magic_links&token=[A-Za-z0-9_-]+`).exec(signInMessage.text)?.[0];
    expect(signInLink, signInMessage.text).toBeDefined();
    await page.goto(signInLink as string);
    await page.waitForURL(`${appUrl}/`);
    expect(await visibleText(page.locator('h1'))).toBe('Signed in');
    expect(await visibleText(page.locator('dl'))).toContain(ADA);

    await page.getByRole('link', { name: 'Support access' }).click();
    await page.waitForURL(`${appUrl}/support-access`);
    expect(await visibleText(page.locator('h1'))).toBe('Support access');
    expect(await visibleText(page.locator('#access-mode'))).toBe('by_grant');
    expect(await visibleText(page.getByRole('region', { name: 'Access grants' }))).toContain('No access grants.');
    const form = page.locator('form[action="/support-access/grants"]');
    await form.getByLabel('Only these members').check();
    await form.getByLabel('Members (email addresses or member IDs, one per line)').fill(ANN);
    await form.getByLabel('For').selectOption({ label: '1 hour' });
    await form.getByLabel('Reason').fill(GRANT_REASON);
    await form.getByRole('button', { name: 'Open access' }).click();
    await page.waitForURL(`${appUrl}/support-access`);

    const [grant, ...others] = await listGrants(server, { organization_id });
    expect(others).toEqual([]);
    expect(grant).toMatchObject({ status: 'open', member_ids: [ann.member_id], duration_minutes: 60, reason: GRANT_REASON, opened_by: { type: 'member', member_id: ada.member_id } });
    const opened = grant as WireAccessGrant;
    expect(Date.parse(opened.expires_at as string) - Date.parse(opened.opened_at as string)).toBe(60 * MINUTE);
    const row = page.locator(`#access-grants tr[data-grant-id="${opened.grant_id}"]`);
    const shown = await visibleText(row);
    expect(shown).toContain('open');
    expect(shown).toContain(ann.member_id);
    expect(shown).not.toContain(bob.member_id);
    expect(shown).toContain(GRANT_REASON);
    expect(shown).toContain(opened.expires_at);
    expect(shown).toContain(`a member (${ada.member_id})`);
    expect(await row.getByRole('button', { name: 'Revoke' }).count()).toBe(1);
    await screenshot(page, 'example-support-consent-grant-open');
    expect(errors).toEqual([]);

    // 5. Support picks the ticket up a few minutes later: Ann, and only Ann.
    clock.advance(4 * MINUTE);
    const minted = await supportMints(ann);
    expect(minted.status, JSON.stringify(minted.body)).toBe(200);
    const token = minted.body as unknown as MintedToken;
    expect(token.member_id).toBe(ann.member_id);
    expectErrorResponse(await supportMints(bob), 403, 'impersonation_access_not_granted');
    expectErrorResponse(await supportMints(ada), 403, 'impersonation_access_not_granted');

    const redeemed = await server.client.impersonation.authenticate({ impersonation_token: token.impersonation_token });
    expect(redeemed.member.member_id).toBe(ann.member_id);
    const session = redeemed.member_session;
    expect(session?.member_id).toBe(ann.member_id);
    expect(session?.authentication_factors).toHaveLength(1);
    expect(session?.authentication_factors[0]).toMatchObject({
      type: 'impersonated',
      delivery_method: 'impersonation',
      impersonated_factor: { impersonator_id: IMPERSONATOR.id, impersonator_email_address: IMPERSONATOR.emailAddress },
    });
    // Its hour would end four minutes after the grant; the grant's end comes first.
    expect(session?.expires_at).toBe(opened.expires_at);
    expect((await server.client.sessions.authenticate({ session_token: redeemed.session_token })).member.member_id).toBe(ann.member_id);

    // 6. Ann's inbox: who, why, until when, and the link to end it.
    const notice = await messageTo(ANN, 'An impersonation started in Acme');
    expect(notice.to).toEqual([ANN]);
    expect(notice.text).toContain(`${IMPERSONATOR.emailAddress} is now signed in to Acme on Understudy as you, for support.`);
    expect(notice.text).toContain(`Why: ${TICKET}`);
    expect(notice.text).toContain(`Ends at the latest: ${inUtc(opened.expires_at as string)}`);
    const endLink = new RegExp(`${escapeRegExp(publicUrl)}/impersonation/end\\?token=[A-Za-z0-9_-]{44}`).exec(notice.text)?.[0];
    expect(endLink, notice.text).toBeDefined();
    expect(smtp.messages.filter((message) => message.to.includes(ADA) && message.subject.startsWith('An impersonation'))).toEqual([]);
    // The link opens the page that would end it (only its button does; Ann leaves it running).
    const inbox = await newPage();
    await inbox.page.goto(endLink as string);
    const endPage = await visibleText(inbox.page.locator('body'));
    expect(endPage).toContain('End this impersonation?');
    expect(endPage).toContain(IMPERSONATOR.emailAddress);
    expect(endPage).toContain(TICKET);
    expect(await inbox.page.locator('time').last().getAttribute('datetime')).toBe(opened.expires_at);
    expect(inbox.errors).toEqual([]);
    await server.client.sessions.authenticate({ session_token: redeemed.session_token });

    // 7. Acme's receiver: verified events for Acme, the grant, the mint and the redemption among them.
    const required = ['impersonation.access_granted', 'impersonation.token_minted', 'impersonation.token_redeemed'];
    await eventually(() => required.every((type) => verified.some((event) => event.type === type)), () => `verified so far: ${verified.map((event) => event.type).join(', ')}`);
    expect(receiver.requests.filter((request) => request.status !== 204)).toEqual([]);
    expect(verified.map((event) => event.data.organization_id)).toEqual(verified.map(() => organization_id));
    const ofType = (type: string) => verified.find((event) => event.type === type)?.data;
    expect(ofType('impersonation.access_granted')).toMatchObject({ actor: { type: 'member', member_id: ada.member_id } });
    expect(ofType('impersonation.token_minted')).toMatchObject({ member_id: ann.member_id, impersonator_id: IMPERSONATOR.id, details: { token_id: token.token_id, grant_id: opened.grant_id } });
    expect(ofType('impersonation.token_redeemed')).toMatchObject({ member_id: ann.member_id, details: { member_session_id: session?.member_session_id } });
    expect(JSON.stringify(verified)).not.toContain(token.impersonation_token);
    const log = await server.fetch(`${DELIVERIES}?organization_id=${organization_id}`);
    expect(log.status, JSON.stringify(log.body)).toBe(200);
    for (const type of required) expect((log.body.deliveries as { event_type: string; status: string }[]).find((delivery) => delivery.event_type === type)?.status).toBe('delivered');

    // 8. The grant runs out: a second before its end everything still works, a second after nothing does.
    const grantEnds = Date.parse(opened.expires_at as string);
    clock.set(new Date(grantEnds - 1000));
    await server.client.sessions.authenticate({ session_token: redeemed.session_token });
    clock.set(new Date(grantEnds + 1000));
    expectErrorResponse(await supportMints(ann), 403, 'impersonation_access_not_granted');
    await expect(server.client.sessions.authenticate({ session_token: redeemed.session_token })).rejects.toMatchObject({ status_code: 404, error_type: 'session_not_found' });
    expect((await listGrants(server, { organization_id })).find((candidate) => candidate.grant_id === opened.grant_id)?.status).toBe('expired');
    const stillListed = await server.fetch(`${ACCESS_GRANTS}?organization_id=${organization_id}&status=open`);
    expect(stillListed.body.access_grants).toEqual([]);

    // 9. What `understudy audit verify` checks: every chain intact, Acme's included.
    const all = await server.fetch('/v1/b2b/impersonation/audit/chain/verify', { method: 'POST' });
    expect(all.status, JSON.stringify(all.body)).toBe(200);
    expect(all.body).toMatchObject({ valid: true, broken: null });
    const own = await server.fetch('/v1/b2b/impersonation/audit/chain/verify', { method: 'POST', json: { chain_id: organization_id } });
    expect(own.body).toMatchObject({ valid: true, broken: null });
    // The refusals, the grant, the mint and the redemption at least.
    expect(own.body.checked_records as number).toBeGreaterThanOrEqual(7);
  });
});

/** Polls `done` (deliveries are asynchronous) until it holds, or fails with `state()` after 15 s. */
async function eventually(done: () => boolean, state: () => string): Promise<void> {
  const deadline = performance.now() + 15_000;
  while (!done()) {
    if (performance.now() > deadline) throw new Error(`not in time; ${state()}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** How the notification writes a time (English, UTC; src/mail/templates/impersonation-facts.ts). */
function inUtc(timestamp: string): string {
  return `${new Intl.DateTimeFormat('en', { dateStyle: 'long', timeStyle: 'short', timeZone: 'UTC' }).format(new Date(timestamp))} UTC`;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

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
