import type { B2BClient, DiscoveredOrganization, Member, Organization } from 'stytch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/platform/clock.js';
import { expectStytchRejection, expectToMatchResponseSchema } from '../../support/openapi.js';
import { listEmails, settleEmails, waitForEmail } from '../../support/outbox.js';
import { STORES } from '../../support/stores.js';
import { startTestServer, type TestServer } from '../../support/test-server.js';
import { idPattern, uniqueSuffix } from '../../support/wire-formats.js';
import {
  auditOfRequest,
  createMember,
  createOrganization,
  discover,
  DISCOVERY_CODE_AUTHENTICATE,
  DISCOVERY_LINK_AUTHENTICATE,
  DISCOVERY_LIST,
  DISCOVERY_REDIRECT_URLS,
  DISCOVERY_URL,
  discoveryToken,
  OTHER_DISCOVERY_URL,
  PKCE,
  sendDiscoveryCode,
  sendDiscoveryLink,
  signInByCode,
} from './discovery-fixtures.js';

/**
 * Discovery through the official SDK: magicLinks.email.discovery.send and
 * magicLinks.discovery.authenticate, otps.email.discovery.send and .authenticate, and
 * discovery.organizations.list. One person, Ada, has an address on her company's domain and
 * relates to several organizations in different ways; the suites check which organizations she is
 * shown, in which order, and what each still requires. Links and codes are read from the outbox.
 */
interface Cast {
  readonly domain: string;
  readonly ada: string;
  /** Ada is an active member. */
  readonly alpha: Organization;
  /** Ada is a pending member. */
  readonly bravo: Organization;
  /** Ada was invited. */
  readonly charlie: Organization;
  /** Ada's domain may join just in time, and a colleague there has a verified address. */
  readonly delta: Organization;
  /** Ada's domain may join just in time, but nobody there has a verified address yet. */
  readonly echo: Organization;
  /** Ada is an active member; auth_methods are RESTRICTED to sso and password. */
  readonly foxtrot: Organization;
  /** Ada is an active member; MFA is required for all. */
  readonly golf: Organization;
  /** Ada was a member and was deleted. */
  readonly hotel: Organization;
  /** Ada's domain may join just in time; the colleague with a verified address there was deleted. */
  readonly india: Organization;
  /** Ada's domain may join just in time; the only verified address is on a subdomain of hers. */
  readonly juliet: Organization;
}

for (const store of STORES) {
  describe(`discovery (${store.name})`, () => {
    let server: TestServer;
    let client: B2BClient;
    let cast: Cast;

    beforeAll(async () => {
      server = await startTestServer({ store: store.name, clock: new ManualClock(new Date()), config: { redirectUrls: DISCOVERY_REDIRECT_URLS } });
      client = server.client;
      cast = await createCast(server);
    });
    afterAll(async () => server?.stop());

    /** What Ada should be shown, in order, when she proved her address by email. */
    async function expectedForAda(options: { withEligible: boolean }): Promise<unknown[]> {
      const member = async (organization: Organization): Promise<Member> =>
        (await client.organizations.members.get({ organization_id: organization.organization_id, email_address: cast.ada })).member;
      const organization = async (organization: Organization): Promise<Organization> => (await client.organizations.get({ organization_id: organization.organization_id })).organization;
      const membership = async (of: Organization, type: string) => ({
        member_authenticated: true,
        organization: await organization(of),
        membership: { type, details: null, member: await member(of) },
        primary_required: null,
        mfa_required: null,
      });
      return [
        await membership(cast.alpha, 'active_member'),
        await membership(cast.bravo, 'pending_member'),
        await membership(cast.charlie, 'invited_member'),
        ...(options.withEligible
          ? [
              {
                member_authenticated: true,
                organization: await organization(cast.delta),
                membership: { type: 'eligible_to_join_by_email_domain', details: { domain: cast.domain }, member: null },
                primary_required: null,
                mfa_required: null,
              },
            ]
          : []),
        { ...(await membership(cast.foxtrot, 'active_member')), member_authenticated: false, primary_required: { allowed_auth_methods: ['sso', 'password'] } },
        { ...(await membership(cast.golf, 'active_member')), member_authenticated: false, mfa_required: { member_options: null, secondary_auth_initiated: null } },
      ];
    }

    it('magicLinks.email.discovery.send mails a discovery link to the default discovery URL, for no organization and no member', async () => {
      const sent = await client.magicLinks.email.discovery.send({ email_address: cast.ada });
      expectToMatchResponseSchema('post', '/v1/b2b/magic_links/email/discovery/send', sent);
      expect(sent).toEqual({ request_id: expect.stringMatching(idPattern('request-id')), status_code: 200 });
      const message = await waitForEmail(server, cast.ada, { template: 'discovery' });
      expect(message.link?.startsWith(`${DISCOVERY_URL}?stytch_token_type=discovery&token=`)).toBe(true);
      expect(message).toMatchObject({ organizationId: null, memberId: null, locale: 'en' });
      const events = await auditOfRequest(server, sent.request_id);
      expect(events.map((event) => [event.type, event.organizationId, event.memberId, event.details.purpose])).toEqual([['magic_link.sent', null, null, 'discovery']]);
    });

    it('magicLinks.discovery.authenticate answers an intermediate session for the address and every organization it can enter, by name', async () => {
      const message = await sendDiscoveryLink(server, cast.ada);
      const response = await client.magicLinks.discovery.authenticate({ discovery_magic_links_token: discoveryToken(message) });
      expectToMatchResponseSchema('post', DISCOVERY_LINK_AUTHENTICATE, response);
      expect(response).toMatchObject({ status_code: 200, email_address: cast.ada });
      expect(response.intermediate_session_token).toMatch(/^[A-Za-z0-9_-]{44}$/);
      expect(response.discovered_organizations).toEqual(await expectedForAda({ withEligible: true }));
      // Not listed: Echo, India and Juliet (no live member with a verified address on Ada's domain), Hotel (Ada was deleted there).
      const listed = response.discovered_organizations.map((entry) => entry.organization?.organization_id);
      for (const organization of [cast.echo, cast.hotel, cast.india, cast.juliet]) expect(listed).not.toContain(organization.organization_id);

      const events = await auditOfRequest(server, response.request_id);
      expect(events.map((event) => [event.type, event.organizationId, event.memberId])).toEqual([['intermediate_session.started', null, null]]);
      expect(events[0]?.details).toMatchObject({ method: 'discovery_magic_link', factor: 'magic_link', email_address: cast.ada });
    });

    it('a discovery link carries an allowed discovery_redirect_url of the send, and its locale', async () => {
      const message = await sendDiscoveryLink(server, cast.ada, { discovery_redirect_url: OTHER_DISCOVERY_URL, locale: 'fr' });
      expect(message.link?.startsWith(`${OTHER_DISCOVERY_URL}&stytch_token_type=discovery&token=`)).toBe(true);
      expect(message.locale).toBe('fr');
      const response = await client.magicLinks.discovery.authenticate({ discovery_magic_links_token: discoveryToken(message) });
      expect(response.email_address).toBe(cast.ada);
    });

    it('a link sent with a PKCE challenge authenticates with its verifier', async () => {
      const message = await sendDiscoveryLink(server, cast.ada, { pkce_code_challenge: PKCE.challenge });
      const response = await client.magicLinks.discovery.authenticate({ discovery_magic_links_token: discoveryToken(message), pkce_code_verifier: PKCE.verifier });
      expectToMatchResponseSchema('post', DISCOVERY_LINK_AUTHENTICATE, response);
      expect(response.discovered_organizations).toHaveLength(6);
    });

    it('otps.email.discovery.send mails a code; otps.email.discovery.authenticate answers the same organizations', async () => {
      const code = await sendDiscoveryCode(server, cast.ada, { locale: 'es' });
      const [message] = await listEmails(server, cast.ada);
      expect(message).toMatchObject({ template: 'otp_discovery', organizationId: null, memberId: null, locale: 'es' });
      const response = await client.otps.email.discovery.authenticate({ email_address: cast.ada.toUpperCase(), code });
      expectToMatchResponseSchema('post', DISCOVERY_CODE_AUTHENTICATE, response);
      expect(response).toMatchObject({ status_code: 200, email_address: cast.ada });
      expect(response.discovered_organizations).toEqual(await expectedForAda({ withEligible: true }));
      const events = await auditOfRequest(server, response.request_id);
      expect(events.map((event) => event.type)).toEqual(['intermediate_session.started']);
      expect(events[0]?.details).toMatchObject({ method: 'discovery_email_otp', factor: 'email_otp' });
    });

    it('discovery.organizations.list with the intermediate session answers the same list, no hint, and leaves the session usable', async () => {
      const discovered = await discover(server, cast.ada);
      for (let round = 0; round < 2; round += 1) {
        const listed = await client.discovery.organizations.list({ intermediate_session_token: discovered.intermediate_session_token });
        expectToMatchResponseSchema('post', DISCOVERY_LIST, listed);
        expect(listed).toMatchObject({ status_code: 200, email_address: cast.ada, organization_id_hint: null });
        expect(listed.discovered_organizations).toEqual(discovered.discovered_organizations);
      }
    });

    it('discovery.organizations.list with a member session lists only the memberships, its own organization already authenticated', async () => {
      const signedIn = await signInByCode(server, cast.alpha, cast.ada);
      const expected = (await expectedForAda({ withEligible: false })) as DiscoveredOrganization[];
      for (const credential of [{ session_token: signedIn.session_token }, { session_jwt: signedIn.session_jwt }]) {
        const listed = await client.discovery.organizations.list(credential);
        expectToMatchResponseSchema('post', DISCOVERY_LIST, listed);
        expect(listed).toMatchObject({ status_code: 200, email_address: cast.ada, organization_id_hint: null });
        expect(listed.discovered_organizations).toEqual(expected);
        expect(listed.discovered_organizations.map((entry) => entry.membership?.type)).not.toContain('eligible_to_join_by_email_domain');
      }
    });

    it("an intermediate session from an organization's sign-in awaiting MFA lists with that organization as the hint", async () => {
      const signedIn = await signInByCode(server, cast.golf, cast.ada);
      expect(signedIn.member_authenticated).toBe(false);
      const listed = await client.discovery.organizations.list({ intermediate_session_token: signedIn.intermediate_session_token });
      expectToMatchResponseSchema('post', DISCOVERY_LIST, listed);
      expect(listed.organization_id_hint).toBe(cast.golf.organization_id);
      expect(listed.discovered_organizations.map((entry) => entry.organization?.organization_name)).toEqual(
        ['Alpha', 'Bravo', 'Charlie', 'Delta', 'Foxtrot', 'Golf'].map((name) => `${name} ${cast.domain}`),
      );
    });

    it('an address nobody has gets the same answer and the message; its intermediate session lists nothing, and no member is created', async () => {
      const stranger = `stranger-${uniqueSuffix()}@nowhere-${uniqueSuffix()}.example.net`;
      const code = await sendDiscoveryCode(server, stranger);
      const response = await client.otps.email.discovery.authenticate({ email_address: stranger, code });
      expectToMatchResponseSchema('post', DISCOVERY_CODE_AUTHENTICATE, response);
      expect(response).toMatchObject({ email_address: stranger, discovered_organizations: [] });
      const listed = await client.discovery.organizations.list({ intermediate_session_token: response.intermediate_session_token });
      expect(listed.discovered_organizations).toEqual([]);
      const message = await sendDiscoveryLink(server, stranger);
      expect((await client.magicLinks.discovery.authenticate({ discovery_magic_links_token: discoveryToken(message) })).discovered_organizations).toEqual([]);
      const search = await client.organizations.search({ query: { operator: 'AND', operands: [{ filter_name: 'member_emails', filter_value: [stranger] }] } });
      expect(search.organizations).toEqual([]);
    });

    it('a send refused for bad input sends nothing', async () => {
      const address = `refused-${uniqueSuffix()}@${cast.domain}`;
      await expectStytchRejection(client.magicLinks.email.discovery.send({ email_address: address, discovery_redirect_url: 'https://evil.example.com/' }), {
        status: 400,
        errorType: 'invalid_discovery_redirect_url',
      });
      await expectStytchRejection(client.magicLinks.email.discovery.send({ email_address: address, discovery_expiration_minutes: 4 }), { status: 400, errorType: 'invalid_expiration' });
      await expectStytchRejection(client.otps.email.discovery.send({ email_address: address, discovery_expiration_minutes: 16 }), { status: 400, errorType: 'invalid_expiration_otp' });
      await expectStytchRejection(client.otps.email.discovery.send({ email_address: address, locale: 'de' }), { status: 400, errorType: 'invalid_locale' });
      await expectStytchRejection(client.magicLinks.email.discovery.send({ email_address: address, pkce_code_challenge: 'short' }), { status: 400, errorType: 'invalid_pkce_code_challenge' });
      await expectStytchRejection(client.magicLinks.email.discovery.send({ email_address: 'not an address' }), { status: 400, errorType: 'invalid_email' });
      await settleEmails(server);
      expect(await listEmails(server, address)).toEqual([]);
    });
  });
}

/** Ada, her domain, and the organizations she relates to (see Cast), each named after the domain so names sort as listed. */
async function createCast(server: TestServer): Promise<Cast> {
  const { client } = server;
  const domain = `disc-${uniqueSuffix()}.example.com`;
  const ada = `ada@${domain}`;
  const named = (name: string) => `${name} ${domain}`;
  const jit = { email_jit_provisioning: 'RESTRICTED', email_allowed_domains: [domain] };
  // Created out of alphabetical order, so the answer's order is the server's doing.
  const golf = await createOrganization(client, named('Golf'), { mfa_policy: 'REQUIRED_FOR_ALL' });
  const alpha = await createOrganization(client, named('Alpha'));
  const foxtrot = await createOrganization(client, named('Foxtrot'), { auth_methods: 'RESTRICTED', allowed_auth_methods: ['sso', 'password'] });
  const echo = await createOrganization(client, named('Echo'), jit);
  const delta = await createOrganization(client, named('Delta'), jit);
  const charlie = await createOrganization(client, named('Charlie'));
  const bravo = await createOrganization(client, named('Bravo'));
  const hotel = await createOrganization(client, named('Hotel'));
  for (const organization of [alpha, foxtrot, golf]) await createMember(client, organization, ada);
  await createMember(client, bravo, ada, { create_member_as_pending: true });
  await client.magicLinks.email.invite({ organization_id: charlie.organization_id, email_address: ada });
  const deleted = await createMember(client, hotel, ada);
  await client.organizations.members.delete({ organization_id: hotel.organization_id, member_id: deleted.member_id });
  // A colleague proves their address in Delta; in Echo the colleague never signed in.
  await createMember(client, delta, `bob@${domain}`);
  const bob = await signInByCode(server, delta, `bob@${domain}`);
  expect(bob.member.email_address_verified).toBe(true);
  await createMember(client, echo, `carol@${domain}`);
  const india = await createOrganization(client, named('India'), jit);
  const erin = await createMember(client, india, `erin@${domain}`);
  await signInByCode(server, india, erin.email_address);
  await client.organizations.members.delete({ organization_id: india.organization_id, member_id: erin.member_id });
  const juliet = await createOrganization(client, named('Juliet'), { email_jit_provisioning: 'RESTRICTED', email_allowed_domains: [domain, `sub.${domain}`] });
  await createMember(client, juliet, `frank@sub.${domain}`);
  expect((await signInByCode(server, juliet, `frank@sub.${domain}`)).member.email_address_verified).toBe(true);
  return { domain, ada, alpha, bravo, charlie, delta, echo, foxtrot, golf, hotel, india, juliet };
}
