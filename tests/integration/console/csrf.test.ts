import type { Member, Organization } from 'stytch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { totpCode } from '../../../src/crypto/totp.js';
import { createImpersonationCast, impersonate } from '../../support/impersonation.js';
import type { ConsoleClient, ConsoleResponse } from './console-client.js';
import { type ConsoleHarness, startConsoleHarness } from './console-harness.js';

const FORBIDDEN_TEXT = 'The form has expired or did not come from this console.';

/** Posts `fields` twice, without `_csrf` and with a wrong one, expecting the 403 page both times. */
async function expectBothRefused(browser: ConsoleClient, path: string, fields: Record<string, string>): Promise<void> {
  const attempts: [string, ConsoleResponse][] = [
    ['no _csrf', await browser.post(path, fields)],
    ['wrong _csrf', await browser.post(path, { ...fields, _csrf: 'A'.repeat(43) })],
    ['empty _csrf', await browser.post(path, { ...fields, _csrf: '' })],
    // As many characters as a real token but more bytes: compared as bytes, it is a mismatch, not a 500.
    ['non-ASCII _csrf of the right length', await browser.post(path, { ...fields, _csrf: 'é'.repeat(43) })],
  ];
  for (const [why, response] of attempts) {
    expect(response.status, `${path}, ${why}`).toBe(403);
    expect(response.headers.get('content-type'), `${path}, ${why}`).toBe('text/html; charset=utf-8');
    expect(response.text, `${path}, ${why}`).toContain(FORBIDDEN_TEXT);
  }
}

describe('console CSRF protection: every form refuses a post without this session’s token and changes nothing', () => {
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

  it('sign-in form: no session, no cookie, no failed attempt counted', async () => {
    const operator = await harness.createOperator('admin');
    const browser = harness.browser();
    await browser.get('/console/login');
    await expectBothRefused(browser, '/console/login', { email: operator.emailAddress, password: operator.password });
    expect(browser.cookies.has('understudy_console')).toBe(false);
    expect(await harness.operatorEvents(operator.operatorId, 'operator.sign_in_failed', 'operator.signed_in')).toEqual([]);
  });

  it('sign-in form: the pre-session token of another browser is refused', async () => {
    const operator = await harness.createOperator('viewer');
    const other = harness.browser();
    const foreignToken = await other.csrfFrom('/console/login');
    const browser = harness.browser();
    await browser.get('/console/login');
    const response = await browser.post('/console/login', { _csrf: foreignToken, email: operator.emailAddress, password: operator.password });
    expect(response.status).toBe(403);
    expect(browser.cookies.has('understudy_console')).toBe(false);
  });

  it('TOTP form: the code is not consumed, so it still signs in when posted with the token', async () => {
    const operator = await harness.createOperator('support');
    const browser = harness.browser();
    await browser.submitPassword(operator.emailAddress, operator.password);
    const code = totpCode(operator.totpSecret ?? '', harness.clock.now());
    await expectBothRefused(browser, '/console/login/totp', { code });
    expect((await browser.submitTotp(code)).status).toBe(303);
    expect((await browser.get('/console/organizations')).status).toBe(200);
  });

  it('sign-out form: the session keeps working', async () => {
    const browser = await harness.signedIn(await harness.createOperator('viewer'));
    await expectBothRefused(browser, '/console/logout', {});
    expect((await browser.get('/console/organizations')).status).toBe(200);
  });

  it('a signed-in form refuses the token of another session and the pre-session token', async () => {
    const browser = await harness.signedIn(await harness.createOperator('admin'));
    const other = await harness.signedIn(await harness.createOperator('admin'));
    const foreign = await other.csrfFrom('/console/operators');
    const preSession = browser.cookies.get('understudy_console_csrf') ?? '';
    expect(preSession).not.toBe('');
    for (const token of [foreign, preSession]) {
      const response = await browser.post('/console/operators', { _csrf: token, email: 'forged@operators.example', name: 'Forged', role: 'admin' });
      expect(response.status).toBe(403);
    }
    expect((await services().operators.list()).some((operator) => operator.emailAddress === 'forged@operators.example')).toBe(false);
  });

  it('impersonation policy form: the policy stays as it was', async () => {
    const browser = await harness.signedIn(await harness.createOperator('admin'));
    await expectBothRefused(browser, `/console/organizations/${organization.organization_id}/policy`, { enabled: 'false', redirect_url: 'https://evil.example/' });
    const policy = await services().impersonationAdmin.getPolicy(organization.organization_id);
    expect(policy.stored).toBeUndefined();
    expect(policy.effective.enabled).toBe(true);
  });

  it('impersonate form: no token is minted and nothing is audited', async () => {
    const browser = await harness.signedIn(await harness.createOperator('support'));
    const before = (await harness.auditEvents()).length;
    await expectBothRefused(browser, `${memberPath()}/impersonate`, { reason: 'Ticket 1: forged' });
    const written = (await harness.auditEvents()).slice(before);
    expect(written.filter((event) => event.type.startsWith('impersonation.'))).toEqual([]);
  });

  it('revoke form: the impersonated session stays active', async () => {
    const { redeemed } = await impersonate(harness.server, member);
    const memberSessionId = redeemed.member_session?.member_session_id ?? '';
    const browser = await harness.signedIn(await harness.createOperator('support'));
    await expectBothRefused(browser, '/console/impersonations/revoke', { member_session_id: memberSessionId });
    const active = await services().impersonationAdmin.listActive({ memberSessionId });
    expect(active.map((session) => session.memberSessionId)).toEqual([memberSessionId]);
    await services().impersonationAdmin.revoke({ requestId: 'request-id-test-cleanup', actor: { type: 'cli' } }, { memberSessionId });
  });

  it('create-operator form: no operator is created', async () => {
    const browser = await harness.signedIn(await harness.createOperator('admin'));
    await expectBothRefused(browser, '/console/operators', { email: 'sneaky@operators.example', name: 'Sneaky', role: 'admin' });
    expect((await services().operators.list()).some((operator) => operator.emailAddress === 'sneaky@operators.example')).toBe(false);
  });

  it('disable-operator form: the operator stays active and signed in', async () => {
    const target = await harness.createOperator('viewer');
    const targetBrowser = await harness.signedIn(target);
    const browser = await harness.signedIn(await harness.createOperator('admin'));
    await expectBothRefused(browser, `/console/operators/${target.operatorId}/disable`, {});
    const stored = (await services().operators.list()).find((operator) => operator.operatorId === target.operatorId);
    expect(stored?.disabledAt).toBeNull();
    expect((await targetBrowser.get('/console/organizations')).status).toBe(200);
  });
});
