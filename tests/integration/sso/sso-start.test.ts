import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/platform/clock.js';
import type { SamlConnection } from '../../../src/domain/sso/sso-connection.js';
import { startTestServer, type TestServer } from '../../support/test-server.js';
import { STORES } from '../../support/stores.js';

/**
 * `GET /v1/public/sso/start` as a browser opens it, before any identity provider is involved: every
 * malformed or unauthorized start is refused with a Stytch-shaped error and records nothing, and
 * a client that starts (or answers) too many is held back. The way on to a real IdP is tested with each protocol
 * (tests/integration/sso/saml-*.test.ts, oidc-*.test.ts).
 */
const APP = 'http://localhost:3000/authenticate';

for (const store of STORES) {
  describe(`GET /v1/public/sso/start (${store.name})`, () => {
    let server: TestServer;
    let publicToken: string;
    let organizationId: string;

    beforeAll(async () => {
      // A clock that stands still: the limit's one-minute window cannot roll over mid-test.
      server = await startTestServer({ store: store.name, clock: new ManualClock('2026-03-01T12:10:00Z'), config: { rateLimitsEnabled: true, rateLimitSsoRequestsPerClientPerMinute: 20 } });
      // Spelled out here, not computed by the server's own function: the token's form is what browsers rely on.
      publicToken = server.projectId.replace(/^project-test-/, 'public-token-test-');
      const created = await server.client.organizations.create({ organization_name: 'Start Corp', organization_slug: `start-${Date.now()}` });
      organizationId = created.organization.organization_id;
    });
    afterAll(async () => server?.stop());

    /** A SAML connection written straight to the store (the connections API has its own tests). */
    async function insertConnection(status: 'pending' | 'active'): Promise<string> {
      const connectionId = `saml-connection-test-${crypto.randomUUID()}`;
      const at = '2026-03-01T12:00:00Z';
      const connection: SamlConnection = {
        kind: 'saml',
        connectionId,
        organizationId,
        status,
        displayName: 'Test IdP',
        identityProvider: 'generic',
        createdAt: at,
        updatedAt: at,
        idpEntityId: 'https://idp.example.com/entity',
        idpSsoUrl: 'https://idp.example.com/sso',
        attributeMapping: {},
        alternativeAudienceUri: '',
        nameidFormat: '',
        alternativeAcsUrl: '',
        idpInitiatedAuthDisabled: false,
        allowGatewayCallback: false,
      };
      await server.server.store.sso.insertConnection(connection, null);
      return connectionId;
    }

    async function start(query: Record<string, string>): Promise<{ status: number; body: Record<string, unknown>; location: string | null }> {
      const response = await fetch(`${server.baseUrl}/v1/public/sso/start?${new URLSearchParams(query).toString()}`, { redirect: 'manual' });
      const text = await response.text();
      return { status: response.status, body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>), location: response.headers.get('location') };
    }

    /** How many SSO requests (and tokens) are stored: the sweep of everything answers how many rows it removed. */
    async function requestsStored(): Promise<number> {
      return server.server.store.sso.sweepExpired('9999-12-31T00:00:00Z');
    }

    it('refuses a start without a public token, with another one, or without a connection id', async () => {
      const connectionId = await insertConnection('active');
      const missing = await start({ connection_id: connectionId });
      expect(missing.status).toBe(400);
      expect(missing.body).toMatchObject({ status_code: 400, error_type: 'public_token_required' });
      expect(missing.body.request_id).toEqual(expect.stringMatching(/^request-id-test-/));
      expect(missing.body.error_url).toEqual(expect.any(String));
      const wrong = await start({ connection_id: connectionId, public_token: 'public-token-test-00000000-0000-4000-8000-000000000000' });
      expect(wrong.status).toBe(401);
      expect(wrong.body.error_type).toBe('public_token_not_found');
      const noConnection = await start({ public_token: publicToken });
      expect(noConnection.body.error_type).toBe('missing_sso_connection_locator');
      expect(await requestsStored()).toBe(0);
    });

    it('refuses an unknown connection and one still pending', async () => {
      const unknown = await start({ connection_id: 'saml-connection-test-00000000-0000-4000-8000-000000000000', public_token: publicToken });
      expect(unknown.status).toBe(404);
      expect(unknown.body.error_type).toBe('sso_connection_not_found');
      const pending = await start({ connection_id: await insertConnection('pending'), public_token: publicToken });
      expect(pending.status).toBe(400);
      expect(pending.body.error_type).toBe('requires_active_sso_connection');
      expect(await requestsStored()).toBe(0);
    });

    it('refuses redirect URLs the project does not allow, and a malformed PKCE challenge', async () => {
      const connectionId = await insertConnection('active');
      const login = await start({ connection_id: connectionId, public_token: publicToken, login_redirect_url: 'https://evil.example.com/steal' });
      expect(login.body.error_type).toBe('invalid_login_redirect_url');
      const signup = await start({ connection_id: connectionId, public_token: publicToken, login_redirect_url: APP, signup_redirect_url: 'https://evil.example.com/steal' });
      expect(signup.body.error_type).toBe('invalid_signup_redirect_url');
      const pkce = await start({ connection_id: connectionId, public_token: publicToken, pkce_code_challenge: 'not-a-challenge' });
      expect(pkce.body.error_type).toBe('invalid_pkce_code_challenge');
      for (const refused of [login, signup, pkce]) expect(refused.location).toBeNull();
      expect(await requestsStored()).toBe(0);
    });

    it('counts well-formed starts per client and answers 429 with Retry-After past the limit', async () => {
      // Unknown connections are refused before the limit is counted: they never use it up.
      for (let index = 0; index < 25; index += 1) {
        const refused = await start({ connection_id: 'saml-connection-test-00000000-0000-4000-8000-000000000001', public_token: publicToken });
        expect(refused.status).toBe(404);
      }
      const connectionId = await insertConnection('active');
      const statuses: number[] = [];
      let retryAfter: string | null = null;
      for (let index = 0; index < 22; index += 1) {
        const response = await fetch(`${server.baseUrl}/v1/public/sso/start?${new URLSearchParams({ connection_id: connectionId, public_token: publicToken }).toString()}`, { redirect: 'manual' });
        statuses.push(response.status);
        if (response.status === 429) retryAfter = response.headers.get('retry-after');
        await response.arrayBuffer();
      }
      expect(statuses.filter((status) => status === 429).length).toBeGreaterThan(0);
      expect(statuses.slice(0, 20).every((status) => status !== 429)).toBe(true);
      expect(Number(retryAfter)).toBeGreaterThan(0);
      // The identity providers' answers count against the same limit: past it, a forged answer at a
      // real connection's callback is refused before it is checked, and nothing is recorded.
      const before = await server.server.store.audit.listEvents({ organizationId, limit: 1000 });
      const answer = await fetch(`${server.baseUrl}/v1/b2b/sso/callback/${connectionId}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ SAMLResponse: Buffer.from('<forged/>').toString('base64'), RelayState: 'forged' }).toString(),
        redirect: 'manual',
      });
      expect(answer.status).toBe(429);
      expect(((await answer.json()) as Record<string, unknown>).error_type).toBe('too_many_requests');
      expect(await server.server.store.audit.listEvents({ organizationId, limit: 1000 })).toHaveLength(before.length);
    });
  });
}
