import { hash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseOpaqueToken } from '../../../src/crypto/opaque-token.js';
import { ManualClock } from '../../../src/platform/clock.js';
import type { SsoProof } from '../../../src/domain/sso/sso-request.js';
import { ssoCallbackUrl } from '../../../src/domain/sso/sso-urls.js';
import { startOidcIdp, type OidcIdp } from '../../support/oidc-idp.js';
import { STORES } from '../../support/stores.js';
import { startTestServer, type TestServer } from '../../support/test-server.js';
import {
  createOidcConnection,
  createOrganization,
  IdpBrowser,
  idTokenClaims,
  loginForm,
  settingsOf,
  signInAtIdp,
  startScriptedIdp,
  startSignIn,
  updateOidcConnection,
  visit,
  type ScriptedIdp,
} from './oidc-flow.js';

const ANN = { sub: 'ann-1', email: 'Ann@Acme.com', password: 'correct horse battery', name: 'Ann Smith', groups: ['engineering', 'admins'] };
const LOGIN = 'http://localhost:3000/login';
const SIGNUP = 'http://localhost:3000/signup';

/** The proof an issued SSO token carries (what sso.authenticate will turn into a member). */
async function storedProof(server: TestServer, location: string): Promise<SsoProof> {
  const token = new URL(location).searchParams.get('token') ?? '';
  const parsed = parseOpaqueToken(token);
  if (parsed === undefined) throw new Error('no SSO token on the redirect URL');
  const stored = await server.server.store.sso.findTokenByLookupId(parsed.lookupId);
  if (stored === undefined) throw new Error('the SSO token is not stored');
  return stored.proof;
}

describe.each(STORES)('OIDC sign-in through a real OpenID provider ($name)', ({ name: store }) => {
  let server: TestServer;
  let idp: OidcIdp;
  let scripted: ScriptedIdp;
  let organizationId: string;

  beforeAll(async () => {
    server = await startTestServer({
      store,
      config: {
        redirectUrls: [
          { url: LOGIN, types: [{ type: 'login', isDefault: true }] },
          { url: SIGNUP, types: [{ type: 'signup', isDefault: true }] },
        ],
      },
    });
    idp = await startOidcIdp({ users: [ANN] });
    scripted = await startScriptedIdp();
    organizationId = await createOrganization(server, `oidc-sign-in-${store}`);
  });
  afterAll(async () => {
    await scripted?.stop();
    await idp?.stop();
    await server?.stop();
  });

  it("signs a new member in: Understudy's start URL, the IdP's login page, the callback, sso.authenticate", async () => {
    const connection = await createOidcConnection(server, idp, organizationId);

    const authorizationUrl = await startSignIn(server, connection.connectionId, { login_redirect_url: LOGIN, signup_redirect_url: SIGNUP });
    expect(authorizationUrl.origin + authorizationUrl.pathname).toBe(idp.endpoints.authorizationUrl);
    const asked = authorizationUrl.searchParams;
    expect(Object.fromEntries(asked)).toMatchObject({
      response_type: 'code',
      client_id: connection.clientId,
      redirect_uri: ssoCallbackUrl(server.baseUrl, connection.connectionId),
      scope: 'openid email profile groups',
      code_challenge_method: 'S256',
    });
    expect(asked.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(asked.get('state')).toMatch(/^[A-Za-z0-9_-]{40,}$/);
    expect(asked.get('nonce')).toMatch(/^[A-Za-z0-9_-]{20,}$/);

    // The IdP's own login page: a wrong password shows it again with an error.
    const browser = new IdpBrowser(idp.issuer);
    const login = await browser.follow(authorizationUrl.href);
    expect(login.status).toBe(200);
    const wrong = await browser.follow(loginForm(login.body, login.url), { form: { email: 'ann@acme.com', password: 'wrong horse' } });
    expect(wrong.status).toBe(200);
    expect(wrong.body).toContain('Wrong email or password.');
    const back = await browser.follow(loginForm(wrong.body, wrong.url), { form: { email: 'ann@acme.com', password: ANN.password } });
    const callback = new URL(back.location ?? '');
    expect(callback.origin + callback.pathname).toBe(ssoCallbackUrl(server.baseUrl, connection.connectionId));
    expect(callback.searchParams.get('state')).toBe(asked.get('state'));
    expect(callback.searchParams.get('code')).toBeTruthy();

    const done = await visit(callback.href);
    expect(done.status).toBe(302);
    expect(done.headers.get('cache-control')).toBe('no-store');
    expect(done.headers.get('referrer-policy')).toBe('no-referrer');
    const redirect = new URL(done.location ?? '');
    // No member yet: the signup redirect URL.
    expect(redirect.origin + redirect.pathname).toBe(SIGNUP);
    expect(redirect.searchParams.get('stytch_token_type')).toBe('sso');
    const token = redirect.searchParams.get('token') ?? '';

    expect(await storedProof(server, redirect.href)).toEqual({
      protocol: 'oidc',
      connectionId: connection.connectionId,
      subject: 'ann-1',
      emailAddress: 'ann@acme.com',
      name: 'Ann Smith',
      groups: ['engineering', 'admins'],
      attributes: { sub: 'ann-1', email: 'Ann@Acme.com', email_verified: 'true', name: 'Ann Smith', groups: ['engineering', 'admins'] },
    });
    const events = await server.server.store.audit.listEvents({ organizationId, limit: 10 });
    expect(events.find((event) => event.type === 'sso.idp_response_accepted')).toMatchObject({
      details: { connection_id: connection.connectionId, protocol: 'oidc', subject: 'ann-1', email_address: 'ann@acme.com' },
    });

    const signedIn = await server.client.sso.authenticate({ sso_token: token, session_duration_minutes: 60 });
    expect(signedIn.member).toMatchObject({ email_address: 'ann@acme.com', name: 'Ann Smith', organization_id: organizationId });
    expect(signedIn.member_session?.authentication_factors).toContainEqual(
      expect.objectContaining({ type: 'sso', delivery_method: 'sso_oidc', oidc_sso_factor: expect.objectContaining({ provider_id: connection.connectionId, external_id: 'ann-1' }) }),
    );
    // Single use.
    await expect(server.client.sso.authenticate({ sso_token: token })).rejects.toMatchObject({ error_type: 'sso_token_not_found' });

    // Ann again, another day: now a member, so the login redirect URL.
    const again = await signInAtIdp(idp, await startSignIn(server, connection.connectionId, { login_redirect_url: LOGIN, signup_redirect_url: SIGNUP }), {
      email: 'ann@acme.com',
      password: ANN.password,
    });
    const returning = new URL((await visit(again.href)).location ?? '');
    expect(returning.origin + returning.pathname).toBe(LOGIN);
    const second = await server.client.sso.authenticate({ sso_token: returning.searchParams.get('token') ?? '' });
    expect(second.member_id).toBe(signedIn.member_id);
  });

  it('takes the claims from the ID token alone when the connection has no userinfo URL, and asks only the scopes configured', async () => {
    const connection = await createOidcConnection(server, idp, organizationId, settingsOf(idp, { userinfoUrl: '', customScopes: '' }));
    const authorizationUrl = await startSignIn(server, connection.connectionId);
    expect(authorizationUrl.searchParams.get('scope')).toBe('openid email profile');
    const callback = await signInAtIdp(idp, authorizationUrl, { email: 'ann@acme.com', password: ANN.password });
    const done = await visit(callback.href);
    expect(done.status).toBe(302);
    // No `groups` scope asked, so the IdP asserted none.
    expect(await storedProof(server, done.location ?? '')).toMatchObject({ subject: 'ann-1', emailAddress: 'ann@acme.com', name: 'Ann Smith', groups: [] });
  });

  it('sends the code to the token endpoint with the PKCE verifier of the challenge and client_secret_basic', async () => {
    const connection = await updateOidcConnection(server, await createOidcConnection(server, idp, organizationId), {
      tokenUrl: scripted.tokenUrl,
      jwksUrl: scripted.jwksUrl,
      userinfoUrl: scripted.userinfoUrl,
    });
    const asked = (await startSignIn(server, connection.connectionId)).searchParams;
    scripted.answer({ claims: idTokenClaims(connection, asked.get('nonce') ?? '') });
    scripted.requests.length = 0;
    const callback = new URL(ssoCallbackUrl(server.baseUrl, connection.connectionId));
    callback.search = new URLSearchParams({ code: 'code-from-the-idp', state: asked.get('state') ?? '' }).toString();
    expect((await visit(callback.href)).status).toBe(302);

    const tokenRequest = scripted.requests.find((request) => request.path === '/token');
    expect(Object.fromEntries(tokenRequest?.form ?? [])).toEqual({
      grant_type: 'authorization_code',
      code: 'code-from-the-idp',
      redirect_uri: ssoCallbackUrl(server.baseUrl, connection.connectionId),
      code_verifier: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
    });
    expect(hash('sha256', tokenRequest?.form.get('code_verifier') ?? '', 'base64url')).toBe(asked.get('code_challenge'));
    const [user, password] = Buffer.from((tokenRequest?.authorization ?? '').replace(/^Basic /, ''), 'base64').toString('utf8').split(':');
    expect(decodeURIComponent(user ?? '')).toBe(connection.clientId);
    expect(password).not.toBe('');
    expect(scripted.requests.map((request) => request.path)).toEqual(['/token', '/jwks', '/me']);
  });

  it("maps the IdP's claims by attribute_mapping, and falls back to given_name and family_name", async () => {
    const mapped = await updateOidcConnection(server, await createOidcConnection(server, idp, organizationId), {
      tokenUrl: scripted.tokenUrl,
      jwksUrl: scripted.jwksUrl,
      userinfoUrl: '',
      attributeMapping: { email: 'mail', full_name: 'display', groups: 'roles', department: 'dept' },
    });
    const claims = { sub: 'bob-7', mail: 'Bob@Acme.com', display: 'Bob Builder', roles: ['builders'], dept: 'R&D', email: 'other@acme.com', name: 'Not this' };
    const proof = await signInScripted(mapped, claims);
    expect(proof).toMatchObject({ subject: 'bob-7', emailAddress: 'bob@acme.com', name: 'Bob Builder', groups: ['builders'] });
    expect(proof.attributes).toMatchObject({ department: 'R&D', dept: 'R&D', roles: ['builders'] });
    expect(proof.attributes).not.toHaveProperty('nonce');

    const plain = await updateOidcConnection(server, await createOidcConnection(server, idp, organizationId), { tokenUrl: scripted.tokenUrl, jwksUrl: scripted.jwksUrl, userinfoUrl: '' });
    const split = await signInScripted(plain, { sub: 'cy-1', email: 'cy@acme.com', name: undefined, given_name: 'Cy', family_name: 'Young', groups: 'pitchers' });
    expect(split).toMatchObject({ emailAddress: 'cy@acme.com', name: 'Cy Young', groups: ['pitchers'] });
  });

  it("checks the ID token's times by Understudy's clock, not the machine's", async () => {
    const clock = new ManualClock('2031-03-01T12:00:00Z');
    const later = await startTestServer({ store, clock });
    try {
      const connection = await updateOidcConnection(later, await createOidcConnection(later, idp, await createOrganization(later, `oidc-clock-${store}`)), {
        tokenUrl: scripted.tokenUrl,
        jwksUrl: scripted.jwksUrl,
        userinfoUrl: '',
      });
      const callbackFor = async (times: { iat: number; exp: number }) => {
        const asked = (await startSignIn(later, connection.connectionId)).searchParams;
        scripted.answer({ claims: idTokenClaims(connection, asked.get('nonce') ?? '', { ...times }) });
        const callback = new URL(ssoCallbackUrl(later.baseUrl, connection.connectionId));
        callback.search = new URLSearchParams({ code: 'scripted-code', state: asked.get('state') ?? '' }).toString();
        return visit(callback.href);
      };
      const clockSeconds = Math.floor(clock.now().getTime() / 1000);
      const machineSeconds = Math.floor(Date.now() / 1000);
      // Valid in 2031, though the machine's clock would call it not issued yet: accepted.
      expect((await callbackFor({ iat: clockSeconds - 10, exp: clockSeconds + 300 })).status).toBe(302);
      // Valid by the machine's clock, long expired in 2031: refused.
      const stale = await callbackFor({ iat: machineSeconds - 10, exp: machineSeconds + 300 });
      expect(stale.status).toBe(400);
      expect(JSON.parse(stale.body)).toMatchObject({ error_type: 'id_token_expired' });
    } finally {
      await later.stop();
    }
  });

  async function signInScripted(connection: Parameters<typeof idTokenClaims>[0], claims: Record<string, unknown>): Promise<SsoProof> {
    const asked = (await startSignIn(server, connection.connectionId)).searchParams;
    scripted.answer({ claims: idTokenClaims(connection, asked.get('nonce') ?? '', claims) });
    const callback = new URL(ssoCallbackUrl(server.baseUrl, connection.connectionId));
    callback.search = new URLSearchParams({ code: 'scripted-code', state: asked.get('state') ?? '' }).toString();
    const done = await visit(callback.href);
    expect(done.status, done.body).toBe(302);
    return storedProof(server, done.location ?? '');
  }
});
