import type { B2BClient, Organization } from 'stytch';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_PASSWORD_SETTINGS } from '../../../src/domain/passwords/password-settings.js';
import type { RedirectUrl } from '../../../src/domain/redirect-urls/redirect-url.js';
import { ManualClock } from '../../../src/platform/clock.js';
import { expectStytchRejection, expectToMatchResponseSchema } from '../../support/openapi.js';
import { linkToken, listEmails, waitForEmail, type OutboxEmail } from '../../support/outbox.js';
import { STORES } from '../../support/stores.js';
import { startTestServer, type TestServer } from '../../support/test-server.js';
import { uniqueSuffix } from '../../support/wire-formats.js';
import { auditOfRequest, expectNothingSent, expectSignInRefusalAudited, sessionsOf } from './email-sign-in-fixtures.js';
import { createMember, createOrganization, DISCOVERY_LINK_AUTHENTICATE, DISCOVERY_LIST, DISCOVERY_REDIRECT_URLS, PKCE, signInByCode } from './discovery-fixtures.js';
import { EXCHANGE } from './exchange-fixtures.js';
import { givePassword, NEW_PASSWORD, PASSWORD, storedPasswordOf, WRONG_CREDENTIALS, WRONG_PASSWORD } from './passwords-sign-in-fixtures.js';

const AUTHENTICATE = '/v1/b2b/passwords/discovery/authenticate';
const RESET_START = '/v1/b2b/passwords/discovery/email/reset/start';
const RESET = '/v1/b2b/passwords/discovery/email/reset';
const RESET_URL = 'https://app.example.com/reset-password';
const REDIRECTS: readonly RedirectUrl[] = [...DISCOVERY_REDIRECT_URLS, { url: RESET_URL, types: [{ type: 'reset_password', isDefault: true }] }];
const UNUSABLE_TOKEN = { status: 401, errorType: 'unable_to_auth_password_reset_token' } as const;
const NOT_ENABLED = { status: 400, errorType: 'cross_org_passwords_not_enabled' } as const;
const IST_NOT_FOUND = { status: 404, errorType: 'intermediate_session_not_found' } as const;
const LOCK_THRESHOLD = 3;
const LOCK_SECONDS = 600;

/** The "continue without a password" link of a discovery reset message: a discovery magic link, read from the body. */
function discoveryLinkOf(message: OutboxEmail): string | undefined {
  return /https:\/\/app\.example\.com\/discover\?stytch_token_type=discovery&token=[A-Za-z0-9_-]+/.exec(message.text)?.[0];
}

/**
 * client.passwords.discovery.authenticate and .email.resetStart/.reset, with passwords shared
 * across organizations: one password per address, proved before an organization is chosen, for an
 * intermediate session bound to the address alone with a password factor. The discovery endpoints
 * refuse an organization's password intermediate session: password factors proved in one
 * organization do not carry to others. Without cross-organization passwords, all three are refused.
 */
for (const store of STORES) {
  describe(`client.passwords.discovery (${store.name})`, () => {
    let server: TestServer;
    let client: B2BClient;
    let clock: ManualClock;
    let alpha: Organization;
    /** MFA required for all. */
    let bravo: Organization;
    /** auth_methods RESTRICTED to magic links. */
    let charlie: Organization;

    beforeAll(async () => {
      clock = new ManualClock(new Date());
      server = await startTestServer({
        store: store.name,
        clock,
        config: {
          redirectUrls: REDIRECTS,
          passwords: { ...DEFAULT_PASSWORD_SETTINGS, crossOrgPasswordsEnabled: true, userLockThreshold: LOCK_THRESHOLD, userLockTtlSeconds: LOCK_SECONDS },
        },
      });
      client = server.client;
      alpha = await createOrganization(client, 'Alpha');
      bravo = await createOrganization(client, 'Bravo', { mfa_policy: 'REQUIRED_FOR_ALL' });
      charlie = await createOrganization(client, 'Charlie', { auth_methods: 'RESTRICTED', allowed_auth_methods: ['magic_link'] });
    });
    afterEach(() => clock.set(new Date()));
    afterAll(async () => server?.stop());

    const address = (local = 'ada') => `${local}-${uniqueSuffix()}@example.org`;

    /** Asks for a discovery reset of the address; answers the message and its reset token. */
    async function startReset(emailAddress: string, extra: Record<string, unknown> = {}) {
      const [latest] = await listEmails(server, emailAddress);
      const sent = await client.passwords.discovery.email.resetStart({ email_address: emailAddress, ...extra });
      expectToMatchResponseSchema('post', RESET_START, sent);
      const message = await waitForEmail(server, emailAddress, { template: 'discovery_reset_password', ...(latest !== undefined && { after: latest }) });
      return { sent, message, token: linkToken(message.link as string) };
    }

    /** A member in alpha (active) and bravo (pending) with the address, and the address's password set by a discovery reset. */
    async function withPassword(password = PASSWORD) {
      const emailAddress = address();
      const inAlpha = await createMember(client, alpha, emailAddress);
      const inBravo = await createMember(client, bravo, emailAddress, { create_member_as_pending: true });
      const { token } = await startReset(emailAddress);
      await client.passwords.discovery.email.reset({ password_reset_token: token, password });
      return { emailAddress, inAlpha, inBravo };
    }

    it('resetStart mails a reset link and a discovery link; reset sets the password of every member with the address, ends their sessions and starts an intermediate session', async () => {
      const emailAddress = address();
      const inAlpha = await createMember(client, alpha, emailAddress);
      const inBravo = await createMember(client, bravo, emailAddress, { create_member_as_pending: true });
      const before = await signInByCode(server, alpha, emailAddress);

      // The address in another case is the same address.
      const { sent, message, token } = await startReset(emailAddress, { email_address: emailAddress.toUpperCase(), locale: 'es' });
      expect(Object.keys(sent).sort()).toEqual(['request_id', 'status_code']);
      expect((await auditOfRequest(server, sent.request_id)).map((event) => event.type)).toEqual(['password_reset.sent']);
      expect(message).toMatchObject({ organizationId: null, memberId: null, locale: 'es' });
      expect(message.link?.startsWith(`${RESET_URL}?stytch_token_type=discovery&token=`)).toBe(true);
      expect(discoveryLinkOf(message), message.text).toBeDefined();
      expect(message.text).toContain('30 minutos');

      const reset = await client.passwords.discovery.email.reset({ password_reset_token: token, password: NEW_PASSWORD });
      expectToMatchResponseSchema('post', RESET, reset);
      expect(reset.email_address).toBe(emailAddress);
      expect(reset.intermediate_session_token).not.toBe('');
      const entries = new Map(reset.discovered_organizations.map((entry) => [entry.organization?.organization_id, entry]));
      expect(entries.get(alpha.organization_id)).toMatchObject({ member_authenticated: true, primary_required: null, mfa_required: null, membership: { type: 'active_member' } });
      expect(entries.get(bravo.organization_id)).toMatchObject({ member_authenticated: false, primary_required: null, membership: { type: 'pending_member' } });
      expect(entries.get(bravo.organization_id)?.mfa_required).not.toBeNull();

      // One password for the address: both members have it.
      const [one, two] = [await storedPasswordOf(server, inAlpha.member_id), await storedPasswordOf(server, inBravo.member_id)];
      expect(one?.hash).toBeDefined();
      expect(two?.hash).toBe(one?.hash);
      await expectStytchRejection(client.sessions.authenticate({ session_token: before.session_token }), { status: 404, errorType: 'session_not_found' });
      const alphaMember = (await client.organizations.members.get({ organization_id: alpha.organization_id, member_id: inAlpha.member_id })).member;
      expect(alphaMember).toMatchObject({ status: 'active', email_address_verified: true });
      // A pending member stays so until they enter their organization.
      expect((await client.organizations.members.get({ organization_id: bravo.organization_id, member_id: inBravo.member_id })).member.status).toBe('pending');

      const signedIn = await client.passwords.authenticate({ organization_id: alpha.organization_id, email_address: emailAddress, password: NEW_PASSWORD });
      expect(signedIn.member_id).toBe(inAlpha.member_id);
      const exchanged = await client.discovery.intermediateSessions.exchange({ intermediate_session_token: reset.intermediate_session_token, organization_id: alpha.organization_id });
      expectToMatchResponseSchema('post', EXCHANGE, exchanged);
      expect(exchanged).toMatchObject({ member_authenticated: true, member_id: inAlpha.member_id });
      expect(exchanged.member_session?.authentication_factors.map((factor) => factor.type)).toEqual(['password']);
    });

    it("the message's discovery link signs in without a password", async () => {
      const emailAddress = address();
      await createMember(client, alpha, emailAddress);
      const { message } = await startReset(emailAddress);
      const authenticated = await client.magicLinks.discovery.authenticate({ discovery_magic_links_token: linkToken(discoveryLinkOf(message) as string) });
      expectToMatchResponseSchema('post', DISCOVERY_LINK_AUTHENTICATE, authenticated);
      expect(authenticated.email_address).toBe(emailAddress);
    });

    it('resetStart answers an address no member has the same way, sending nothing', async () => {
      const emailAddress = address('nobody');
      const sent = await client.passwords.discovery.email.resetStart({ email_address: emailAddress });
      expectToMatchResponseSchema('post', RESET_START, sent);
      expect(Object.keys(sent).sort()).toEqual(['request_id', 'status_code']);
      await expectNothingSent(server, emailAddress, sent.request_id);
    });

    it('resetStart refuses bad input before anything is sent', async () => {
      const emailAddress = address('refused');
      await createMember(client, alpha, emailAddress);
      const cases: [Record<string, unknown>, { status: number; errorType: string }][] = [
        [{ locale: 'de' }, { status: 400, errorType: 'invalid_locale' }],
        [{ reset_password_expiration_minutes: 4 }, { status: 400, errorType: 'invalid_expiration' }],
        [{ pkce_code_challenge: 'too-short' }, { status: 400, errorType: 'invalid_pkce_code_challenge' }],
        [{ reset_password_redirect_url: 'https://evil.example.com/' }, { status: 400, errorType: 'invalid_password_reset_redirect_url' }],
        [{ discovery_redirect_url: 'https://evil.example.com/' }, { status: 400, errorType: 'invalid_discovery_redirect_url' }],
      ];
      for (const [extra, expected] of cases) {
        const error = await expectStytchRejection(client.passwords.discovery.email.resetStart({ email_address: emailAddress, ...extra }), expected);
        await expectNothingSent(server, emailAddress, error.request_id);
      }
      await expectStytchRejection(client.passwords.discovery.email.resetStart({ email_address: 'not-an-address' }), { status: 400, errorType: 'invalid_email' });
    });

    it('authenticate: the address password starts an intermediate session whose password factor counts where auth_methods allow passwords', async () => {
      const { emailAddress, inAlpha } = await withPassword();
      await createMember(client, charlie, emailAddress);
      const authenticated = await client.passwords.discovery.authenticate({ email_address: emailAddress.toUpperCase(), password: PASSWORD });
      expectToMatchResponseSchema('post', AUTHENTICATE, authenticated);
      expect(authenticated.email_address).toBe(emailAddress);
      const entries = new Map(authenticated.discovered_organizations.map((entry) => [entry.organization?.organization_id, entry]));
      expect(entries.get(alpha.organization_id)).toMatchObject({ member_authenticated: true, primary_required: null });
      expect(entries.get(charlie.organization_id)).toMatchObject({ member_authenticated: false, primary_required: { allowed_auth_methods: ['magic_link'] } });
      const events = await auditOfRequest(server, authenticated.request_id);
      expect(events.map((event) => event.type)).toEqual(['intermediate_session.started']);
      expect(events[0]?.details).toMatchObject({ method: 'discovery_password', factor: 'password', email_address: emailAddress });

      const listed = await client.discovery.organizations.list({ intermediate_session_token: authenticated.intermediate_session_token });
      expectToMatchResponseSchema('post', DISCOVERY_LIST, listed);
      expect(listed.discovered_organizations).toEqual(authenticated.discovered_organizations);
      const into = await client.discovery.intermediateSessions.exchange({ intermediate_session_token: authenticated.intermediate_session_token, organization_id: alpha.organization_id });
      expect(into).toMatchObject({ member_authenticated: true, member_id: inAlpha.member_id });
    });

    it('authenticate refuses a wrong password and an unknown address alike, audited; consecutive failures lock the address everywhere until the lock expires', async () => {
      const { emailAddress } = await withPassword();
      const wrong = await expectStytchRejection(client.passwords.discovery.authenticate({ email_address: emailAddress, password: WRONG_PASSWORD }), WRONG_CREDENTIALS);
      const events = await auditOfRequest(server, wrong.request_id);
      expect(events.map((event) => event.type)).toEqual(['member.sign_in_refused']);
      expect(events[0]).toMatchObject({ organizationId: null, memberId: null, details: { method: 'discovery_password', why: 'wrong_password', email_address: emailAddress } });
      await expectStytchRejection(client.passwords.discovery.authenticate({ email_address: address('unknown'), password: PASSWORD }), WRONG_CREDENTIALS);

      for (let attempt = 1; attempt < LOCK_THRESHOLD; attempt++) {
        await expectStytchRejection(client.passwords.discovery.authenticate({ email_address: emailAddress, password: WRONG_PASSWORD }), WRONG_CREDENTIALS);
      }
      await expectStytchRejection(client.passwords.discovery.authenticate({ email_address: emailAddress, password: PASSWORD }), { status: 429, errorType: 'user_lock_limit_reached' });
      clock.advance((LOCK_SECONDS + 1) * 1000);
      const authenticated = await client.passwords.discovery.authenticate({ email_address: emailAddress, password: PASSWORD });
      expect(authenticated.email_address).toBe(emailAddress);
    });

    it("an address without a password is refused like a wrong one; the most recently set of the address's passwords is the one", async () => {
      const emailAddress = address('nopassword');
      const member = await createMember(client, alpha, emailAddress);
      await expectStytchRejection(client.passwords.discovery.authenticate({ email_address: emailAddress, password: PASSWORD }), WRONG_CREDENTIALS);
      // passwords.migrate sets the address's password (in every organization it has a member in).
      await givePassword(client, alpha, emailAddress, NEW_PASSWORD);
      expect((await storedPasswordOf(server, member.member_id))?.hashType).toBe('argon_2id');
      expect((await client.passwords.discovery.authenticate({ email_address: emailAddress, password: NEW_PASSWORD })).email_address).toBe(emailAddress);
    });

    describe('refusals of reset', () => {
      it('a used token and an expired one are refused, audited', async () => {
        const emailAddress = address();
        const member = await createMember(client, alpha, emailAddress);
        const { token } = await startReset(emailAddress);
        await client.passwords.discovery.email.reset({ password_reset_token: token, password: PASSWORD });
        const used = await expectStytchRejection(client.passwords.discovery.email.reset({ password_reset_token: token, password: NEW_PASSWORD }), UNUSABLE_TOKEN);
        await expectSignInRefusalAudited(server, used.request_id, { errorType: 'unable_to_auth_password_reset_token', why: 'already_used' });
        await expectStytchRejection(client.passwords.discovery.authenticate({ email_address: emailAddress, password: NEW_PASSWORD }), WRONG_CREDENTIALS);

        const late = await startReset(emailAddress);
        clock.advance(31 * 60_000);
        const expired = await expectStytchRejection(client.passwords.discovery.email.reset({ password_reset_token: late.token, password: NEW_PASSWORD }), UNUSABLE_TOKEN);
        await expectSignInRefusalAudited(server, expired.request_id, { errorType: 'unable_to_auth_password_reset_token', why: 'expired' });
        clock.set(new Date());
        expect((await client.passwords.authenticate({ organization_id: alpha.organization_id, email_address: emailAddress, password: PASSWORD })).member_id).toBe(member.member_id);
      });

      it("an organization's reset token is refused here, and a discovery one there", async () => {
        const emailAddress = address();
        await createMember(client, alpha, emailAddress);
        await client.passwords.email.resetStart({ organization_id: alpha.organization_id, email_address: emailAddress });
        const organizationToken = linkToken((await waitForEmail(server, emailAddress, { template: 'reset_password' })).link as string);
        const { token } = await startReset(emailAddress);
        await expectStytchRejection(client.passwords.discovery.email.reset({ password_reset_token: organizationToken, password: PASSWORD }), UNUSABLE_TOKEN);
        await expectStytchRejection(client.passwords.email.reset({ password_reset_token: token, password: PASSWORD }), UNUSABLE_TOKEN);
        expect((await client.passwords.discovery.email.reset({ password_reset_token: token, password: PASSWORD })).email_address).toBe(emailAddress);
        expect((await client.passwords.email.reset({ password_reset_token: organizationToken, password: NEW_PASSWORD })).member_authenticated).toBe(true);
      });

      it('PKCE: a missing or wrong pkce_code_verifier is refused and leaves the token usable; a weak password too', async () => {
        const emailAddress = address();
        const member = await createMember(client, alpha, emailAddress);
        const { token } = await startReset(emailAddress, { pkce_code_challenge: PKCE.challenge });
        const missing = await expectStytchRejection(client.passwords.discovery.email.reset({ password_reset_token: token, password: PASSWORD }), {
          status: 400,
          errorType: 'pkce_expected_code_verifier',
        });
        await expectSignInRefusalAudited(server, missing.request_id, { errorType: 'pkce_expected_code_verifier', why: 'pkce_failed' });
        await expectStytchRejection(client.passwords.discovery.email.reset({ password_reset_token: token, password: PASSWORD, pkce_code_verifier: `${PKCE.verifier.slice(0, -1)}0` }), {
          status: 400,
          errorType: 'pkce_mismatch',
        });
        const weak = await expectStytchRejection(client.passwords.discovery.email.reset({ password_reset_token: token, password: 'password1', pkce_code_verifier: PKCE.verifier }), {
          status: 400,
          errorType: 'weak_password',
        });
        await expectSignInRefusalAudited(server, weak.request_id, { errorType: 'weak_password' });
        expect(await storedPasswordOf(server, member.member_id)).toBeUndefined();
        const reset = await client.passwords.discovery.email.reset({ password_reset_token: token, password: PASSWORD, pkce_code_verifier: PKCE.verifier });
        expect(reset.email_address).toBe(emailAddress);
      });

      it('refuses the token when every member with the address was deleted since the send', async () => {
        const emailAddress = address();
        const member = await createMember(client, alpha, emailAddress);
        const { token } = await startReset(emailAddress);
        await client.organizations.members.delete({ organization_id: alpha.organization_id, member_id: member.member_id });
        const error = await expectStytchRejection(client.passwords.discovery.email.reset({ password_reset_token: token, password: PASSWORD }), UNUSABLE_TOKEN);
        await expectSignInRefusalAudited(server, error.request_id, { errorType: 'unable_to_auth_password_reset_token', why: 'no_member' });
      });
    });

    it("refuses an organization's password intermediate session at discovery.organizations.list, intermediateSessions.exchange and organizations.create; an email proof's is accepted", async () => {
      const emailAddress = address('mfa');
      const member = await createMember(client, bravo, emailAddress);
      await createMember(client, alpha, emailAddress);
      await client.passwords.email.resetStart({ organization_id: bravo.organization_id, email_address: emailAddress });
      const token = linkToken((await waitForEmail(server, emailAddress, { template: 'reset_password' })).link as string);
      const pending = await client.passwords.email.reset({ password_reset_token: token, password: PASSWORD });
      expect(pending.member_authenticated).toBe(false);
      const intermediate = pending.intermediate_session_token;

      await expectStytchRejection(client.discovery.organizations.list({ intermediate_session_token: intermediate }), IST_NOT_FOUND);
      await expectStytchRejection(client.discovery.intermediateSessions.exchange({ intermediate_session_token: intermediate, organization_id: alpha.organization_id }), IST_NOT_FOUND);
      await expectStytchRejection(client.discovery.intermediateSessions.exchange({ intermediate_session_token: intermediate, organization_id: bravo.organization_id }), IST_NOT_FOUND);
      const before = (await client.organizations.search({})).organizations.length;
      await expectStytchRejection(client.discovery.organizations.create({ intermediate_session_token: intermediate, organization_name: `Never ${uniqueSuffix()}` }), IST_NOT_FOUND);
      expect((await client.organizations.search({})).organizations).toHaveLength(before);
      expect(await sessionsOf(client, member)).toEqual([]);

      // The same organization's sign-in by magic link, awaiting MFA, still lists.
      await client.magicLinks.email.loginOrSignup({ organization_id: bravo.organization_id, email_address: emailAddress });
      const link = await waitForEmail(server, emailAddress, { template: 'login' });
      const byLink = await client.magicLinks.authenticate({ magic_links_token: linkToken(link.link as string) });
      expect(byLink.member_authenticated).toBe(false);
      const listed = await client.discovery.organizations.list({ intermediate_session_token: byLink.intermediate_session_token });
      expect(listed.discovered_organizations.map((entry) => entry.organization?.organization_id)).toContain(alpha.organization_id);
    });
  });

  describe(`client.passwords.discovery without cross-organization passwords (${store.name})`, () => {
    let server: TestServer;
    let client: B2BClient;

    beforeAll(async () => {
      server = await startTestServer({ store: store.name, clock: new ManualClock(new Date()), config: { redirectUrls: REDIRECTS } });
      client = server.client;
    });
    afterAll(async () => server?.stop());

    it('refuses all three (cross_org_passwords_not_enabled), sending nothing', async () => {
      const organization = await createOrganization(client, 'Solo');
      const emailAddress = `solo-${uniqueSuffix()}@example.org`;
      await createMember(client, organization, emailAddress);
      await expectStytchRejection(client.passwords.discovery.authenticate({ email_address: emailAddress, password: PASSWORD }), NOT_ENABLED);
      const start = await expectStytchRejection(client.passwords.discovery.email.resetStart({ email_address: emailAddress }), NOT_ENABLED);
      await expectNothingSent(server, emailAddress, start.request_id);
      await expectStytchRejection(client.passwords.discovery.email.reset({ password_reset_token: 'anything', password: PASSWORD }), NOT_ENABLED);
    });

    it("a member session's password factor does not count in the address's other organizations at discovery.organizations.list", async () => {
      const home = await createOrganization(client, 'Home');
      const away = await createOrganization(client, 'Away');
      const emailAddress = `ada-${uniqueSuffix()}@example.org`;
      await createMember(client, home, emailAddress);
      await createMember(client, away, emailAddress);
      await givePassword(client, home, emailAddress);
      const signedIn = await client.passwords.authenticate({ organization_id: home.organization_id, email_address: emailAddress, password: PASSWORD });
      const listed = await client.discovery.organizations.list({ session_token: signedIn.session_token });
      expectToMatchResponseSchema('post', DISCOVERY_LIST, listed);
      const entries = new Map(listed.discovered_organizations.map((entry) => [entry.organization?.organization_id, entry]));
      expect(entries.get(home.organization_id)).toMatchObject({ member_authenticated: true, primary_required: null });
      expect(entries.get(away.organization_id)?.member_authenticated).toBe(false);
      expect(entries.get(away.organization_id)?.primary_required).not.toBeNull();
    });
  });
}
