import type { Member } from 'stytch';
import { afterAll, describe, expect, it } from 'vitest';
import type { Config } from '../../../src/config/schema.js';
import { ManualClock } from '../../../src/platform/clock.js';
import { listEmails, waitForEmail } from '../../support/outbox.js';
import { listSms, settleSms, waitForSms } from '../../support/sms.js';
import { STORES } from '../../support/stores.js';
import { startTestServer, type TestServer } from '../../support/test-server.js';
import { auditOfRequest, createEmailOrganization, createMember, type EmailOrganization } from '../../conformance/stytch-sdk/email-sign-in-fixtures.js';
import { codeAt, wrongCodeAt } from '../../conformance/stytch-sdk/mfa-fixtures.js';

/**
 * The costly-abuse limits on SMS codes ("SMS pumping"): per destination number (per member for a
 * number they verified), per member, per organization and per project, each per hour
 * (UNDERSTUDY_RATE_LIMIT_SMS_SENDS_*), and the countries codes may go to
 * (UNDERSTUDY_SMS_ALLOWED_COUNTRY_CODES). Past a limit, otps.sms.send answers 429 with Retry-After
 * and sends and writes nothing (a number it would have linked stays unlinked); the SMS a sign-in
 * sends by itself is skipped instead, and the sign-in goes on. And the bound on guessing SMS codes,
 * which is always on and shared with TOTP and recovery codes.
 */
const SEND = '/v1/b2b/otps/sms/send';
const AUTHENTICATE = '/v1/b2b/otps/sms/authenticate';
const TOTP_AUTHENTICATE = '/v1/b2b/totp/authenticate';
const TOTP_SECRET = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
/** Ten minutes into an hour: a refusal's Retry-After is the 50 minutes left. */
const START = '2026-03-01T12:10:00Z';

let phones = 0;
function aPhoneNumber(): string {
  phones += 1;
  return `+1628${String(Math.floor(Math.random() * 1000)).padStart(3, '0')}${String(phones).padStart(4, '0')}`;
}

/** A UK mobile number no other test of the run uses. */
function aUkPhoneNumber(): string {
  phones += 1;
  return `+447700${String(Math.floor(Math.random() * 100)).padStart(2, '0')}${String(phones).padStart(4, '0')}`;
}

/** A code that is not `code`. */
function wrongCode(code: string): string {
  return code === '000000' ? '111111' : '000000';
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

  function authenticate(server: TestServer, member: Member, code: string, ist: string, path = AUTHENTICATE) {
    return server.fetch(path, { method: 'POST', json: { organization_id: member.organization_id, member_id: member.member_id, code, intermediate_session_token: ist } });
  }

  /** Sends a code to the member's number (linking `link` when given) and returns it as the phone received it. */
  async function sendCode(server: TestServer, member: Member, phone: string, extra: Record<string, string> = {}): Promise<string> {
    const [before] = await listSms(server, phone);
    const answer = await send(server, member, extra);
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    return (await waitForSms(server, phone, before === undefined ? {} : { after: before })).code as string;
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

    // Verified, the number's sends count for this member alone: two more before the limit.
    let last = sms;
    for (let prompt = 1; prompt <= 2; prompt += 1) {
      const prompted = await primarySignIn(server, organization, email);
      expect(prompted.mfa_required?.secondary_auth_initiated).toBe('sms_otp');
      last = await waitForSms(server, phone, { after: last });
    }
    const skipped = await primarySignIn(server, organization, email);
    expect(skipped.member_authenticated).toBe(false);
    expect(skipped.intermediate_session_token).not.toBe('');
    expect(skipped.mfa_required).toEqual({ member_options: { mfa_phone_number: phone, totp_registration_id: '' }, secondary_auth_initiated: null });
    expect((await auditOfRequest(server, skipped.request_id)).map((event) => event.type)).toEqual(['member.signed_in']);
    await settleSms(server);
    expect(await listSms(server, phone)).toHaveLength(3);
    await expectRefusedAndNothingWritten(server, await send(server, member), '2 SMS codes sent to one phone number');
  });

  it('per number: a number its member verified has a budget of its own, which nobody linking the same number elsewhere can use up', async () => {
    const { server, organization } = await serverWith({ rateLimitSmsSendsPerNumberPerHour: 2 });
    const email = organization.address();
    const owner = await createMember(server.client, organization.organization, email);
    const phone = aPhoneNumber();
    const first = await primarySignIn(server, organization, email);
    expect((await send(server, owner, { mfa_phone_number: phone, intermediate_session_token: first.intermediate_session_token })).status).toBe(200);
    const sms = await waitForSms(server, phone);
    await server.client.otps.sms.authenticate({ organization_id: owner.organization_id, member_id: owner.member_id, code: sms.code as string, intermediate_session_token: first.intermediate_session_token });

    // Someone links the owner's number to a member of their own organization and sends until refused.
    const elsewhere = await createEmailOrganization(server.client);
    const stranger = await createMember(server.client, elsewhere.organization, elsewhere.address());
    expect((await send(server, stranger, { mfa_phone_number: phone })).status).toBe(200);
    await expectRefusedAndNothingWritten(server, await send(server, stranger), '2 SMS codes sent to one phone number');

    // The owner's sign-ins and sends still get their codes, up to the owner's own limit.
    const prompted = await primarySignIn(server, organization, email);
    expect(prompted.mfa_required?.secondary_auth_initiated).toBe('sms_otp');
    expect((await send(server, owner)).status).toBe(200);
    await expectRefusedAndNothingWritten(server, await send(server, owner), '2 SMS codes sent to one phone number');
    await settleSms(server);
    expect((await listSms(server, phone)).map((message) => message.memberId)).toEqual([owner.member_id, owner.member_id, stranger.member_id, owner.member_id]);
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

  it('per organization: its members’ sends count together; another organization’s members are not limited by them', async () => {
    const { server, organization } = await serverWith({ rateLimitSmsSendsPerOrganizationPerHour: 3 });
    const members = await Promise.all(Array.from({ length: 4 }, () => createMember(server.client, organization.organization, organization.address())));
    const phones = members.map(() => aPhoneNumber());
    for (const [index, member] of members.slice(0, 3).entries()) expect((await send(server, member, { mfa_phone_number: phones[index] as string })).status).toBe(200);
    await expectRefusedAndNothingWritten(server, await send(server, members[3] as Member, { mfa_phone_number: phones[3] as string }), '3 SMS codes sent to members of one organization');
    const elsewhere = await createEmailOrganization(server.client);
    const other = await createMember(server.client, elsewhere.organization, elsewhere.address());
    expect((await send(server, other, { mfa_phone_number: aPhoneNumber() })).status).toBe(200);
    await settleSms(server);
    expect(await listSms(server, phones[3] as string)).toEqual([]);
    expect((await server.client.organizations.members.get({ organization_id: organization.organization.organization_id, member_id: (members[3] as Member).member_id })).member.mfa_phone_number).toBe('');
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

  it('only to the countries configured: otps.sms.send refuses another country’s number (400, nothing linked or sent), and a sign-in sends it no SMS', async () => {
    const clock = new ManualClock(START);
    const plain = await startTestServer({ store, clock, config: { rateLimitsEnabled: false } });
    let restricted: TestServer | undefined;
    try {
      // Verified before the operator restricted SMS to the United Kingdom.
      const organization = await createEmailOrganization(plain.client, { mfa_policy: 'REQUIRED_FOR_ALL' });
      const email = organization.address();
      const member = await createMember(plain.client, organization.organization, email);
      const phone = aPhoneNumber();
      const first = await primarySignIn(plain, organization, email);
      const code = await sendCode(plain, member, phone, { mfa_phone_number: phone, intermediate_session_token: first.intermediate_session_token });
      expect((await authenticate(plain, member, code, first.intermediate_session_token)).status).toBe(200);
      await plain.server.close();
      // Message ids are ordered by time within one process: the next server's come later.
      clock.advance(1_000);

      // The rate limits are off: the countries hold all the same.
      restricted = await startTestServer({ store, clock, sharing: plain, config: { rateLimitsEnabled: false, smsAllowedCountryCodes: ['44'] } });
      const signedIn = await primarySignIn(restricted, organization, email);
      expect(signedIn.mfa_required).toEqual({ member_options: { mfa_phone_number: phone, totp_registration_id: '' }, secondary_auth_initiated: null });
      expect((await auditOfRequest(restricted, signedIn.request_id)).map((event) => event.type)).toEqual(['member.signed_in']);
      const refused = await send(restricted, member);
      expect({ status: refused.status, error_type: refused.body.error_type }).toEqual({ status: 400, error_type: 'phone_number_country_not_allowed' });
      expect(await auditOfRequest(restricted, refused.body.request_id as string)).toEqual([]);

      const other = await createMember(restricted.client, organization.organization, organization.address());
      const elsewhere = aPhoneNumber();
      const linking = await send(restricted, other, { mfa_phone_number: elsewhere });
      expect({ status: linking.status, error_type: linking.body.error_type }).toEqual({ status: 400, error_type: 'phone_number_country_not_allowed' });
      expect((await restricted.client.organizations.members.get({ organization_id: other.organization_id, member_id: other.member_id })).member.mfa_phone_number).toBe('');
      const uk = aUkPhoneNumber();
      await sendCode(restricted, other, uk, { mfa_phone_number: uk });
      await settleSms(restricted);
      expect(await listSms(restricted, phone)).toHaveLength(1);
      expect(await listSms(restricted, elsewhere)).toEqual([]);
    } finally {
      await restricted?.stop();
      await plain.stop().catch(() => {});
    }
  });

  describe('guessing SMS codes', () => {
    /** Rate limits off: the bound on guesses is always on. */
    async function guessingServer(at: string) {
      const clock = new ManualClock(at);
      const server = await startTestServer({ store, clock, config: { rateLimitsEnabled: false } });
      started.push(server);
      const organization = await createEmailOrganization(server.client, { mfa_policy: 'REQUIRED_FOR_ALL' });
      const email = organization.address();
      const member = await createMember(server.client, organization.organization, email);
      return { server, clock, organization, email, member, phone: aPhoneNumber() };
    }

    it('wrong codes count against the member, not only the code: new codes do not start the count afresh', async () => {
      const { server, clock, organization, email, member, phone } = await guessingServer(START);
      const { intermediate_session_token: ist } = await primarySignIn(server, organization, email);
      let code = await sendCode(server, member, phone, { mfa_phone_number: phone });
      for (let guess = 1; guess <= 5; guess += 1) {
        // A new code after every two guesses: each code would otherwise allow five guesses of its own.
        if (guess === 3 || guess === 5) code = await sendCode(server, member, phone);
        expect((await authenticate(server, member, wrongCode(code), ist)).body.error_type).toBe('unable_to_auth_otp_code');
      }
      // Sending is not refused; judging any code is, the right one too, until the ten-minute window ends.
      code = await sendCode(server, member, phone);
      const limited = await authenticate(server, member, code, ist);
      expect({ status: limited.status, error_type: limited.body.error_type }).toEqual({ status: 429, error_type: 'too_many_requests' });
      expect(limited.headers.get('retry-after')).toBe('600');
expect((await auditOfRequest(server, limited.body.request_id as string)).map((event) => [event.type, event.details.why, event.details.error_type])).toEqual([['member.sign_in_refused', 'guess_limit', 'too_many_requests']]);

      clock.set('2026-03-01T12:20:00Z');
      const again = await primarySignIn(server, organization, email);
      code = await sendCode(server, member, phone);
      expect((await authenticate(server, member, code, again.intermediate_session_token)).status).toBe(200);
    });

    it('wrong TOTP and SMS codes share the member’s bound', async () => {
      const { server, organization, email, member, phone, clock } = await guessingServer(START);
      const first = await primarySignIn(server, organization, email);
      const code = await sendCode(server, member, phone, { mfa_phone_number: phone, intermediate_session_token: first.intermediate_session_token });
      expect((await authenticate(server, member, code, first.intermediate_session_token)).status).toBe(200);
      await server.client.totps.migrate({ organization_id: member.organization_id, member_id: member.member_id, secret: TOTP_SECRET, recovery_codes: [] });

      const [before] = await listSms(server, phone);
      const { intermediate_session_token: ist, mfa_required } = await primarySignIn(server, organization, email);
      expect(mfa_required?.secondary_auth_initiated).toBe('sms_otp');
      const sent = (await waitForSms(server, phone, before === undefined ? {} : { after: before })).code as string;
      for (let guess = 1; guess <= 3; guess += 1) {
        expect((await authenticate(server, member, wrongCodeAt(TOTP_SECRET, clock), ist, TOTP_AUTHENTICATE)).body.error_type).toBe('unable_to_authenticate_totp');
      }
      for (let guess = 1; guess <= 2; guess += 1) expect((await authenticate(server, member, wrongCode(sent), ist)).body.error_type).toBe('unable_to_auth_otp_code');
      for (const [right, path] of [[sent, AUTHENTICATE], [codeAt(TOTP_SECRET, clock), TOTP_AUTHENTICATE]] as const) {
        const limited = await authenticate(server, member, right, ist, path);
        expect({ path, status: limited.status, error_type: limited.body.error_type }).toEqual({ path, status: 429, error_type: 'too_many_requests' });
      }
    });

    it('five wrong codes still void the code itself, also when the member’s count started afresh with a new window', async () => {
      // A minute and a half before the ten-minute window ends: the code (two minutes) outlives it.
      const { server, clock, organization, email, member, phone } = await guessingServer('2026-03-01T12:18:30Z');
      const { intermediate_session_token: ist } = await primarySignIn(server, organization, email);
      const code = await sendCode(server, member, phone, { mfa_phone_number: phone });
      for (let guess = 1; guess <= 3; guess += 1) expect((await authenticate(server, member, wrongCode(code), ist)).status).toBe(401);
      clock.set('2026-03-01T12:20:05Z');
      for (let guess = 4; guess <= 5; guess += 1) expect((await authenticate(server, member, wrongCode(code), ist)).status).toBe(401);
      const refused = await authenticate(server, member, code, ist);
      expect({ status: refused.status, error_type: refused.body.error_type }).toEqual({ status: 404, error_type: 'otp_code_not_found' });
      expect((await auditOfRequest(server, refused.body.request_id as string))[0]?.details).toMatchObject({ why: 'too_many_attempts' });
    });
  });
});
