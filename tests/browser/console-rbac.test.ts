import type { Browser, BrowserContext, Page, Response } from 'playwright-core';
import type { Organization } from 'stytch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/platform/clock.js';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { collectPageErrors, type ConsoleOperator, createOperator, HAS_CHROMIUM, launchBrowser, screenshot, signIn, visibleText } from './support/browser.js';

interface PolicyJson {
  resources: { resource_id: string; description: string; actions: string[] }[];
  roles: { role_id: string; description: string; permissions: { resource_id: string; actions: string[] }[] }[];
  scopes: unknown[];
}

const DOCUMENTS = { resource_id: 'documents', description: 'Shared documents', actions: ['read', 'write', 'delete'] };
const EDITOR = { role_id: 'editor', description: 'Reads and writes documents', permissions: [{ resource_id: 'documents', actions: ['read', 'write'] }] };

// Skipped (with this reason) only where /usr/bin/chromium is missing; CI installs it.
describe.skipIf(!HAS_CHROMIUM)('console RBAC page in Chromium (needs /usr/bin/chromium)', () => {
  const clock = new ManualClock('2026-03-02T09:00:00Z');
  let server: TestServer;
  let browser: Browser;
  let admin: ConsoleOperator;
  let organization: Organization;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    server = await startTestServer({ clock });
    browser = await launchBrowser();
    admin = await createOperator(server.server.app.services, 'admin', 'rbac-admin');
    organization = (await server.client.organizations.create({ organization_name: 'Docs & Co <b>', organization_slug: 'docs-co' })).organization;
  });

  afterAll(async () => {
    await Promise.all(contexts.map((context) => context.close()));
    await browser?.close();
    await server?.stop();
  });

  async function newContext(): Promise<{ context: BrowserContext; errors: string[] }> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    contexts.push(context);
    context.setDefaultTimeout(10_000);
    return { context, errors: collectPageErrors(context) };
  }

  async function signedIn(operator: ConsoleOperator): Promise<{ page: Page; context: BrowserContext; errors: string[] }> {
    const { context, errors } = await newContext();
    const page = await context.newPage();
    await signIn(page, server.baseUrl, clock, operator);
    return { page, context, errors };
  }

  /** Submits the page's policy form, returning the answer to the POST. */
  async function apply(page: Page, text: string): Promise<Response> {
    await page.getByLabel('Policy (JSON)').fill(text);
    const [response] = await Promise.all([page.waitForResponse((candidate) => candidate.request().method() === 'POST'), page.getByRole('button', { name: 'Apply policy' }).click()]);
    await page.waitForLoadState();
    return response;
  }

  async function textareaPolicy(page: Page): Promise<PolicyJson> {
    return JSON.parse(await page.getByLabel('Policy (JSON)').inputValue()) as PolicyJson;
  }

  /** The project's policy as the official SDK reads it. */
  async function projectPolicy() {
    const { policy } = await server.client.rbac.policy();
    expect(policy).toBeDefined();
    return policy as NonNullable<typeof policy>;
  }

  async function rbacEvents(): Promise<{ type: string; details: Record<string, unknown> }[]> {
    const events = await server.server.store.audit.listEvents({ organizationId: null, limit: 100_000 });
    return events.filter((event) => event.type === 'rbac.policy_updated');
  }

  it('an admin adds a custom resource and role in the JSON form: version 1 is in force, rbac.policy answers it, history and audit hold the diff', async () => {
    const { page, errors } = await signedIn(admin);
    await page.getByRole('link', { name: 'RBAC' }).click();
    await page.waitForURL('**/console/rbac');
    expect(await visibleText(page.locator('#policy-version'))).toBe('0');
    const before = await textareaPolicy(page);
    // The textarea holds what rbac.policy answers.
    const answered = await server.client.rbac.policy();
    expect(before).toEqual(JSON.parse(JSON.stringify(answered.policy)));
    expect(before.roles.map((role) => role.role_id)).toEqual(['stytch_member', 'stytch_admin']);

    before.resources.push(DOCUMENTS);
    before.roles.push(EDITOR);
    const response = await apply(page, JSON.stringify(before, null, 2));
    expect(response.status()).toBe(303);
    await page.waitForURL('**/console/rbac?applied=1');
    expect(await visibleText(page.getByRole('status'))).toBe('Policy applied: version 1.');
    expect(await visibleText(page.locator('#policy-version'))).toBe('1');
    const editorRow = page.locator('section[aria-labelledby="roles"] tbody tr', { hasText: 'editor' });
    expect(await visibleText(editorRow)).toContain('documents: read, write');
    expect(await visibleText(page.locator('section[aria-labelledby="resources"] tbody tr', { hasText: 'documents' }))).toContain('read write delete');
    await screenshot(page, 'rbac-applied');

    // The official SDK reads the new policy.
    const policy = (await projectPolicy());
    expect(policy.roles.find((role) => role.role_id === 'editor')).toEqual(EDITOR);
    expect(policy.resources.find((resource) => resource.resource_id === 'documents')).toEqual(DOCUMENTS);

    // The history shows who changed what; the audit event holds the diff.
    const history = await visibleText(page.locator('#version-1'));
    expect(history).toContain('console');
    expect(history).toContain(`operator ${admin.emailAddress}`);
    expect(history).toMatch(/Resources: added documents/);
    expect(history).toMatch(/Roles: added editor/);
    const [event] = await rbacEvents();
    expect(event?.details).toMatchObject({
      version: 1,
      previous_version: 0,
      source: 'console',
      changes: { resources: { added: [DOCUMENTS], removed: [], changed: [] }, roles: { added: [EDITOR], removed: [], changed: [] }, scopes: { added: [], removed: [], changed: [] } },
    });

    // The policy in force again, padded far beyond the 64 KiB of the console's other forms: read, and nothing written.
    const padded = `${await page.getByLabel('Policy (JSON)').inputValue()}${' '.repeat(200 * 1024)}`;
    expect((await apply(page, padded)).status()).toBe(303);
    await page.waitForURL('**/console/rbac?unchanged=1');
    expect(await visibleText(page.getByRole('status'))).toBe('Nothing changed: the policy submitted is the one in force.');
    expect(await rbacEvents()).toHaveLength(1);
    expect(errors).toEqual([]);
  });

  it('refuses a policy with a stytch-prefixed resource and "*" mixed with an action, listing both problems and keeping the text; nothing changes', async () => {
    const { page, errors } = await signedIn(admin);
    await page.goto(`${server.baseUrl}/console/rbac`);
    const policyBefore = (await projectPolicy());
    const eventsBefore = (await rbacEvents()).length;
    const bad = await textareaPolicy(page);
    bad.resources.push({ resource_id: 'stytch.docs', description: 'Not allowed', actions: ['read'] });
    bad.roles.push({ role_id: 'mixed', description: '', permissions: [{ resource_id: 'documents', actions: ['*', 'read'] }] });
    const typed = JSON.stringify(bad, null, 2);
    expect((await apply(page, typed)).status()).toBe(400);
    const alert = await visibleText(page.getByRole('alert'));
    expect(alert).toContain('Nothing was applied: the policy has 2 problems.');
    const problems = page.locator('#policy-problems li');
    expect(await problems.count()).toBe(2);
    const resourceIndex = bad.resources.length - 1;
    const roleIndex = bad.roles.length - 1;
    expect(await visibleText(problems.nth(0))).toBe(`resources[${resourceIndex}].resource_id: Resource "stytch.docs": custom resource ids may not start with "stytch".`);
    expect(await visibleText(problems.nth(1))).toBe(`roles[${roleIndex}].permissions[0].actions: "*" grants every action on "documents" and cannot be listed with others.`);
    expect(await page.getByLabel('Policy (JSON)').inputValue()).toBe(typed);
    expect(await visibleText(page.locator('#policy-version'))).toBe('1');
    await screenshot(page, 'rbac-refused');

    // Not JSON at all: where it stopped, and the text kept.
    const broken = '{\n  "resources": [\n    {"resource_id": "documents",}\n  ]\n}';
    expect((await apply(page, broken)).status()).toBe(400);
    expect(await visibleText(page.getByRole('alert'))).toMatch(/^Nothing was applied: the policy is not valid JSON\. .*\(line 3, column 33\)\.$/);
    expect(await page.getByLabel('Policy (JSON)').inputValue()).toBe(broken);

    expect((await projectPolicy())).toEqual(policyBefore);
    expect((await rbacEvents()).length).toBe(eventsBefore);
    expect(errors).toEqual([`400 ${server.baseUrl}/console/rbac`, `400 ${server.baseUrl}/console/rbac`]);
  });

  it('refuses an edit begun before another change with "changed since you opened it", keeping the text; the other change shows in the history', async () => {
    const { context, page: first, errors } = await signedIn(admin);
    await first.goto(`${server.baseUrl}/console/rbac`);
    const second = await context.newPage();
    await second.goto(`${server.baseUrl}/console/rbac`);

    // The second tab applies first: documents gains an action, editor changes its permissions.
    const change = await textareaPolicy(second);
    const documents = change.resources.find((resource) => resource.resource_id === 'documents');
    const editor = change.roles.find((role) => role.role_id === 'editor');
    documents?.actions.push('archive');
    if (editor !== undefined) editor.permissions = [{ resource_id: 'documents', actions: ['read', 'archive'] }];
    expect((await apply(second, JSON.stringify(change, null, 2))).status()).toBe(303);
    await second.waitForURL('**/console/rbac?applied=2');
    const history = await visibleText(second.locator('#version-2'));
    expect(history).toMatch(/Resources: changed documents \(actions \+archive\)/);
    expect(history).toMatch(/Roles: changed editor \(documents \+archive −write\)/);
    await screenshot(second, 'rbac-history');

    const stale = await textareaPolicy(first);
    stale.roles.push({ role_id: 'viewer', description: 'Reads documents', permissions: [{ resource_id: 'documents', actions: ['read'] }] });
    const typed = JSON.stringify(stale, null, 2);
    expect((await apply(first, typed)).status()).toBe(409);
    expect(await visibleText(first.getByRole('alert'))).toContain('the policy changed since you opened it (version 1 then, version 2 now)');
    expect(await first.getByLabel('Policy (JSON)').inputValue()).toBe(typed);
    expect(await visibleText(first.locator('#policy-version'))).toBe('2');
    expect((await projectPolicy()).roles.map((role) => role.role_id)).toEqual(['stytch_member', 'stytch_admin', 'editor']);
    expect(errors).toEqual([`409 ${server.baseUrl}/console/rbac`]);
  });

  it('shows a support operator the policy without the form, and refuses their forged post with 403, changing nothing', async () => {
    const support = await createOperator(server.server.app.services, 'support', 'rbac-support');
    const { page } = await signedIn(support);
    await page.getByRole('link', { name: 'RBAC' }).click();
    await page.waitForURL('**/console/rbac');
    expect(await visibleText(page.locator('#policy-version'))).toBe('2');
    expect(await page.locator('textarea').count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Apply policy' }).count()).toBe(0);
    expect(await visibleText(page.locator('main'))).toContain('Only admins can change the RBAC policy.');
    await screenshot(page, 'rbac-read-only');

    const policyBefore = (await projectPolicy());
    const forgedPolicy = { ...policyBefore, roles: [...policyBefore.roles, { role_id: 'intruder', description: '', permissions: [{ resource_id: 'documents', actions: ['*'] }] }] };
    // The session's own CSRF token (the sign-out form's): the refusal is for the role alone.
    const csrf = await page.locator('input[name="_csrf"]').first().inputValue();
    const forged = await page.evaluate(
      async ({ csrf, policy }) => {
        const response = await fetch('/console/rbac', { method: 'POST', body: new URLSearchParams({ _csrf: csrf, based_on: '2', policy }) });
        return { status: response.status, text: await response.text() };
      },
      { csrf, policy: JSON.stringify(forgedPolicy) },
    );
    expect(forged.status).toBe(403);
    expect(forged.text).toContain('Your role does not allow this.');
    expect((await projectPolicy())).toEqual(policyBefore);
    expect((await rbacEvents()).length).toBe(2);
  });

  it("shows an organization's custom roles and each member's roles with their sources; removing an assigned role is refused", async () => {
    const organizationId = organization.organization_id;
    await server.client.rbac.organizations.setOrgPolicy({
      organization_id: organizationId,
      org_policy: { roles: [{ role_id: 'reviewer', description: 'Reviews <documents>', permissions: [{ resource_id: 'documents', actions: ['read'] }] }] },
    });
    await server.client.organizations.update({ organization_id: organizationId, rbac_email_implicit_role_assignments: [{ domain: 'docs.example', role_id: 'editor' }] });
    const { member } = await server.client.organizations.members.create({ organization_id: organizationId, email_address: 'erin@docs.example', roles: ['reviewer'] });

    const { page, errors } = await signedIn(admin);
    await page.goto(`${server.baseUrl}/console/organizations/${organizationId}`);
    const roles = page.locator('section[aria-labelledby="custom-roles"]');
    const reviewer = await visibleText(roles.locator('tbody tr', { hasText: 'reviewer' }));
    expect(reviewer).toContain('documents: read');
    expect(reviewer).toContain('Reviews <documents>');
    expect(await visibleText(roles)).toContain('editor for @docs.example');
    await screenshot(page, 'organization-custom-roles');

    await page.getByRole('link', { name: 'erin@docs.example' }).click();
    await page.waitForURL(`**/members/${member.member_id}`);
    const memberRoles = (await page.locator('#member-roles li').allInnerTexts()).map((text) => text.trim());
    expect(memberRoles).toEqual(['stytch_member (direct assignment)', 'reviewer (direct assignment)', 'editor (email domain docs.example)']);

    // The project's editor role is given by the organization's email-domain assignment: it cannot go.
    await page.goto(`${server.baseUrl}/console/rbac`);
    const policy = await textareaPolicy(page);
    policy.roles = policy.roles.filter((role) => role.role_id !== 'editor');
    expect((await apply(page, JSON.stringify(policy, null, 2))).status()).toBe(409);
    expect(await visibleText(page.locator('#policy-problems'))).toContain(`Role "editor" cannot be removed: implicit assignments of organization(s) ${organizationId} name it.`);
    expect((await projectPolicy()).roles.map((role) => role.role_id)).toContain('editor');
    expect(errors).toEqual([`409 ${server.baseUrl}/console/rbac`]);
  });
});
