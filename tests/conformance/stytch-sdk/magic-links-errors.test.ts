import type { B2BClient } from 'stytch';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/platform/clock.js';
import { expectStytchRejection } from '../../support/openapi.js';
import { linkToken, waitForEmail } from '../../support/outbox.js';
import { STORES } from '../../support/stores.js';
import { startTestServer, type TestServer } from '../../support/test-server.js';
import {
  auditOfRequest,
  createEmailOrganization,
  createMember,
  type EmailOrganization,
  expectNothingSent,
  expectSignInRefusalAudited,
  membersOf,
  PKCE,
  REDIRECT_URLS,
  sessionsOf,
} from './email-sign-in-fixtures.js';

/**
 * Every refusal of the three magic link operations: the Stytch error the SDK rejects with, and
 * that nothing was written (no member, no message, no session); a refused redemption of a presented
 * link is audited as member.sign_in_refused.
 */
for (const store of STORES) {
  describe(`client.magicLinks refusals (${store.name})`, () => {
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
    afterEach(() => clock.set(new Date()));
    afterAll(async () => server?.stop());

    /** A login link for a new active member, its token taken from the email. */
    async function loginLink(options: { pkce?: boolean; organization?: EmailOrganization } = {}) {
      const organization = options.organization ?? acme;
      const member = await createMember(client, organization.organization, organization.address('link'));
      await client.magicLinks.email.loginOrSignup({
        organization_id: organization.organization.organization_id,
        email_address: member.email_address,
        ...(options.pkce === true && { pkce_code_challenge: PKCE.challenge }),
      });
      const message = await waitForEmail(server, member.email_address, { template: 'login' });
      return { member, token: linkToken(message.link as string) };
    }

    describe('loginOrSignup', () => {
      const cases: [string, (org: EmailOrganization, email: string) => Parameters<B2BClient['magicLinks']['email']['loginOrSignup']>[0], { status: number; errorType: string }][] = [
        ['an unknown organization', (_org, email) => ({ organization_id: 'organization-test-00000000-0000-4000-8000-000000000000', email_address: email }), { status: 404, errorType: 'organization_not_found' }],
        ['an invalid address', (org) => ({ organization_id: org.organization.organization_id, email_address: 'not-an-address' }), { status: 400, errorType: 'invalid_email' }],
        ['an unknown locale', (org, email) => ({ organization_id: org.organization.organization_id, email_address: email, locale: 'de' }), { status: 400, errorType: 'invalid_locale' }],
        ['4 login minutes', (org, email) => ({ organization_id: org.organization.organization_id, email_address: email, login_expiration_minutes: 4 }), { status: 400, errorType: 'invalid_expiration' }],
        ['10081 signup minutes', (org, email) => ({ organization_id: org.organization.organization_id, email_address: email, signup_expiration_minutes: 10081 }), { status: 400, errorType: 'invalid_expiration' }],
        ['a malformed PKCE challenge', (org, email) => ({ organization_id: org.organization.organization_id, email_address: email, pkce_code_challenge: 'too-short' }), { status: 400, errorType: 'invalid_pkce_code_challenge' }],
        ['a signup URL not allowed', (org, email) => ({ organization_id: org.organization.organization_id, email_address: email, signup_redirect_url: 'https://evil.example.com/' }), { status: 400, errorType: 'invalid_signup_redirect_url' }],
        ['an address outside the allowed domains', (org) => ({ organization_id: org.organization.organization_id, email_address: `ada-${org.domain.length}@elsewhere.example.org` }), { status: 400, errorType: 'invalid_email_for_jit_provisioning' }],
      ];
      it.each(cases)('refuses %s, creating no member and sending nothing', async (_name, body, expected) => {
        const email = acme.address('refused');
        const request = body(acme, email);
        const before = await membersOf(client, acme.organization);
        const error = await expectStytchRejection(client.magicLinks.email.loginOrSignup(request), expected);
        expect(await membersOf(client, acme.organization)).toEqual(before);
        await expectNothingSent(server, request.email_address, error.request_id);
      });

      it('a login URL not allowed refuses an active member (invalid_login_redirect_url) but not a new one, who needs the signup URL', async () => {
        const active = await createMember(client, acme.organization, acme.address('active'));
        const error = await expectStytchRejection(
          client.magicLinks.email.loginOrSignup({ organization_id: acme.organization.organization_id, email_address: active.email_address, login_redirect_url: 'https://evil.example.com/' }),
          { status: 400, errorType: 'invalid_login_redirect_url' },
        );
        await expectNothingSent(server, active.email_address, error.request_id);
        const fresh = acme.address('fresh');
        const sent = await client.magicLinks.email.loginOrSignup({ organization_id: acme.organization.organization_id, email_address: fresh, login_redirect_url: 'https://evil.example.com/' });
        expect(sent.member_created).toBe(true);
      });

      it('an organization that lets nobody join by email: email_jit_provisioning_not_allowed (403) for a new address, a login link for a member', async () => {
        const closed = await createEmailOrganization(client, { email_jit_provisioning: 'NOT_ALLOWED' });
        const email = closed.address();
        const error = await expectStytchRejection(client.magicLinks.email.loginOrSignup({ organization_id: closed.organization.organization_id, email_address: email }), {
          status: 403,
          errorType: 'email_jit_provisioning_not_allowed',
        });
        expect(await membersOf(client, closed.organization)).toEqual([]);
        await expectNothingSent(server, email, error.request_id);
        const member = await createMember(client, closed.organization, closed.address('member'));
        expect((await client.magicLinks.email.loginOrSignup({ organization_id: closed.organization.organization_id, email_address: member.email_address })).member_created).toBe(false);
      });

      it('auth_methods without magic_link: 403 operation_restricted_by_organization_auth_methods, except for a break-glass member', async () => {
        const otpOnly = await createEmailOrganization(client, { auth_methods: 'RESTRICTED', allowed_auth_methods: ['email_otp'] });
        const member = await createMember(client, otpOnly.organization, otpOnly.address('member'));
        for (const email of [member.email_address, otpOnly.address('new')]) {
          const error = await expectStytchRejection(client.magicLinks.email.loginOrSignup({ organization_id: otpOnly.organization.organization_id, email_address: email }), {
            status: 403,
            errorType: 'operation_restricted_by_organization_auth_methods',
          });
          await expectNothingSent(server, email, error.request_id);
        }
        expect(await membersOf(client, otpOnly.organization)).toHaveLength(1);
        const admin = await createMember(client, otpOnly.organization, otpOnly.address('admin'), { is_breakglass: true });
        await client.magicLinks.email.loginOrSignup({ organization_id: otpOnly.organization.organization_id, email_address: admin.email_address });
        const signedIn = await client.magicLinks.authenticate({ magic_links_token: linkToken((await waitForEmail(server, admin.email_address)).link as string) });
        expect(signedIn.member_id).toBe(admin.member_id);
      });
    });

    describe('invite', () => {
      it('email_invites NOT_ALLOWED: 403 email_invites_not_allowed; RESTRICTED to other domains: 400 invalid_email_for_invites', async () => {
        const noInvites = await createEmailOrganization(client, { email_invites: 'NOT_ALLOWED' });
        const email = noInvites.address();
        const error = await expectStytchRejection(client.magicLinks.email.invite({ organization_id: noInvites.organization.organization_id, email_address: email }), {
          status: 403,
          errorType: 'email_invites_not_allowed',
        });
        await expectNothingSent(server, email, error.request_id);
        const restricted = await createEmailOrganization(client, { email_invites: 'RESTRICTED' });
        const outsider = `outsider-${restricted.domain.length}@elsewhere.example.org`;
        const refused = await expectStytchRejection(client.magicLinks.email.invite({ organization_id: restricted.organization.organization_id, email_address: outsider }), {
          status: 400,
          errorType: 'invalid_email_for_invites',
        });
        await expectNothingSent(server, outsider, refused.request_id);
        expect(await membersOf(client, noInvites.organization)).toEqual([]);
        expect(await membersOf(client, restricted.organization)).toEqual([]);
        const inside = await client.magicLinks.email.invite({ organization_id: restricted.organization.organization_id, email_address: restricted.address('insider') });
        expect(inside.member.status).toBe('invited');
      });

      it('refuses an active member (member_already_active), an unknown inviter, a bad role, oversized metadata and an invite URL not allowed, writing nothing', async () => {
        const active = await createMember(client, acme.organization, acme.address('active'));
        const organization_id = acme.organization.organization_id;
        const refusals: [Parameters<B2BClient['magicLinks']['email']['invite']>[0], { status: number; errorType: string }][] = [
          [{ organization_id, email_address: active.email_address }, { status: 400, errorType: 'member_already_active' }],
          [{ organization_id, email_address: acme.address('x'), invited_by_member_id: 'member-test-00000000-0000-4000-8000-000000000000' }, { status: 404, errorType: 'member_not_found' }],
          [{ organization_id, email_address: acme.address('x'), roles: ['no-such-role'] }, { status: 400, errorType: 'invalid_rbac_role_id' }],
          [{ organization_id, email_address: acme.address('x'), trusted_metadata: { blob: 'x'.repeat(5000) } }, { status: 400, errorType: 'metadata_too_large' }],
          [{ organization_id, email_address: acme.address('x'), invite_redirect_url: 'https://evil.example.com/' }, { status: 400, errorType: 'invalid_invite_redirect_url' }],
          [{ organization_id, email_address: acme.address('x'), invite_expiration_minutes: 10081 }, { status: 400, errorType: 'invalid_expiration' }],
          [{ organization_id, email_address: acme.address('x'), locale: 'xx' }, { status: 400, errorType: 'invalid_locale' }],
        ];
        for (const [request, expected] of refusals) {
          const before = await membersOf(client, acme.organization);
          const error = await expectStytchRejection(client.magicLinks.email.invite(request), expected);
          expect(await membersOf(client, acme.organization)).toEqual(before);
          await expectNothingSent(server, request.email_address, error.request_id);
        }
      });

      it('an inviter who is deleted, or a member of another organization, is member_not_found', async () => {
        const other = await createEmailOrganization(client);
        const stranger = await createMember(client, other.organization, other.address('stranger'));
        await expectStytchRejection(
          client.magicLinks.email.invite({ organization_id: acme.organization.organization_id, email_address: acme.address('y'), invited_by_member_id: stranger.member_id }),
          { status: 404, errorType: 'member_not_found' },
        );
        const gone = await createMember(client, acme.organization, acme.address('gone'));
        await client.organizations.members.delete({ organization_id: acme.organization.organization_id, member_id: gone.member_id });
        await expectStytchRejection(
          client.magicLinks.email.invite({ organization_id: acme.organization.organization_id, email_address: acme.address('z'), invited_by_member_id: gone.member_id }),
          { status: 404, errorType: 'member_not_found' },
        );
      });
    });

    describe('authenticate', () => {
      it('an unknown token: 404 magic_link_not_found, audited', async () => {
        const error = await expectStytchRejection(client.magicLinks.authenticate({ magic_links_token: 'A'.repeat(44) }), { status: 404, errorType: 'magic_link_not_found' });
        await expectSignInRefusalAudited(server, error.request_id, { errorType: 'magic_link_not_found', why: 'not_found', memberId: null });
      });

      it('a used link: 401 unable_to_auth_magic_link, audited under its member; one session only', async () => {
        const { member, token } = await loginLink();
        await client.magicLinks.authenticate({ magic_links_token: token });
        const error = await expectStytchRejection(client.magicLinks.authenticate({ magic_links_token: token }), { status: 401, errorType: 'unable_to_auth_magic_link' });
        await expectSignInRefusalAudited(server, error.request_id, { errorType: 'unable_to_auth_magic_link', why: 'already_used', memberId: member.member_id });
        expect(await sessionsOf(client, member)).toHaveLength(1);
      });

      it('an expired link: 401 unable_to_auth_magic_link, and the pending member stays pending', async () => {
        const email = acme.address('late');
        const sent = await client.magicLinks.email.loginOrSignup({ organization_id: acme.organization.organization_id, email_address: email, signup_expiration_minutes: 5 });
        const token = linkToken((await waitForEmail(server, email)).link as string);
        clock.advance(5 * 60_000 + 1000);
        const error = await expectStytchRejection(client.magicLinks.authenticate({ magic_links_token: token }), { status: 401, errorType: 'unable_to_auth_magic_link' });
        await expectSignInRefusalAudited(server, error.request_id, { errorType: 'unable_to_auth_magic_link', why: 'expired' });
        const member = (await client.organizations.members.get({ organization_id: acme.organization.organization_id, member_id: sent.member_id })).member;
        expect(member).toMatchObject({ status: 'pending', email_address_verified: false });
        expect(await sessionsOf(client, member)).toEqual([]);
      });

      it('PKCE: a missing verifier, a wrong one and an unexpected one are 400s that leave the link usable by the right browser', async () => {
        const { member, token } = await loginLink({ pkce: true });
        await expectStytchRejection(client.magicLinks.authenticate({ magic_links_token: token }), { status: 400, errorType: 'pkce_expected_code_verifier' });
        const mismatch = await expectStytchRejection(client.magicLinks.authenticate({ magic_links_token: token, pkce_code_verifier: 'f'.repeat(64) }), {
          status: 400,
          errorType: 'pkce_mismatch',
        });
        await expectSignInRefusalAudited(server, mismatch.request_id, { errorType: 'pkce_mismatch', why: 'pkce_failed', memberId: member.member_id });
        expect(await sessionsOf(client, member)).toEqual([]);
        const signedIn = await client.magicLinks.authenticate({ magic_links_token: token, pkce_code_verifier: PKCE.verifier });
        expect(signedIn.member_id).toBe(member.member_id);

        const plain = await loginLink();
        await expectStytchRejection(client.magicLinks.authenticate({ magic_links_token: plain.token, pkce_code_verifier: PKCE.verifier }), {
          status: 400,
          errorType: 'pkce_did_not_expect_code_verifier',
        });
        expect(await sessionsOf(client, plain.member)).toEqual([]);
      });

      it('a discovery magic link is not one of these: magic_link_not_found', async () => {
        const email = acme.address('discoverer');
        const { link } = await server.server.store.transaction((tx) =>
          server.server.app.services.emailProofs.issueMagicLink(tx, {
            kind: 'discovery_magic_link',
            purpose: 'discovery',
            organizationId: null,
            memberId: null,
            emailAddress: email,
            minutes: 60,
            redirectUrl: 'http://localhost:3000/authenticate',
            pkceCodeChallenge: null,
          }),
        );
        const error = await expectStytchRejection(client.magicLinks.authenticate({ magic_links_token: linkToken(link) }), { status: 404, errorType: 'magic_link_not_found' });
        await expectSignInRefusalAudited(server, error.request_id, { errorType: 'magic_link_not_found', why: 'wrong_token_type' });
      });

      it('auth_methods changed after the send to forbid magic links: 403, no session, the member stays pending', async () => {
        const changing = await createEmailOrganization(client);
        const email = changing.address();
        const sent = await client.magicLinks.email.loginOrSignup({ organization_id: changing.organization.organization_id, email_address: email });
        const token = linkToken((await waitForEmail(server, email)).link as string);
        await client.organizations.update({ organization_id: changing.organization.organization_id, auth_methods: 'RESTRICTED', allowed_auth_methods: ['email_otp'] });
        const error = await expectStytchRejection(client.magicLinks.authenticate({ magic_links_token: token }), {
          status: 403,
          errorType: 'operation_restricted_by_organization_auth_methods',
        });
        await expectSignInRefusalAudited(server, error.request_id, { errorType: 'operation_restricted_by_organization_auth_methods', why: 'method_not_allowed', memberId: sent.member_id });
        const member = (await client.organizations.members.get({ organization_id: changing.organization.organization_id, member_id: sent.member_id })).member;
        expect(member.status).toBe('pending');
        expect(await sessionsOf(client, member)).toEqual([]);
        // Allowed again, the unspent link works.
        await client.organizations.update({ organization_id: changing.organization.organization_id, auth_methods: 'ALL_ALLOWED' });
        expect((await client.magicLinks.authenticate({ magic_links_token: token })).member.status).toBe('active');
      });

      it("a member deleted since the send: their link is magic_link_not_found; another member's session token is ignored", async () => {
        const { member, token } = await loginLink();
        await client.organizations.members.delete({ organization_id: acme.organization.organization_id, member_id: member.member_id });
        await expectStytchRejection(client.magicLinks.authenticate({ magic_links_token: token }), { status: 404, errorType: 'magic_link_not_found' });

        const first = await loginLink();
        const session = await client.magicLinks.authenticate({ magic_links_token: first.token });
        const second = await loginLink();
        const other = await client.magicLinks.authenticate({ magic_links_token: second.token, session_token: session.session_token });
        expect(other.member_id).toBe(second.member.member_id);
        expect(other.member_session?.member_session_id).not.toBe(session.member_session?.member_session_id);
      });

      it("a member whose address changed since the send: the link went to the old address and is gone (magic_link_not_found)", async () => {
        const { member, token } = await loginLink();
        await client.organizations.members.update({ organization_id: acme.organization.organization_id, member_id: member.member_id, email_address: acme.address('moved') });
        await expectStytchRejection(client.magicLinks.authenticate({ magic_links_token: token }), { status: 404, errorType: 'magic_link_not_found' });
        expect(await sessionsOf(client, member)).toEqual([]);
      });

      it('an unknown locale is refused before the link is looked at, and it stays usable', async () => {
        const { token } = await loginLink();
        const error = await expectStytchRejection(client.magicLinks.authenticate({ magic_links_token: token, locale: 'klingon' }), { status: 400, errorType: 'invalid_locale' });
        expect(await auditOfRequest(server, error.request_id)).toEqual([]);
        expect((await client.magicLinks.authenticate({ magic_links_token: token, locale: 'fr' })).member_authenticated).toBe(true);
      });

      it("another member's intermediate session is refused (audited) and the link stays unspent", async () => {
        const strict = await createEmailOrganization(client, { mfa_policy: 'REQUIRED_FOR_ALL' });
        const first = await loginLink({ organization: strict });
        const intermediate = await client.magicLinks.authenticate({ magic_links_token: first.token });
        const second = await loginLink({ organization: strict });
        const error = await expectStytchRejection(
          client.magicLinks.authenticate({ magic_links_token: second.token, intermediate_session_token: intermediate.intermediate_session_token }),
          { status: 400, errorType: 'invalid_intermediate_session_token_for_organization' },
        );
        await expectSignInRefusalAudited(server, error.request_id, { errorType: 'invalid_intermediate_session_token_for_organization', memberId: second.member.member_id });
        expect((await client.magicLinks.authenticate({ magic_links_token: second.token })).member_authenticated).toBe(false);
      });

      it('session arguments that contradict each other are refused before the link is looked at, and it stays usable', async () => {
        const { token } = await loginLink();
        await expectStytchRejection(client.magicLinks.authenticate({ magic_links_token: token, session_token: 'a', session_jwt: 'b' }), {
          status: 400,
          errorType: 'too_many_session_arguments',
        });
        await expectStytchRejection(client.magicLinks.authenticate({ magic_links_token: token, session_duration_minutes: 0 }), {
          status: 400,
          errorType: 'invalid_session_duration_minutes',
        });
        expect((await client.magicLinks.authenticate({ magic_links_token: token })).member_authenticated).toBe(true);
      });
    });
  });
}
