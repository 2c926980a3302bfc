import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/platform/clock.js';
import { createImpersonationCast, impersonate } from '../support/impersonation.js';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';
import { collectPageErrors, type ConsoleOperator, createOperator, HAS_CHROMIUM, launchBrowser, screenshot, signIn, visibleText } from './support/browser.js';

// Skipped (with this reason) only where /usr/bin/chromium is missing; CI installs it.
describe.skipIf(!HAS_CHROMIUM)('console webhooks page in Chromium (needs /usr/bin/chromium)', () => {
  // Now, not a fixed date: receivers refuse signatures whose timestamp is more than five minutes off their clock.
  const clock = new ManualClock(new Date(Date.now()));
  let server: TestServer;
  let browser: Browser;
  let receiver: WebhookReceiver;
  let admin: ConsoleOperator;
  let viewer: ConsoleOperator;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    server = await startTestServer({ clock });
    browser = await launchBrowser();
    receiver = await startWebhookReceiver();
    admin = await createOperator(server.server.app.services, 'admin', 'hooks-admin');
    viewer = await createOperator(server.server.app.services, 'viewer', 'hooks-viewer');
  });

  afterAll(async () => {
    await Promise.all(contexts.map((context) => context.close()));
    await browser?.close();
    await server?.stop();
    await receiver?.close();
  });

  async function signedIn(operator: ConsoleOperator): Promise<{ page: Page; errors: string[] }> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    contexts.push(context);
    context.setDefaultTimeout(10_000);
    const errors = collectPageErrors(context);
    const page = await context.newPage();
    page.on('dialog', (dialog) => void dialog.accept());
    await signIn(page, server.baseUrl, clock, operator);
    return { page, errors };
  }

  it('an admin adds an endpoint, sees its secret once, watches a delivery arrive in the log, and disables it', async () => {
    const cast = await createImpersonationCast(server.client);
    const { page, errors } = await signedIn(admin);
    await page.getByRole('link', { name: 'Webhooks' }).click();
    await page.waitForURL('**/console/webhooks');
    expect(await visibleText(page.locator('main'))).toContain('No endpoints yet.');

    await page.getByLabel('URL').fill(receiver.url);
    await page.getByLabel("Organization (empty: the project's)").fill(cast.organization.organization_slug);
    await page.getByLabel('Description').fill('Customer SIEM <script>');
    await page.getByRole('button', { name: 'Add endpoint' }).click();
    await page.waitForLoadState();
    expect(await page.locator('h1').textContent()).toBe('Endpoint added');
    const secret = (await page.locator('#webhook-secret').textContent()) ?? '';
    expect(secret).toMatch(/^whsec_/);
    await screenshot(page, 'console-webhook-added');

    // A redemption in that organization is delivered, signed with the secret the page showed.
    await impersonate(server, cast.member);
    const [request] = await receiver.waitFor((received) => received.body.type === 'impersonation.token_redeemed');
    expect(request && receiver.verify(request, secret)).toMatchObject({ type: 'impersonation.token_redeemed' });
    await expect.poll(async () => (await server.fetch('/v1/b2b/impersonation/webhooks/deliveries?status=delivered')).body.deliveries, { timeout: 10_000 }).toHaveLength(2);

    await page.getByRole('link', { name: 'Back to webhooks' }).click();
    await page.waitForURL('**/console/webhooks');
    const main = await visibleText(page.locator('main'));
    expect(main).not.toContain(secret);
    expect(main).toContain('Customer SIEM <script>');
    expect(main).toContain(cast.organization.organization_id);
    const rows = page.locator('#deliveries ~ .table-wrap tbody tr');
    expect(await rows.count()).toBe(2);
    expect(await visibleText(rows.first())).toMatch(/impersonation\.token_(redeemed|minted)[\s\S]*delivered\s+1\s+HTTP 200/);
    await screenshot(page, 'console-webhooks');

    await page.getByRole('button', { name: `Disable ${receiver.url}` }).click();
    await page.waitForURL('**/console/webhooks?done=disabled');
    expect(await visibleText(page.locator('main'))).toContain('Endpoint disabled.');
    expect(await visibleText(page.locator('main'))).toMatch(/disabled \d{4}-/);
    expect(errors).toEqual([]);
  });

  it('a viewer sees endpoints and deliveries but no forms, and cannot post one', async () => {
    const { page, errors } = await signedIn(viewer);
    await page.goto(`${server.baseUrl}/console/webhooks`);
    const main = await visibleText(page.locator('main'));
    expect(main).toContain('Only admins can add or disable endpoints.');
    expect(await page.getByRole('button', { name: 'Add endpoint' }).count()).toBe(0);
    const csrf = await page.locator('header input[name="_csrf"]').getAttribute('value');
    const answer = await page.request.post(`${server.baseUrl}/console/webhooks`, { form: { _csrf: csrf ?? '', url: receiver.url } });
    expect(answer.status()).toBe(403);
    expect((await server.fetch('/v1/b2b/impersonation/webhooks/endpoints')).body.endpoints).toHaveLength(1);
    expect(errors).toEqual([]);
  });
});
