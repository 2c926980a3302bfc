import type { Member } from 'stytch';
import { afterAll, describe, expect, it } from 'vitest';
import type { Config } from '../../../src/config/schema.js';
import { ManualClock } from '../../../src/platform/clock.js';
import { listEmails, waitForEmail } from '../../support/outbox.js';
import { listSms, settleSms, waitForSms } from '../../support/sms.js';
import { STORES } from '../../support/stores.js';
import { startTestServer, type TestServer } from '../../support/test-server.js';
import { auditOfRequest, createEmailOrganization, createMember, type EmailOrganization } from '../../conformance/stytch-sdk/email-sign-in-fixtures.js';

/**
 * The costly-abuse limits on SMS codes ("SMS pumping"): per destination number, per member and per
 * project, each per hour (UNDERSTUDY_RATE_LIMIT_SMS_SENDS_*). Past one, otps.sms.send answers 429
 * with Retry-After and sends and writes nothing (a number it would have linked stays unlinked);
 * the SMS a sign-in sends by itself is skipped instead, and the sign-in goes on.
 */
const SEND = '/v1/b2b/otps/sms/send';
/** Ten minutes into an hour: a refusal's Retry-After is the 50 minutes left. */
const START = '2026-03-01T12:10:00Z';

let phones = 0;
function aPhoneNumber(): string {
  phones += 1;
  return `+1628${String(Math.floor(Math.random() * 1000)).padStart(3, '0')}${String(phones).padStart(4, '0')}`;
}

describe.each(STORES.map((factory) => factory.name))('SMS abuse limits (%s)', (store) => {
  const started: TestServer[] = [];
  afterAll(async () => Promise.all(started.map((server) => server.stop())));

  async function serverWith(limits: Partial<Config>) {
    const clock = new ManualClock(START);
    const server = await startTestServer({ store, clock, config: { rateLimitsEnabled: true, ...limits } });
    started.push(server);
    const organization = await createEmailOrganization(server.client, { mfa_policy: 'REQUIRED_FOR_ALL' });
    return { server, clock, organization };
  }

  function send(server: TestServer, member: Member, extra: Record<string, string> = {}) {
    return server.fetch(SEND, { method: 'POST', json: { organization_id: member.organization_id, member_id: member.member_id, ...extra } });
  }

  async function expectRefusedAndNothingWritten(server: TestServer, answer: Awaited<ReturnType<TestServer['fetch']>>, limit: string) {
    expect({ status: answer.status, error_type: answer.body.error_type }, JSON.stringify(answer.body)).toEqual({ status: 429, error_type: 'too_many_requests' });
    expect(answer.headers.get('retry-after')).toBe('3000');
    expect(answer.body.error_message).toBe(`Too many requests have been made: at most ${limit} per hour. Retry after 3000 seconds.`);
    expect(await auditOfRequest(server, answer.body.request_id as string)).toEqual([]);
  }

  /** A primary sign-in by email code: the intermediate session MFA leaves, with what it says of MFA. */
  async function primarySignIn(server: TestServer, organization: EmailOrganization, email: string) {
    const [before] = await listEmails(server, email);
    await server.client.otps.email.loginOrSignup({ organization_id: organization.organization.organization_id, email_address: email });
    const message = await waitForEmail(server, email, before === undefined ? {} : { after: before });
    return server.client.otps.email.authenticate({ organization_id: organization.organization.organization_id, email_address: email, code: message.code as string });
  }

  it('per number: past the limit a send is refused (429, Retry-After), sends nothing, links nothing; refused sends do not count; the next hour sends again', async () => {
    const { server, clock, organization } = await serverWith({ rateLimitSmsSendsPerNumberPerHour: 2 });
    const member = await createMember(server.client, organization.organization, organization.address());
    const phone = aPhoneNumber();
    // A send refused for another reason is not counted.
    expect((await send(server, member, { mfa_phone_number: phone, locale: 'xx' })).status).toBe(400);
    expect((await send(server, member, { mfa_phone_number: phone })).status).toBe(200);
    expect((await send(server, member, { mfa_phone_number: aPhoneNumber() })).body.error_type).toBe('mfa_phone_number_mismatch');
    expect((await send(server, member)).status).toBe(200);
    await expectRefusedAndNothingWritten(server, await send(server, member), '2 SMS codes sent to one phone number');
    await settleSms(server);
    expect(await listSms(server, phone)).toHaveLength(2);

    // The number's count holds across members and organizations: linking it elsewhere is refused, and rolled back.
    const elsewhere = await createEmailOrganization(server.client);
    const other = await createMember(server.client, elsewhere.organization, elsewhere.address());
    await expectRefusedAndNothingWritten(server, await send(server, other, { mfa_phone_number: phone }), '2 SMS codes sent to one phone number');
    expect((await server.client.organizations.members.get({ organization_id: other.organization_id, member_id: other.member_id })).member.mfa_phone_number).toBe('');

    const [last] = await listSms(server, phone);
    clock.set('2026-03-01T13:00:00Z');
    expect((await send(server, member)).status).toBe(200);
    await waitForSms(server, phone, { after: last });
  });

  it('the SMS a sign-in sends by itself counts, and past the limit is skipped: the sign-in goes on with secondary_auth_initiated null', async () => {
    const { server, organization } = await serverWith({ rateLimitSmsSendsPerNumberPerHour: 2 });
    const email = organization.address();
    const member = await createMember(server.client, organization.organization, email);
    const phone = aPhoneNumber();
    const first = await primarySignIn(server, organization, email);
    expect((await send(server, member, { mfa_phone_number: phone, intermediate_session_token: first.intermediate_session_token })).status).toBe(200);
    const sms = await waitForSms(server, phone);
    await server.client.otps.sms.authenticate({ organization_id: member.organization_id, member_id: member.member_id, code: sms.code as string, intermediate_session_token: first.intermediate_session_token });

    const prompted = await primarySignIn(server, organization, email);
    expect(prompted.mfa_required?.secondary_auth_initiated).toBe('sms_otp');
    await waitForSms(server, phone, { after: sms });
    const skipped = await primarySignIn(server, organization, email);
    expect(skipped.member_authenticated).toBe(false);
    expect(skipped.intermediate_session_token).not.toBe('');
    expect(skipped.mfa_required).toEqual({ member_options: { mfa_phone_number: phone, totp_registration_id: '' }, secondary_auth_initiated: null });
    expect((await auditOfRequest(server, skipped.request_id)).map((event) => event.type)).toEqual(['member.signed_in']);
    await settleSms(server);
    expect(await listSms(server, phone)).toHaveLength(2);
    await expectRefusedAndNothingWritten(server, await send(server, member), '2 SMS codes sent to one phone number');
  });

  it('concurrent sends to one number from many members: exactly the limit go out', async () => {
    const { server, organization } = await serverWith({ rateLimitSmsSendsPerNumberPerHour: 2 });
    const members = await Promise.all(Array.from({ length: 6 }, () => createMember(server.client, organization.organization, organization.address())));
    const phone = aPhoneNumber();
    const answers = await Promise.all(members.map((member) => send(server, member, { mfa_phone_number: phone })));
    expect(answers.map((answer) => answer.status).sort()).toEqual([200, 200, 429, 429, 429, 429]);
    await settleSms(server);
    expect(await listSms(server, phone)).toHaveLength(2);
  });

  it('per member: a member who changes numbers is still limited', async () => {
    const { server, organization } = await serverWith({ rateLimitSmsSendsPerMemberPerHour: 3 });
    const member = await createMember(server.client, organization.organization, organization.address());
    const deletePhone = () => server.client.organizations.members.deleteMFAPhoneNumber({ organization_id: member.organization_id, member_id: member.member_id });
    expect((await send(server, member, { mfa_phone_number: aPhoneNumber() })).status).toBe(200);
    expect((await send(server, member)).status).toBe(200);
    await deletePhone();
    expect((await send(server, member, { mfa_phone_number: aPhoneNumber() })).status).toBe(200);
    await deletePhone();
    const phone = aPhoneNumber();
    await expectRefusedAndNothingWritten(server, await send(server, member, { mfa_phone_number: phone }), '3 SMS codes sent to one member');
    await settleSms(server);
    expect(await listSms(server, phone)).toEqual([]);
  });

  it('per project: every number and member counts towards one ceiling', async () => {
    const { server, organization } = await serverWith({ rateLimitSmsSendsPerProjectPerHour: 3 });
    const members = await Promise.all(Array.from({ length: 4 }, () => createMember(server.client, organization.organization, organization.address())));
    const phones = members.map(() => aPhoneNumber());
    for (const [index, member] of members.slice(0, 3).entries()) expect((await send(server, member, { mfa_phone_number: phones[index] as string })).status).toBe(200);
    await expectRefusedAndNothingWritten(server, await send(server, members[3] as Member, { mfa_phone_number: phones[3] as string }), '3 SMS codes sent by the project');
    await settleSms(server);
    expect(await listSms(server, phones[3] as string)).toEqual([]);
  });
});
