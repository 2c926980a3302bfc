import { Writable } from 'node:stream';
import type { Member } from 'stytch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/platform/logger.js';
import { auditEvents, createImpersonationCast, impersonate, type ImpersonationCast, mintBody, mintRaw, policyPath } from '../../support/impersonation.js';
import { expectStytchRejection } from '../../support/openapi.js';
import { listEmails, settleEmails, waitForEmail } from '../../support/outbox.js';
import { startSmtpTestServer, type SmtpTestServer } from '../../support/smtp-test-server.js';
import { STORES } from '../../support/stores.js';
import { startTestServer, type TestServer } from '../../support/test-server.js';
import { uniqueSuffix } from '../../support/wire-formats.js';

const PUBLIC_URL = 'https://auth.example.com';

async function setNotifications(server: TestServer, organizationId: string, change: { notify_member?: boolean; notify_admins?: boolean }): Promise<void> {
  const response = await server.fetch(policyPath(organizationId), { method: 'PUT', json: change });
  expect(response.status, JSON.stringify(response.body)).toBe(200);
}

async function addAdmin(server: TestServer, cast: ImpersonationCast, local: string): Promise<Member> {
  const { member } = await server.client.organizations.members.create({
    organization_id: cast.organization.organization_id,
    email_address: `${local}-${uniqueSuffix()}@example.org`,
    roles: ['stytch_admin'],
  });
  return member;
}

/** The end link's page on this test server: the email names the public URL, the test reaches the server directly. */
function onServer(server: TestServer, link: string): { url: string; token: string } {
  const parsed = new URL(link);
  expect(`${parsed.origin}${parsed.pathname}`).toBe(`${PUBLIC_URL}/impersonation/end`);
  return { url: `${server.baseUrl}/impersonation/end${parsed.search}`, token: parsed.searchParams.get('token') ?? '' };
}

function confirm(server: TestServer, token: string): Promise<Response> {
  return fetch(`${server.baseUrl}/impersonation/end`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token }).toString() });
}

describe.each(STORES)('impersonation notifications and the end link ($name)', ({ name: store }) => {
  let server: TestServer;
  const logLines: string[] = [];

  beforeAll(async () => {
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        logLines.push(chunk.toString('utf8'));
        done();
      },
    });
    server = await startTestServer({ store, config: { publicUrl: PUBLIC_URL }, logger: createLogger('trace', destination) });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('emails the member (with the end link) and every active admin (without it), once each, and records how many', async () => {
    const cast = await createImpersonationCast(server.client);
    const second = await addAdmin(server, cast, 'second-admin');
    await setNotifications(server, cast.organization.organization_id, { notify_member: true, notify_admins: true });

    const { redeemed } = await impersonate(server, cast.member, { reason: 'Ticket 4711: cannot see invoices' });
    const memberSessionId = redeemed.member_session?.member_session_id;

    const toMember = await waitForEmail(server, cast.member.email_address, { template: 'impersonation_started' });
    expect(toMember.subject).toBe(`An impersonation started in ${cast.organization.organization_name} on Understudy`);
    expect(toMember.text).toContain('sam@support.example is now signed in to');
    expect(toMember.text).toContain('as you, for support.');
    expect(toMember.text).toContain('Why: Ticket 4711: cannot see invoices');
    expect(toMember.text).toMatch(/Ends at the latest: .+ UTC/);
    expect(toMember.text).not.toContain('Restricted to');
    expect(toMember.link).toMatch(/^https:\/\/auth\.example\.com\/impersonation\/end\?token=[A-Za-z0-9_-]{44}$/);
    expect(toMember.html).toContain('End this impersonation');

    for (const admin of [cast.admin, second]) {
      const email = await waitForEmail(server, admin.email_address, { template: 'impersonation_started' });
      expect(email.text).toContain(`as ${cast.member.email_address}, for support.`);
      expect(email.text).toContain(`Acting as: ${cast.member.email_address}`);
      expect(email.link).toBeUndefined();
      expect(email.text).not.toContain('/impersonation/end');
    }
    await settleEmails(server);
    for (const address of [cast.member.email_address, cast.admin.email_address, second.email_address]) expect(await listEmails(server, address)).toHaveLength(1);

    const [sent] = (await auditEvents(server, { organization_id: cast.organization.organization_id })).filter((event) => event.type === 'impersonation.notification_sent');
    expect(sent?.details).toEqual({ member_session_id: memberSessionId, recipients: 3, to_member: true, to_admins: 2 });
    expect(sent?.actor).toEqual({ type: 'system' });
    expect(JSON.stringify(sent)).not.toContain('@');
  });

  it('emails an impersonated admin once, as the member, and sends nothing while the organization did not opt in', async () => {
    const cast = await createImpersonationCast(server.client);
    const second = await addAdmin(server, cast, 'other-admin');
    await setNotifications(server, cast.organization.organization_id, { notify_member: true, notify_admins: true });
    await impersonate(server, cast.admin);
    const email = await waitForEmail(server, cast.admin.email_address, { template: 'impersonation_started' });
    expect(email.link).toBeDefined();
    await waitForEmail(server, second.email_address, { template: 'impersonation_started' });
    await settleEmails(server);
    expect(await listEmails(server, cast.admin.email_address)).toHaveLength(1);

    const quiet = await createImpersonationCast(server.client);
    await impersonate(server, quiet.member);
    await server.server.app.services.impersonationNotifier.idle();
    await settleEmails(server);
    expect(await listEmails(server, quiet.member.email_address)).toEqual([]);
    expect(await listEmails(server, quiet.admin.email_address)).toEqual([]);

    // notify_admins alone: the admins, not the member.
    await setNotifications(server, quiet.organization.organization_id, { notify_admins: true });
    const minted = await mintRaw(server, { ...mintBody({ organizationId: quiet.organization.organization_id, memberId: quiet.member.member_id }), permissions: 'read_only' });
    expect(minted.status, JSON.stringify(minted.body)).toBe(200);
    await server.client.impersonation.authenticate({ impersonation_token: minted.body.impersonation_token as string });
    const toAdmin = await waitForEmail(server, quiet.admin.email_address, { template: 'impersonation_started' });
    await settleEmails(server);
    expect(await listEmails(server, quiet.member.email_address)).toEqual([]);
    expect(toAdmin.link).toBeUndefined();
    expect(toAdmin.text).toContain('Restricted to: reading only');
  });

  it('shows the end page without ending anything, ends the session on confirmation, and refuses the link afterwards', async () => {
    const cast = await createImpersonationCast(server.client);
    await setNotifications(server, cast.organization.organization_id, { notify_member: true });
    const { redeemed } = await impersonate(server, cast.member, { reason: 'Looking at <b>invoices</b>' });
    const email = await waitForEmail(server, cast.member.email_address, { template: 'impersonation_started' });
    const { url, token } = onServer(server, email.link ?? '');

    for (let time = 0; time < 2; time += 1) {
      const page = await fetch(url);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(page.headers.get('referrer-policy')).toBe('no-referrer');
      expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
      const text = await page.text();
      expect(text).toContain('End this impersonation?');
      expect(text).toContain('sam@support.example');
      expect(text).toContain('Looking at &#60;b&#62;invoices&#60;/b&#62;');
      expect(text).toContain('<form method="post" action="/impersonation/end">');
    }
    // Opening the page (twice, as a mail scanner and then the member might) ended nothing.
    await server.client.sessions.authenticate({ session_token: redeemed.session_token });

    // The token must come in the body: the link's query string alone does nothing.
    const queryOnly = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: '' });
    expect(queryOnly.status).toBe(401);
    await server.client.sessions.authenticate({ session_token: redeemed.session_token });

    const ended = await confirm(server, token);
    expect(ended.status).toBe(200);
    expect(await ended.text()).toContain('The impersonation has ended');
    await expectStytchRejection(server.client.sessions.authenticate({ session_token: redeemed.session_token }), { status: 404, errorType: 'session_not_found' });

    for (const again of [await confirm(server, token), await fetch(url)]) {
      expect(again.status).toBe(401);
      expect(await again.text()).toContain('invalid_impersonation_end_link');
    }
    const events = await auditEvents(server, { organization_id: cast.organization.organization_id });
    const memberSessionId = redeemed.member_session?.member_session_id;
    expect(events.filter((event) => event.type === 'impersonation.ended_by_member').map((event) => event.details.member_session_id)).toEqual([memberSessionId]);
    expect(events.find((event) => event.type === 'impersonation.session_revoked')?.details).toMatchObject({ member_session_id: memberSessionId, why: 'ended_by_member' });
    const listed = await server.fetch(`/v1/b2b/impersonation/sessions?organization_id=${cast.organization.organization_id}`);
    expect(listed.body.impersonated_sessions).toEqual([]);

    // The link's token is in no audit record and no log line.
    expect(JSON.stringify(await auditEvents(server))).not.toContain(token);
    expect(logLines.join('')).not.toContain(token);
  });

  it('lets exactly one of racing confirmations end it', async () => {
    const cast = await createImpersonationCast(server.client);
    await setNotifications(server, cast.organization.organization_id, { notify_member: true });
    const { redeemed } = await impersonate(server, cast.member);
    const email = await waitForEmail(server, cast.member.email_address, { template: 'impersonation_started' });
    const { token } = onServer(server, email.link ?? '');

    const answers = await Promise.all(Array.from({ length: 6 }, () => confirm(server, token)));
    expect(answers.map((answer) => answer.status).sort()).toEqual([200, 401, 401, 401, 401, 401]);
    await expectStytchRejection(server.client.sessions.authenticate({ session_token: redeemed.session_token }), { status: 404, errorType: 'session_not_found' });
    const events = await auditEvents(server, { organization_id: cast.organization.organization_id });
    expect(events.filter((event) => event.type === 'impersonation.ended_by_member')).toHaveLength(1);
    expect(events.filter((event) => event.type === 'impersonation.session_revoked')).toHaveLength(1);
  });

  it('refuses unknown and malformed tokens with the same page', async () => {
    for (const token of ['', 'short', 'A'.repeat(44)]) {
      const page = await fetch(`${server.baseUrl}/impersonation/end?token=${token}`);
      expect(page.status).toBe(401);
      expect(await page.text()).toContain('This link cannot be used');
      expect((await confirm(server, token)).status).toBe(401);
    }
  });
});

describe('impersonation notifications over SMTP', () => {
  let smtp: SmtpTestServer;
  let server: TestServer;

  beforeAll(async () => {
    smtp = await startSmtpTestServer();
    server = await startTestServer({ config: { publicUrl: PUBLIC_URL, smtpUrl: smtp.url, smtpFrom: 'notices@acme.example' } });
  });
  afterAll(async () => {
    await server?.stop();
    await smtp?.close();
  });

  it('sends the member their notice with the end link, and the admins theirs, through the SMTP server', async () => {
    const cast = await createImpersonationCast(server.client);
    await setNotifications(server, cast.organization.organization_id, { notify_member: true, notify_admins: true });
    const { redeemed } = await impersonate(server, cast.member);
    const messages = await smtp.waitForMessages(2);
    const toMember = messages.find((message) => message.to.includes(cast.member.email_address));
    const toAdmin = messages.find((message) => message.to.includes(cast.admin.email_address));
    expect(toMember?.subject).toContain('An impersonation started in');
    const link = /https:\/\/auth\.example\.com\/impersonation\/end\?token=[A-Za-z0-9_-]{44}/.exec(toMember?.text ?? '')?.[0];
    expect(link).toBeDefined();
    expect(toAdmin?.text).not.toContain('/impersonation/end');

    // The link works from the SMTP message too; SMTP mode keeps no copy of it in the outbox.
    const { token } = onServer(server, link ?? '');
    expect((await confirm(server, token)).status).toBe(200);
    await expectStytchRejection(server.client.sessions.authenticate({ session_token: redeemed.session_token }), { status: 404, errorType: 'session_not_found' });
    const stored = await server.server.app.services.outbox.list({ to: cast.member.email_address, limit: 10 });
    expect(stored.map((message) => message.link)).toEqual([null]);
  });
});
