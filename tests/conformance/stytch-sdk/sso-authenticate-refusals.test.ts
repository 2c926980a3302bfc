import type { B2BClient } from 'stytch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/platform/clock.js';
import { expectStytchRejection } from '../../support/openapi.js';
import { givenActiveConnection, mintSsoToken, storedConnection } from '../../support/sso-tokens.js';
import { STORES } from '../../support/stores.js';
import { startTestServer, type TestServer } from '../../support/test-server.js';
import { openRecordProbe, type RecordProbe } from '../../support/write-probe.js';
import { auditOfRequest, createMember, membersOf, PKCE } from './email-sign-in-fixtures.js';
import { createSsoOrganization, signInByMagicLink, ssoAuthenticate } from './sso-authenticate-fixtures.js';

const REFUSED = ['member.sign_in_refused'];
const TOKEN_NOT_FOUND = { status: 404, errorType: 'sso_token_not_found' } as const;

/**
 * client.sso.authenticate's refusals: each writes nothing but one `member.sign_in_refused` event
 * (proved by reading the whole database before and after), and leaves a token it refused for a
 * reason of the request (PKCE, policy, the session presented) unspent, so it still works once the
 * reason is gone. A token is spent once: replays, concurrent redemptions and tokens past their ten
 * minutes are refused as unknown, as Stytch answers them.
 */
for (const store of STORES) {
  describe(`client.sso.authenticate refusals (${store.name})`, () => {
    let server: TestServer;
    let client: B2BClient;
    let clock: ManualClock;
    let probe: RecordProbe;

    beforeAll(async () => {
      clock = new ManualClock(new Date());
      server = await startTestServer({ store: store.name, clock });
      client = server.client;
      probe = await openRecordProbe(server);
    });
    afterAll(async () => {
      await probe?.close();
      await server?.stop();
    });

    /** The refusal of the call, expecting nothing written but its one audit event; answers that event. */
    async function refused(call: () => Promise<unknown>, expected: { status: number; errorType: string }, why: string) {
      const error = await probe.expectOnlyRecords(REFUSED, () => expectStytchRejection(call(), expected));
      const [event] = await auditOfRequest(server, error.request_id as string);
      expect(event).toMatchObject({ type: 'member.sign_in_refused', details: { method: 'sso', why, error_type: expected.errorType } });
      return event;
    }

    it('an unknown or malformed token is sso_token_not_found', async () => {
      await refused(() => client.sso.authenticate({ sso_token: 'x'.repeat(44) }), TOKEN_NOT_FOUND, 'not_found');
      await refused(() => client.sso.authenticate({ sso_token: 'not a token' }), TOKEN_NOT_FOUND, 'not_found');
    });

    it('a token is spent once: a replay is sso_token_not_found', async () => {
      const acme = await createSsoOrganization(server);
      const { token } = await mintSsoToken(server, acme.connectionId, { subject: 'replay', emailAddress: acme.address('replay') });
      const first = await ssoAuthenticate(client, token);
      const event = await refused(() => client.sso.authenticate({ sso_token: token }), TOKEN_NOT_FOUND, 'already_used');
      expect(event?.organizationId).toBe(acme.organization.organization_id);
      expect(first.member_authenticated).toBe(true);
    });

    it('of two concurrent redemptions of one token exactly one gets a session; a new address becomes one member', async () => {
      const acme = await createSsoOrganization(server);
      for (const local of ['race-new', 'race-existing']) {
        const email = acme.address(local);
        if (local === 'race-existing') await createMember(client, acme.organization, email);
        const { token } = await mintSsoToken(server, acme.connectionId, { subject: local, emailAddress: email });
        const outcomes = await Promise.allSettled([client.sso.authenticate({ sso_token: token }), client.sso.authenticate({ sso_token: token })]);
        const won = outcomes.filter((outcome) => outcome.status === 'fulfilled');
        const lost = outcomes.filter((outcome) => outcome.status === 'rejected');
        expect(won).toHaveLength(1);
        expect(lost).toHaveLength(1);
        await expectStytchRejection(Promise.reject((lost[0] as PromiseRejectedResult).reason), TOKEN_NOT_FOUND);
        expect((await membersOf(client, acme.organization)).filter((member) => member.email_address === email)).toHaveLength(1);
      }
    });

    it('two first sign-ins of one new person through two tokens at once make one member', async () => {
      const acme = await createSsoOrganization(server);
      const email = acme.address('twice');
      const tokens = await Promise.all([1, 2].map(async () => (await mintSsoToken(server, acme.connectionId, { subject: 'twice', emailAddress: email })).token));
      const responses = await Promise.all(tokens.map((token) => ssoAuthenticate(client, token)));
      expect(new Set(responses.map((response) => response.member_id)).size).toBe(1);
      expect((await membersOf(client, acme.organization)).filter((member) => member.email_address === email)).toHaveLength(1);
    });

    it('a token past its ten minutes is sso_token_not_found', async () => {
      const acme = await createSsoOrganization(server);
      const { token } = await mintSsoToken(server, acme.connectionId, { subject: 'late', emailAddress: acme.address('late') });
      clock.advance(10 * 60_000 + 1_000);
      await refused(() => client.sso.authenticate({ sso_token: token }), TOKEN_NOT_FOUND, 'expired');
    });

    it('PKCE: a verifier required, wrong or unexpected is refused and the token stays usable with the right one', async () => {
      const acme = await createSsoOrganization(server);
      const withChallenge = (await mintSsoToken(server, acme.connectionId, { subject: 'pkce', emailAddress: acme.address('pkce') }, { pkceCodeChallenge: PKCE.challenge })).token;
      await refused(() => client.sso.authenticate({ sso_token: withChallenge }), { status: 400, errorType: 'pkce_expected_code_verifier' }, 'pkce_failed');
      await refused(() => client.sso.authenticate({ sso_token: withChallenge, pkce_code_verifier: 'f'.repeat(64) }), { status: 400, errorType: 'pkce_mismatch' }, 'pkce_failed');
      expect((await ssoAuthenticate(client, withChallenge, { pkce_code_verifier: PKCE.verifier })).member_authenticated).toBe(true);

      const without = (await mintSsoToken(server, acme.connectionId, { subject: 'no-pkce', emailAddress: acme.address('no-pkce') })).token;
      await refused(() => client.sso.authenticate({ sso_token: without, pkce_code_verifier: PKCE.verifier }), { status: 400, errorType: 'pkce_did_not_expect_code_verifier' }, 'pkce_failed');
      // The SDKs send "" for an option left out.
      expect((await ssoAuthenticate(client, without, { pkce_code_verifier: '' })).member_authenticated).toBe(true);
    });

    it('a connection deleted since takes its tokens with it (sso_token_not_found); one no longer active is sso_connection_not_found', async () => {
      const acme = await createSsoOrganization(server);
      const { token } = await mintSsoToken(server, acme.connectionId, { subject: 'gone', emailAddress: acme.address('gone') });
      await server.server.store.sso.deleteConnection(acme.connectionId);
      await refused(() => client.sso.authenticate({ sso_token: token }), TOKEN_NOT_FOUND, 'not_found');

      const other = await givenActiveConnection(server, acme.organization.organization_id, 'saml');
      const pending = (await mintSsoToken(server, other.connectionId, { subject: 'paused', emailAddress: acme.address('paused') })).token;
      await server.server.store.sso.replaceConnection({ ...(await storedConnection(server, other.connectionId)), status: 'pending' });
      await refused(() => client.sso.authenticate({ sso_token: pending }), { status: 404, errorType: 'sso_connection_not_found' }, 'connection_not_active');
    });

    it("auth_methods RESTRICTED without sso refuses the sign-in (403) except for break-glass members; the token works once sso is allowed", async () => {
      const acme = await createSsoOrganization(server);
      const breakglass = await createMember(client, acme.organization, acme.address('breakglass'), { is_breakglass: true });
      await client.organizations.update({ organization_id: acme.organization.organization_id, auth_methods: 'RESTRICTED', allowed_auth_methods: ['magic_link'] });
      const { token } = await mintSsoToken(server, acme.connectionId, { subject: 'restricted', emailAddress: acme.address('restricted') });
      await refused(() => client.sso.authenticate({ sso_token: token }), { status: 403, errorType: 'operation_restricted_by_organization_auth_methods' }, 'method_not_allowed');
      const exempt = await ssoAuthenticate(client, (await mintSsoToken(server, acme.connectionId, { subject: 'bg', emailAddress: breakglass.email_address })).token);
      expect(exempt.member_id).toBe(breakglass.member_id);

      await client.organizations.update({ organization_id: acme.organization.organization_id, allowed_auth_methods: ['magic_link', 'sso'] });
      expect((await ssoAuthenticate(client, token)).member_authenticated).toBe(true);
    });

    it('just-in-time provisioning NOT_ALLOWED, or RESTRICTED to other connections, refuses a new address (invalid_connection_for_jit_provisioning)', async () => {
      const acme = await createSsoOrganization(server, 'saml', { sso_jit_provisioning: 'NOT_ALLOWED' });
      const email = acme.address('stranger');
      const { token } = await mintSsoToken(server, acme.connectionId, { subject: 'stranger', emailAddress: email });
      const expected = { status: 400, errorType: 'invalid_connection_for_jit_provisioning' } as const;
      await refused(() => client.sso.authenticate({ sso_token: token }), expected, 'jit_provisioning_not_allowed');

      const allowed = await givenActiveConnection(server, acme.organization.organization_id, 'oidc');
      await client.organizations.update({
        organization_id: acme.organization.organization_id,
        sso_jit_provisioning: 'RESTRICTED',
        sso_jit_provisioning_allowed_connections: [allowed.connectionId],
      });
      await refused(() => client.sso.authenticate({ sso_token: token }), expected, 'jit_provisioning_not_allowed');
      expect(await membersOf(client, acme.organization)).toEqual([]);
      const joined = await ssoAuthenticate(client, (await mintSsoToken(server, allowed.connectionId, { subject: 'stranger', emailAddress: email })).token);
      expect(joined.member.email_address).toBe(email);
    });

    it('an intermediate session of another organization is sso_connection_organization_mismatch; one of another member is refused by the pipeline; both leave the token usable', async () => {
      const acme = await createSsoOrganization(server, 'saml', { mfa_policy: 'REQUIRED_FOR_ALL' });
      const elsewhere = await createSsoOrganization(server, 'saml', { mfa_policy: 'REQUIRED_FOR_ALL' });
      const email = acme.address('ist');
      await createMember(client, elsewhere.organization, email);
      const foreign = await signInByMagicLink(server, elsewhere.organization, email);
      expect(foreign.intermediate_session_token).not.toBe('');
      const { token } = await mintSsoToken(server, acme.connectionId, { subject: 'ist', emailAddress: email });
      await refused(
        () => client.sso.authenticate({ sso_token: token, intermediate_session_token: foreign.intermediate_session_token }),
        { status: 400, errorType: 'sso_connection_organization_mismatch' },
        'intermediate_session_of_another_organization',
      );

      const colleague = await createMember(client, acme.organization, acme.address('colleague'));
      const colleagues = await signInByMagicLink(server, acme.organization, colleague.email_address);
      const event = await refused(
        () => client.sso.authenticate({ sso_token: token, intermediate_session_token: colleagues.intermediate_session_token }),
        { status: 400, errorType: 'invalid_intermediate_session_token_for_organization' },
        'invalid_intermediate_session_token_for_organization',
      );
      expect(event?.memberId).toMatch(/^member-test-/);
      expect((await ssoAuthenticate(client, token)).member_authenticated).toBe(false);
    });

    it('a locale Stytch does not know is refused before anything is read, and the token stays usable', async () => {
      const acme = await createSsoOrganization(server);
      const { token } = await mintSsoToken(server, acme.connectionId, { subject: 'locale', emailAddress: acme.address('locale') });
      await probe.expectOnlyRecords([], () => expectStytchRejection(client.sso.authenticate({ sso_token: token, locale: 'xx' }), { status: 400, errorType: 'invalid_locale' }));
      expect((await ssoAuthenticate(client, token, { locale: 'fr' })).member_authenticated).toBe(true);
    });
  });
}
