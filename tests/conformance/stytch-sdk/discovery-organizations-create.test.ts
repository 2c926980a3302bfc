import type { B2BClient } from 'stytch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/platform/clock.js';
import { givenDiscoveryIntermediateSession } from '../../support/intermediate-sessions.js';
import { expectStytchRejection, expectToMatchResponseSchema } from '../../support/openapi.js';
import { STORES } from '../../support/stores.js';
import { startTestServer, type TestServer } from '../../support/test-server.js';
import { idPattern, uniqueSuffix } from '../../support/wire-formats.js';
import { minutesFrom } from './session-fixtures.js';
import {
  auditOf,
  CREATE,
  createOrganization,
  emailFactorOf,
  EXCHANGE,
  expectNoOrganizationIdField,
  freshAddress,
  IST_NOT_FOUND,
  organizationCount,
  SESSIONS_AUTHENTICATE,
  settleAll,
} from './exchange-fixtures.js';

/**
 * client.discovery.organizations.create: an address proved in discovery creates an organization
 * and becomes its first member, an admin, with a session, all at once. The discovery intermediate
 * sessions are written by a setup helper as the discovery sign-in writes them.
 */
for (const store of STORES) {
  describe(`client.discovery.organizations.create (${store.name})`, () => {
    let server: TestServer;
    let client: B2BClient;
    let clock: ManualClock;

    beforeAll(async () => {
      clock = new ManualClock(new Date());
      server = await startTestServer({ store: store.name, clock });
      client = server.client;
    });
    afterAll(async () => server?.stop());

    const discovered = async (address: string) => (await givenDiscoveryIntermediateSession(server, address, { now: clock.now() })).intermediateSessionToken;

    it('creates the organization with the settings given, its creator as an active admin with a verified address, and their session', async () => {
      const { domain, address } = freshAddress('founder');
      const slug = `founded-${uniqueSuffix()}`;
      const intermediateSessionToken = await discovered(address);
      const now = clock.now();
      const response = await client.discovery.organizations.create({
        intermediate_session_token: intermediateSessionToken,
        organization_name: 'Founded Inc',
        organization_slug: slug,
        email_allowed_domains: [domain],
        email_jit_provisioning: 'RESTRICTED',
        trusted_metadata: { plan: 'trial' },
        session_duration_minutes: 30,
        session_custom_claims: { onboarding: true },
      });
      expectToMatchResponseSchema('post', CREATE, response);
      expectNoOrganizationIdField(response);
      expect(response.organization).toMatchObject({
        organization_id: expect.stringMatching(idPattern('organization')),
        organization_name: 'Founded Inc',
        organization_slug: slug,
        email_allowed_domains: [domain],
        email_jit_provisioning: 'RESTRICTED',
        // Settings were given, so email_invites defaults to NOT_ALLOWED, as on organizations.create.
        email_invites: 'NOT_ALLOWED',
        trusted_metadata: { plan: 'trial' },
      });
      expect(response).toMatchObject({
        status_code: 200,
        member_authenticated: true,
        intermediate_session_token: '',
        mfa_required: null,
        primary_required: null,
        member: { email_address: address, status: 'active', email_address_verified: true, organization_id: response.organization.organization_id },
      });
      expect(response.member.roles.map((role) => role.role_id)).toEqual(['stytch_member', 'stytch_admin']);
      expect(response.member_session).toMatchObject({
        member_id: response.member.member_id,
        organization_id: response.organization.organization_id,
        organization_slug: slug,
        roles: ['stytch_member', 'stytch_admin'],
        custom_claims: { onboarding: true },
        expires_at: minutesFrom(now, 30),
      });
      expect(response.member_session?.authentication_factors.map((factor) => [factor.type, factor.email_factor])).toEqual([['magic_link', emailFactorOf(response.member)]]);
      // What organizations.get and members.get answer now is what create answered.
      expect((await client.organizations.get({ organization_id: slug })).organization).toEqual(response.organization);
      expect((await client.organizations.members.get({ organization_id: slug, member_id: response.member_id })).member).toEqual(response.member);
      const authenticated = await client.sessions.authenticate({ session_token: response.session_token });
      expectToMatchResponseSchema('post', SESSIONS_AUTHENTICATE, authenticated);
      expect(authenticated.member_session.roles).toEqual(['stytch_member', 'stytch_admin']);
      const events = await auditOf(server, response.request_id);
      expect(events.map((event) => [event.type, event.organizationId, event.memberId])).toEqual([
        ['organization.created', response.organization.organization_id, null],
        ['member.created', response.organization.organization_id, response.member_id],
        ['discovery.organization_created', response.organization.organization_id, response.member_id],
        ['member.signed_in', response.organization.organization_id, response.member_id],
      ]);
      // Spent: the same intermediate session creates nothing more.
      const before = await organizationCount(client);
      await expectStytchRejection(client.discovery.organizations.create({ intermediate_session_token: intermediateSessionToken }), IST_NOT_FOUND);
      expect(await organizationCount(client)).toBe(before);
    });

    it('names the organization after the address: the domain for a company address, the local part for a mailbox provider; a taken slug gets a suffix', async () => {
      const { domain, address } = freshAddress('lin');
      const company = await client.discovery.organizations.create({ intermediate_session_token: await discovered(address) });
      expect(company.organization).toMatchObject({ organization_name: domain, organization_slug: domain, email_invites: 'ALL_ALLOWED' });
      const again = await client.discovery.organizations.create({ intermediate_session_token: await discovered(`someone@${domain}`) });
      expect(again.organization.organization_name).toBe(domain);
      expect(again.organization.organization_slug).toMatch(new RegExp(`^${domain.replaceAll('.', '\\.')}-[0-9a-f]{8}$`));
      const local = `lin.${uniqueSuffix()}`;
      const personal = await client.discovery.organizations.create({ intermediate_session_token: await discovered(`${local}@gmail.com`), organization_name: '' });
      expectToMatchResponseSchema('post', CREATE, personal);
      expect(personal.organization).toMatchObject({ organization_name: local, organization_slug: local });
      expect(personal.member.email_address).toBe(`${local}@gmail.com`);
    });

    it('answers mfa_required with a new intermediate session of the creator when the new organization requires MFA for all; the one presented is spent', async () => {
      const { address } = freshAddress();
      const intermediateSessionToken = await discovered(address);
      const response = await client.discovery.organizations.create({ intermediate_session_token: intermediateSessionToken, organization_name: 'Careful', mfa_policy: 'REQUIRED_FOR_ALL' });
      expectToMatchResponseSchema('post', CREATE, response);
      expect(response).toMatchObject({
        member_authenticated: false,
        member_session: null,
        session_token: '',
        session_jwt: '',
        mfa_required: { member_options: null, secondary_auth_initiated: null },
        primary_required: null,
        organization: { organization_name: 'Careful', mfa_policy: 'REQUIRED_FOR_ALL' },
        member: { status: 'active', email_address_verified: true },
      });
      expect(response.intermediate_session_token).toMatch(/^[A-Za-z0-9_-]{44}$/);
      expect(response.intermediate_session_token).not.toBe(intermediateSessionToken);
      // One organization per intermediate session: the one presented creates nothing more.
      const before = await organizationCount(client);
      await expectStytchRejection(client.discovery.organizations.create({ intermediate_session_token: intermediateSessionToken, organization_name: 'Again' }), {
        status: 404,
        errorType: 'intermediate_session_not_found',
      });
      expect(await organizationCount(client)).toBe(before);
      // The new one belongs to the creator: it enters the new organization once MFA is done (until then, the same token comes back).
      const exchanged = await client.discovery.intermediateSessions.exchange({ intermediate_session_token: response.intermediate_session_token, organization_id: response.organization.organization_id });
      expectToMatchResponseSchema('post', EXCHANGE, exchanged);
      expect(exchanged).toMatchObject({ member_id: response.member_id, member_authenticated: false, intermediate_session_token: response.intermediate_session_token });
    });

    it('answers primary_required when the new organization allows no proof by email; its creator stays pending', async () => {
      const { address } = freshAddress();
      const response = await client.discovery.organizations.create({
        intermediate_session_token: await discovered(address),
        organization_name: 'SSO only',
        auth_methods: 'RESTRICTED',
        allowed_auth_methods: ['sso'],
      });
      expectToMatchResponseSchema('post', CREATE, response);
      expect(response).toMatchObject({
        member_authenticated: false,
        primary_required: { allowed_auth_methods: ['sso'] },
        mfa_required: null,
        member: { status: 'pending', email_address_verified: false },
      });
      expect(response.member.roles.map((role) => role.role_id)).toEqual(['stytch_member', 'stytch_admin']);
    });

    it("refuses invalid organization fields with organizations.create's error codes, writing nothing and leaving the intermediate session usable", async () => {
      const { address } = freshAddress();
      const taken = await createOrganization(client, 'Taken');
      const intermediateSessionToken = await discovered(address);
      const before = await organizationCount(client);
      const create = (fields: Record<string, unknown>) => client.discovery.organizations.create({ intermediate_session_token: intermediateSessionToken, organization_name: 'Bad', ...fields });
      await expectStytchRejection(create({ mfa_policy: 'SOMETIMES' }), { status: 400, errorType: 'invalid_organization_mfa_policy' });
      await expectStytchRejection(create({ organization_slug: taken.organization_slug }), { status: 400, errorType: 'organization_slug_already_used' });
      await expectStytchRejection(create({ organization_slug: 'x' }), { status: 400, errorType: 'invalid_organization_slug' });
      await expectStytchRejection(create({ email_allowed_domains: ['gmail.com'] }), { status: 400, errorType: 'organization_settings_domain_too_common' });
      await expectStytchRejection(create({ auth_methods: 'RESTRICTED' }), { status: 400, errorType: 'allowed_auth_methods_required_for_restricted' });
      await expectStytchRejection(create({ organization_name: ' '.repeat(3) }), { status: 400, errorType: 'organization_name_missing' });
      const refused = await expectStytchRejection(create({ allowed_oauth_tenants: { myspace: ['t1'] } }), { status: 400, errorType: 'invalid_organization_settings' });
      await expectStytchRejection(create({ session_duration_minutes: 1 }), { status: 400, errorType: 'invalid_session_duration_minutes' });
      expect(await organizationCount(client)).toBe(before);
      expect(await auditOf(server, refused.request_id)).toEqual([]);
      expect((await create({ organization_name: 'Good' })).member_authenticated).toBe(true);
      expect(await organizationCount(client)).toBe(before + 1);
    });

    it('refuses unknown and expired intermediate sessions (404)', async () => {
      const { address } = freshAddress();
      await expectStytchRejection(client.discovery.organizations.create({ intermediate_session_token: 'B'.repeat(44) }), IST_NOT_FOUND);
      const intermediateSessionToken = await discovered(address);
      clock.advance(10 * 60_000);
      await expectStytchRejection(client.discovery.organizations.create({ intermediate_session_token: intermediateSessionToken }), IST_NOT_FOUND);
    });

    it('of 32 concurrent creates with one intermediate session, exactly one creates an organization', async () => {
      const { address } = freshAddress();
      const intermediateSessionToken = await discovered(address);
      const before = await organizationCount(client);
      const { fulfilled, errorTypes } = await settleAll(
        Array.from({ length: 32 }, (_, index) => client.discovery.organizations.create({ intermediate_session_token: intermediateSessionToken, organization_name: `Race ${index}` })),
      );
      expect(fulfilled.map((response) => response.member_authenticated)).toEqual([true]);
      expect(errorTypes).toEqual(Array(31).fill('intermediate_session_not_found'));
      expect(await organizationCount(client)).toBe(before + 1);
    });
  });
}
