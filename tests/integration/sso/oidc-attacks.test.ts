import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OidcConnection } from '../../../src/domain/sso/sso-connection.js';
import { ssoCallbackUrl } from '../../../src/domain/sso/sso-urls.js';
import { startOidcIdp, type OidcIdp } from '../../support/oidc-idp.js';
import { STORES } from '../../support/stores.js';
import { startTestServer, type TestServer } from '../../support/test-server.js';
import { openRecordProbe, type RecordProbe } from '../../support/write-probe.js';
import {
  createOidcConnection,
  createOrganization,
  idTokenClaims,
  signInAtIdp,
  startScriptedIdp,
  startSignIn,
  updateOidcConnection,
  visit,
  type ScriptedAnswer,
  type ScriptedIdp,
} from './oidc-flow.js';

const ANN = { sub: 'ann-1', email: 'ann@acme.com', password: 'correct horse battery', name: 'Ann Smith', groups: ['engineering'] };
const EVE = { sub: 'eve-1', email: 'eve@acme.com', password: 'unverified staple', name: 'Eve', emailVerified: false };

/*
 * Every hostile or broken answer at the OIDC callback is refused with a Stytch-shaped 4xx, writes
 * nothing (no SSO token, no member, no session, the sign-in still unspent) but one
 * `sso.idp_response_refused` audit event naming the error. The code exchange is attacked with the
 * real IdP where it can be (state, replay, PKCE); what an ID token may claim, with a scripted token
 * endpoint the connection is pointed at.
 */
describe.each(STORES)('OIDC sign-in refuses hostile answers ($name)', ({ name: store }) => {
  let server: TestServer;
  let idp: OidcIdp;
  let scripted: ScriptedIdp;
  let probe: RecordProbe;
  let organizationId: string;
  let otherOrganizationId: string;
  /** Signs in at the real IdP. */
  let connection: OidcConnection;
  /** The same IdP's issuer and client, its token endpoint (and keys, userinfo) replaced by the scripted one. */
  let hostile: OidcConnection;
  /** Another organization's connection to the real IdP. */
  let otherConnection: OidcConnection;

  beforeAll(async () => {
    server = await startTestServer({ store });
    idp = await startOidcIdp({ users: [ANN, EVE] });
    scripted = await startScriptedIdp();
    probe = await openRecordProbe(server);
    organizationId = await createOrganization(server, `oidc-attacks-${store}`);
    otherOrganizationId = await createOrganization(server, `oidc-attacks-other-${store}`);
    connection = await createOidcConnection(server, idp, organizationId);
    hostile = await updateOidcConnection(server, await createOidcConnection(server, idp, organizationId), {
      tokenUrl: scripted.tokenUrl,
      jwksUrl: scripted.jwksUrl,
      userinfoUrl: scripted.userinfoUrl,
    });
    otherConnection = await createOidcConnection(server, idp, otherOrganizationId);
  });
  afterAll(async () => {
    await probe?.close();
    await scripted?.stop();
    await idp?.stop();
    await server?.stop();
  });

  function callbackUrl(target: OidcConnection | string, parameters: Record<string, string>): string {
    const url = new URL(ssoCallbackUrl(server.baseUrl, typeof target === 'string' ? target : target.connectionId));
    url.search = new URLSearchParams(parameters).toString();
    return url.href;
  }

  /** The callback at `url` is refused with `errorType`, writing nothing but its audit event; answers the error body. */
  async function expectRefused(url: string, errorType: string, auditOrganizationId: string | null = organizationId): Promise<Record<string, unknown>> {
    const answer = await probe.expectOnlyRecords(['sso.idp_response_refused'], () => visit(url));
    expect(answer.status, answer.body).toBeGreaterThanOrEqual(400);
    expect(answer.status).toBeLessThan(500);
    expect(answer.location).toBeUndefined();
    const body = JSON.parse(answer.body) as Record<string, unknown>;
    expect(body).toEqual({
      status_code: answer.status,
      request_id: expect.any(String),
      error_type: errorType,
      error_message: expect.any(String),
      error_url: expect.any(String),
    });
    const [latest] = await server.server.store.audit.listEvents({ organizationId: null, limit: 1 });
    expect(latest).toMatchObject({ type: 'sso.idp_response_refused', organizationId: auditOrganizationId, details: { error_type: errorType } });
    return body;
  }

  /** A sign-in of the hostile connection started, the scripted endpoint set to answer `answer(nonce)`; the callback URL its IdP would send. */
  async function hostileCallback(answer: (nonce: string) => ScriptedAnswer): Promise<string> {
    const asked = (await startSignIn(server, hostile.connectionId)).searchParams;
    scripted.answer(answer(asked.get('nonce') ?? ''));
    return callbackUrl(hostile, { code: 'any-code', state: asked.get('state') ?? '' });
  }

  describe('state', () => {
    it('refuses a callback without state', async () => {
      await expectRefused(callbackUrl(connection, { code: 'a-code' }), 'missing_oidc_state_param');
    });

    it('refuses a forged state, and a real one altered', async () => {
      await expectRefused(callbackUrl(connection, { code: 'a-code', state: 'forged-state-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' }), 'missing_oidc_state_param');
      const state = (await startSignIn(server, connection.connectionId)).searchParams.get('state') ?? '';
      const altered = `${state.slice(0, -3)}${state.endsWith('AAA') ? 'BBB' : 'AAA'}`;
      await expectRefused(callbackUrl(connection, { code: 'a-code', state: altered }), 'missing_oidc_state_param');
    });

    it("refuses a code sent back with another sign-in's state: the IdP refuses the PKCE verifier derived from it", async () => {
      const victim = await signInAtIdp(idp, await startSignIn(server, connection.connectionId), { email: ANN.email, password: ANN.password });
      const otherState = (await startSignIn(server, connection.connectionId)).searchParams.get('state') ?? '';
      const body = await expectRefused(callbackUrl(connection, { code: victim.searchParams.get('code') ?? '', state: otherState }), 'oidc_auth_code_error');
      expect(body.error_message).toContain('invalid_grant');
    });

    it("refuses the state of a sign-in of another organization's connection", async () => {
      const started = await signInAtIdp(idp, await startSignIn(server, otherConnection.connectionId), { email: ANN.email, password: ANN.password });
      await expectRefused(callbackUrl(connection, Object.fromEntries(started.searchParams)), 'unsolicited_oidc_response');
    });

    it('refuses a replayed callback: the sign-in is spent', async () => {
      const callback = await signInAtIdp(idp, await startSignIn(server, connection.connectionId), { email: ANN.email, password: ANN.password });
      expect((await visit(callback.href)).status).toBe(302);
      await expectRefused(callback.href, 'expired_oidc_response');
    });
  });

  describe("the IdP's answer", () => {
    it('refuses an error answer (access_denied)', async () => {
      const state = (await startSignIn(server, connection.connectionId)).searchParams.get('state') ?? '';
      const body = await expectRefused(callbackUrl(connection, { error: 'access_denied', error_description: 'The user said no', state }), 'oidc_auth_code_error');
      expect(body.error_message).toContain('access_denied');
    });

    it('refuses an answer with neither code nor error', async () => {
      const state = (await startSignIn(server, connection.connectionId)).searchParams.get('state') ?? '';
      await expectRefused(callbackUrl(connection, { state }), 'oidc_invalid_callback_request');
    });

    it('refuses an answer naming another issuer (iss, a mix-up)', async () => {
      const callback = await signInAtIdp(idp, await startSignIn(server, connection.connectionId), { email: ANN.email, password: ANN.password });
      callback.searchParams.set('iss', 'https://attacker.example.com');
      await expectRefused(callback.href, 'oidc_invalid_callback_request');
    });

    it('refuses when the token endpoint refuses the code', async () => {
      const state = (await startSignIn(server, hostile.connectionId)).searchParams.get('state') ?? '';
      scripted.answer(undefined);
      await expectRefused(callbackUrl(hostile, { code: 'unknown-code', state }), 'oidc_auth_code_error');
    });

    it('refuses a member whose email address the IdP says is not verified', async () => {
      const callback = await signInAtIdp(idp, await startSignIn(server, connection.connectionId), { email: EVE.email, password: EVE.password });
      await expectRefused(callback.href, 'oidc_response_unverified_email');
    });
  });

  describe('the ID token', () => {
    it('refuses an ID token with another nonce', async () => {
      await expectRefused(await hostileCallback(() => ({ claims: idTokenClaims(hostile, 'another-sign-ins-nonce') })), 'id_token_nonce_invalid');
    });

    it('refuses an ID token without a nonce', async () => {
      await expectRefused(await hostileCallback(() => ({ claims: idTokenClaims(hostile, '', { nonce: undefined }) })), 'id_token_nonce_invalid');
    });

    it('refuses an ID token from another issuer', async () => {
      const body = await expectRefused(await hostileCallback((nonce) => ({ claims: idTokenClaims(hostile, nonce, { iss: 'https://attacker.example.com' }) })), 'id_token_invalid');
      expect(body.error_message).toContain('iss');
    });

    it('refuses an ID token for another audience', async () => {
      await expectRefused(await hostileCallback((nonce) => ({ claims: idTokenClaims(hostile, nonce, { aud: 'another-client' }) })), 'id_token_incorrect_audience');
      await expectRefused(await hostileCallback((nonce) => ({ claims: idTokenClaims(hostile, nonce, { aud: [hostile.clientId, 'another-client'] }) })), 'id_token_incorrect_audience');
    });

    it('refuses an ID token whose authorized party (azp) is another client, even with this client as its only audience', async () => {
      await expectRefused(await hostileCallback((nonce) => ({ claims: idTokenClaims(hostile, nonce, { azp: 'another-client' }) })), 'id_token_incorrect_audience');
    });

    it('refuses a subject that cannot be an id (a NUL character, more than 255 characters), before any token is issued', async () => {
      const nul = await expectRefused(await hostileCallback((nonce) => ({ claims: idTokenClaims(hostile, nonce, { sub: 'user\u0000admin' }) })), 'id_token_invalid');
      expect(nul.error_message).toContain('subject');
      await expectRefused(await hostileCallback((nonce) => ({ claims: idTokenClaims(hostile, nonce, { sub: 'x'.repeat(256) }) })), 'id_token_invalid');
    });

    it('refuses an expired ID token', async () => {
      const now = Math.floor(Date.now() / 1000);
      await expectRefused(await hostileCallback((nonce) => ({ claims: idTokenClaims(hostile, nonce, { iat: now - 600, exp: now - 120 }) })), 'id_token_expired');
    });

    it('refuses an ID token whose signature was tampered with', async () => {
      await expectRefused(await hostileCallback((nonce) => ({ claims: idTokenClaims(hostile, nonce), tamper: true })), 'id_token_invalid');
    });

    it('refuses an unsigned ID token (alg none)', async () => {
      await expectRefused(await hostileCallback((nonce) => ({ claims: idTokenClaims(hostile, nonce), unsigned: true })), 'id_token_invalid');
    });

    it("refuses an ID token signed by a key the IdP's JWKS does not hold", async () => {
      await expectRefused(await hostileCallback((nonce) => ({ claims: idTokenClaims(hostile, nonce), foreignKey: true })), 'id_token_invalid');
    });

    it('refuses an ID token without a subject, or without an email address', async () => {
      await expectRefused(await hostileCallback((nonce) => ({ claims: idTokenClaims(hostile, nonce, { sub: undefined }) })), 'oidc_response_subject_missing');
      await expectRefused(await hostileCallback((nonce) => ({ claims: idTokenClaims(hostile, nonce, { email: undefined }) })), 'oidc_response_email_missing');
    });

    it('refuses userinfo about another subject than the ID token', async () => {
      await expectRefused(
        await hostileCallback((nonce) => ({ claims: idTokenClaims(hostile, nonce), userinfo: { sub: 'someone-else', email: 'ceo@acme.com', email_verified: true } })),
        'oidc_invalid_userinfo',
      );
    });

    it('accepts the same scripted answer when nothing is wrong with it (the refusals above are about what they change)', async () => {
      const callback = await hostileCallback((nonce) => ({ claims: idTokenClaims(hostile, nonce) }));
      expect((await visit(callback)).status).toBe(302);
    });
  });

  it('refuses an answer at the callback of no connection, and records nothing (no connection to alert, no audit log to fill)', async () => {
    const answer = await probe.expectOnlyRecords([], () => visit(callbackUrl('oidc-connection-test-00000000-0000-4000-8000-000000000000', { code: 'a-code', state: 'a-state' })));
    expect(answer.status).toBe(404);
    expect(JSON.parse(answer.body)).toMatchObject({ status_code: 404, error_type: 'sso_connection_not_found' });
  });
});
