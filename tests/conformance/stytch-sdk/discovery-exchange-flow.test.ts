import type { B2BClient } from 'stytch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/platform/clock.js';
import { expectStytchRejection, expectToMatchResponseSchema } from '../../support/openapi.js';
import { waitForEmail } from '../../support/outbox.js';
import { STORES } from '../../support/stores.js';
import { startTestServer, type TestServer } from '../../support/test-server.js';
import { DISCOVERY_CODE_AUTHENTICATE, DISCOVERY_REDIRECT_URLS, discover, sendDiscoveryCode } from './discovery-fixtures.js';
import { addMember, CREATE, createOrganization, emailFactorOf, EXCHANGE, freshAddress, IST_NOT_FOUND, SESSIONS_AUTHENTICATE } from './exchange-fixtures.js';

/**
 * Discovery from end to end through the SDK, as an application drives it: the person proves their
 * address by the emailed link or code (read from the outbox), picks or creates an organization, and
 * the application then checks the member session it got.
 */
for (const store of STORES) {
  describe(`discovery from proof to member session (${store.name})`, () => {
    let server: TestServer;
    let client: B2BClient;

    beforeAll(async () => {
      server = await startTestServer({ store: store.name, clock: new ManualClock(new Date()), config: { redirectUrls: DISCOVERY_REDIRECT_URLS } });
      client = server.client;
    });
    afterAll(async () => server?.stop());

    it('discovery magic link -> authenticate -> exchange into a listed organization -> sessions.authenticate', async () => {
      const { address } = freshAddress();
      const organization = await createOrganization(client, 'Listed');
      const member = await addMember(client, organization, address);
      const discovered = await discover(server, address);
      expect(discovered.discovered_organizations.map((entry) => entry.organization?.organization_id)).toEqual([organization.organization_id]);
      const exchanged = await client.discovery.intermediateSessions.exchange({
        intermediate_session_token: discovered.intermediate_session_token,
        organization_id: organization.organization_id,
      });
      expectToMatchResponseSchema('post', EXCHANGE, exchanged);
      expect(exchanged).toMatchObject({ member_id: member.member_id, member_authenticated: true });
      const authenticated = await client.sessions.authenticate({ session_jwt: exchanged.session_jwt });
      expectToMatchResponseSchema('post', SESSIONS_AUTHENTICATE, authenticated);
      expect(authenticated.member_session).toMatchObject({ member_id: member.member_id, organization_id: organization.organization_id });
      expect(authenticated.member_session.authentication_factors.map((factor) => [factor.type, factor.email_factor])).toEqual([['magic_link', emailFactorOf(member)]]);
      await expectStytchRejection(
        client.discovery.intermediateSessions.exchange({ intermediate_session_token: discovered.intermediate_session_token, organization_id: organization.organization_id }),
        IST_NOT_FOUND,
      );
    });

    it('discovery code -> authenticate -> discovery.organizations.create -> sessions.authenticate', async () => {
      const { address } = freshAddress('founder');
      const code = await sendDiscoveryCode(server, address);
      const discovered = await client.otps.email.discovery.authenticate({ email_address: address, code });
      expectToMatchResponseSchema('post', DISCOVERY_CODE_AUTHENTICATE, discovered);
      expect(discovered.discovered_organizations).toEqual([]);
      const created = await client.discovery.organizations.create({ intermediate_session_token: discovered.intermediate_session_token, organization_name: 'Started Here' });
      expectToMatchResponseSchema('post', CREATE, created);
      const authenticated = await client.sessions.authenticate({ session_token: created.session_token });
      expect(authenticated.member_session.roles).toEqual(['stytch_member', 'stytch_admin']);
      expect(authenticated.member_session.authentication_factors.map((factor) => factor.type)).toEqual(['email_otp']);
      // The new organization is now where discovery finds the address.
      const again = await discover(server, address);
      expect(again.discovered_organizations.map((entry) => [entry.organization?.organization_name, entry.membership?.type])).toEqual([['Started Here', 'active_member']]);
    });

    it('an organization that takes only codes answers primary_required; the code, with the same intermediate session, completes the sign-in', async () => {
      const { address } = freshAddress();
      const organization = await createOrganization(client, 'Codes only', { auth_methods: 'RESTRICTED', allowed_auth_methods: ['email_otp'] });
      const member = await addMember(client, organization, address);
      const discovered = await discover(server, address);
      const exchanged = await client.discovery.intermediateSessions.exchange({
        intermediate_session_token: discovered.intermediate_session_token,
        organization_id: organization.organization_id,
      });
      expect(exchanged).toMatchObject({
        member_authenticated: false,
        intermediate_session_token: discovered.intermediate_session_token,
        primary_required: { allowed_auth_methods: ['email_otp'] },
      });
      await client.otps.email.loginOrSignup({ organization_id: organization.organization_id, email_address: address });
      const message = await waitForEmail(server, address, { template: 'otp_login' });
      const signedIn = await client.otps.email.authenticate({
        organization_id: organization.organization_id,
        email_address: address,
        code: message.code as string,
        intermediate_session_token: exchanged.intermediate_session_token,
      });
      expect(signedIn).toMatchObject({ member_id: member.member_id, member_authenticated: true });
      expect(signedIn.member_session?.authentication_factors.map((factor) => factor.type)).toEqual(['magic_link', 'email_otp']);
      // The intermediate session was spent by that session.
      await expectStytchRejection(
        client.discovery.intermediateSessions.exchange({ intermediate_session_token: discovered.intermediate_session_token, organization_id: organization.organization_id }),
        IST_NOT_FOUND,
      );
    });
  });
}
