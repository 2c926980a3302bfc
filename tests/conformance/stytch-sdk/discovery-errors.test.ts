import type { B2BClient, Organization } from 'stytch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/platform/clock.js';
import { expectStytchRejection, expectToMatchResponseSchema } from '../../support/openapi.js';
import { linkToken, waitForEmail } from '../../support/outbox.js';
import { STORES } from '../../support/stores.js';
import { startTestServer, type TestServer } from '../../support/test-server.js';
import { uniqueSuffix } from '../../support/wire-formats.js';
import {
  auditOfRequest,
  createMember,
  createOrganization,
  discover,
  DISCOVERY_CODE_AUTHENTICATE,
  DISCOVERY_LINK_AUTHENTICATE,
  DISCOVERY_REDIRECT_URLS,
  discoveryToken,
  expectRefusalAudited,
  PKCE,
  sendDiscoveryCode,
  sendDiscoveryLink,
  signInByCode,
} from './discovery-fixtures.js';

/**
 * Discovery's refusals through the official SDK: spent, expired, unknown and misdirected links and
 * codes, guessing, PKCE, and listing without a usable credential. Each refusal answers Stytch's
 * error, starts no intermediate session (the refusal is the request's only audit event), and a
 * link or code refused for being at the wrong endpoint or without its verifier still works where
 * it belongs.
 */
const LINK_SPENT = { status: 401, errorType: 'unable_to_auth_magic_link' } as const;
const LINK_UNKNOWN = { status: 404, errorType: 'magic_link_not_found' } as const;
const CODE_REFUSED = { status: 401, errorType: 'unable_to_auth_otp_code' } as const;
const CODE_UNKNOWN = { status: 404, errorType: 'otp_code_not_found' } as const;
const NO_INTERMEDIATE_SESSION = { status: 404, errorType: 'intermediate_session_not_found' } as const;

for (const store of STORES) {
  describe(`discovery refusals (${store.name})`, () => {
    let server: TestServer;
    let client: B2BClient;
    let clock: ManualClock;
    let acme: Organization;
    let domain: string;
    let count = 0;
    const address = () => `person-${++count}@${domain}`;

    beforeAll(async () => {
      clock = new ManualClock(new Date());
      server = await startTestServer({ store: store.name, clock, config: { redirectUrls: DISCOVERY_REDIRECT_URLS } });
      client = server.client;
      domain = `refusals-${uniqueSuffix()}.example.com`;
      acme = await createOrganization(client, `Acme ${domain}`, { email_jit_provisioning: 'RESTRICTED', email_allowed_domains: [domain] });
    });
    afterAll(async () => server?.stop());

    async function expectLinkRefused(token: string, expected: typeof LINK_SPENT | typeof LINK_UNKNOWN, why: string, extra: { pkce_code_verifier?: string; organizationId?: string } = {}) {
      const error = await expectStytchRejection(
        client.magicLinks.discovery.authenticate({ discovery_magic_links_token: token, ...(extra.pkce_code_verifier !== undefined && { pkce_code_verifier: extra.pkce_code_verifier }) }),
        expected,
      );
      await expectRefusalAudited(server, error.request_id, { errorType: expected.errorType, why, organizationId: extra.organizationId ?? null });
    }

    async function expectCodeRefused(email: string, code: string, expected: typeof CODE_REFUSED | typeof CODE_UNKNOWN, why: string) {
      const error = await expectStytchRejection(client.otps.email.discovery.authenticate({ email_address: email, code }), expected);
      await expectRefusalAudited(server, error.request_id, { errorType: expected.errorType, why });
    }

    it('a discovery link works once: the second use is refused as already used', async () => {
      const token = discoveryToken(await sendDiscoveryLink(server, address()));
      await client.magicLinks.discovery.authenticate({ discovery_magic_links_token: token });
      await expectLinkRefused(token, LINK_SPENT, 'already_used');
    });

    it('an unknown or malformed token is magic_link_not_found', async () => {
      await expectLinkRefused('A'.repeat(44), LINK_UNKNOWN, 'not_found');
      await expectLinkRefused('not-a-token', LINK_UNKNOWN, 'not_found');
    });

    it("an organization's login link is refused at the discovery endpoint, and still signs in where it belongs", async () => {
      const email = address();
      await createMember(client, acme, email);
      await client.magicLinks.email.loginOrSignup({ organization_id: acme.organization_id, email_address: email });
      const message = await waitForEmail(server, email, { template: 'login' });
      const token = linkToken(message.link as string);
      await expectLinkRefused(token, LINK_UNKNOWN, 'wrong_token_type', { organizationId: acme.organization_id });
      const signedIn = await client.magicLinks.authenticate({ magic_links_token: token });
      expect(signedIn.member_authenticated).toBe(true);
    });

    it('a discovery link is refused at magicLinks.authenticate, and still works at the discovery endpoint', async () => {
      const email = address();
      const token = discoveryToken(await sendDiscoveryLink(server, email));
      const error = await expectStytchRejection(client.magicLinks.authenticate({ magic_links_token: token }), LINK_UNKNOWN);
      expect((await auditOfRequest(server, error.request_id)).map((event) => event.type)).toEqual(['member.sign_in_refused']);
      const response = await client.magicLinks.discovery.authenticate({ discovery_magic_links_token: token });
      expectToMatchResponseSchema('post', DISCOVERY_LINK_AUTHENTICATE, response);
      expect(response.email_address).toBe(email);
    });

    it('PKCE: a link sent with a challenge needs its verifier; refusals leave it usable for the right one', async () => {
      const token = discoveryToken(await sendDiscoveryLink(server, address(), { pkce_code_challenge: PKCE.challenge }));
      await expectStytchRejection(client.magicLinks.discovery.authenticate({ discovery_magic_links_token: token }), { status: 400, errorType: 'pkce_expected_code_verifier' });
      const wrong = await expectStytchRejection(client.magicLinks.discovery.authenticate({ discovery_magic_links_token: token, pkce_code_verifier: 'f'.repeat(64) }), {
        status: 400,
        errorType: 'pkce_mismatch',
      });
      await expectRefusalAudited(server, wrong.request_id, { errorType: 'pkce_mismatch', why: 'pkce_failed' });
      const response = await client.magicLinks.discovery.authenticate({ discovery_magic_links_token: token, pkce_code_verifier: PKCE.verifier });
      expect(response.intermediate_session_token).not.toBe('');

      const plain = discoveryToken(await sendDiscoveryLink(server, address()));
      await expectStytchRejection(client.magicLinks.discovery.authenticate({ discovery_magic_links_token: plain, pkce_code_verifier: PKCE.verifier }), {
        status: 400,
        errorType: 'pkce_did_not_expect_code_verifier',
      });
    });

    it('a wrong code is refused and counted; the fifth wrong guess voids the code, so even the right one is then refused', async () => {
      const email = address();
      const code = await sendDiscoveryCode(server, email);
      const wrong = code === '000000' ? '111111' : '000000';
      for (let guess = 1; guess <= 4; guess += 1) await expectCodeRefused(email, wrong, CODE_REFUSED, 'wrong_code');
      await expectCodeRefused(email, wrong, CODE_REFUSED, 'too_many_attempts');
      await expectCodeRefused(email, code, CODE_UNKNOWN, 'not_found');
    });

    it('a code works once; a newer code voids the older one', async () => {
      const email = address();
      const first = await sendDiscoveryCode(server, email);
      const second = await sendDiscoveryCode(server, email);
      if (first !== second) await expectCodeRefused(email, first, CODE_REFUSED, 'wrong_code');
      const response = await client.otps.email.discovery.authenticate({ email_address: email, code: second });
      expectToMatchResponseSchema('post', DISCOVERY_CODE_AUTHENTICATE, response);
      await expectCodeRefused(email, second, CODE_UNKNOWN, 'not_found');
    });

    it("an organization's code is not a discovery code, and a discovery code does not sign in to an organization", async () => {
      const email = address();
      await createMember(client, acme, email);
      await client.otps.email.loginOrSignup({ organization_id: acme.organization_id, email_address: email });
      const orgCode = (await waitForEmail(server, email, { template: 'otp_login' })).code as string;
      await expectCodeRefused(email, orgCode, CODE_UNKNOWN, 'not_found');
      const signedIn = await client.otps.email.authenticate({ organization_id: acme.organization_id, email_address: email, code: orgCode });
      expect(signedIn.member_authenticated).toBe(true);

      const discoveryCode = await sendDiscoveryCode(server, email);
      await expectStytchRejection(client.otps.email.authenticate({ organization_id: acme.organization_id, email_address: email, code: discoveryCode }), CODE_UNKNOWN);
      const response = await client.otps.email.discovery.authenticate({ email_address: email, code: discoveryCode });
      expect(response.discovered_organizations.map((entry) => entry.organization?.organization_id)).toEqual([acme.organization_id]);
    });

    it('a code for another address is unknown; an address that is not one is invalid_email', async () => {
      const email = address();
      const code = await sendDiscoveryCode(server, email);
      await expectCodeRefused(address(), code, CODE_UNKNOWN, 'not_found');
      await expectStytchRejection(client.otps.email.discovery.authenticate({ email_address: 'not an address', code }), { status: 400, errorType: 'invalid_email' });
      expect((await client.otps.email.discovery.authenticate({ email_address: email, code })).email_address).toBe(email);
    });

    it('discovery.organizations.list needs exactly one usable credential', async () => {
      const discovered = await discover(server, address());
      const member = address();
      await createMember(client, acme, member);
      const signedIn = await signInByCode(server, acme, member);
      await expectStytchRejection(client.discovery.organizations.list({}), { status: 400, errorType: 'no_session_arguments' });
      await expectStytchRejection(client.discovery.organizations.list({ intermediate_session_token: discovered.intermediate_session_token, session_token: signedIn.session_token }), {
        status: 400,
        errorType: 'too_many_session_arguments',
      });
      await expectStytchRejection(client.discovery.organizations.list({ session_token: signedIn.session_token, session_jwt: signedIn.session_jwt }), {
        status: 400,
        errorType: 'too_many_session_arguments',
      });
      await expectStytchRejection(client.discovery.organizations.list({ intermediate_session_token: 'B'.repeat(44) }), NO_INTERMEDIATE_SESSION);
      await expectStytchRejection(client.discovery.organizations.list({ session_token: 'C'.repeat(44) }), { status: 404, errorType: 'session_not_found' });
      await expectStytchRejection(client.discovery.organizations.list({ session_jwt: 'not.a.jwt' }), { status: 401, errorType: 'unable_to_parse_session_jwt' });
      await client.sessions.revoke({ session_token: signedIn.session_token });
      await expectStytchRejection(client.discovery.organizations.list({ session_token: signedIn.session_token }), { status: 404, errorType: 'session_not_found' });
    });

    // The clock moves forward from here on: expiry tests go last.
    it('an expired link, code or intermediate session is refused', async () => {
      const linkToken = discoveryToken(await sendDiscoveryLink(server, address(), { discovery_expiration_minutes: 5 }));
      const codeAddress = address();
      const code = await sendDiscoveryCode(server, codeAddress, { discovery_expiration_minutes: 2 });
      const discovered = await discover(server, address());

      clock.advance(2 * 60_000 + 1000);
      await expectCodeRefused(codeAddress, code, CODE_REFUSED, 'expired');
      clock.advance(3 * 60_000);
      await expectLinkRefused(linkToken, LINK_SPENT, 'expired');
      // Intermediate sessions last 10 minutes: still listed at 5 minutes, gone after 10.
      await client.discovery.organizations.list({ intermediate_session_token: discovered.intermediate_session_token });
      clock.advance(5 * 60_000);
      await expectStytchRejection(client.discovery.organizations.list({ intermediate_session_token: discovered.intermediate_session_token }), NO_INTERMEDIATE_SESSION);
    });
  });
}
