import { randomBytes } from 'node:crypto';
import type { B2BClient, Member, MemberSession, Organization } from 'stytch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newTotpSecret, totpCode } from '../../../src/crypto/totp.js';
import type { SmsMessage } from '../../../src/domain/sms/sms-message.js';
import { ManualClock } from '../../../src/platform/clock.js';
import { impersonate } from '../../support/impersonation.js';
import { expectStytchRejection, expectToMatchResponseSchema } from '../../support/openapi.js';
import { linkToken, listEmails, waitForEmail, type OutboxEmail } from '../../support/outbox.js';
import { listSms, waitForSms } from '../../support/sms.js';
import { STORES } from '../../support/stores.js';
import { startTestServer, type TestServer } from '../../support/test-server.js';
import { uniqueSuffix } from '../../support/wire-formats.js';
import { auditOfRequest } from './email-sign-in-fixtures.js';
import { argon2idOf, PASSWORD } from './passwords-sign-in-fixtures.js';

/** Routes as the contract names them (expectToMatchResponseSchema keys). */
const ROUTES = {
  magic_link: '/v1/b2b/magic_links/authenticate',
  email_otp: '/v1/b2b/otps/email/authenticate',
  password: '/v1/b2b/passwords/authenticate',
  discovery: '/v1/b2b/discovery/intermediate_sessions/exchange',
  totp: '/v1/b2b/totp/authenticate',
  sms_otp: '/v1/b2b/otps/sms/authenticate',
  recovery_code: '/v1/b2b/recovery_codes/recover',
  totpCreate: '/v1/b2b/totp',
  smsSend: '/v1/b2b/otps/sms/send',
  sessionsAuthenticate: '/v1/b2b/sessions/authenticate',
} as const;

const PRIMARIES = ['magic_link', 'email_otp', 'password', 'discovery'] as const;
const SECOND_FACTORS = ['totp', 'sms_otp', 'recovery_code'] as const;
type Primary = (typeof PRIMARIES)[number];
type SecondFactor = (typeof SECOND_FACTORS)[number];

const IST_NOT_FOUND = { status: 404, errorType: 'intermediate_session_not_found' } as const;
const NOT_THIS_MEMBERS_IST = { status: 400, errorType: 'invalid_intermediate_session_token_for_organization' } as const;

/** A member of the MFA organization with the second factor a test needs, and what an app (or the member's device) would hold. */
interface Enrolled {
  readonly member: Member;
  readonly address: string;
  /** The authenticator app's secret (totp and recovery_code members). */
  readonly secret?: string;
  readonly totpRegistrationId?: string;
  readonly recoveryCodes?: readonly string[];
  /** The verified MFA phone number (sms_otp members). */
  readonly phone?: string;
}

/** What every primary sign-in answers, as far as these tests read it. */
interface PrimaryAnswer {
  readonly request_id: string;
  readonly member_id: string;
  readonly member_authenticated: boolean;
  readonly intermediate_session_token: string;
  readonly session_token: string;
  readonly session_jwt: string;
  readonly member_session?: unknown;
  readonly mfa_required?: unknown;
}

/**
 * Multi-factor sign-in from end to end through the official SDK, as an application drives it, in an
 * organization whose mfa_policy is REQUIRED_FOR_ALL: every primary method (magic link, email code,
 * password, discovery then exchange) ends in an intermediate session that names what is still
 * required; every second factor (an authenticator app's code, a texted code, a recovery code)
 * completes it with that token into a member session holding both factors, and spends it. Then a
 * member with no second factor enrols one with the intermediate session, and the ways around MFA a
 * caller might try are refused with nothing written. Links and codes are read from the email and
 * SMS outboxes; TOTP codes are computed from the secret at the server's (manual) clock.
 */
for (const store of STORES) {
  describe(`MFA sign-ins end to end through the SDK (${store.name})`, () => {
    let server: TestServer;
    let client: B2BClient;
    let clock: ManualClock;
    /** Requires MFA of every member. */
    let organization: Organization;
    /** Another organization requiring MFA, where some addresses are members too. */
    let elsewhere: Organization;
    let phoneCount = 0;

    beforeAll(async () => {
      // At real time: the SDK checks session JWTs against its own clock.
      clock = new ManualClock(new Date());
      server = await startTestServer({ store: store.name, clock });
      client = server.client;
      organization = await createMfaOrganization('MFA');
      elsewhere = await createMfaOrganization('Elsewhere');
    });
    afterAll(async () => server?.stop());

    async function createMfaOrganization(name: string): Promise<Organization> {
      const suffix = uniqueSuffix();
      const created = await client.organizations.create({ organization_name: `${name} ${suffix}`, organization_slug: `mfa-${suffix}`, mfa_policy: 'REQUIRED_FOR_ALL' });
      expect(created.organization.mfa_policy).toBe('REQUIRED_FOR_ALL');
      return created.organization;
    }

    function freshAddress(local = 'ada'): string {
      return `${local}-${uniqueSuffix()}@mfa.example.com`;
    }

    function freshPhone(): string {
      phoneCount += 1;
      return `+1415${String(Date.now() % 100_000).padStart(5, '0')}${String(phoneCount).padStart(2, '0')}`;
    }

    /** A TOTP code of the secret now, or `stepsAhead` 30-second steps later (still accepted: one step of drift is). */
    function codeOf(secret: string, stepsAhead = 0): string {
      return totpCode(secret, new Date(clock.now().getTime() + stepsAhead * 30_000));
    }

    /**
     * A member with a password (so every primary method works for them) and the second factor asked
     * for: an authenticator app migrated in (active at once, with ten minted recovery codes), or a
     * verified phone, set as an import from another system would.
     */
    async function memberWith(second: SecondFactor | 'nothing', inOrganization = organization, address = freshAddress()): Promise<Enrolled> {
      const phone = second === 'sms_otp' ? freshPhone() : undefined;
      const migrated = await client.passwords.migrate({
        organization_id: inOrganization.organization_id,
        email_address: address,
        hash: await argon2idOf(PASSWORD),
        hash_type: 'argon_2id',
        ...(phone !== undefined && { mfa_phone_number: phone, set_phone_number_verified: true }),
      });
      const member = migrated.member;
      if (phone !== undefined) expect(member).toMatchObject({ mfa_phone_number: phone, mfa_phone_number_verified: true });
      if (second !== 'totp' && second !== 'recovery_code') return { member, address, ...(phone !== undefined && { phone }) };
      const secret = newTotpSecret(randomBytes(20));
      const totp = await client.totps.migrate({ organization_id: inOrganization.organization_id, member_id: member.member_id, secret, recovery_codes: [] });
      expect(totp.recovery_codes).toHaveLength(10);
      return { member: totp.member, address, secret, totpRegistrationId: totp.totp_registration_id, recoveryCodes: totp.recovery_codes };
    }

    /** The newest message to the address so far, so that a wait finds only the next one. */
    async function latestEmail(address: string): Promise<OutboxEmail | undefined> {
      return (await listEmails(server, address))[0];
    }

    /** The member's first factor by `method`, as an app would run it; `sessionToken` presents a session the member holds. */
    async function signInFirst(method: Primary, who: { address: string; member: Member }, options: { sessionToken?: string; inOrganization?: Organization } = {}): Promise<PrimaryAnswer> {
      const organizationId = (options.inOrganization ?? organization).organization_id;
      const session = options.sessionToken === undefined ? {} : { session_token: options.sessionToken };
      const latest = await latestEmail(who.address);
      const after = latest === undefined ? {} : { after: latest };
      let answer: PrimaryAnswer;
      switch (method) {
        case 'magic_link': {
          await client.magicLinks.email.loginOrSignup({ organization_id: organizationId, email_address: who.address });
          const message = await waitForEmail(server, who.address, { template: 'login', ...after });
          answer = await client.magicLinks.authenticate({ magic_links_token: linkToken(message.link as string), ...session });
          break;
        }
        case 'email_otp': {
          await client.otps.email.loginOrSignup({ organization_id: organizationId, email_address: who.address });
          const message = await waitForEmail(server, who.address, { template: 'otp_login', ...after });
          answer = await client.otps.email.authenticate({ organization_id: organizationId, email_address: who.address, code: message.code as string, ...session });
          break;
        }
        case 'password':
          answer = await client.passwords.authenticate({ organization_id: organizationId, email_address: who.address, password: PASSWORD, ...session });
          break;
        case 'discovery': {
          await client.magicLinks.email.discovery.send({ email_address: who.address });
          const message = await waitForEmail(server, who.address, { template: 'discovery', ...after });
          const discovered = await client.magicLinks.discovery.authenticate({ discovery_magic_links_token: linkToken(message.link as string) });
          expect(discovered.discovered_organizations.map((entry) => entry.organization?.organization_id)).toContain(organizationId);
          // The exchange's locale is the language of the SMS code it sends (checked in the SMS cells).
          answer = await client.discovery.intermediateSessions.exchange({ intermediate_session_token: discovered.intermediate_session_token, organization_id: organizationId, locale: 'de-DE' });
          break;
        }
      }
      expectToMatchResponseSchema('post', ROUTES[method], answer);
      expect(answer.member_id).toBe(who.member.member_id);
      return answer;
    }

    /** Expects the answer of a primary sign-in that MFA stopped: no session, an intermediate session token, what is required. */
    function expectMfaRequired(answer: PrimaryAnswer, mfaRequired: unknown): string {
      expect(answer).toMatchObject({ member_authenticated: false, session_token: '', session_jwt: '', member_session: null });
      expect(answer.intermediate_session_token).toMatch(/^[A-Za-z0-9_-]{20,}$/);
      expect(answer.mfa_required).toEqual(mfaRequired);
      return answer.intermediate_session_token;
    }

    /** What `mfa_required` names for a member enrolled as `who` (the sign-in texts a verified phone at once). */
    function requirementOf(who: Enrolled): unknown {
      if (who.phone !== undefined) return { member_options: { mfa_phone_number: who.phone, totp_registration_id: '' }, secondary_auth_initiated: 'sms_otp' };
      return { member_options: { mfa_phone_number: '', totp_registration_id: who.totpRegistrationId }, secondary_auth_initiated: null };
    }

    /** The newest text to `phone` in the SMS outbox (its code and locale); one newer than `after` when given. */
    async function smsCode(phone: string, after?: SmsMessage): Promise<{ code: string; locale: string }> {
      const sms = await waitForSms(server, phone, after === undefined ? {} : { after });
      expect(sms.code).toMatch(/^\d{6}$/);
      return { code: sms.code as string, locale: sms.locale };
    }

    async function latestSms(phone: string): Promise<SmsMessage | undefined> {
      return (await listSms(server, phone))[0];
    }

    /** Completes the sign-in with the second factor and the given token(s), checking the answer against the contract. */
    async function completeWith(
      second: SecondFactor,
      who: Enrolled,
      tokens: { intermediate_session_token?: string; session_token?: string },
      credential: { code?: string; recoveryCode?: string } = {},
    ) {
      const target = { organization_id: who.member.organization_id, member_id: who.member.member_id, ...tokens };
      const answer =
        second === 'totp'
          ? await client.totps.authenticate({ ...target, code: credential.code ?? codeOf(who.secret as string) })
          : second === 'recovery_code'
            ? await client.recoveryCodes.recover({ ...target, recovery_code: credential.recoveryCode ?? (who.recoveryCodes?.[0] as string) })
            : await client.otps.sms.authenticate({ ...target, code: credential.code ?? (await smsCode(who.phone as string)).code });
      expectToMatchResponseSchema('post', ROUTES[second], answer);
      // Success always means a member session.
      expect(answer.member_session).toBeDefined();
      return { ...answer, member_session: answer.member_session as MemberSession };
    }

    /** A second factor the member has not used yet: the app's next code, another recovery code, a new text (sent with the member's session). */
    async function unusedCredential(second: SecondFactor, who: Enrolled, sessionToken: string): Promise<{ code?: string; recoveryCode?: string }> {
      if (second === 'totp') return { code: codeOf(who.secret as string, 1) };
      if (second === 'recovery_code') return { recoveryCode: who.recoveryCodes?.[1] as string };
      const before = await latestSms(who.phone as string);
      await client.otps.sms.send({ organization_id: who.member.organization_id, member_id: who.member.member_id, session_token: sessionToken });
      return { code: (await smsCode(who.phone as string, before)).code };
    }

    function primaryFactorOf(method: Primary, who: Enrolled): Record<string, unknown> {
      switch (method) {
        case 'password':
          return { type: 'password', delivery_method: 'knowledge' };
        case 'email_otp':
          return { type: 'email_otp', delivery_method: 'email', email_factor: { email_address: who.address, email_id: expect.any(String) } };
        default:
          return { type: 'magic_link', delivery_method: 'email', email_factor: { email_address: who.address, email_id: expect.any(String) } };
      }
    }

    function secondFactorOf(second: SecondFactor, who: Enrolled): Record<string, unknown> {
      switch (second) {
        case 'totp':
          return { type: 'totp', delivery_method: 'authenticator_app', authenticator_app_factor: { totp_id: who.totpRegistrationId } };
        case 'recovery_code':
          return { type: 'recovery_codes', delivery_method: 'recovery_code', recovery_code_factor: { totp_recovery_code_id: expect.any(String) } };
        case 'sms_otp':
          return { type: 'otp', delivery_method: 'sms', phone_number_factor: { phone_id: expect.any(String), phone_number: who.phone } };
      }
    }

    /** The member's live sessions' ids, as sessions.get lists them. */
    async function liveSessionIds(member: Member): Promise<string[]> {
      const { member_sessions } = await client.sessions.get({ organization_id: member.organization_id, member_id: member.member_id });
      return member_sessions.map((session) => session.member_session_id);
    }

    describe.each(PRIMARIES)('first factor %s', (method) => {
      it.each(SECOND_FACTORS)(
        'then %s: mfa_required with an intermediate session, completed into a session holding both factors; the token is spent',
        async (second) => {
          const who = await memberWith(second);
          const started = await signInFirst(method, who);
          const token = expectMfaRequired(started, requirementOf(who));
          expect(await liveSessionIds(who.member)).toEqual([]);
          // The code texted by the sign-in itself is in the sign-in's language (the discovery exchange passes de-DE; the others none).
          if (second === 'sms_otp') expect((await smsCode(who.phone as string)).locale).toBe(method === 'discovery' ? 'de-DE' : 'en');

          const done = await completeWith(second, who, { intermediate_session_token: token });
          // A second factor's answer is always a full session: no intermediate-session fields.
          expect(Object.keys(done)).not.toContain('intermediate_session_token');
          expect(Object.keys(done)).not.toContain('member_authenticated');
          expect(done.member_id).toBe(who.member.member_id);
          expect(done.session_token).not.toBe('');
          expect(done.member_session.authentication_factors).toMatchObject([primaryFactorOf(method, who), secondFactorOf(second, who)]);
          if (second === 'recovery_code') expect((done as { recovery_codes_remaining?: number }).recovery_codes_remaining).toBe(9);

          // The application's next request: the session (token and JWT) checks out, with both factors.
          const byToken = await client.sessions.authenticate({ session_token: done.session_token });
          expectToMatchResponseSchema('post', ROUTES.sessionsAuthenticate, byToken);
          expect(byToken.member_session.member_session_id).toBe(done.member_session.member_session_id);
          expect(byToken.member_session.authentication_factors).toMatchObject([primaryFactorOf(method, who), secondFactorOf(second, who)]);
          const byJwt = await client.sessions.authenticate({ session_jwt: done.session_jwt });
          expect(byJwt.member_session.member_session_id).toBe(done.member_session.member_session_id);

          // The intermediate session is spent: even a fresh, valid second factor cannot use it again.
          await expectStytchRejection(completeWith(second, who, { intermediate_session_token: token }, await unusedCredential(second, who, done.session_token)), IST_NOT_FOUND);
          expect(await liveSessionIds(who.member)).toEqual([done.member_session.member_session_id]);
        },
      );
    });

    describe('enrolment of a member with no second factor, with the intermediate session', () => {
      it('totps.create then totps.authenticate: the QR code, secret and recovery codes, then a session; the next sign-in names the registration', async () => {
        const who = await memberWith('nothing');
        expect(who.member).toMatchObject({ totp_registration_id: '', mfa_phone_number: '' });
        const token = expectMfaRequired(await signInFirst('magic_link', who), { member_options: null, secondary_auth_initiated: null });

        const created = await client.totps.create({ organization_id: organization.organization_id, member_id: who.member.member_id, intermediate_session_token: token });
        expectToMatchResponseSchema('post', ROUTES.totpCreate, created);
        expect(created.secret).toMatch(/^[A-Z2-7]{32}$/);
        expect(created.qr_code.startsWith('data:image/png;base64, ')).toBe(true);
        expect(Buffer.from(created.qr_code.slice('data:image/png;base64, '.length), 'base64').subarray(1, 4).toString('latin1')).toBe('PNG');
        expect(created.recovery_codes).toHaveLength(10);
        for (const code of created.recovery_codes) expect(code).toMatch(/^[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}$/);
        // Pending until its first code: no session yet, and the member names no registration.
        expect(await liveSessionIds(who.member)).toEqual([]);

        const enrolled: Enrolled = { ...who, secret: created.secret, totpRegistrationId: created.totp_registration_id };
        const done = await completeWith('totp', enrolled, { intermediate_session_token: token });
        expect(done.member_session.authentication_factors).toMatchObject([primaryFactorOf('magic_link', who), secondFactorOf('totp', enrolled)]);
        expect(done.member).toMatchObject({ totp_registration_id: created.totp_registration_id, mfa_enrolled: true });
        expect((await client.sessions.authenticate({ session_token: done.session_token })).member_session.member_session_id).toBe(done.member_session.member_session_id);
        await expectStytchRejection(completeWith('totp', enrolled, { intermediate_session_token: token }, { code: codeOf(created.secret, 1) }), IST_NOT_FOUND);

        // The next sign-in asks for the app enrolled, and one of the recovery codes shown at enrolment also completes it.
        const next = expectMfaRequired(await signInFirst('password', enrolled), requirementOf(enrolled));
        const recovered = await completeWith('recovery_code', { ...enrolled, recoveryCodes: created.recovery_codes }, { intermediate_session_token: next });
        expect(recovered.member_session.authentication_factors.map((factor) => factor.type)).toEqual(['password', 'recovery_codes']);
      });

      it('otps.sms.send with mfa_phone_number then otps.sms.authenticate: a session; the phone is verified and the next sign-in texts it at once', async () => {
        const who = await memberWith('nothing');
        const phone = freshPhone();
        const token = expectMfaRequired(await signInFirst('email_otp', who), { member_options: null, secondary_auth_initiated: null });

        const sent = await client.otps.sms.send({ organization_id: organization.organization_id, member_id: who.member.member_id, mfa_phone_number: phone, intermediate_session_token: token });
        expectToMatchResponseSchema('post', ROUTES.smsSend, sent);
        expect(sent.member).toMatchObject({ mfa_phone_number: phone, mfa_phone_number_verified: false });
        const enrolled: Enrolled = { ...who, phone };
        const done = await completeWith('sms_otp', enrolled, { intermediate_session_token: token });
        expect(done.member_session.authentication_factors).toMatchObject([primaryFactorOf('email_otp', who), secondFactorOf('sms_otp', enrolled)]);
        expect(done.member).toMatchObject({ mfa_phone_number: phone, mfa_phone_number_verified: true, mfa_enrolled: true });
        await expectStytchRejection(completeWith('sms_otp', enrolled, { intermediate_session_token: token }, await unusedCredential('sms_otp', enrolled, done.session_token)), IST_NOT_FOUND);

        // Verified now: the next sign-in texts a code as it asks for MFA, and that code completes it.
        const before = await latestSms(phone);
        const next = expectMfaRequired(await signInFirst('magic_link', enrolled), requirementOf(enrolled));
        const texted = await smsCode(phone, before);
        const again = await completeWith('sms_otp', enrolled, { intermediate_session_token: next }, { code: texted.code });
        expect(again.member_session.authentication_factors.map((factor) => factor.type)).toEqual(['magic_link', 'otp']);
      });
    });

    describe('attempts to get around MFA', () => {
      /**
       * The refused request wrote nothing but its audit event: one `member.sign_in_refused` for the
       * member whose MFA it tried to get past, naming the session arguments and the error.
       */
      async function expectRefusalAudited(requestId: string, memberId: string, errorType: string): Promise<void> {
        const events = await auditOfRequest(server, requestId);
        expect(events.map((event) => [event.type, event.memberId, event.details.why, event.details.error_type])).toEqual([['member.sign_in_refused', memberId, 'session_arguments', errorType]]);
      }

      it('a wrong code with the intermediate session is refused and audited as a refused sign-in; the token still completes with the right code', async () => {
        const who = await memberWith('totp');
        const token = expectMfaRequired(await signInFirst('magic_link', who), requirementOf(who));
        const code = codeOf(who.secret as string);
        const wrong = String((Number(code) + 1) % 1_000_000).padStart(6, '0');
        const refused = await expectStytchRejection(completeWith('totp', who, { intermediate_session_token: token }, { code: wrong }), { status: 401, errorType: 'unable_to_authenticate_totp' });
        const events = await auditOfRequest(server, refused.request_id);
        expect(events.map((event) => [event.type, event.memberId, event.details.error_type])).toEqual([['member.sign_in_refused', who.member.member_id, 'unable_to_authenticate_totp']]);
        expect(await liveSessionIds(who.member)).toEqual([]);
        const done = await completeWith('totp', who, { intermediate_session_token: token }, { code });
        expect(done.member_session.authentication_factors.map((factor) => factor.type)).toEqual(['magic_link', 'totp']);
      });

      it('sessions.authenticate does not take an intermediate session token as a session; the token still completes MFA afterwards', async () => {
        const who = await memberWith('totp');
        const token = expectMfaRequired(await signInFirst('magic_link', who), requirementOf(who));
        const refused = await expectStytchRejection(client.sessions.authenticate({ session_token: token }), { status: 404, errorType: 'session_not_found' });
        expect(await auditOfRequest(server, refused.request_id)).toEqual([]);
        expect(await liveSessionIds(who.member)).toEqual([]);
        const done = await completeWith('totp', who, { intermediate_session_token: token });
        expect(await liveSessionIds(who.member)).toEqual([done.member_session.member_session_id]);
      });

      it('totps.authenticate with no token at all is refused; the code is not spent by it', async () => {
        const who = await memberWith('totp');
        const code = codeOf(who.secret as string);
        const refused = await expectStytchRejection(client.totps.authenticate({ organization_id: organization.organization_id, member_id: who.member.member_id, code }), {
          status: 400,
          errorType: 'mfa_session_arguments_required',
        });
        await expectRefusalAudited(refused.request_id, who.member.member_id, 'mfa_session_arguments_required');
        expect(await liveSessionIds(who.member)).toEqual([]);
        const token = expectMfaRequired(await signInFirst('password', who), requirementOf(who));
        const done = await completeWith('totp', who, { intermediate_session_token: token }, { code });
        expect(done.member_session.authentication_factors.map((factor) => factor.type)).toEqual(['password', 'totp']);
      });

      it("another member's intermediate session completes nobody's sign-in; it still completes its own member's", async () => {
        const ada = await memberWith('totp');
        const eve = await memberWith('totp', organization, freshAddress('eve'));
        const adasToken = expectMfaRequired(await signInFirst('password', ada), requirementOf(ada));
        // Eve, holding her own app, presents Ada's first factor as if it were hers.
        const refused = await expectStytchRejection(completeWith('totp', eve, { intermediate_session_token: adasToken }), NOT_THIS_MEMBERS_IST);
        await expectRefusalAudited(refused.request_id, eve.member.member_id, NOT_THIS_MEMBERS_IST.errorType);
        expect(await liveSessionIds(eve.member)).toEqual([]);
        expect(await liveSessionIds(ada.member)).toEqual([]);
        const done = await completeWith('totp', ada, { intermediate_session_token: adasToken });
        expect(done.member_id).toBe(ada.member.member_id);
      });

      it("an intermediate session from another organization (the same address's membership there) is refused; discovery's, of the member's address, is completed", async () => {
        const address = freshAddress('grace');
        const here = await memberWith('totp', organization, address);
        const there = await memberWith('totp', elsewhere, address);
        const thereToken = expectMfaRequired(await signInFirst('magic_link', there, { inOrganization: elsewhere }), requirementOf(there));
        const refused = await expectStytchRejection(completeWith('totp', here, { intermediate_session_token: thereToken }), NOT_THIS_MEMBERS_IST);
        await expectRefusalAudited(refused.request_id, here.member.member_id, NOT_THIS_MEMBERS_IST.errorType);
        expect(await liveSessionIds(here.member)).toEqual([]);
        expect(await liveSessionIds(there.member)).toEqual([]);

        // Discovery proved the address, which this organization accepts as a primary factor: an
        // intermediate session is a bag of factors, so the second factor completes it here directly.
        const latest = await latestEmail(address);
        await client.magicLinks.email.discovery.send({ email_address: address });
        const message = await waitForEmail(server, address, { template: 'discovery', ...(latest && { after: latest }) });
        const discovered = await client.magicLinks.discovery.authenticate({ discovery_magic_links_token: linkToken(message.link as string) });
        const done = await completeWith('totp', here, { intermediate_session_token: discovered.intermediate_session_token }, { code: codeOf(here.secret as string, 1) });
        expect(done.member_id).toBe(here.member.member_id);
        expect(done.member_session.authentication_factors.map((factor) => factor.type)).toEqual(['magic_link', 'totp']);
        expect(await liveSessionIds(there.member)).toEqual([]);
      });

      it("another member's session is no step-up for this member", async () => {
        const ada = await memberWith('totp');
        const eve = await memberWith('totp', organization, freshAddress('eve'));
        const evesToken = expectMfaRequired(await signInFirst('password', eve), requirementOf(eve));
        const eves = await completeWith('totp', eve, { intermediate_session_token: evesToken });
        const refused = await expectStytchRejection(completeWith('totp', ada, { session_token: eves.session_token }), { status: 400, errorType: 'member_session_member_id_mismatch' });
        await expectRefusalAudited(refused.request_id, ada.member.member_id, 'member_session_member_id_mismatch');
        expect(await liveSessionIds(ada.member)).toEqual([]);
        expect((await client.sessions.authenticate({ session_token: eves.session_token })).member_session.authentication_factors.map((factor) => factor.type)).toEqual(['password', 'totp']);
      });

      it('an impersonated session takes no second factor (step-up refused); it keeps only its impersonation factor', async () => {
        const who = await memberWith('totp');
        const { redeemed } = await impersonate(server, who.member);
        const impersonatedId = redeemed.member_session?.member_session_id as string;
        const refused = await expectStytchRejection(completeWith('totp', who, { session_token: redeemed.session_token }), { status: 400, errorType: 'session_not_mutable_impersonated' });
        await expectRefusalAudited(refused.request_id, who.member.member_id, 'session_not_mutable_impersonated');
        const after = await client.sessions.authenticate({ session_token: redeemed.session_token });
        expect(after.member_session.authentication_factors.map((factor) => factor.type)).toEqual(['impersonated']);
        expect(await liveSessionIds(who.member)).toEqual([impersonatedId]);
      });

      it("a member's full session presented with a primary sign-in gets the factor added, with no MFA step (allowed)", async () => {
        const who = await memberWith('totp');
        const token = expectMfaRequired(await signInFirst('password', who), requirementOf(who));
        const full = await completeWith('totp', who, { intermediate_session_token: token });
        const again = await signInFirst('email_otp', who, { sessionToken: full.session_token });
        expect(again).toMatchObject({ member_authenticated: true, intermediate_session_token: '', mfa_required: null, session_token: full.session_token });
        const session = (again.member_session ?? {}) as { member_session_id?: string; authentication_factors?: unknown[] };
        expect(session.member_session_id).toBe(full.member_session.member_session_id);
        expect(session.authentication_factors).toMatchObject([primaryFactorOf('password', who), secondFactorOf('totp', who), primaryFactorOf('email_otp', who)]);
        expect(await liveSessionIds(who.member)).toEqual([full.member_session.member_session_id]);
      });
    });
  });
}
