import type { Member, Organization } from 'stytch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { totpCode } from '../../../src/crypto/totp.js';
import { createImpersonationCast, impersonate } from '../../support/impersonation.js';
import type { ConsoleClient } from './console-client.js';
import { type ConsoleHarness, type CreatedOperator, startConsoleHarness } from './console-harness.js';

const MINUTE = 60_000;
const NOT_ALLOWED = 'Your role does not allow this.';

describe('console roles: what viewers, support and admins may do', () => {
  let harness: ConsoleHarness;
  let organization: Organization;
  let member: Member;
  beforeAll(async () => {
    harness = await startConsoleHarness();
    ({ organization, member } = await createImpersonationCast(harness.server.client));
  });
  afterAll(() => harness.stop());

  const services = () => harness.server.server.app.services;
  const memberPath = (): string => `/console/organizations/${organization.organization_id}/members/${member.member_id}`;
  const impersonationEvents = async (): Promise<string[]> =>
    (await harness.auditEvents()).filter((event) => event.type.startsWith('impersonation.') && event.memberId === member.member_id).map((event) => event.type);

  async function postForm(browser: ConsoleClient, formPage: string, action: string, fields: Record<string, string>) {
    return browser.post(action, { _csrf: await browser.csrfFrom(formPage), ...fields });
  }

  it('viewer: sees organizations and members, but not the operators page, the Operators link or an Impersonate form', async () => {
    const browser = await harness.signedIn(await harness.createOperator('viewer'));
    const organizations = await browser.get('/console/organizations');
    expect(organizations.status).toBe(200);
    expect(organizations.text).not.toContain('href="/console/operators"');
    const memberPage = await browser.get(memberPath());
    expect(memberPage.status).toBe(200);
    expect(memberPage.text).toContain('Your role can view members but not impersonate them.');
    expect(memberPage.text).not.toContain('/impersonate"');
    const operators = await browser.get('/console/operators');
    expect(operators.status).toBe(403);
    expect(operators.text).toContain(NOT_ALLOWED);
  });

  it('viewer: a forged impersonate post with a valid CSRF token is 403 and mints no token', async () => {
    const browser = await harness.signedIn(await harness.createOperator('viewer', { withTotp: true }));
    const before = await impersonationEvents();
    const response = await postForm(browser, '/console/organizations', `${memberPath()}/impersonate`, { reason: 'Ticket 2: curious' });
    expect(response.status).toBe(403);
    expect(response.text).toContain(NOT_ALLOWED);
    expect(response.text).not.toMatch(/[A-Za-z0-9_-]{44}/);
    expect(await impersonationEvents()).toEqual(before);
  });

  it('viewer: cannot revoke an impersonation, change a policy or create an operator', async () => {
    const { redeemed } = await impersonate(harness.server, member);
    const memberSessionId = redeemed.member_session?.member_session_id ?? '';
    const browser = await harness.signedIn(await harness.createOperator('viewer'));
    const list = await browser.get('/console/impersonations');
    expect(list.text).toContain(member.member_id);
    expect(list.text).not.toContain('/console/impersonations/revoke');
    const revoke = await postForm(browser, '/console/organizations', '/console/impersonations/revoke', { member_session_id: memberSessionId });
    expect(revoke.status).toBe(403);
    expect((await services().impersonationAdmin.listActive({ memberSessionId })).length).toBe(1);
    const policy = await postForm(browser, '/console/organizations', `/console/organizations/${organization.organization_id}/policy`, { enabled: 'false' });
    expect(policy.status).toBe(403);
    expect((await services().impersonationAdmin.getPolicy(organization.organization_id)).effective.enabled).toBe(true);
    const create = await postForm(browser, '/console/organizations', '/console/operators', { email: 'v-made@operators.example', name: 'V', role: 'admin' });
    expect(create.status).toBe(403);
    await services().impersonationAdmin.revoke({ requestId: 'request-id-test-cleanup', actor: { type: 'cli' } }, { memberSessionId });
  });

  it('support: no operators page or operator changes, no policy change, but may impersonate and revoke', async () => {
    const support = await harness.createOperator('support');
    const browser = await harness.signedIn(support);
    expect((await browser.get('/console/operators')).status).toBe(403);
    expect((await postForm(browser, '/console/organizations', '/console/operators', { email: 's-made@operators.example', name: 'S', role: 'admin' })).status).toBe(403);
    expect((await postForm(browser, '/console/organizations', `/console/operators/${support.operatorId}/disable`, {})).status).toBe(403);
    const policy = await postForm(browser, '/console/organizations', `/console/organizations/${organization.organization_id}/policy`, { enabled: 'false' });
    expect(policy.status).toBe(403);

    const memberPage = await browser.get(memberPath());
    expect(memberPage.text).toContain(`action="${memberPath()}/impersonate" target="_blank"`);
    const minted = await postForm(browser, memberPath(), `${memberPath()}/impersonate`, { reason: 'Ticket 3: invoices' });
    expect(minted.status).toBe(200);
    const token = /<p class="token" id="token">([A-Za-z0-9_-]{44})<\/p>/.exec(minted.text)?.[1];
    expect(token, minted.text).toBeDefined();
    const mintEvent = (await harness.auditEvents()).filter((event) => event.type === 'impersonation.token_minted').at(-1);
    expect(mintEvent).toMatchObject({ impersonatorId: support.operatorId, actor: { type: 'operator', operatorId: support.operatorId }, details: { reason: 'Ticket 3: invoices' } });

    const redeemed = await harness.server.client.impersonation.authenticate({ impersonation_token: token ?? '' });
    const memberSessionId = redeemed.member_session?.member_session_id ?? '';
    const revoke = await postForm(browser, '/console/impersonations', '/console/impersonations/revoke', { member_session_id: memberSessionId });
    expect(revoke.status).toBe(303);
    expect(revoke.location).toBe('/console/impersonations?revoked=1');
    expect(await services().impersonationAdmin.listActive({ memberSessionId })).toEqual([]);
  });

  it('support: impersonating more than 5 minutes after the last TOTP needs a fresh code, which cannot be skipped or wrong', async () => {
    const support: CreatedOperator = await harness.createOperator('support');
    const browser = await harness.signedIn(support);
    harness.clock.advance(5 * MINUTE + 1000);
    const page = await browser.get(memberPath());
    expect(page.text).toContain('name="totp"');
    const before = await impersonationEvents();
    expect((await postForm(browser, memberPath(), `${memberPath()}/impersonate`, { reason: 'Ticket 4' })).status).toBe(401);
    expect((await postForm(browser, memberPath(), `${memberPath()}/impersonate`, { reason: 'Ticket 4', totp: '000000' })).status).toBe(401);
    expect(await impersonationEvents()).toEqual(before);
    const code = totpCode(support.totpSecret ?? '', harness.clock.now());
    const cookieBefore = browser.cookies.get('understudy_console');
    const fresh = await postForm(browser, memberPath(), `${memberPath()}/impersonate`, { reason: 'Ticket 4', totp: code });
    expect(fresh.status).toBe(200);
    expect(fresh.text).toContain('data-copy="token"');
    expect((await browser.get(memberPath())).text).not.toContain('name="totp"');
    // The fresh code replaced the session: the cookie from before it is signed out, not freshly verified.
    expect(browser.cookies.get('understudy_console')).not.toBe(cookieBefore);
    const stale = await fetch(`${harness.server.baseUrl}${memberPath()}`, { headers: { cookie: `understudy_console=${cookieBefore}` }, redirect: 'manual' });
    expect(stale.status).toBe(303);
    expect(stale.headers.get('location')).toMatch(/^\/console\/login\?next=/);
  });

  it('admin: creates an operator through the form (credentials shown once) and disables one, ending their session', async () => {
    const browser = await harness.signedIn(await harness.createOperator('admin'));
    const list = await browser.get('/console/operators');
    expect(list.status).toBe(200);
    const created = await postForm(browser, '/console/operators', '/console/operators', { email: 'New.Support@Operators.example', name: 'New Support', role: 'support' });
    expect(created.status).toBe(200);
    expect(created.text).toContain('Created new.support@operators.example (support)');
    const password = /<span class="token" id="password">([^<]+)<\/span>/.exec(created.text)?.[1] ?? '';
    const secret = /<span class="token" id="totp">([A-Z2-7]+)<\/span>/.exec(created.text)?.[1] ?? '';
    expect(password.length).toBeGreaterThanOrEqual(12);
    const newcomer = harness.browser();
    await newcomer.signIn({ emailAddress: 'new.support@operators.example', password, totpSecret: secret }, harness.clock.now());
    expect((await newcomer.get('/console/organizations')).status).toBe(200);
    expect((await browser.get('/console/operators')).text).not.toContain(password);

    const stored = (await services().operators.list()).find((operator) => operator.emailAddress === 'new.support@operators.example');
    const disabled = await postForm(browser, '/console/operators', `/console/operators/${stored?.operatorId}/disable`, {});
    expect(disabled.status).toBe(303);
    expect((await newcomer.get('/console/organizations')).status).toBe(303);
    expect((await browser.get('/console/operators')).text).toMatch(/new\.support@operators\.example.*?badge warn">disabled/s);
  });

  it('admin: changes an organization’s impersonation policy', async () => {
    const browser = await harness.signedIn(await harness.createOperator('admin'));
    const orgPage = `/console/organizations/${organization.organization_id}`;
    const saved = await postForm(browser, orgPage, `${orgPage}/policy`, { enabled: 'false', redirect_url: '' });
    expect(saved.status).toBe(303);
    expect((await services().impersonationAdmin.getPolicy(organization.organization_id)).effective.enabled).toBe(false);
    await postForm(browser, orgPage, `${orgPage}/policy`, { enabled: 'true', redirect_url: '' });
    expect((await services().impersonationAdmin.getPolicy(organization.organization_id)).effective.enabled).toBe(true);
  });
});
