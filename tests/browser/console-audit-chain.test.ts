import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/platform/clock.js';
import { executeSql, sqlText } from '../support/database-access.js';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { chainRows, organizationWithMints } from '../integration/audit-chain/chain-support.js';
import { collectPageErrors, type ConsoleOperator, createOperator, HAS_CHROMIUM, launchBrowser, screenshot, signIn, visibleText } from './support/browser.js';

// Skipped (with this reason) only where /usr/bin/chromium is missing; CI installs it.
describe.skipIf(!HAS_CHROMIUM)('console audit chain page in Chromium (needs /usr/bin/chromium)', () => {
  const clock = new ManualClock('2026-03-02T09:00:00Z');
  let server: TestServer;
  let browser: Browser;
  let organizationId: string;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    server = await startTestServer({ clock });
    browser = await launchBrowser();
    ({ organizationId } = await organizationWithMints(server, 3));
  });

  afterAll(async () => {
    await Promise.all(contexts.map((context) => context.close()));
    await browser?.close();
    await server?.stop();
  });

  async function signedIn(operator: ConsoleOperator): Promise<{ page: Page; context: BrowserContext; errors: string[] }> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    contexts.push(context);
    context.setDefaultTimeout(10_000);
    const errors = collectPageErrors(context);
    const page = await context.newPage();
    await signIn(page, server.baseUrl, clock, operator);
    return { page, context, errors };
  }

  async function verifyNow(page: Page): Promise<number> {
    const [response] = await Promise.all([page.waitForResponse((candidate) => candidate.request().method() === 'POST'), page.getByRole('button', { name: 'Verify now' }).click()]);
    await page.waitForLoadState();
    return response.status();
  }

  it("shows a viewer each chain's head from the navigation, and verifies them all valid", async () => {
    const viewer = await createOperator(server.server.app.services, 'viewer', 'chain-viewer');
    const { page, errors } = await signedIn(viewer);
    await page.getByRole('link', { name: 'Audit chain' }).click();
    await page.waitForURL('**/console/audit-chain');
    const heads = (await server.fetch('/v1/b2b/impersonation/audit/chain')).body as { heads: { chain_id: string; seq: number; hash: string }[]; digest: string };
    const organizationHead = heads.heads.find((head) => head.chain_id === organizationId);
    expect(organizationHead?.seq).toBe(3);
    const row = page.locator('tbody tr', { hasText: organizationId });
    expect(await visibleText(row)).toContain(organizationHead?.hash ?? 'missing');
    // Creating the operators and signing in went to the project's chain.
    expect(await page.locator('tbody tr', { hasText: 'project' }).count()).toBe(1);
    expect(await visibleText(page.locator('main'))).toContain(heads.digest);

    expect(await verifyNow(page)).toBe(200);
    const expected = (await server.fetch('/v1/b2b/impersonation/audit/chain/verify', { method: 'POST' })).body as { checked_records: number };
    expect(await visibleText(page.getByRole('status'))).toBe(`Valid: ${expected.checked_records} records checked in ${heads.heads.length} chains.`);
    await screenshot(page, 'audit-chain-valid');
    expect(errors).toEqual([]);
  });

  it("names the first broken record after a row was edited in the database", async () => {
    const support = await createOperator(server.server.app.services, 'support', 'chain-support');
    const { page, errors } = await signedIn(support);
    const second = (await chainRows(server, organizationId))[1];
    if (second === undefined) throw new Error('the organization has three chained records');
    await executeSql(server, `update audit_events set details = '{"reason":"Nothing happened"}' where event_id = ${sqlText(second.event_id)}`);

    await page.goto(`${server.baseUrl}/console/audit-chain`);
    expect(await verifyNow(page)).toBe(200);
    expect(await visibleText(page.getByRole('alert'))).toBe(`Broken: chain ${organizationId}, seq 2 (event ${second.event_id}): its content no longer matches its hash: the record was edited.`);
    await screenshot(page, 'audit-chain-broken');
    expect(errors).toEqual([]);
  });

  it('refuses a verification posted without the form’s CSRF token', async () => {
    const viewer = await createOperator(server.server.app.services, 'viewer', 'chain-forger');
    const { page, context } = await signedIn(viewer);
    await page.goto(`${server.baseUrl}/console/audit-chain`);
    const forged = await context.request.post(`${server.baseUrl}/console/audit-chain/verify`, { form: { _csrf: 'not-the-token' } });
    expect(forged.status()).toBe(403);
    expect(await forged.text()).toContain('The form has expired or did not come from this console.');
  });
});
