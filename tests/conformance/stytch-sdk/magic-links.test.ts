import type { B2BClient } from 'stytch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/platform/clock.js';
import { expectToMatchResponseSchema } from '../../support/openapi.js';
import { linkToken, waitForEmail } from '../../support/outbox.js';
import { STORES } from '../../support/stores.js';
import { startTestServer, type TestServer } from '../../support/test-server.js';
import { idPattern } from '../../support/wire-formats.js';
import {
  auditOfRequest,
  createEmailOrganization,
  createMember,
  type EmailOrganization,
  INVITE_URL,
  LOGIN_URL,
  MAGIC_LINK_AUTHENTICATE,
  MAGIC_LINK_INVITE,
  MAGIC_LINK_SEND,
  membersOf,
  OTHER_LOGIN_URL,
  PKCE,
  REDIRECT_URLS,
  sessionsOf,
  SIGNUP_URL,
} from './email-sign-in-fixtures.js';
import { AUTHENTICATE, minutesFrom } from './session-fixtures.js';

/**
 * client.magicLinks.email.loginOrSignup, .invite and client.magicLinks.authenticate as Stytch
 * answers them: the member each send creates or finds, the message it sends (read from the
 * outbox, never from the database), and the session a link opens. The server's clock is a
 * ManualClock at real time, so the SDK's own JWT checks agree with it.
 */
const EMAIL_ID = /^member-email-test-[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

for (const store of STORES) {
  describe(`client.magicLinks (${store.name})`, () => {
    let server: TestServer;
    let client: B2BClient;
    let clock: ManualClock;
    let acme: EmailOrganization;

    beforeAll(async () => {
      clock = new ManualClock(new Date());
      server = await startTestServer({ store: store.name, clock, config: { redirectUrls: REDIRECT_URLS } });
      client = server.client;
      acme = await createEmailOrganization(client);
    });
    afterAll(async () => server?.stop());

    it('loginOrSignup to a new address of an allowed domain creates a pending member and sends the signup link; authenticate activates them and starts a session', async () => {
      const email = acme.address();
      const sent = await client.magicLinks.email.loginOrSignup({ organization_id: acme.organization.organization_id, email_address: email });
      expectToMatchResponseSchema('post', MAGIC_LINK_SEND, sent);
      expect(sent).toMatchObject({ status_code: 200, member_created: true, member_id: sent.member.member_id });
      expect(sent.request_id).toMatch(idPattern('request-id'));
      expect(sent.member).toMatchObject({ email_address: email, status: 'pending', email_address_verified: false, organization_id: acme.organization.organization_id });
      expect(sent.organization).toEqual((await client.organizations.get({ organization_id: acme.organization.organization_id })).organization);

      const message = await waitForEmail(server, email, { template: 'signup' });
      expect(message.link?.startsWith(`${SIGNUP_URL}?stytch_token_type=multi_tenant_magic_links&token=`)).toBe(true);
      expect(message).toMatchObject({ organizationId: acme.organization.organization_id, memberId: sent.member_id, locale: 'en' });
      expect(Date.parse(message.createdAt)).toBeGreaterThan(0);

      const now = clock.now();
      const signedIn = await client.magicLinks.authenticate({ magic_links_token: linkToken(message.link as string) });
      expectToMatchResponseSchema('post', MAGIC_LINK_AUTHENTICATE, signedIn);
      expect(signedIn).toMatchObject({
        member_id: sent.member_id,
        organization_id: acme.organization.organization_id,
        member_authenticated: true,
        intermediate_session_token: '',
        mfa_required: null,
        reset_sessions: false,
        status_code: 200,
      });
      expect(signedIn.method_id).toMatch(EMAIL_ID);
      expect(signedIn.member).toMatchObject({ status: 'active', email_address_verified: true });
      expect(signedIn.member).toEqual((await client.organizations.members.get({ organization_id: acme.organization.organization_id, member_id: sent.member_id })).member);
      const at = minutesFrom(now, 0);
      expect(signedIn.member_session?.authentication_factors).toEqual([
        {
          type: 'magic_link',
          delivery_method: 'email',
          email_factor: { email_id: signedIn.method_id, email_address: email },
          created_at: at,
          last_authenticated_at: at,
          updated_at: at,
        },
      ]);
      expect(signedIn.member_session?.expires_at).toBe(minutesFrom(now, 60));

      const checked = await client.sessions.authenticate({ session_token: signedIn.session_token });
      expectToMatchResponseSchema('post', AUTHENTICATE, checked);
      expect(checked.member_session.member_session_id).toBe(signedIn.member_session?.member_session_id);
      const byJwt = await client.sessions.authenticate({ session_jwt: signedIn.session_jwt });
      expect(byJwt.member.member_id).toBe(sent.member_id);
    });

    it('accepts login_template_id and signup_template_id (code written for custom templates in Stytch) and sends the built-in message', async () => {
      const email = acme.address('templated');
      await createMember(client, acme.organization, email);
      await client.magicLinks.email.loginOrSignup({
        organization_id: acme.organization.organization_id,
        email_address: email,
        login_template_id: 'my-branded-login',
        signup_template_id: 'my-branded-signup',
      });
      const message = await waitForEmail(server, email, { template: 'login' });
      expect(message.link?.startsWith(`${LOGIN_URL}?stytch_token_type=multi_tenant_magic_links&token=`)).toBe(true);
      expect((await client.magicLinks.authenticate({ magic_links_token: linkToken(message.link as string) })).member_authenticated).toBe(true);
    });

    it('an active member gets the login link (member_created false) to the login default, or to an allowed login_redirect_url; the method_id stays the same', async () => {
      const email = acme.address('grace');
      const member = await createMember(client, acme.organization, email);
      const sent = await client.magicLinks.email.loginOrSignup({ organization_id: acme.organization.organization_id, email_address: email });
      expectToMatchResponseSchema('post', MAGIC_LINK_SEND, sent);
      expect(sent).toMatchObject({ member_created: false, member_id: member.member_id });
      expect(sent.member).toEqual(member);
      const first = await waitForEmail(server, email, { template: 'login' });
      expect(first.link?.startsWith(`${LOGIN_URL}?stytch_token_type=multi_tenant_magic_links&token=`)).toBe(true);

      await client.magicLinks.email.loginOrSignup({
        organization_id: acme.organization.organization_id,
        email_address: email.toUpperCase(),
        login_redirect_url: OTHER_LOGIN_URL,
        signup_redirect_url: 'https://not-allowed.example.com/signup',
      });
      const second = await waitForEmail(server, email, { template: 'login', after: first });
      // The URL's own query is kept, the token added to it.
      const link = new URL(second.link as string);
      expect(`${link.origin}${link.pathname}`).toBe('https://app.example.com/login');
      expect(link.searchParams.get('next')).toBe('/billing');

      const one = await client.magicLinks.authenticate({ magic_links_token: linkToken(first.link as string) });
      const two = await client.magicLinks.authenticate({ magic_links_token: linkToken(second.link as string) });
      expect(two.method_id).toBe(one.method_id);
      expect(one.member.status).toBe('active');
      expect(await membersOf(client, acme.organization)).toContainEqual(expect.objectContaining({ member_id: member.member_id, email_address_verified: true }));
    });

    it('a pending member and an invited one get the signup link, and no member is created', async () => {
      const pendingEmail = acme.address('pending');
      const pending = await createMember(client, acme.organization, pendingEmail, { create_member_as_pending: true });
      const sent = await client.magicLinks.email.loginOrSignup({ organization_id: acme.organization.organization_id, email_address: pendingEmail });
      expect(sent).toMatchObject({ member_created: false, member_id: pending.member_id });
      await waitForEmail(server, pendingEmail, { template: 'signup' });

      const invitedEmail = acme.address('invited');
      const invited = await client.magicLinks.email.invite({ organization_id: acme.organization.organization_id, email_address: invitedEmail });
      const again = await client.magicLinks.email.loginOrSignup({ organization_id: acme.organization.organization_id, email_address: invitedEmail });
      expect(again).toMatchObject({ member_created: false, member_id: invited.member_id });
      expect(again.member.status).toBe('invited');
      await waitForEmail(server, invitedEmail, { template: 'signup' });
    });

    it('locale picks the language of the message; PKCE binds the link to the browser that asked for it', async () => {
      const email = acme.address('pkce');
      await client.magicLinks.email.loginOrSignup({
        organization_id: acme.organization.organization_id,
        email_address: email,
        locale: 'es',
        pkce_code_challenge: PKCE.challenge,
      });
      const message = await waitForEmail(server, email);
      expect(message.locale).toBe('es');
      const signedIn = await client.magicLinks.authenticate({ magic_links_token: linkToken(message.link as string), pkce_code_verifier: PKCE.verifier });
      expect(signedIn.member_authenticated).toBe(true);
    });

    it('session_token of the same member: the magic_link factor joins that session; session_duration_minutes and custom claims apply', async () => {
      const email = acme.address('again');
      await client.magicLinks.email.loginOrSignup({ organization_id: acme.organization.organization_id, email_address: email });
      const first = await client.magicLinks.authenticate({ magic_links_token: linkToken((await waitForEmail(server, email)).link as string) });
      const previous = await waitForEmail(server, email);
      await client.magicLinks.email.loginOrSignup({ organization_id: acme.organization.organization_id, email_address: email });
      const message = await waitForEmail(server, email, { template: 'login', after: previous });
      const now = clock.now();
      const second = await client.magicLinks.authenticate({
        magic_links_token: linkToken(message.link as string),
        session_token: first.session_token,
        session_duration_minutes: 120,
        session_custom_claims: { team: 'blue' },
      });
      expect(second.member_session?.member_session_id).toBe(first.member_session?.member_session_id);
      expect(second.session_token).toBe(first.session_token);
      expect(second.member_session?.authentication_factors).toHaveLength(1);
      expect(second.member_session?.expires_at).toBe(minutesFrom(now, 120));
      expect(second.member_session?.custom_claims).toEqual({ team: 'blue' });
      expect(await sessionsOf(client, second.member)).toHaveLength(1);
    });

    it('an organization requiring MFA gets an intermediate session and mfa_required, no session; the member is active all the same', async () => {
      const strict = await createEmailOrganization(client, { mfa_policy: 'REQUIRED_FOR_ALL' });
      const email = strict.address();
      const sent = await client.magicLinks.email.loginOrSignup({ organization_id: strict.organization.organization_id, email_address: email });
      const signedIn = await client.magicLinks.authenticate({ magic_links_token: linkToken((await waitForEmail(server, email)).link as string) });
      expectToMatchResponseSchema('post', MAGIC_LINK_AUTHENTICATE, signedIn);
      expect(signedIn).toMatchObject({
        member_id: sent.member_id,
        member_authenticated: false,
        member_session: null,
        session_token: '',
        session_jwt: '',
        reset_sessions: false,
        mfa_required: { member_options: null, secondary_auth_initiated: null },
      });
      expect(signedIn.intermediate_session_token).not.toBe('');
      expect(signedIn.method_id).toMatch(EMAIL_ID);
      expect(signedIn.member).toMatchObject({ status: 'active', email_address_verified: true });
      expect(await sessionsOf(client, signedIn.member)).toEqual([]);
    });

    it('a deleted member does not count: their address joins again as a new member', async () => {
      const email = acme.address('returning');
      const old = await createMember(client, acme.organization, email);
      await client.organizations.members.delete({ organization_id: acme.organization.organization_id, member_id: old.member_id });
      const sent = await client.magicLinks.email.loginOrSignup({ organization_id: acme.organization.organization_id, email_address: email });
      expect(sent.member_created).toBe(true);
      expect(sent.member_id).not.toBe(old.member_id);
      const signedIn = await client.magicLinks.authenticate({ magic_links_token: linkToken((await waitForEmail(server, email, { template: 'signup' })).link as string) });
      expect(signedIn.member_id).toBe(sent.member_id);
    });

    it('the send is audited as magic_link.sent (with member.created for a new member), never with the token', async () => {
      const email = acme.address('audited');
      const sent = await client.magicLinks.email.loginOrSignup({ organization_id: acme.organization.organization_id, email_address: email });
      const message = await waitForEmail(server, email);
      const events = await auditOfRequest(server, sent.request_id);
      expect(events.map((event) => event.type)).toEqual(['member.created', 'magic_link.sent']);
      expect(events[1]).toMatchObject({ organizationId: acme.organization.organization_id, memberId: sent.member_id, details: { purpose: 'signup', member_created: true } });
      expect(JSON.stringify(events)).not.toContain(linkToken(message.link as string));
      const signedIn = await client.magicLinks.authenticate({ magic_links_token: linkToken(message.link as string) });
      const signInEvents = await auditOfRequest(server, signedIn.request_id);
      // One event for the outcome: the member signed in, with the session it started.
      expect(signInEvents.map((event) => event.type)).toEqual(['member.signed_in']);
      expect(signInEvents[0]?.details).toMatchObject({
        method: 'magic_link',
        factor: 'magic_link',
        member_authenticated: true,
        wrote: 'session.started',
        member_session_id: signedIn.member_session?.member_session_id,
        expires_at: signedIn.member_session?.expires_at,
      });
    });

    describe('invite', () => {
      it('creates an invited member with the name, metadata and roles given, and sends the invite link naming the inviter; authenticate activates them', async () => {
        const inviter = await createMember(client, acme.organization, acme.address('inviter'), { name: 'Ada Lovelace' });
        const email = acme.address('new-hire');
        const invited = await client.magicLinks.email.invite({
          organization_id: acme.organization.organization_id,
          email_address: email,
          invited_by_member_id: inviter.member_id,
          name: 'Grace Hopper',
          trusted_metadata: { department: 'compilers' },
          untrusted_metadata: { theme: 'dark' },
          roles: ['stytch_admin'],
          locale: 'fr',
        });
        expectToMatchResponseSchema('post', MAGIC_LINK_INVITE, invited);
        expect(invited.member).toMatchObject({
          member_id: invited.member_id,
          email_address: email,
          status: 'invited',
          name: 'Grace Hopper',
          trusted_metadata: { department: 'compilers' },
          untrusted_metadata: { theme: 'dark' },
          email_address_verified: false,
        });
        expect(invited.member.roles.map((role) => role.role_id).sort()).toEqual(['stytch_admin', 'stytch_member']);
        expect(invited.organization.organization_id).toBe(acme.organization.organization_id);

        const message = await waitForEmail(server, email, { template: 'invite' });
        expect(message.locale).toBe('fr');
        expect(message.text).toContain('Ada Lovelace');
        expect(message.link?.startsWith(`${INVITE_URL}?stytch_token_type=multi_tenant_magic_links&token=`)).toBe(true);
        const events = await auditOfRequest(server, invited.request_id);
        expect(events.map((event) => event.type)).toEqual(['member.created', 'member.invited']);
        expect(events[1]?.details).toMatchObject({ invited_by_member_id: inviter.member_id, member_created: true });

        const signedIn = await client.magicLinks.authenticate({ magic_links_token: linkToken(message.link as string) });
        expect(signedIn.member).toMatchObject({ member_id: invited.member_id, status: 'active', email_address_verified: true, name: 'Grace Hopper' });
        expect(signedIn.member_session?.roles).toEqual(expect.arrayContaining(['stytch_admin']));
      });

      it('an inviter without a name is named by their address', async () => {
        const inviter = await createMember(client, acme.organization, acme.address('nameless'));
        const email = acme.address('guest');
        await client.magicLinks.email.invite({ organization_id: acme.organization.organization_id, email_address: email, invited_by_member_id: inviter.member_id });
        expect((await waitForEmail(server, email, { template: 'invite' })).text).toContain(inviter.email_address);
      });

      it('a pending member becomes invited; an invited one gets a fresh link and both links work until one is used', async () => {
        const email = acme.address('pending-invite');
        const pending = await createMember(client, acme.organization, email, { create_member_as_pending: true });
        const first = await client.magicLinks.email.invite({ organization_id: acme.organization.organization_id, email_address: email });
        expect(first).toMatchObject({ member_id: pending.member_id });
        expect(first.member.status).toBe('invited');
        const firstMessage = await waitForEmail(server, email, { template: 'invite' });
        const second = await client.magicLinks.email.invite({ organization_id: acme.organization.organization_id, email_address: email });
        expect(second.member_id).toBe(pending.member_id);
        const secondMessage = await waitForEmail(server, email, { template: 'invite', after: firstMessage });
        expect(secondMessage.link).not.toBe(firstMessage.link);
        expect((await auditOfRequest(server, second.request_id)).map((event) => event.type)).toEqual(['member.invited']);
        const signedIn = await client.magicLinks.authenticate({ magic_links_token: linkToken(secondMessage.link as string) });
        expect(signedIn.member.status).toBe('active');
        expect((await membersOf(client, acme.organization)).filter((member) => member.email_address === email)).toHaveLength(1);
      });

      it('revoking an invitation is deleting the member: the link dies with them (magic_link_not_found)', async () => {
        const email = acme.address('revoked');
        const invited = await client.magicLinks.email.invite({ organization_id: acme.organization.organization_id, email_address: email });
        const message = await waitForEmail(server, email, { template: 'invite' });
        await client.organizations.members.delete({ organization_id: acme.organization.organization_id, member_id: invited.member_id });
        await expect(client.magicLinks.authenticate({ magic_links_token: linkToken(message.link as string) })).rejects.toMatchObject({
          status_code: 404,
          error_type: 'magic_link_not_found',
        });
      });
    });
  });
}
