import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { Member, Organization } from 'stytch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/platform/clock.js';
import { asMember, grantAction, listGrants, setPolicy, type WireAccessGrant } from '../support/access-grants.js';
import { mintToken, policyPath } from '../support/impersonation.js';
import { type StartedSession, startMemberSession } from '../support/member-session-cast.js';
import { expectStytchRejection } from '../support/openapi.js';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { collectPageErrors, type ConsoleOperator, createOperator, HAS_CHROMIUM, launchBrowser, screenshot, signIn, visibleText } from './support/browser.js';

/**
 * The organization's impersonation page in the console, as the vendor's operators use it: an admin
 * sets the access mode and notifications, support requests access (which the customer's admin
 * approves in their own app), sees the grant open, and revokes it, which ends the impersonation
 * going on under it at once. A viewer sees the page but may change nothing.
 */
// Skipped (with this reason) only where /usr/bin/chromium is missing; CI installs it.
describe.skipIf(!HAS_CHROMIUM)('console access grants in Chromium (needs /usr/bin/chromium)', () => {
  const clock = new ManualClock('2026-03-02T09:00:00Z');
  let server: TestServer;
  let browser: Browser;
  let admin: ConsoleOperator;
  let support: ConsoleOperator;
  let viewer: ConsoleOperator;
  let organization: Organization;
  let ann: Member;
  /** The customer's own admin, signed in to the customer's app. */
  let customerAdmin: StartedSession;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    server = await startTestServer({ clock });
    browser = await launchBrowser();
    const services = server.server.app.services;
    admin = await createOperator(services, 'admin', 'grants-admin');
    support = await createOperator(services, 'support', 'grants-support');
    viewer = await createOperator(services, 'viewer', 'grants-viewer');
    const { client } = server;
    organization = (await client.organizations.create({ organization_name: 'Hooli <i>', organization_slug: 'hooli-grants' })).organization;
    ann = (await client.organizations.members.create({ organization_id: organization.organization_id, email_address: 'ann@hooli.example' })).member;
    const owner = (await client.organizations.members.create({ organization_id: organization.organization_id, email_address: 'owner@hooli.example', roles: ['stytch_admin'] })).member;
    customerAdmin = await startMemberSession(server, owner);
  });

  afterAll(async () => {
    await Promise.all(contexts.map((context) => context.close()));
    await browser?.close();
    await server?.stop();
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

  /** From the organization list to the organization's impersonation page, by the links an operator follows. */
  async function openImpersonationPage(page: Page): Promise<void> {
    await page.goto(`${server.baseUrl}/console/organizations`);
    await page.getByRole('link', { name: 'Hooli <i>' }).click();
    await page.getByRole('link', { name: 'access mode, notifications and access grants' }).click();
    await page.waitForURL(`**/console/organizations/${organization.organization_id}/impersonation`);
  }

  async function submit(page: Page, button: string): Promise<void> {
    await Promise.all([page.waitForResponse((response) => response.request().method() === 'POST'), page.getByRole('button', { name: button }).first().click()]);
    await page.waitForLoadState();
  }

  const grantRows = (page: Page) => page.locator('section[aria-labelledby="access-grants"] tbody tr');
  const grants = (): Promise<WireAccessGrant[]> => listGrants(server, { organization_id: organization.organization_id });

  it('an admin switches the organization to by_grant and turns on the member email', async () => {
    const { page, errors } = await signedIn(admin);
    await openImpersonationPage(page);
    await expect(visibleText(page.locator('section[aria-labelledby="access-policy"] dl'))).resolves.toContain('open');
    await page.getByLabel('Access mode').selectOption('by_grant');
    await page.getByLabel('Email the member when an impersonation of them starts').check();
    await submit(page, 'Save access policy');
    expect(await visibleText(page.getByRole('status'))).toBe('Access policy saved.');
    expect(await visibleText(page.locator('section[aria-labelledby="access-policy"] dl'))).toMatch(/Access mode\s+by grant/);
    await screenshot(page, 'console-access-policy');
    const policy = await server.fetch(policyPath(organization.organization_id));
    expect(policy.body).toMatchObject({ access_mode: 'by_grant', notify_member: true, notify_admins: false, delegated_impersonation: 'members' });
    expect(errors).toEqual([]);
  });

  it("an admin cannot loosen what the organization chose: switching back to open, or unticking the member email, shows the refusal and changes nothing", async () => {
    // The organization's admin makes the choice its own: until then the console could undo what it set.
    await setPolicy(server, organization.organization_id, { access_mode: 'by_grant', notify_member: true }, asMember(customerAdmin));
    const { page } = await signedIn(admin);
    await openImpersonationPage(page);
    await expect(visibleText(page.locator('section[aria-labelledby="access-policy"] form'))).resolves.toContain('Operators may tighten what the organization chose, not loosen it');
    await page.getByLabel('Access mode').selectOption('open');
    await submit(page, 'Save access policy');
    expect(await visibleText(page.getByRole('heading', { level: 1 }))).toBe('Not allowed');
    expect(await visibleText(page.getByRole('alert'))).toContain('Only the organization may loosen its impersonation policy (access_mode from by_grant to open)');
    await openImpersonationPage(page);
    await page.getByLabel('Email the member when an impersonation of them starts').uncheck();
    await submit(page, 'Save access policy');
    expect(await visibleText(page.getByRole('alert'))).toContain('(notify_member off)');
    const policy = await server.fetch(policyPath(organization.organization_id));
    expect(policy.body).toMatchObject({ access_mode: 'by_grant', notify_member: true });
  });

  it("support requests access for ann; the customer's admin approves it; support sees it open and revokes it, which ends the impersonation under it", async () => {
    const { page, errors } = await signedIn(support);
    await openImpersonationPage(page);
    // Support may not change the policy.
    await expect(visibleText(page.locator('section[aria-labelledby="access-policy"]'))).resolves.toContain('Only admins can change the access policy.');
    expect(await page.getByRole('button', { name: 'Save access policy' }).count()).toBe(0);
    await page.getByLabel(/^Duration in minutes/).fill('45');
    await page.getByLabel(/^Reason/).fill('Ticket 4711: invoices are missing');
    await page.getByLabel(/^Members/).fill('ann@hooli.example');
    await submit(page, 'Request access');
    expect(await visibleText(page.getByRole('status'))).toBe('Access requested. It opens when a member of the organization approves it.');
    expect(await visibleText(grantRows(page).first())).toMatch(/^requested\s/);
    expect(await visibleText(grantRows(page).first())).toContain('45 minutes once approved');
    expect(await visibleText(grantRows(page).first())).toContain('ann@hooli.example');
    const [requested] = await grants();
    expect(requested).toMatchObject({
      status: 'requested',
      member_ids: [ann.member_id],
      duration_minutes: 45,
      reason: 'Ticket 4711: invoices are missing',
      requested_by: { type: 'operator', operator_id: support.operatorId, email_address: support.emailAddress },
    });
    // Nothing to revoke while it is only requested.
    expect(await grantRows(page).first().getByRole('button', { name: 'Revoke' }).count()).toBe(0);

    // The customer's admin approves it in their own app (their member session).
    const approved = await grantAction(server, requested?.grant_id ?? '', 'approve', asMember(customerAdmin));
    await page.reload();
    expect(await visibleText(grantRows(page).first())).toContain(`${approved.opened_at} → ${approved.expires_at}`);
    await screenshot(page, 'console-access-grant-open');

    const minted = await mintToken(server, { organizationId: organization.organization_id, memberId: ann.member_id });
    const session = await server.client.impersonation.authenticate({ impersonation_token: minted.impersonation_token });
    await submit(page, 'Revoke');
    expect(await visibleText(page.getByRole('status'))).toBe('Access grant revoked; the impersonations under it have ended.');
    expect(await visibleText(grantRows(page).first())).toContain('revoked');
    expect(await grantRows(page).first().getByRole('button', { name: 'Revoke' }).count()).toBe(0);
    await expectStytchRejection(server.client.sessions.authenticate({ session_token: session.session_token }), { status: 404, errorType: 'session_not_found' });
    expect((await grants())[0]).toMatchObject({ status: 'revoked', closed_by: { type: 'operator', operator_id: support.operatorId } });
    expect(errors).toEqual([]);
  });

  it('a viewer sees the grants but neither the request form, the revoke buttons nor the policy form; a forged request is refused', async () => {
    const open = await server.fetch('/v1/b2b/impersonation/access_grants', {
      method: 'POST',
      json: { organization_id: organization.organization_id, duration_minutes: 30, reason: 'Ticket 4712' },
      headers: asMember(customerAdmin),
    });
    expect(open.status, JSON.stringify(open.body)).toBe(200);
    const { page } = await signedIn(viewer);
    await openImpersonationPage(page);
    expect(await grantRows(page).count()).toBe(2);
    expect(await page.getByRole('button', { name: 'Revoke' }).count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Request access' }).count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Save access policy' }).count()).toBe(0);
    const csrf = await page.locator('header input[name="_csrf"]').inputValue();
    const forged = await page.request.post(`${server.baseUrl}/console/organizations/${organization.organization_id}/impersonation/grants`, {
      form: { _csrf: csrf, duration_minutes: '30', reason: 'viewer' },
    });
    expect(forged.status()).toBe(403);
    expect(await grants()).toHaveLength(2);
  });
});
