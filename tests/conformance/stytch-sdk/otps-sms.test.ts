import type { B2BClient, Member } from 'stytch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/platform/clock.js';
import { impersonate } from '../../support/impersonation.js';
import { expectStytchRejection, expectToMatchResponseSchema } from '../../support/openapi.js';
import { listEmails, waitForEmail } from '../../support/outbox.js';
import { listSms, settleSms, waitForSms } from '../../support/sms.js';
import { STORES } from '../../support/stores.js';
import { startTestServer, type TestServer } from '../../support/test-server.js';
import { auditOfRequest, createEmailOrganization, createMember, type EmailOrganization, OTP_AUTHENTICATE, sessionsOf } from './email-sign-in-fixtures.js';
import { AUTHENTICATE, startSession } from './session-fixtures.js';
import { codeAt, newMemberSignedIn, signInWithPassword } from './mfa-fixtures.js';

/**
 * client.otps.sms.send and client.otps.sms.authenticate as Stytch answers them: an SMS code as a
 * second factor (read from the SMS outbox), completing a primary sign-in's intermediate session or
 * stepping up a session; the SMS a sign-in sends by itself to a member with a verified phone; and
 * organizations.members.deleteMFAPhoneNumber.
 */
const SMS_SEND = '/v1/b2b/otps/sms/send';
const SMS_AUTHENTICATE = '/v1/b2b/otps/sms/authenticate';
const DELETE_PHONE = '/v1/b2b/organizations/{organization_id}/members/mfa_phone_numbers/{member_id}';
const PHONE_ID = /^phone-number-test-[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const CODE_NOT_FOUND = { status: 404, errorType: 'otp_code_not_found' } as const;
const WRONG_CODE = { status: 401, errorType: 'unable_to_auth_otp_code' } as const;

let phones = 0;
/** A phone number no other test of the run uses (the outbox is read by number). */
function aPhoneNumber(): string {
  phones += 1;
  return `+1415${String(Math.floor(Math.random() * 1000)).padStart(3, '0')}${String(phones).padStart(4, '0')}`;
}

/** A code that is not `code`. */
function wrongCode(code: string): string {
  return code === '000000' ? '111111' : '000000';
}

for (const store of STORES) {
  describe(`client.otps.sms (${store.name})`, () => {
    let server: TestServer;
    let client: B2BClient;
    let clock: ManualClock;
    /** An organization that requires MFA of every member. */
    let strict: EmailOrganization;

    beforeAll(async () => {
      clock = new ManualClock(new Date());
      server = await startTestServer({ store: store.name, clock });
      client = server.client;
      strict = await createEmailOrganization(client, { mfa_policy: 'REQUIRED_FOR_ALL' });
    });
    afterAll(async () => server?.stop());

    const organizationId = () => strict.organization.organization_id;

    /** A primary sign-in by email code, as the member's browser would: the intermediate session MFA leaves. */
    async function primarySignIn(email: string, locale?: 'en' | 'es') {
      const [before] = await listEmails(server, email);
      await client.otps.email.loginOrSignup({ organization_id: organizationId(), email_address: email, ...(locale && { locale }) });
      const message = await waitForEmail(server, email, before === undefined ? {} : { after: before });
      const signedIn = await client.otps.email.authenticate({ organization_id: organizationId(), email_address: email, code: message.code as string, ...(locale && { locale }) });
      expectToMatchResponseSchema('post', OTP_AUTHENTICATE, signedIn);
      expect(signedIn.member_authenticated).toBe(false);
      return signedIn;
    }

    /** Sends a code (checking the answer) and returns it as the member's phone received it. */
    async function sendCode(member: Member, options: { phone: string; link?: boolean; ist?: string }) {
      const [before] = await listSms(server, options.phone);
      const sent = await client.otps.sms.send({
        organization_id: organizationId(),
        member_id: member.member_id,
        ...(options.link === true && { mfa_phone_number: options.phone }),
        ...(options.ist !== undefined && { intermediate_session_token: options.ist }),
      });
      expectToMatchResponseSchema('post', SMS_SEND, sent);
      const sms = await waitForSms(server, options.phone, before === undefined ? {} : { after: before });
      return { sent, code: sms.code as string, sms };
    }

    /** A member of the strict organization whose phone is linked and verified (their first MFA sign-in done). */
    async function enrolledMember() {
      const email = strict.address('enrolled');
      const member = await createMember(client, strict.organization, email);
      const phone = aPhoneNumber();
      const primary = await primarySignIn(email);
      const { code } = await sendCode(member, { phone, link: true, ist: primary.intermediate_session_token });
      const done = await client.otps.sms.authenticate({ organization_id: organizationId(), member_id: member.member_id, code, intermediate_session_token: primary.intermediate_session_token });
      expect(done.member.mfa_phone_number_verified).toBe(true);
      return { member: done.member, email, phone, sessionToken: done.session_token };
    }

    it('send links the number (unverified); authenticate with the primary sign-in’s intermediate session gives a session with both factors and verifies it', async () => {
      const email = strict.address('first');
      const member = await createMember(client, strict.organization, email);
      const primary = await primarySignIn(email);
      expect(primary.mfa_required).toEqual({ member_options: null, secondary_auth_initiated: null });
      const phone = aPhoneNumber();

      const { sent, code, sms } = await sendCode(member, { phone, link: true, ist: primary.intermediate_session_token });
      expect(sent).toMatchObject({ status_code: 200, member_id: member.member_id, organization: { organization_id: organizationId() } });
      expect(sent.member).toMatchObject({ mfa_phone_number: phone, mfa_phone_number_verified: false, default_mfa_method: '' });
      expect(code).toMatch(/^\d{6}$/);
      expect(sms).toMatchObject({ to: phone, locale: 'en', memberId: member.member_id, organizationId: organizationId(), requestId: sent.request_id });
      expect(Date.parse(sms.expiresAt) - Date.parse(sms.createdAt)).toBe(2 * 60_000);
      const sendEvents = await auditOfRequest(server, sent.request_id);
      expect(sendEvents.map((event) => event.type)).toEqual(['member.sms_code_sent']);
      expect(sendEvents[0]?.details).toMatchObject({ phone_number: phone, sent_by: 'otps.sms.send', phone_number_linked: true });
      expect(JSON.stringify(sendEvents)).not.toContain(code);

      const now = clock.now().toISOString().replace(/\.\d{3}Z$/, 'Z');
      const signedIn = await client.otps.sms.authenticate({ organization_id: organizationId(), member_id: member.member_id, code, intermediate_session_token: primary.intermediate_session_token });
      expectToMatchResponseSchema('post', SMS_AUTHENTICATE, signedIn);
      expect(Object.keys(signedIn).sort()).toEqual(['member', 'member_id', 'member_session', 'organization', 'request_id', 'session_jwt', 'session_token', 'status_code']);
      expect(signedIn.member).toMatchObject({ mfa_phone_number: phone, mfa_phone_number_verified: true, mfa_enrolled: true, default_mfa_method: 'sms_otp' });
      expect(signedIn.session_token).not.toBe('');
      expect(signedIn.session_jwt).not.toBe('');
      const factors = signedIn.member_session?.authentication_factors ?? [];
      expect(factors.map((factor) => factor.type)).toEqual(['email_otp', 'otp']);
      expect(factors[1]).toEqual({
        type: 'otp',
        delivery_method: 'sms',
        phone_number_factor: { phone_id: expect.stringMatching(PHONE_ID), phone_number: phone },
        created_at: now,
        last_authenticated_at: now,
        updated_at: now,
      });
      const checked = await client.sessions.authenticate({ session_token: signedIn.session_token });
      expectToMatchResponseSchema('post', AUTHENTICATE, checked);
      expect(checked.member_session.authentication_factors).toEqual(factors);
      const signInEvents = await auditOfRequest(server, signedIn.request_id);
      // The number is verified, and the member enrolled with SMS as default, by the sign-in: recorded as such.
      expect(signInEvents.map((event) => event.type)).toEqual(['member.mfa_updated', 'member.signed_in']);
      expect(signInEvents[0]?.details).toMatchObject({ method: 'sms_otp', mfa_phone_number_verified: true, default_mfa_method: 'sms_otp' });
      expect(signInEvents[1]?.details).toMatchObject({ method: 'sms_otp', factor: 'otp', member_authenticated: true });

      // The intermediate session was exchanged for the session; the code was spent.
      await expectStytchRejection(
        client.otps.sms.authenticate({ organization_id: organizationId(), member_id: member.member_id, code, intermediate_session_token: primary.intermediate_session_token }),
        { status: 404, errorType: 'intermediate_session_not_found' },
      );
    });

    it('the next primary sign-in sends the code itself (in the sign-in’s locale): secondary_auth_initiated sms_otp', async () => {
      const { member, email, phone } = await enrolledMember();
      const [before] = await listSms(server, phone);
      const primary = await primarySignIn(email, 'es');
      expect(primary.mfa_required).toEqual({ member_options: { mfa_phone_number: phone, totp_registration_id: '' }, secondary_auth_initiated: 'sms_otp' });
      const sms = await waitForSms(server, phone, { after: before });
      expect(sms).toMatchObject({ locale: 'es', memberId: member.member_id, requestId: primary.request_id });
      const events = await auditOfRequest(server, primary.request_id);
      expect(events.map((event) => event.type)).toEqual(['member.sms_code_sent', 'member.signed_in']);
      expect(events[0]?.details).toMatchObject({ sent_by: 'sign_in', phone_number: phone, phone_number_linked: false });
      const signedIn = await client.otps.sms.authenticate({ organization_id: organizationId(), member_id: member.member_id, code: sms.code as string, intermediate_session_token: primary.intermediate_session_token });
      expect(signedIn.member_session?.authentication_factors.map((factor) => factor.type)).toEqual(['email_otp', 'otp']);
    });

    it('no automatic SMS while the phone is unverified, when the member’s default is TOTP, or when the organization allows only TOTP', async () => {
      const email = strict.address('unverified');
      const member = await createMember(client, strict.organization, email);
      const phone = aPhoneNumber();
      await sendCode(member, { phone, link: true });
      const unverified = await primarySignIn(email);
      expect(unverified.mfa_required).toEqual({ member_options: { mfa_phone_number: phone, totp_registration_id: '' }, secondary_auth_initiated: null });

      const enrolled = await enrolledMember();
      await client.organizations.members.update({ organization_id: organizationId(), member_id: enrolled.member.member_id, default_mfa_method: 'totp' });
      const totpDefault = await primarySignIn(enrolled.email);
      expect(totpDefault.mfa_required?.secondary_auth_initiated).toBeNull();

      const other = await enrolledMember();
      await client.organizations.update({ organization_id: organizationId(), mfa_methods: 'RESTRICTED', allowed_mfa_methods: ['totp'] });
      try {
        expect((await primarySignIn(other.email)).mfa_required?.secondary_auth_initiated).toBeNull();
      } finally {
        await client.organizations.update({ organization_id: organizationId(), mfa_methods: 'ALL_ALLOWED' });
      }
      await settleSms(server);
      expect(await listSms(server, phone)).toHaveLength(1);
      expect(await listSms(server, enrolled.phone)).toHaveLength(1);
      expect(await listSms(server, other.phone)).toHaveLength(1);
    });

    it('a new send voids the earlier code', async () => {
      const email = strict.address('twice');
      const member = await createMember(client, strict.organization, email);
      const phone = aPhoneNumber();
      const first = await sendCode(member, { phone, link: true });
      const second = await sendCode(member, { phone });
      expect(second.sent.member.mfa_phone_number).toBe(phone);
      const { intermediate_session_token: ist } = await primarySignIn(email);
      if (first.code !== second.code) {
        await expectStytchRejection(client.otps.sms.authenticate({ organization_id: organizationId(), member_id: member.member_id, code: first.code, intermediate_session_token: ist }), WRONG_CODE);
      }
      const signedIn = await client.otps.sms.authenticate({ organization_id: organizationId(), member_id: member.member_id, code: second.code, intermediate_session_token: ist });
      expect(signedIn.member.mfa_phone_number_verified).toBe(true);
    });

    it('five wrong codes are refused, counted and audited; then the member’s wrong-code bound refuses even the right one, writing nothing', async () => {
      const email = strict.address('guesses');
      const member = await createMember(client, strict.organization, email);
      const phone = aPhoneNumber();
      const { code } = await sendCode(member, { phone, link: true });
      const { intermediate_session_token: ist } = await primarySignIn(email);
      const attempt = (presented: string) => client.otps.sms.authenticate({ organization_id: organizationId(), member_id: member.member_id, code: presented, intermediate_session_token: ist });
      for (let guess = 1; guess <= 5; guess += 1) {
        const refused = await expectStytchRejection(attempt(wrongCode(code)), WRONG_CODE);
        const events = await auditOfRequest(server, refused.request_id as string);
        expect(events.map((event) => [event.type, event.details.why, event.details.failed_attempts])).toEqual([['member.sign_in_refused', 'wrong_code', guess]]);
      }
      // The five also voided the code; the bound (shared with TOTP and recovery codes, docs/mfa.md "Guessing") answers first.
      const refused = await expectStytchRejection(attempt(code), { status: 429, errorType: 'too_many_requests' });
      // Not judged or counted; recorded, as someone still trying codes past the bound.
      expect((await auditOfRequest(server, refused.request_id as string)).map((event) => [event.type, event.details.why, event.details.error_type])).toEqual([['member.sign_in_refused', 'guess_limit', 'too_many_requests']]);
      expect(await sessionsOf(client, member)).toEqual([]);
    });

    it('of concurrent sign-ins with one code exactly one gets a session', async () => {
      const email = strict.address('race');
      const member = await createMember(client, strict.organization, email);
      const phone = aPhoneNumber();
      const { code } = await sendCode(member, { phone, link: true });
      const { intermediate_session_token: ist } = await primarySignIn(email);
      const outcomes = await Promise.allSettled(
        Array.from({ length: 6 }, () => client.otps.sms.authenticate({ organization_id: organizationId(), member_id: member.member_id, code, intermediate_session_token: ist })),
      );
      expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(1);
      // A loser finds the code spent, or (arriving after the winner committed) the intermediate session exchanged.
      for (const outcome of outcomes) {
        if (outcome.status === 'rejected') expect(['otp_code_not_found', 'intermediate_session_not_found']).toContain((outcome.reason as { error_type: string }).error_type);
      }
      expect(await sessionsOf(client, member)).toHaveLength(1);
    });

    it('needs this member’s intermediate session or session: none, or another member’s, is refused before the code is judged', async () => {
      const email = strict.address('proof');
      const member = await createMember(client, strict.organization, email);
      const phone = aPhoneNumber();
      const { code } = await sendCode(member, { phone, link: true });
      await expectStytchRejection(client.otps.sms.authenticate({ organization_id: organizationId(), member_id: member.member_id, code: wrongCode(code) }), {
        status: 400,
        errorType: 'mfa_session_arguments_required',
      });
      const stranger = strict.address('stranger');
      await createMember(client, strict.organization, stranger);
      const theirs = await primarySignIn(stranger);
      await expectStytchRejection(
        client.otps.sms.authenticate({ organization_id: organizationId(), member_id: member.member_id, code, intermediate_session_token: theirs.intermediate_session_token }),
        { status: 400, errorType: 'invalid_intermediate_session_token_for_organization' },
      );
      // Neither counted against the code nor spent it.
      const { intermediate_session_token: ist } = await primarySignIn(email);
      const signedIn = await client.otps.sms.authenticate({ organization_id: organizationId(), member_id: member.member_id, code, intermediate_session_token: ist });
      expect(signedIn.member_id).toBe(member.member_id);
    });

    it('a code expires after two minutes', async () => {
      const email = strict.address('late');
      const member = await createMember(client, strict.organization, email);
      const phone = aPhoneNumber();
      const { intermediate_session_token: ist } = await primarySignIn(email);
      const { code } = await sendCode(member, { phone, link: true, ist });
      clock.advance(2 * 60_000);
      const refused = await expectStytchRejection(
        client.otps.sms.authenticate({ organization_id: organizationId(), member_id: member.member_id, code, intermediate_session_token: ist }),
        CODE_NOT_FOUND,
      );
      expect((await auditOfRequest(server, refused.request_id as string))[0]?.details).toMatchObject({ method: 'sms_otp', why: 'expired' });
    });

    it('steps up the member’s session (the factor is added to it); an impersonated session is refused', async () => {
      const { member, phone } = await enrolledMember();
      const session = await startSession(server, member);
      const { code } = await sendCode(member, { phone });
      const stepped = await client.otps.sms.authenticate({ organization_id: organizationId(), member_id: member.member_id, code, session_token: session.sessionToken });
      expectToMatchResponseSchema('post', SMS_AUTHENTICATE, stepped);
      expect(stepped.member_session?.member_session_id).toBe(session.memberSessionId);
      expect(stepped.member_session?.authentication_factors.map((factor) => factor.type)).toEqual(['magic_link', 'otp']);

      const { redeemed } = await impersonate(server, member);
      const next = await sendCode(member, { phone });
      await expectStytchRejection(
        client.otps.sms.authenticate({ organization_id: organizationId(), member_id: member.member_id, code: next.code, session_token: redeemed.session_token }),
        { status: 400, errorType: 'session_not_mutable_impersonated' },
      );
    });

    it('send refuses a bad locale, a bad number, a missing number, another number than the member’s and one another member verified, sending nothing', async () => {
      const email = strict.address('refusals');
      const member = await createMember(client, strict.organization, email);
      const send = (extra: Record<string, string>) => client.otps.sms.send({ organization_id: organizationId(), member_id: member.member_id, ...extra });
      const phone = aPhoneNumber();
      await expectStytchRejection(send({ mfa_phone_number: phone, locale: 'xx' }), { status: 400, errorType: 'invalid_locale' });
      await expectStytchRejection(send({ mfa_phone_number: '4155550100' }), { status: 400, errorType: 'invalid_phone_number' });
      await expectStytchRejection(send({}), { status: 404, errorType: 'member_phone_number_not_found' });
      const taken = await enrolledMember();
      await expectStytchRejection(send({ mfa_phone_number: taken.phone }), { status: 400, errorType: 'duplicate_member_phone_number' });
      await expectStytchRejection(client.otps.sms.send({ organization_id: organizationId(), member_id: 'member-test-00000000-0000-4000-8000-000000000000' }), {
        status: 404,
        errorType: 'member_not_found',
      });
      await settleSms(server);
      expect(await listSms(server, phone)).toEqual([]);
      expect(await listSms(server, taken.phone)).toHaveLength(1);
      expect((await client.organizations.members.get({ organization_id: organizationId(), member_id: member.member_id })).member.mfa_phone_number).toBe('');

      await sendCode(member, { phone, link: true });
      await expectStytchRejection(send({ mfa_phone_number: aPhoneNumber() }), { status: 400, errorType: 'mfa_phone_number_mismatch' });
      const pending = await createMember(client, strict.organization, strict.address('pending'), { create_member_as_pending: true });
      await expectStytchRejection(
        client.otps.sms.send({ organization_id: organizationId(), member_id: pending.member_id, mfa_phone_number: aPhoneNumber() }),
        { status: 400, errorType: 'action_available_only_for_active_members' },
      );
    });

    it('linking a number is enrolment: a member with an active TOTP must present a session holding a second factor', async () => {
      const email = strict.address('totp');
      const member = await createMember(client, strict.organization, email);
      await client.totps.migrate({ organization_id: organizationId(), member_id: member.member_id, secret: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP', recovery_codes: [] });
      const { intermediate_session_token: ist } = await primarySignIn(email);
      const phone = aPhoneNumber();
      await expectStytchRejection(
        client.otps.sms.send({ organization_id: organizationId(), member_id: member.member_id, mfa_phone_number: phone, intermediate_session_token: ist }),
        { status: 403, errorType: 'mfa_factor_required_to_enroll' },
      );
      await expectStytchRejection(client.otps.sms.send({ organization_id: organizationId(), member_id: member.member_id, mfa_phone_number: phone }), {
        status: 403,
        errorType: 'mfa_factor_required_to_enroll',
      });
      const full = await startSession(server, member, { factor: { type: 'totp', deliveryMethod: 'authenticator_app', createdAt: '2026-01-01T00:00:00Z', lastAuthenticatedAt: '2026-01-01T00:00:00Z', updatedAt: '2026-01-01T00:00:00Z' } });
      const sent = await client.otps.sms.send({ organization_id: organizationId(), member_id: member.member_id, mfa_phone_number: phone, session_token: full.sessionToken });
      expect(sent.member.mfa_phone_number).toBe(phone);
    });

    it('a number linked with the password before the member enrolled a TOTP, never verified, is no way past the TOTP', async () => {
      // The attack: someone with the member's password links their own number while the member has
      // no second factor; the member then sets up an authenticator app and turns MFA on; the
      // attacker signs in with the password again and sends a code to the still unverified number.
      const optional = await createEmailOrganization(client);
      const victim = await newMemberSignedIn(client, optional, 'victim');
      expect(victim.sessionToken).not.toBe('');
      const ids = { organization_id: optional.organization.organization_id, member_id: victim.member.member_id };
      const attackerPhone = aPhoneNumber();
      const before = await signInWithPassword(client, optional, victim.emailAddress);
      const linked = await client.otps.sms.send({ ...ids, mfa_phone_number: attackerPhone, session_token: before.sessionToken });
      expect(linked.member).toMatchObject({ mfa_phone_number: attackerPhone, mfa_phone_number_verified: false });
      const early = await waitForSms(server, attackerPhone);

      const created = await client.totps.create({ ...ids, session_token: victim.sessionToken });
      const enrolled = await client.totps.authenticate({ ...ids, code: codeAt(created.secret, clock), session_token: victim.sessionToken, set_mfa_enrollment: 'enroll' });
      expect(enrolled.member).toMatchObject({ mfa_enrolled: true, totp_registration_id: created.totp_registration_id, mfa_phone_number_verified: false });
      const attacker = await signInWithPassword(client, optional, victim.emailAddress);
      expect(attacker.response.member_authenticated).toBe(false);
      expect(attacker.response.mfa_required?.member_options).toEqual({ mfa_phone_number: attackerPhone, totp_registration_id: created.totp_registration_id });

      // Verifying the number is enrolling it: the password's intermediate session holds no second factor.
      const refused = await expectStytchRejection(
        client.otps.sms.authenticate({ ...ids, code: early.code as string, intermediate_session_token: attacker.intermediateSessionToken }),
        { status: 403, errorType: 'mfa_factor_required_to_enroll' },
      );
      expect(await auditOfRequest(server, refused.request_id as string)).toEqual([]);
      // Sending a new code there is enrolling too, with or without the intermediate session.
      for (const proof of [{ intermediate_session_token: attacker.intermediateSessionToken }, {}]) {
        const sent = await expectStytchRejection(client.otps.sms.send({ ...ids, ...proof }), { status: 403, errorType: 'mfa_factor_required_to_enroll' });
        expect(await auditOfRequest(server, sent.request_id as string)).toEqual([]);
      }
      await settleSms(server);
      expect(await listSms(server, attackerPhone)).toHaveLength(1);
      const member = (await client.organizations.members.get(ids)).member;
      expect(member).toMatchObject({ mfa_phone_number: attackerPhone, mfa_phone_number_verified: false });
      const sessions = await sessionsOf(client, member);
      expect(sessions.flatMap((session) => session.authentication_factors.map((factor) => factor.type))).not.toContain('otp');

      // The member's own session holding the TOTP may verify it, with that same code: it was neither spent nor counted.
      const verified = await client.otps.sms.authenticate({ ...ids, code: early.code as string, session_token: victim.sessionToken });
      expect(verified.member.mfa_phone_number_verified).toBe(true);
    });

    it('deleteMFAPhoneNumber clears the number and its live code, keeps sessions; the next sign-in needs enrolment again', async () => {
      const { member, email, phone, sessionToken } = await enrolledMember();
      const { code } = await sendCode(member, { phone });
      const deleted = await client.organizations.members.deleteMFAPhoneNumber({ organization_id: organizationId(), member_id: member.member_id });
      expectToMatchResponseSchema('delete', DELETE_PHONE, deleted);
      expect(deleted.member).toMatchObject({ mfa_phone_number: '', mfa_phone_number_verified: false, default_mfa_method: '' });
      const events = await auditOfRequest(server, deleted.request_id);
      expect(events.map((event) => [event.type, event.details.phone_number])).toEqual([['member.mfa_phone_number_deleted', phone]]);
      expect((await client.sessions.authenticate({ session_token: sessionToken })).member.member_id).toBe(member.member_id);

      const primary = await primarySignIn(email);
      expect(primary.mfa_required).toEqual({ member_options: null, secondary_auth_initiated: null });
      await expectStytchRejection(
        client.otps.sms.authenticate({ organization_id: organizationId(), member_id: member.member_id, code, intermediate_session_token: primary.intermediate_session_token }),
        CODE_NOT_FOUND,
      );
      const relinked = await sendCode(member, { phone: aPhoneNumber(), link: true, ist: primary.intermediate_session_token });
      expect(relinked.sent.member.mfa_phone_number_verified).toBe(false);
    });
  });
}
