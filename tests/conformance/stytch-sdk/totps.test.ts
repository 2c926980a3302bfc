import type { B2BClient } from 'stytch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { totpCode } from '../../../src/crypto/totp.js';
import { ManualClock } from '../../../src/platform/clock.js';
import { impersonate } from '../../support/impersonation.js';
import { expectStytchRejection, expectToMatchResponseSchema } from '../../support/openapi.js';
import { STORES } from '../../support/stores.js';
import { startTestServer, type TestServer } from '../../support/test-server.js';
import { idPattern } from '../../support/wire-formats.js';
import { auditOfRequest, createEmailOrganization, createMember, type EmailOrganization, sessionsOf } from './email-sign-in-fixtures.js';
import {
  codeAt,
  createMfaOrganization,
  DELETE_TOTP,
  newMemberSignedIn,
  newMemberWithTotp,
  nextTotpStep,
  QR_CODE_PREFIX,
  RECOVERY_CODE,
  signInAgain,
  signInWithPassword,
  TOTP_AUTHENTICATE,
  TOTP_CREATE,
  TOTP_MIGRATE,
  wrongCodeAt,
} from './mfa-fixtures.js';
import { argon2idOf, PASSWORD } from './passwords-sign-in-fixtures.js';
import { AUTHENTICATE, minutesFrom } from './session-fixtures.js';

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
/** A base32 secret another system issued (20 bytes). */
const MIGRATED_SECRET = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';

/**
 * client.totps.create, .authenticate, .migrate and client.organizations.members.deleteTOTP as
 * Stytch answers them. Members sign in by password into an organization that requires MFA of
 * everyone, and complete the sign-in with their authenticator app's code, computed here from the
 * secret as the app would. The server's clock is a ManualClock at real time.
 */
for (const store of STORES) {
  describe(`client.totps (${store.name})`, () => {
    let server: TestServer;
    let client: B2BClient;
    let clock: ManualClock;
    let acme: EmailOrganization;
    let optional: EmailOrganization;

    beforeAll(async () => {
      clock = new ManualClock(new Date());
      server = await startTestServer({ store: store.name, clock });
      client = server.client;
      acme = await createMfaOrganization(client);
      optional = await createEmailOrganization(client);
    });
    afterAll(async () => server?.stop());

    const targetOf = (member: { organization_id: string; member_id: string }) => ({ organization_id: member.organization_id, member_id: member.member_id });
    const storedTotpOf = (memberId: string) => server.server.store.totps.findTotp(memberId);

    it('create answers a pending registration: a base32 secret, the QR code as a PNG data URL and ten recovery codes; nothing secret is audited', async () => {
      const ada = await newMemberSignedIn(client, acme);
      const created = await client.totps.create({ ...targetOf(ada.member), intermediate_session_token: ada.intermediateSessionToken });
      expectToMatchResponseSchema('post', TOTP_CREATE, created);
      expect(created).toMatchObject({ status_code: 200, member_id: ada.member.member_id });
      expect(created.organization.organization_id).toBe(acme.organization.organization_id);
      expect(created.totp_registration_id).toMatch(idPattern('member-totp'));
      expect(created.secret).toMatch(/^[A-Z2-7]{32}$/);
      expect(created.qr_code.startsWith(QR_CODE_PREFIX)).toBe(true);
      const png = Buffer.from(created.qr_code.slice(QR_CODE_PREFIX.length), 'base64');
      expect(png.subarray(0, 8)).toEqual(PNG_SIGNATURE);
      expect(png.readUInt32BE(16)).toBeGreaterThanOrEqual(100);
      expect(created.recovery_codes).toHaveLength(10);
      for (const code of created.recovery_codes) expect(code).toMatch(RECOVERY_CODE);
      expect(new Set(created.recovery_codes).size).toBe(10);
      // Pending: the member names no registration until its first code is accepted.
      expect(created.member.totp_registration_id).toBe('');
      expect(await storedTotpOf(ada.member.member_id)).toMatchObject({ totpId: created.totp_registration_id, status: 'pending', expiresAt: minutesFrom(clock.now(), 60) });

      const events = await auditOfRequest(server, created.request_id);
      expect(events.map((event) => event.type)).toEqual(['member.totp_created']);
      expect(events[0]?.details).toMatchObject({ totp_registration_id: created.totp_registration_id, status: 'pending' });
      const audited = JSON.stringify(events);
      for (const secret of [created.secret, ...created.recovery_codes]) expect(audited).not.toContain(secret);
    });

    it('authenticate completes the primary sign-in: a session holding the password and TOTP factors, the registration active, the token spent', async () => {
      const ada = await newMemberSignedIn(client, acme);
      const target = targetOf(ada.member);
      const created = await client.totps.create({ ...target, intermediate_session_token: ada.intermediateSessionToken });
      const now = clock.now();
      const done = await client.totps.authenticate({ ...target, code: codeAt(created.secret, clock), intermediate_session_token: ada.intermediateSessionToken, session_duration_minutes: 120 });
      expectToMatchResponseSchema('post', TOTP_AUTHENTICATE, done);
      expect(Object.keys(done)).not.toContain('intermediate_session_token');
      expect(Object.keys(done)).not.toContain('member_authenticated');
      expect(done.member_id).toBe(ada.member.member_id);
      expect(done.member).toMatchObject({ totp_registration_id: created.totp_registration_id, mfa_enrolled: true, default_mfa_method: 'totp' });
      const at = minutesFrom(now, 0);
      expect(done.member_session?.authentication_factors).toEqual([
        expect.objectContaining({ type: 'password', delivery_method: 'knowledge' }),
        { type: 'totp', delivery_method: 'authenticator_app', created_at: at, last_authenticated_at: at, updated_at: at, authenticator_app_factor: { totp_id: created.totp_registration_id } },
      ]);
      expect(done.member_session?.expires_at).toBe(minutesFrom(now, 120));
      const checked = await client.sessions.authenticate({ session_token: done.session_token });
      expectToMatchResponseSchema('post', AUTHENTICATE, checked);
      expect(checked.member_session.member_session_id).toBe(done.member_session?.member_session_id);
      expect((await client.sessions.authenticate({ session_jwt: done.session_jwt })).member.member_id).toBe(ada.member.member_id);
      expect(await storedTotpOf(ada.member.member_id)).toMatchObject({ status: 'active', expiresAt: null, activatedAt: at });

      const events = await auditOfRequest(server, done.request_id);
      expect(events.map((event) => event.type)).toEqual(['member.mfa_updated', 'member.signed_in']);
      expect(events[0]?.details).toMatchObject({ method: 'totp', activated_totp_registration_id: created.totp_registration_id, totp_registration_id: created.totp_registration_id });
      expect(events[1]?.details).toMatchObject({ method: 'totp', factor: 'totp', member_authenticated: true, wrote: 'session.started' });

      // The intermediate session is spent, and the next primary sign-in names the registration.
      nextTotpStep(clock);
      await expectStytchRejection(client.totps.authenticate({ ...target, code: codeAt(created.secret, clock), intermediate_session_token: ada.intermediateSessionToken }), {
        status: 404,
        errorType: 'intermediate_session_not_found',
      });
      const again = await signInWithPassword(client, acme, ada.emailAddress);
      expect(again.response.mfa_required).toEqual({ member_options: { mfa_phone_number: '', totp_registration_id: created.totp_registration_id }, secondary_auth_initiated: null });
    });

    it('authenticate steps up a session of the member: the TOTP factor joins it, and set_mfa_enrollment and set_default_mfa apply', async () => {
      const grace = await newMemberSignedIn(client, optional, 'grace');
      expect(grace.sessionToken).not.toBe('');
      const target = targetOf(grace.member);
      const created = await client.totps.create({ ...target, session_token: grace.sessionToken });
      await expectStytchRejection(client.totps.authenticate({ ...target, code: codeAt(created.secret, clock), session_token: grace.sessionToken, set_mfa_enrollment: 'always' }), {
        status: 400,
        errorType: 'invalid_set_mfa_enrollment',
      });
      const done = await client.totps.authenticate({ ...target, code: codeAt(created.secret, clock), session_token: grace.sessionToken, set_mfa_enrollment: 'enroll', set_default_mfa: true });
      expectToMatchResponseSchema('post', TOTP_AUTHENTICATE, done);
      expect(done.session_token).toBe(grace.sessionToken);
      expect(done.member_session?.member_session_id).toBe(grace.response.member_session?.member_session_id);
      expect(done.member_session?.authentication_factors.map((factor) => factor.type)).toEqual(['password', 'totp']);
      expect(done.member).toMatchObject({ mfa_enrolled: true, default_mfa_method: 'totp', totp_registration_id: created.totp_registration_id });
      expect(await sessionsOf(client, grace.member)).toHaveLength(1);

      nextTotpStep(clock);
      const unenrolled = await client.totps.authenticate({ ...target, code: codeAt(created.secret, clock), session_jwt: done.session_jwt, set_mfa_enrollment: 'unenroll' });
      expect(unenrolled.member.mfa_enrolled).toBe(false);
      expect(unenrolled.member_session?.authentication_factors.map((factor) => factor.type)).toEqual(['password', 'totp']);
    });

    it('steps up a session presented as a JWT longer than 4 KB (its custom claims make it so)', async () => {
      const ada = await newMemberWithTotp(client, clock, acme, 'long-jwt');
      const claims = { profile: 'x'.repeat(3500) };
      const { session_jwt: longJwt } = await client.sessions.authenticate({ session_token: ada.sessionToken, session_custom_claims: claims });
      expect(longJwt.length).toBeGreaterThan(4096);
      const done = await client.totps.authenticate({ ...targetOf(ada.member), code: codeAt(ada.secret, clock), session_jwt: longJwt });
      expect(done.member_session?.custom_claims).toMatchObject(claims);
    });

    it('a code is accepted once: the same code again, or the previous step’s, is refused; the next step’s is accepted', async () => {
      const ada = await newMemberWithTotp(client, clock, acme);
      const target = targetOf(ada.member);
      const code = codeAt(ada.secret, clock);
      await client.totps.authenticate({ ...target, code, session_token: ada.sessionToken });
      const replayed = await expectStytchRejection(client.totps.authenticate({ ...target, code, session_token: ada.sessionToken }), { status: 401, errorType: 'totp_code_already_authenticated' });
      // Refused and recorded (nothing else written): a replay may be someone who read the code.
      const events = await auditOfRequest(server, replayed.request_id);
      expect(events.map((event) => [event.type, event.details.method, event.details.why, event.details.error_type])).toEqual([
        ['member.sign_in_refused', 'totp', 'replayed_code', 'totp_code_already_authenticated'],
      ]);
      const token = await signInAgain(client, acme, ada);
      await expectStytchRejection(client.totps.authenticate({ ...target, code, intermediate_session_token: token }), { status: 401, errorType: 'totp_code_already_authenticated' });
      await expectStytchRejection(client.totps.authenticate({ ...target, code: codeAt(ada.secret, clock, -1), intermediate_session_token: token }), {
        status: 401,
        errorType: 'totp_code_already_authenticated',
      });
      nextTotpStep(clock);
      const done = await client.totps.authenticate({ ...target, code: codeAt(ada.secret, clock), intermediate_session_token: token });
      expect(done.member_session?.authentication_factors.map((factor) => factor.type)).toEqual(['password', 'totp']);
    });

    it('a wrong code is refused with 401 and audited; the intermediate session stays usable', async () => {
      const ada = await newMemberWithTotp(client, clock, acme);
      const target = targetOf(ada.member);
      const token = await signInAgain(client, acme, ada);
      const refused = await expectStytchRejection(client.totps.authenticate({ ...target, code: wrongCodeAt(ada.secret, clock), intermediate_session_token: token }), {
        status: 401,
        errorType: 'unable_to_authenticate_totp',
      });
      const events = await auditOfRequest(server, refused.request_id);
      expect(events.map((event) => [event.type, event.memberId, event.details.method, event.details.why, event.details.error_type])).toEqual([
        ['member.sign_in_refused', ada.member.member_id, 'totp', 'wrong_code', 'unable_to_authenticate_totp'],
      ]);
      await expectStytchRejection(client.totps.authenticate({ ...target, code: '12345', intermediate_session_token: token }), { status: 400, errorType: 'invalid_totp_code' });
      await expectStytchRejection(client.totps.authenticate({ ...target, code: '12a456', intermediate_session_token: token }), { status: 400, errorType: 'invalid_totp_code' });
      expect(await sessionsOf(client, ada.member)).toHaveLength(1);
      const done = await client.totps.authenticate({ ...target, code: codeAt(ada.secret, clock), intermediate_session_token: token });
      expect(done.member_id).toBe(ada.member.member_id);
    });

    it('a pending registration lapses after expiration_minutes; expiration_minutes must be 5 to 1440', async () => {
      const ada = await newMemberSignedIn(client, acme);
      const target = targetOf(ada.member);
      for (const expiration_minutes of [4, 1441]) {
        const refused = await expectStytchRejection(client.totps.create({ ...target, expiration_minutes, intermediate_session_token: ada.intermediateSessionToken }), {
          status: 400,
          errorType: 'invalid_expiration_totp',
        });
        expect(await auditOfRequest(server, refused.request_id)).toEqual([]);
      }
      expect(await storedTotpOf(ada.member.member_id)).toBeUndefined();
      const created = await client.totps.create({ ...target, expiration_minutes: 5, intermediate_session_token: ada.intermediateSessionToken });
      expect(await storedTotpOf(ada.member.member_id)).toMatchObject({ expiresAt: minutesFrom(clock.now(), 5) });
      clock.advance(5 * 60_000);
      await expectStytchRejection(client.totps.authenticate({ ...target, code: codeAt(created.secret, clock), intermediate_session_token: ada.intermediateSessionToken }), {
        status: 404,
        errorType: 'totp_not_found',
      });
      // A member without any registration: the same.
      const grace = await newMemberSignedIn(client, acme, 'grace');
      await expectStytchRejection(client.totps.authenticate({ ...targetOf(grace.member), code: '123456', intermediate_session_token: grace.intermediateSessionToken }), {
        status: 404,
        errorType: 'totp_not_found',
      });
    });

    it('create replaces a pending registration (its secret stops working) and refuses while one is active (active_totp_exists)', async () => {
      const ada = await newMemberSignedIn(client, acme);
      const target = targetOf(ada.member);
      const first = await client.totps.create({ ...target, intermediate_session_token: ada.intermediateSessionToken });
      const second = await client.totps.create({ ...target, intermediate_session_token: ada.intermediateSessionToken });
      expect(second.totp_registration_id).not.toBe(first.totp_registration_id);
      expect(second.secret).not.toBe(first.secret);
      const events = await auditOfRequest(server, second.request_id);
      expect(events[0]?.details).toMatchObject({ replaced_totp_registration_id: first.totp_registration_id });
      await expectStytchRejection(client.totps.authenticate({ ...target, code: codeAt(first.secret, clock), intermediate_session_token: ada.intermediateSessionToken }), {
        status: 401,
        errorType: 'unable_to_authenticate_totp',
      });
      const done = await client.totps.authenticate({ ...target, code: codeAt(second.secret, clock), intermediate_session_token: ada.intermediateSessionToken });
      expect(done.member.totp_registration_id).toBe(second.totp_registration_id);
      // With a session holding the TOTP factor, the guard is satisfied, and the active registration refuses.
      const refused = await expectStytchRejection(client.totps.create({ ...target, session_token: done.session_token }), { status: 400, errorType: 'active_totp_exists' });
      expect(await auditOfRequest(server, refused.request_id)).toEqual([]);
      expect(await storedTotpOf(ada.member.member_id)).toMatchObject({ totpId: second.totp_registration_id, status: 'active' });
    });

    it('a member with an active TOTP gets no new registration without proof of a second factor', async () => {
      const ada = await newMemberWithTotp(client, clock, acme);
      const target = targetOf(ada.member);
      const before = await storedTotpOf(ada.member.member_id);
      // Someone past the primary factor alone (or with nothing at all) must not swap the member's app for their own.
      const withPrimaryOnly = await signInAgain(client, acme, ada);
      for (const proof of [{}, { intermediate_session_token: withPrimaryOnly }]) {
        const refused = await expectStytchRejection(client.totps.create({ ...target, ...proof }), { status: 403, errorType: 'mfa_factor_required_to_enroll' });
        expect(await auditOfRequest(server, refused.request_id)).toEqual([]);
      }
      expect(await storedTotpOf(ada.member.member_id)).toEqual(before);
      // Another member's token is refused too, whoever's factor it holds.
      const eve = await newMemberWithTotp(client, clock, acme, 'eve');
      await expectStytchRejection(client.totps.create({ ...target, session_token: eve.sessionToken }), { status: 400, errorType: 'member_session_member_id_mismatch' });
      const evesIntermediate = await signInAgain(client, acme, eve);
      await expectStytchRejection(client.totps.create({ ...target, intermediate_session_token: evesIntermediate }), {
        status: 400,
        errorType: 'invalid_intermediate_session_token_for_organization',
      });
      expect(await storedTotpOf(ada.member.member_id)).toEqual(before);
      // The primary sign-in still completes with the member's own app.
      const done = await client.totps.authenticate({ ...target, code: codeAt(ada.secret, clock), intermediate_session_token: withPrimaryOnly });
      expect(done.member_id).toBe(ada.member.member_id);
    });

    it('a registration left pending before the member verified a phone is not activated by the primary factor alone', async () => {
      // Someone holding only the member's password sets up an app of their own while the member has no second factor…
      const ada = await newMemberSignedIn(client, acme, 'pending-bypass');
      const target = targetOf(ada.member);
      const planted = await client.totps.create({ ...target, intermediate_session_token: ada.intermediateSessionToken, expiration_minutes: 1440 });
      // …then the member verifies a phone number (here as an import from another system would).
      await client.passwords.migrate({
        organization_id: acme.organization.organization_id,
        email_address: ada.emailAddress,
        hash: await argon2idOf(PASSWORD),
        hash_type: 'argon_2id',
        mfa_phone_number: '+15005550177',
        set_phone_number_verified: true,
      });
      const withPrimaryOnly = await signInAgain(client, acme, ada);
      const refused = await expectStytchRejection(client.totps.authenticate({ ...target, code: codeAt(planted.secret, clock), intermediate_session_token: withPrimaryOnly }), {
        status: 403,
        errorType: 'mfa_factor_required_to_enroll',
      });
      expect(await storedTotpOf(ada.member.member_id)).toMatchObject({ status: 'pending' });
      expect(await sessionsOf(client, ada.member)).toEqual([]);
      expect((await auditOfRequest(server, refused.request_id)).map((event) => event.type)).toEqual([]);
    });

    it('a verified phone the organization does not accept (TOTP only) does not stand in the way of enrolling TOTP', async () => {
      const totpOnly = await createMfaOrganization(client, { mfa_methods: 'RESTRICTED', allowed_mfa_methods: ['totp'] });
      const grace = await newMemberSignedIn(client, totpOnly, 'grace');
      await client.passwords.migrate({
        organization_id: totpOnly.organization.organization_id,
        email_address: grace.emailAddress,
        hash: await argon2idOf(PASSWORD),
        hash_type: 'argon_2id',
        mfa_phone_number: '+15005550178',
        set_phone_number_verified: true,
      });
      const token = await signInAgain(client, totpOnly, grace);
      const created = await client.totps.create({ ...targetOf(grace.member), intermediate_session_token: token });
      const done = await client.totps.authenticate({ ...targetOf(grace.member), code: codeAt(created.secret, clock), intermediate_session_token: token });
      expect(done.member_session?.authentication_factors.map((factor) => factor.type)).toEqual(['password', 'totp']);
    });

    it('refuses, before judging the code, session arguments that cannot complete this member’s sign-in', async () => {
      const ada = await newMemberWithTotp(client, clock, acme);
      const eve = await newMemberWithTotp(client, clock, acme, 'eve');
      const target = targetOf(ada.member);
      const evesToken = await signInAgain(client, acme, eve);
      const adasToken = await signInAgain(client, acme, ada);
      const cases = [
        [{}, { status: 400, errorType: 'mfa_session_arguments_required' }],
        [{ intermediate_session_token: evesToken }, { status: 400, errorType: 'invalid_intermediate_session_token_for_organization' }],
        [{ session_token: eve.sessionToken }, { status: 400, errorType: 'member_session_member_id_mismatch' }],
        [{ session_token: ada.sessionToken, intermediate_session_token: adasToken }, { status: 400, errorType: 'too_many_session_arguments' }],
        [{ intermediate_session_token: 'not-a-token' }, { status: 404, errorType: 'intermediate_session_not_found' }],
      ] as const;
      for (const [proof, expected] of cases) {
        // Wrong codes: had they been judged, they would be counted and audited as wrong codes. The
        // refusal of the session arguments is audited instead, as an attempt to get past MFA.
        const refused = await expectStytchRejection(client.totps.authenticate({ ...target, code: wrongCodeAt(ada.secret, clock), ...proof }), expected);
        const events = await auditOfRequest(server, refused.request_id);
        expect(events.map((event) => [event.type, event.memberId, event.details.why, event.details.error_type])).toEqual([
          ['member.sign_in_refused', ada.member.member_id, 'session_arguments', expected.errorType],
        ]);
      }
      // None of them was a guess: six of them would have exhausted the member's guesses (five).
      const done = await client.totps.authenticate({ ...target, code: codeAt(ada.secret, clock), intermediate_session_token: adasToken });
      expect(done.member_id).toBe(ada.member.member_id);
      expect((await client.sessions.authenticate({ session_token: eve.sessionToken })).member.member_id).toBe(eve.member.member_id);
    });

    it('an intermediate session token is no session: sessions.authenticate refuses it, and it still completes MFA', async () => {
      const ada = await newMemberWithTotp(client, clock, acme);
      const token = await signInAgain(client, acme, ada);
      await expectStytchRejection(client.sessions.authenticate({ session_token: token }), { status: 404, errorType: 'session_not_found' });
      const done = await client.totps.authenticate({ ...targetOf(ada.member), code: codeAt(ada.secret, clock), intermediate_session_token: token });
      expect(done.member_session?.authentication_factors.map((factor) => factor.type)).toEqual(['password', 'totp']);
    });

    it('an impersonated session takes no TOTP factor, and the code stays unused', async () => {
      const ada = await newMemberWithTotp(client, clock, acme);
      const { redeemed } = await impersonate(server, ada.member);
      const code = codeAt(ada.secret, clock);
      await expectStytchRejection(client.totps.authenticate({ ...targetOf(ada.member), code, session_token: redeemed.session_token }), {
        status: 400,
        errorType: 'session_not_mutable_impersonated',
      });
      const after = await client.sessions.authenticate({ session_token: redeemed.session_token });
      expect(after.member_session.authentication_factors.map((factor) => factor.type)).toEqual(['impersonated']);
      const token = await signInAgain(client, acme, ada);
      expect((await client.totps.authenticate({ ...targetOf(ada.member), code, intermediate_session_token: token })).member_id).toBe(ada.member.member_id);
    });

    it('an organization whose MFA methods are restricted to SMS refuses TOTP (403); break-glass members are exempt', async () => {
      const restricted = await createMfaOrganization(client, { mfa_methods: 'RESTRICTED', allowed_mfa_methods: ['sms_otp'] });
      const ada = await newMemberSignedIn(client, restricted);
      const target = targetOf(ada.member);
      const forbidden = { status: 403, errorType: 'operation_restricted_by_organization_mfa_methods' } as const;
      await expectStytchRejection(client.totps.create({ ...target, intermediate_session_token: ada.intermediateSessionToken }), forbidden);
      await expectStytchRejection(client.totps.migrate({ ...target, secret: MIGRATED_SECRET, recovery_codes: [] }), forbidden);
      expect(await storedTotpOf(ada.member.member_id)).toBeUndefined();

      // A registration made while TOTP was allowed is refused once the organization restricts it.
      const grace = await newMemberWithTotp(client, clock, acme, 'grace');
      await client.organizations.update({ organization_id: acme.organization.organization_id, mfa_methods: 'RESTRICTED', allowed_mfa_methods: ['sms_otp'] });
      try {
        const token = await signInAgain(client, acme, grace);
        const refused = await expectStytchRejection(client.totps.authenticate({ ...targetOf(grace.member), code: codeAt(grace.secret, clock), intermediate_session_token: token }), forbidden);
        expect(await auditOfRequest(server, refused.request_id)).toEqual([]);
      } finally {
        await client.organizations.update({ organization_id: acme.organization.organization_id, mfa_methods: 'ALL_ALLOWED', allowed_mfa_methods: [] });
      }

      const admin = await createMember(client, restricted.organization, restricted.address('admin'), { is_breakglass: true });
      const created = await client.totps.create({ ...targetOf(admin) });
      expect(created.totp_registration_id).toMatch(idPattern('member-totp'));
    });

    it('migrate makes a secret from another system active at once, with the recovery codes given or ten new ones', async () => {
      const ada = await newMemberSignedIn(client, acme);
      const target = targetOf(ada.member);
      const given = ['ABCD-efgh-2345', 'zzzz-0000-a1b2'];
      const migrated = await client.totps.migrate({ ...target, secret: MIGRATED_SECRET.toLowerCase(), recovery_codes: given });
      expectToMatchResponseSchema('post', TOTP_MIGRATE, migrated);
      expect(migrated.totp_registration_id).toMatch(idPattern('member-totp'));
      expect(migrated.recovery_codes).toEqual(['abcd-efgh-2345', 'zzzz-0000-a1b2']);
      expect(migrated.member.totp_registration_id).toBe(migrated.totp_registration_id);
      const events = await auditOfRequest(server, migrated.request_id);
      expect(events.map((event) => [event.type, event.details.migrated])).toEqual([['member.totp_created', true]]);
      expect(JSON.stringify(events)).not.toContain(MIGRATED_SECRET);
      // The member's existing authenticator app works at once, including for the primary sign-in already under way.
      const done = await client.totps.authenticate({ ...target, code: totpCode(MIGRATED_SECRET, clock.now()), intermediate_session_token: ada.intermediateSessionToken });
      expect(done.member_session?.authentication_factors.map((factor) => factor.type)).toEqual(['password', 'totp']);
      await expectStytchRejection(client.totps.migrate({ ...target, secret: MIGRATED_SECRET, recovery_codes: [] }), { status: 400, errorType: 'active_totp_exists' });

      const grace = await newMemberSignedIn(client, acme, 'grace');
      const minted = await client.totps.migrate({ ...targetOf(grace.member), secret: MIGRATED_SECRET, recovery_codes: [] });
      expect(minted.recovery_codes).toHaveLength(10);
      for (const code of minted.recovery_codes) expect(code).toMatch(RECOVERY_CODE);

      const hopper = await newMemberSignedIn(client, acme, 'hopper');
      const badSecrets = ['JBSWY3DPEHPK3PX', 'JBSWY3DPEHPK3PX1', 'not base32 at all!', ''];
      for (const secret of badSecrets) {
        await expectStytchRejection(client.totps.migrate({ ...targetOf(hopper.member), secret, recovery_codes: [] }), { status: 400, errorType: 'invalid_totp_secret' });
      }
      for (const recovery_codes of [['abcd-efgh'], ['abcd-efgh-ijk!'], ['123456'], ['abcd-efgh-ijkl', 'ABCD-EFGH-IJKL'], Array.from({ length: 11 }, (_, index) => `abcd-efgh-${1000 + index}`)]) {
        await expectStytchRejection(client.totps.migrate({ ...targetOf(hopper.member), secret: MIGRATED_SECRET, recovery_codes }), { status: 400, errorType: 'invalid_recovery_code' });
      }
      expect(await storedTotpOf(hopper.member.member_id)).toBeUndefined();
    });

    it('deleteTOTP deletes the registration and its codes, clears the member’s TOTP fields and keeps their sessions', async () => {
      const ada = await newMemberWithTotp(client, clock, acme);
      const target = targetOf(ada.member);
      expect(ada.member.default_mfa_method).toBe('totp');
      const deleted = await client.organizations.members.deleteTOTP(target);
      expectToMatchResponseSchema('delete', DELETE_TOTP, deleted);
      expect(deleted.member).toMatchObject({ member_id: ada.member.member_id, totp_registration_id: '', default_mfa_method: '' });
      expect(await storedTotpOf(ada.member.member_id)).toBeUndefined();
      const events = await auditOfRequest(server, deleted.request_id);
      expect(events.map((event) => [event.type, event.details.totp_registration_id])).toEqual([['member.totp_deleted', ada.totpRegistrationId]]);
      // Not a sign-out: the session that holds the TOTP factor stays.
      expect((await client.sessions.authenticate({ session_token: ada.sessionToken })).member_session.authentication_factors.map((factor) => factor.type)).toEqual(['password', 'totp']);
      await expectStytchRejection(client.recoveryCodes.get(target), { status: 404, errorType: 'recovery_codes_not_found' });
      // Deleting again is the same success, and writes nothing.
      const again = await client.organizations.members.deleteTOTP(target);
      expect(again.member).toEqual(deleted.member);
      expect(await auditOfRequest(server, again.request_id)).toEqual([]);
      // The next sign-in asks for MFA again, with nothing enrolled; the member sets up a new app without proof of the old one.
      const token = await signInAgain(client, acme, ada);
      const recreated = await client.totps.create({ ...target, intermediate_session_token: token });
      expect(recreated.totp_registration_id).not.toBe(ada.totpRegistrationId);
      await expectStytchRejection(client.organizations.members.deleteTOTP({ ...target, member_id: 'member-test-00000000-0000-4000-8000-000000000000' }), { status: 404, errorType: 'member_not_found' });
    });
  });
}
