import type { B2BClient } from 'stytch';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RedirectUrl } from '../../../src/domain/redirect-urls/redirect-url.js';
import { ManualClock } from '../../../src/platform/clock.js';
import { expectStytchRejection, expectToMatchResponseSchema } from '../../support/openapi.js';
import { linkToken, listEmails, waitForEmail, type OutboxEmail } from '../../support/outbox.js';
import { STORES } from '../../support/stores.js';
import { startTestServer, type TestServer } from '../../support/test-server.js';
import { idPattern } from '../../support/wire-formats.js';
import {
  auditOfRequest,
  createEmailOrganization,
  createMember,
  type EmailOrganization,
  expectNothingSent,
  expectSignInRefusalAudited,
  LOGIN_URL,
  MAGIC_LINK_AUTHENTICATE,
  PKCE,
  REDIRECT_URLS,
  sessionsOf,
} from './email-sign-in-fixtures.js';
import { NEW_PASSWORD, PASSWORD, PASSWORD_AUTHENTICATE, storedPasswordOf, WRONG_CREDENTIALS } from './passwords-sign-in-fixtures.js';
import { minutesFrom } from './session-fixtures.js';

const RESET_START = '/v1/b2b/passwords/email/reset/start';
const RESET = '/v1/b2b/passwords/email/reset';
const RESET_URL = 'https://app.example.com/reset-password';
const OTHER_RESET_URL = 'https://app.example.com/reset-password?from=settings';
const REDIRECTS: readonly RedirectUrl[] = [
  ...REDIRECT_URLS,
  { url: RESET_URL, types: [{ type: 'reset_password', isDefault: true }] },
  { url: OTHER_RESET_URL, types: [{ type: 'reset_password', isDefault: false }] },
];
const EMAIL_ID = /^member-email-test-[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const UNUSABLE_TOKEN = { status: 401, errorType: 'unable_to_auth_password_reset_token' } as const;
/** Weak by zxcvbn (score below 3). */
const WEAK_PASSWORD = 'password1';

/** The "sign in without a password" link of a reset message: an ordinary login magic link, read from the body. */
function loginLinkOf(message: OutboxEmail): string | undefined {
  const escaped = LOGIN_URL.replace(/[.?]/g, '\\$&');
  return new RegExp(`${escaped}\\?stytch_token_type=multi_tenant_magic_links&token=[A-Za-z0-9_-]+`).exec(message.text)?.[0];
}

/**
 * client.passwords.email.resetStart and .reset as Stytch answers them: the message (read from the
 * outbox) carries the reset link and a login magic link; the reset sets the password, verifies the
 * address, ends the member's other sessions and signs them in with a password factor. Refusals
 * write nothing, leave the token usable where the fault is the caller's (PKCE, a weak password) and
 * are audited. The server's clock is a ManualClock at real time, so the SDK's JWT checks agree.
 */
for (const store of STORES) {
  describe(`client.passwords.email reset (${store.name})`, () => {
    let server: TestServer;
    let client: B2BClient;
    let clock: ManualClock;
    let acme: EmailOrganization;

    beforeAll(async () => {
      clock = new ManualClock(new Date());
      server = await startTestServer({ store: store.name, clock, config: { redirectUrls: REDIRECTS } });
      client = server.client;
      acme = await createEmailOrganization(client);
    });
    afterEach(() => clock.set(new Date()));
    afterAll(async () => server?.stop());

    /** Asks for a reset of a new active member's password; returns the member, the message and its reset token. */
    async function startReset(options: { organization?: EmailOrganization; pending?: boolean; pkce?: boolean } = {}) {
      const organization = options.organization ?? acme;
      const member = await createMember(client, organization.organization, organization.address('reset'), { create_member_as_pending: options.pending === true });
      const sent = await client.passwords.email.resetStart({
        organization_id: organization.organization.organization_id,
        email_address: member.email_address,
        ...(options.pkce === true && { code_challenge: PKCE.challenge }),
      });
      const message = await waitForEmail(server, member.email_address, { template: 'reset_password' });
      return { member, sent, message, token: linkToken(message.link as string) };
    }

    /** A session of the member by a login magic link (the newest message to them). */
    async function signIn(member: { email_address: string }) {
      const [latest] = await listEmails(server, member.email_address);
      await client.magicLinks.email.loginOrSignup({ organization_id: acme.organization.organization_id, email_address: member.email_address });
      const message = await waitForEmail(server, member.email_address, { template: 'login', ...(latest !== undefined && { after: latest }) });
      return client.magicLinks.authenticate({ magic_links_token: linkToken(message.link as string) });
    }

    it('resetStart mails the reset link and a login link; reset sets the password, verifies the address and signs the member in with a password factor', async () => {
      const email = acme.address('ada');
      const member = await createMember(client, acme.organization, email);
      const sent = await client.passwords.email.resetStart({ organization_id: acme.organization.organization_id, email_address: email.toUpperCase(), locale: 'fr' });
      expectToMatchResponseSchema('post', RESET_START, sent);
      expect(sent).toMatchObject({ status_code: 200, member_id: member.member_id });
      expect(sent.member).toEqual(member);
      expect(sent.member_email_id).toMatch(EMAIL_ID);
      expect(sent.request_id).toMatch(idPattern('request-id'));
      expect((await auditOfRequest(server, sent.request_id)).map((event) => event.type)).toEqual(['password_reset.sent']);

      const message = await waitForEmail(server, email, { template: 'reset_password' });
      expect(message).toMatchObject({ organizationId: acme.organization.organization_id, memberId: member.member_id, locale: 'fr' });
      expect(message.link?.startsWith(`${RESET_URL}?stytch_token_type=multi_tenant_passwords&token=`)).toBe(true);
      expect(message.subject).toContain(acme.organization.organization_name);
      expect(message.text).toContain('30 minutes');
      const loginLink = loginLinkOf(message);
      expect(loginLink, message.text).toBeDefined();
      expect(message.html).toContain('Se connecter sans mot de passe');

      const now = clock.now();
      const reset = await client.passwords.email.reset({ password_reset_token: linkToken(message.link as string), password: NEW_PASSWORD, session_duration_minutes: 90 });
      expectToMatchResponseSchema('post', RESET, reset);
      expect(reset).toMatchObject({
        status_code: 200,
        member_id: member.member_id,
        member_email_id: sent.member_email_id,
        organization_id: acme.organization.organization_id,
        member_authenticated: true,
        intermediate_session_token: '',
        mfa_required: null,
      });
      expect(reset.member).toMatchObject({ status: 'active', email_address_verified: true });
      expect(reset.member.member_password_id).toMatch(idPattern('member-password'));
      const at = minutesFrom(now, 0);
      expect(reset.member_session?.authentication_factors).toEqual([{ type: 'password', delivery_method: 'knowledge', created_at: at, last_authenticated_at: at, updated_at: at }]);
      expect(reset.member_session?.expires_at).toBe(minutesFrom(now, 90));
      expect((await client.sessions.authenticate({ session_jwt: reset.session_jwt })).member.member_id).toBe(member.member_id);
      const events = await auditOfRequest(server, reset.request_id);
      expect(events.map((event) => event.type)).toEqual(['member.password_set', 'member.signed_in']);
      expect(events[1]?.details).toMatchObject({ method: 'password_email_reset', factor: 'password', member_authenticated: true });

      // The new password signs in; the login link is an ordinary magic link, for the same address id.
      const signedIn = await client.passwords.authenticate({ organization_id: acme.organization.organization_id, email_address: email, password: NEW_PASSWORD });
      expectToMatchResponseSchema('post', PASSWORD_AUTHENTICATE, signedIn);
      expect(signedIn.member_id).toBe(member.member_id);
      const byLink = await client.magicLinks.authenticate({ magic_links_token: linkToken(loginLink as string) });
      expectToMatchResponseSchema('post', MAGIC_LINK_AUTHENTICATE, byLink);
      expect(byLink).toMatchObject({ member_id: member.member_id, method_id: sent.member_email_id, member_authenticated: true });
    });

    it('a pending member sets a first password by reset and becomes active; reset_password_redirect_url and the expiry may be given', async () => {
      const email = acme.address('first');
      const pending = await createMember(client, acme.organization, email, { create_member_as_pending: true });
      expect(pending.member_password_id).toBe('');
      await client.passwords.email.resetStart({
        organization_id: acme.organization.organization_id,
        email_address: email,
        reset_password_redirect_url: OTHER_RESET_URL,
        reset_password_expiration_minutes: 120,
      });
      const message = await waitForEmail(server, email, { template: 'reset_password' });
      const link = new URL(message.link as string);
      expect(`${link.origin}${link.pathname}`).toBe('https://app.example.com/reset-password');
      expect(link.searchParams.get('from')).toBe('settings');
      expect(message.text).toContain('2 hours');
      const reset = await client.passwords.email.reset({ password_reset_token: linkToken(message.link as string), password: PASSWORD });
      expect(reset.member).toMatchObject({ member_id: pending.member_id, status: 'active', email_address_verified: true });
      expect(await storedPasswordOf(server, pending.member_id)).toMatchObject({ hashType: 'argon_2id' });
    });

    it("ends every session of the member, not another member's; a session of the member presented with the reset is kept and gets the password factor", async () => {
      const { member, token } = await startReset();
      const other = await createMember(client, acme.organization, acme.address('bystander'));
      const first = await signIn(member);
      const second = await signIn(member);
      const bystander = await signIn(other);
      expect(await sessionsOf(client, member)).toHaveLength(2);

      const reset = await client.passwords.email.reset({ password_reset_token: token, password: NEW_PASSWORD, session_token: first.session_token });
      expect(reset.session_token).toBe(first.session_token);
      expect(reset.member_session?.member_session_id).toBe(first.member_session?.member_session_id);
      expect(reset.member_session?.authentication_factors.map((factor) => factor.type)).toEqual(['magic_link', 'password']);
      const live = await sessionsOf(client, member);
      expect(live.map((session) => session.member_session_id)).toEqual([first.member_session?.member_session_id]);
      await expectStytchRejection(client.sessions.authenticate({ session_token: second.session_token }), { status: 404, errorType: 'session_not_found' });
      expect((await client.sessions.authenticate({ session_token: bystander.session_token })).member.member_id).toBe(other.member_id);
      expect((await auditOfRequest(server, reset.request_id)).map((event) => event.type)).toContain('session.revoked');
    });

    it('without a session presented, every session of the member ends and a new one starts', async () => {
      const { member, token } = await startReset();
      const before = await signIn(member);
      const reset = await client.passwords.email.reset({ password_reset_token: token, password: NEW_PASSWORD });
      await expectStytchRejection(client.sessions.authenticate({ session_token: before.session_token }), { status: 404, errorType: 'session_not_found' });
      expect((await sessionsOf(client, member)).map((session) => session.member_session_id)).toEqual([reset.member_session?.member_session_id]);
    });

    it('an organization that requires MFA gets an intermediate session; the password is set all the same', async () => {
      const strict = await createEmailOrganization(client, { mfa_policy: 'REQUIRED_FOR_ALL' });
      const { member, token } = await startReset({ organization: strict });
      const reset = await client.passwords.email.reset({ password_reset_token: token, password: NEW_PASSWORD });
      expectToMatchResponseSchema('post', RESET, reset);
      expect(reset).toMatchObject({ member_authenticated: false, session_token: '', session_jwt: '', member_session: null, mfa_required: { member_options: null } });
      expect(reset.intermediate_session_token).not.toBe('');
      expect(await storedPasswordOf(server, member.member_id)).toBeDefined();
      expect(reset.member).toMatchObject({ status: 'active', email_address_verified: true });
    });

    it('an organization that allows only passwords gets the reset link without a login link', async () => {
      const passwordsOnly = await createEmailOrganization(client, { auth_methods: 'RESTRICTED', allowed_auth_methods: ['password'] });
      const { message, token } = await startReset({ organization: passwordsOnly });
      expect(loginLinkOf(message)).toBeUndefined();
      expect(message.text).not.toContain('multi_tenant_magic_links');
      expect((await client.passwords.email.reset({ password_reset_token: token, password: NEW_PASSWORD })).member_authenticated).toBe(true);
    });

    describe('refusals of resetStart', () => {
      const cases: [string, (org: EmailOrganization, email: string) => Parameters<B2BClient['passwords']['email']['resetStart']>[0], { status: number; errorType: string }][] = [
        ['an unknown organization', (_org, email) => ({ organization_id: 'organization-test-00000000-0000-4000-8000-000000000000', email_address: email }), { status: 404, errorType: 'organization_not_found' }],
        ['an invalid address', (org) => ({ organization_id: org.organization.organization_id, email_address: 'not-an-address' }), { status: 400, errorType: 'invalid_email' }],
        ['an unknown locale', (org, email) => ({ organization_id: org.organization.organization_id, email_address: email, locale: 'de' }), { status: 400, errorType: 'invalid_locale' }],
        ['4 minutes', (org, email) => ({ organization_id: org.organization.organization_id, email_address: email, reset_password_expiration_minutes: 4 }), { status: 400, errorType: 'invalid_expiration' }],
        ['10081 minutes', (org, email) => ({ organization_id: org.organization.organization_id, email_address: email, reset_password_expiration_minutes: 10081 }), { status: 400, errorType: 'invalid_expiration' }],
        ['a malformed code challenge', (org, email) => ({ organization_id: org.organization.organization_id, email_address: email, code_challenge: 'too-short' }), { status: 400, errorType: 'invalid_pkce_code_challenge' }],
        ['a reset URL not allowed', (org, email) => ({ organization_id: org.organization.organization_id, email_address: email, reset_password_redirect_url: 'https://evil.example.com/' }), { status: 400, errorType: 'invalid_password_reset_redirect_url' }],
        ['a login URL not allowed', (org, email) => ({ organization_id: org.organization.organization_id, email_address: email, login_redirect_url: 'https://evil.example.com/' }), { status: 400, errorType: 'invalid_login_redirect_url' }],
      ];
      it.each(cases)('refuses %s, sending nothing', async (_name, body, expected) => {
        const member = await createMember(client, acme.organization, acme.address('refused'));
        const request = body(acme, member.email_address);
        const error = await expectStytchRejection(client.passwords.email.resetStart(request), expected);
        await expectNothingSent(server, member.email_address, error.request_id);
      });

      it('refuses an address no live member has (member_not_found), as Stytch does, sending nothing', async () => {
        const email = acme.address('stranger');
        const error = await expectStytchRejection(client.passwords.email.resetStart({ organization_id: acme.organization.organization_id, email_address: email }), {
          status: 404,
          errorType: 'member_not_found',
        });
        await expectNothingSent(server, email, error.request_id);
      });

      it('refuses a member of an organization whose auth_methods forbid passwords; a break-glass member is exempt', async () => {
        const linksOnly = await createEmailOrganization(client, { auth_methods: 'RESTRICTED', allowed_auth_methods: ['magic_link'] });
        const member = await createMember(client, linksOnly.organization, linksOnly.address('restricted'));
        const error = await expectStytchRejection(client.passwords.email.resetStart({ organization_id: linksOnly.organization.organization_id, email_address: member.email_address }), {
          status: 403,
          errorType: 'operation_restricted_by_organization_auth_methods',
        });
        await expectNothingSent(server, member.email_address, error.request_id);
        const admin = await createMember(client, linksOnly.organization, linksOnly.address('breakglass'), { is_breakglass: true });
        await client.passwords.email.resetStart({ organization_id: linksOnly.organization.organization_id, email_address: admin.email_address });
        await waitForEmail(server, admin.email_address, { template: 'reset_password' });
      });
    });

    describe('refusals of reset', () => {
      it('a used token is refused (unable_to_auth_password_reset_token), audited, and the password stays the first one', async () => {
        const { member, token } = await startReset();
        await client.passwords.email.reset({ password_reset_token: token, password: PASSWORD });
        const error = await expectStytchRejection(client.passwords.email.reset({ password_reset_token: token, password: NEW_PASSWORD }), UNUSABLE_TOKEN);
        await expectSignInRefusalAudited(server, error.request_id, { errorType: 'unable_to_auth_password_reset_token', why: 'already_used', memberId: member.member_id });
        await expectStytchRejection(client.passwords.authenticate({ organization_id: acme.organization.organization_id, email_address: member.email_address, password: NEW_PASSWORD }), WRONG_CREDENTIALS);
      });

      it('an expired token is refused; one still inside its lifetime works', async () => {
        const { member, token } = await startReset();
        clock.advance(31 * 60_000);
        const error = await expectStytchRejection(client.passwords.email.reset({ password_reset_token: token, password: NEW_PASSWORD }), UNUSABLE_TOKEN);
        await expectSignInRefusalAudited(server, error.request_id, { errorType: 'unable_to_auth_password_reset_token', why: 'expired' });
        expect(await storedPasswordOf(server, member.member_id)).toBeUndefined();
        clock.set(new Date());
        const fresh = await startReset();
        clock.advance(29 * 60_000);
        expect((await client.passwords.email.reset({ password_reset_token: fresh.token, password: NEW_PASSWORD })).member_id).toBe(fresh.member.member_id);
      });

      it('an unknown token, a login magic link and garbage are refused alike; a reset token is no magic link', async () => {
        const { token } = await startReset();
        const member = await createMember(client, acme.organization, acme.address('linked'));
        await client.magicLinks.email.loginOrSignup({ organization_id: acme.organization.organization_id, email_address: member.email_address });
        const magicLink = linkToken((await waitForEmail(server, member.email_address, { template: 'login' })).link as string);
        for (const wrong of [magicLink, 'not-a-token', `${token.slice(0, -2)}xx`]) {
          const error = await expectStytchRejection(client.passwords.email.reset({ password_reset_token: wrong, password: NEW_PASSWORD }), UNUSABLE_TOKEN);
          await expectSignInRefusalAudited(server, error.request_id, { errorType: 'unable_to_auth_password_reset_token' });
        }
        await expectStytchRejection(client.magicLinks.authenticate({ magic_links_token: token }), { status: 404, errorType: 'magic_link_not_found' });
        // Neither refusal spent anything.
        expect((await client.magicLinks.authenticate({ magic_links_token: magicLink })).member_id).toBe(member.member_id);
        expect((await client.passwords.email.reset({ password_reset_token: token, password: NEW_PASSWORD })).member_authenticated).toBe(true);
      });

      it('PKCE: a missing or wrong code_verifier is refused and leaves the token usable; the right one resets', async () => {
        const { member, token } = await startReset({ pkce: true });
        const missing = await expectStytchRejection(client.passwords.email.reset({ password_reset_token: token, password: NEW_PASSWORD }), {
          status: 400,
          errorType: 'pkce_expected_code_verifier',
        });
        await expectSignInRefusalAudited(server, missing.request_id, { errorType: 'pkce_expected_code_verifier', why: 'pkce_failed', memberId: member.member_id });
        await expectStytchRejection(client.passwords.email.reset({ password_reset_token: token, password: NEW_PASSWORD, code_verifier: `${PKCE.verifier.slice(0, -1)}0` }), {
          status: 400,
          errorType: 'pkce_mismatch',
        });
        const reset = await client.passwords.email.reset({ password_reset_token: token, password: NEW_PASSWORD, code_verifier: PKCE.verifier });
        expect(reset.member_id).toBe(member.member_id);

        const plain = await startReset();
        await expectStytchRejection(client.passwords.email.reset({ password_reset_token: plain.token, password: NEW_PASSWORD, code_verifier: PKCE.verifier }), {
          status: 400,
          errorType: 'pkce_did_not_expect_code_verifier',
        });
      });

      it('a weak password is refused (weak_password), audited, nothing written; the token still works with a strong one', async () => {
        const { member, token } = await startReset();
        const error = await expectStytchRejection(client.passwords.email.reset({ password_reset_token: token, password: WEAK_PASSWORD }), { status: 400, errorType: 'weak_password' });
        await expectSignInRefusalAudited(server, error.request_id, { errorType: 'weak_password', why: 'weak_password', memberId: member.member_id });
        expect(await storedPasswordOf(server, member.member_id)).toBeUndefined();
        // The member's own address is no password either.
        await expectStytchRejection(client.passwords.email.reset({ password_reset_token: token, password: member.email_address }), { status: 400, errorType: 'weak_password' });
        expect((await client.passwords.email.reset({ password_reset_token: token, password: NEW_PASSWORD })).member_id).toBe(member.member_id);
      });

      it('an organization that forbade passwords after the send refuses the reset, audited, and the token stays unspent', async () => {
        const changing = await createEmailOrganization(client);
        const { member, token } = await startReset({ organization: changing });
        await client.organizations.update({ organization_id: changing.organization.organization_id, auth_methods: 'RESTRICTED', allowed_auth_methods: ['magic_link'] });
        const error = await expectStytchRejection(client.passwords.email.reset({ password_reset_token: token, password: NEW_PASSWORD }), {
          status: 403,
          errorType: 'operation_restricted_by_organization_auth_methods',
        });
        await expectSignInRefusalAudited(server, error.request_id, { errorType: 'operation_restricted_by_organization_auth_methods', why: 'method_not_allowed', memberId: member.member_id });
        expect(await storedPasswordOf(server, member.member_id)).toBeUndefined();
        await client.organizations.update({ organization_id: changing.organization.organization_id, auth_methods: 'ALL_ALLOWED' });
        expect((await client.passwords.email.reset({ password_reset_token: token, password: NEW_PASSWORD })).member_id).toBe(member.member_id);
      });

      it("a deleted member's token is refused", async () => {
        const { member, token } = await startReset();
        await client.organizations.members.delete({ organization_id: acme.organization.organization_id, member_id: member.member_id });
        const error = await expectStytchRejection(client.passwords.email.reset({ password_reset_token: token, password: NEW_PASSWORD }), UNUSABLE_TOKEN);
        await expectSignInRefusalAudited(server, error.request_id, { errorType: 'unable_to_auth_password_reset_token' });
      });

      it("another member's session is ignored (a new session starts); another member's intermediate session is refused, nothing spent", async () => {
        const { member, token } = await startReset();
        const other = await createMember(client, acme.organization, acme.address('other'));
        const otherSession = await signIn(other);
        const strict = await createEmailOrganization(client, { mfa_policy: 'REQUIRED_FOR_ALL' });
        const stranger = await startReset({ organization: strict });
        const intermediate = await client.passwords.email.reset({ password_reset_token: stranger.token, password: NEW_PASSWORD });
        const refused = await expectStytchRejection(
          client.passwords.email.reset({ password_reset_token: token, password: NEW_PASSWORD, intermediate_session_token: intermediate.intermediate_session_token }),
          { status: 400, errorType: 'invalid_intermediate_session_token_for_organization' },
        );
        await expectSignInRefusalAudited(server, refused.request_id, { errorType: 'invalid_intermediate_session_token_for_organization', memberId: member.member_id });
        expect(await storedPasswordOf(server, member.member_id)).toBeUndefined();

        const reset = await client.passwords.email.reset({ password_reset_token: token, password: NEW_PASSWORD, session_token: otherSession.session_token });
        expect(reset.member_id).toBe(member.member_id);
        expect(reset.session_token).not.toBe(otherSession.session_token);
        expect((await client.sessions.authenticate({ session_token: otherSession.session_token })).member.member_id).toBe(other.member_id);
      });

      it('refuses an unknown locale before reading the token', async () => {
        const { token } = await startReset();
        await expectStytchRejection(client.passwords.email.reset({ password_reset_token: token, password: NEW_PASSWORD, locale: 'de' }), { status: 400, errorType: 'invalid_locale' });
        expect((await client.passwords.email.reset({ password_reset_token: token, password: NEW_PASSWORD })).member_authenticated).toBe(true);
      });
    });
  });
}
