import type { B2BClient } from 'stytch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/platform/clock.js';
import { expectStytchRejection, expectToMatchResponseSchema } from '../../support/openapi.js';
import { waitForEmail } from '../../support/outbox.js';
import { STORES } from '../../support/stores.js';
import { startTestServer, type TestServer } from '../../support/test-server.js';
import { idPattern } from '../../support/wire-formats.js';
import { auditOfRequest, createEmailOrganization, createMember, type EmailOrganization, OTP_AUTHENTICATE, OTP_SEND, sessionsOf } from './email-sign-in-fixtures.js';
import { AUTHENTICATE, minutesFrom } from './session-fixtures.js';

/**
 * client.otps.email.loginOrSignup and client.otps.email.authenticate as Stytch answers them: the
 * same login, signup and just-in-time rules as magic links, a six-digit code in the message (read
 * from the outbox), and the session it opens.
 */
const EMAIL_ID = /^member-email-test-[0-9a-f-]{36}$/;

for (const store of STORES) {
  describe(`client.otps.email (${store.name})`, () => {
    let server: TestServer;
    let client: B2BClient;
    let clock: ManualClock;
    let acme: EmailOrganization;

    beforeAll(async () => {
      clock = new ManualClock(new Date());
      server = await startTestServer({ store: store.name, clock });
      client = server.client;
      acme = await createEmailOrganization(client);
    });
    afterAll(async () => server?.stop());

    it('loginOrSignup to a new address creates a pending member and mails an otp_signup code; authenticate activates them with an email_otp factor', async () => {
      const email = acme.address();
      const sent = await client.otps.email.loginOrSignup({ organization_id: acme.organization.organization_id, email_address: email });
      expectToMatchResponseSchema('post', OTP_SEND, sent);
      expect(sent.request_id).toMatch(idPattern('request-id'));
      expect(sent).toMatchObject({ status_code: 200, member_created: true, member_id: sent.member.member_id });
      expect(sent.member).toMatchObject({ email_address: email, status: 'pending' });
      const message = await waitForEmail(server, email, { template: 'otp_signup' });
      expect(message.code).toMatch(/^\d{6}$/);
      expect(message.link).toBeUndefined();
      expect(message.text).toContain(message.code);

      const now = clock.now();
      const signedIn = await client.otps.email.authenticate({ organization_id: acme.organization.organization_id, email_address: email, code: message.code as string });
      expectToMatchResponseSchema('post', OTP_AUTHENTICATE, signedIn);
      expect(signedIn).toMatchObject({
        member_id: sent.member_id,
        organization_id: acme.organization.organization_id,
        member_authenticated: true,
        intermediate_session_token: '',
        mfa_required: null,
        status_code: 200,
      });
      expect(signedIn).not.toHaveProperty('reset_sessions');
      expect(signedIn.method_id).toMatch(EMAIL_ID);
      expect(signedIn.member).toMatchObject({ status: 'active', email_address_verified: true });
      const at = minutesFrom(now, 0);
      expect(signedIn.member_session?.authentication_factors).toEqual([
        { type: 'email_otp', delivery_method: 'email', email_factor: { email_id: signedIn.method_id, email_address: email }, created_at: at, last_authenticated_at: at, updated_at: at },
      ]);
      const checked = await client.sessions.authenticate({ session_token: signedIn.session_token });
      expectToMatchResponseSchema('post', AUTHENTICATE, checked);
      expect(checked.member.member_id).toBe(sent.member_id);
    });

    it('an active member gets otp_login; the address is matched case-insensitively; method_id is the one magic links answer', async () => {
      const email = acme.address('grace');
      const member = await createMember(client, acme.organization, email);
      const sent = await client.otps.email.loginOrSignup({ organization_id: acme.organization.organization_id, email_address: email.toUpperCase(), locale: 'pt-br' });
      expect(sent).toMatchObject({ member_created: false, member_id: member.member_id });
      const message = await waitForEmail(server, email, { template: 'otp_login' });
      expect(message.locale).toBe('pt-br');
      const signedIn = await client.otps.email.authenticate({ organization_id: acme.organization.organization_id, email_address: ` ${email.toUpperCase()} `, code: message.code as string });
      expect(signedIn.member_id).toBe(member.member_id);

      await client.magicLinks.email.loginOrSignup({ organization_id: acme.organization.organization_id, email_address: email });
      const link = await waitForEmail(server, email, { template: 'login' });
      const byLink = await client.magicLinks.authenticate({ magic_links_token: new URL(link.link as string).searchParams.get('token') as string });
      expect(byLink.method_id).toBe(signedIn.method_id);
    });

    it('a new code voids the earlier one', async () => {
      const email = acme.address('twice');
      await client.otps.email.loginOrSignup({ organization_id: acme.organization.organization_id, email_address: email });
      const first = await waitForEmail(server, email);
      await client.otps.email.loginOrSignup({ organization_id: acme.organization.organization_id, email_address: email });
      const second = await waitForEmail(server, email, { after: first });
      if (first.code !== second.code) {
        await expectStytchRejection(client.otps.email.authenticate({ organization_id: acme.organization.organization_id, email_address: email, code: first.code as string }), {
          status: 401,
          errorType: 'unable_to_auth_otp_code',
        });
      }
      const signedIn = await client.otps.email.authenticate({ organization_id: acme.organization.organization_id, email_address: email, code: second.code as string });
      expect(signedIn.member_authenticated).toBe(true);
    });

    it('the send is audited as email_otp.sent without the code; the sign-in as member.signed_in by email_otp', async () => {
      const email = acme.address('audited');
      const sent = await client.otps.email.loginOrSignup({ organization_id: acme.organization.organization_id, email_address: email, signup_expiration_minutes: 2 });
      const message = await waitForEmail(server, email);
      const events = await auditOfRequest(server, sent.request_id);
      expect(events.map((event) => event.type)).toEqual(['member.created', 'email_otp.sent']);
      expect(events[1]?.details).toMatchObject({ purpose: 'signup', member_created: true });
      expect(Date.parse(events[1]?.details.expires_at as string) - Date.parse(events[1]?.occurredAt as string)).toBe(2 * 60_000);
      expect(JSON.stringify(events)).not.toContain(message.code as string);
      const signedIn = await client.otps.email.authenticate({ organization_id: acme.organization.organization_id, email_address: email, code: message.code as string });
      const signInEvents = await auditOfRequest(server, signedIn.request_id);
      expect(signInEvents.map((event) => event.type)).toEqual(['member.signed_in']);
      expect(signInEvents[0]?.details).toMatchObject({ method: 'email_otp', factor: 'email_otp', wrote: 'session.started', member_session_id: signedIn.member_session?.member_session_id });
    });

    it('an organization requiring MFA: the code gives an intermediate session with mfa_required, the member is active, no session', async () => {
      const strict = await createEmailOrganization(client, { mfa_policy: 'REQUIRED_FOR_ALL' });
      const email = strict.address();
      await client.otps.email.loginOrSignup({ organization_id: strict.organization.organization_id, email_address: email });
      const message = await waitForEmail(server, email);
      const signedIn = await client.otps.email.authenticate({ organization_id: strict.organization.organization_id, email_address: email, code: message.code as string });
      expectToMatchResponseSchema('post', OTP_AUTHENTICATE, signedIn);
      expect(signedIn).toMatchObject({ member_authenticated: false, member_session: null, session_token: '', mfa_required: { member_options: null } });
      expect(signedIn.intermediate_session_token).not.toBe('');
      expect(signedIn.member.status).toBe('active');
      expect(await sessionsOf(client, signedIn.member)).toEqual([]);
    });
  });
}
