import { randomUUID } from 'node:crypto';
import { generateKeyPair, SignJWT, type JWTPayload } from 'jose';
import { type B2BClient, ClientError } from 'stytch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectStytchRejection, expectToMatchResponseSchema } from '../../support/openapi.js';
import { startSdkTarget, type SdkTarget } from '../../support/sdk-targets.js';
import { STORES } from '../../support/stores.js';
import { idPattern } from '../../support/wire-formats.js';
import {
  AUTHENTICATE,
  authenticateToken,
  type Cast,
  createCast,
  decodeSessionJwt,
  JWKS,
  liveSessions,
  SESSION_NOT_FOUND,
  startSession,
  UNPARSABLE_JWT,
} from './session-fixtures.js';

/**
 * Session JWTs through the official SDK: the public JWKS, local verification with jose, the remote
 * fallback, and forged tokens. Real time throughout: jose checks `exp` against the real clock.
 */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi'];

function base64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

for (const store of STORES) {
  describe(`client.sessions JWTs (${store.name})`, () => {
    let target: SdkTarget;
    let client: B2BClient;
    let cast: Cast;

    beforeAll(async () => {
      target = await startSdkTarget(store.name, 'http');
      client = target.client;
      cast = await createCast(client);
    });
    afterAll(async () => target?.stop());

    /** Signs `payload` with the server's own current signing key, as only the server could. */
    async function signWithServerKey(payload: JWTPayload): Promise<string> {
      const key = await target.server.server.app.services.keystore.signingKey();
      return new SignJWT(payload).setProtectedHeader({ alg: 'RS256', kid: key.kid, typ: 'JWT' }).sign(key.privateKey);
    }

    it('getJWKS publishes the RSA verification key of every session JWT, and no private key member', async () => {
      const response = await client.sessions.getJWKS({ project_id: target.server.projectId });
      expectToMatchResponseSchema('get', JWKS, response);
      expect(response.keys.length).toBeGreaterThanOrEqual(1);
      for (const key of response.keys) {
        expect(key).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig', key_ops: ['verify'], e: 'AQAB' });
        expect(key.kid).toMatch(idPattern('jwk'));
        expect(Buffer.from(key.n, 'base64url').length).toBeGreaterThanOrEqual(256);
        for (const member of PRIVATE_MEMBERS) expect(key).not.toHaveProperty(member);
      }
      const started = await startSession(target.server, cast.member);
      expect(response.keys.map((key) => key.kid)).toContain(decodeSessionJwt(started.sessionJwt).header.kid);
    });

    it('GET /v1/b2b/sessions/jwks/<project_id> answers 200 without credentials; another project id is 404', async () => {
      const url = `${target.server.baseUrl}/v1/b2b/sessions/jwks/${target.server.projectId}`;
      const response = await fetch(url);
      expect(response.status).toBe(200);
      const body = (await response.json()) as { keys: Record<string, unknown>[] };
      expectToMatchResponseSchema('get', JWKS, body);
      const viaSdk = await client.sessions.getJWKS({ project_id: target.server.projectId });
      expect(body.keys).toEqual(viaSdk.keys);
      for (const key of body.keys) for (const member of PRIVATE_MEMBERS) expect(key).not.toHaveProperty(member);
      const other = await fetch(`${target.server.baseUrl}/v1/b2b/sessions/jwks/project-test-00000000-0000-4000-8000-000000000000`);
      expect(other.status).toBe(404);
      expect(await other.json()).not.toHaveProperty('keys');
      await expectStytchRejection(client.sessions.getJWKS({ project_id: 'project-test-00000000-0000-4000-8000-000000000000' }), {
        status: 404,
        errorType: 'route_not_found',
      });
    });

    it('authenticateJwtLocal verifies through the JWKS and returns the session rebuilt from the claims, custom claims included', async () => {
      const started = await startSession(target.server, cast.admin, { customClaims: { team: 'red', tier: 2 } });
      const remote = await authenticateToken(client, started.sessionToken);
      const local = await client.sessions.authenticateJwtLocal({ session_jwt: started.sessionJwt });
      const { expires_at: localExpiry, ...localRest } = local;
      const { expires_at: remoteExpiry, ...remoteRest } = remote.member_session;
      expect(localRest).toEqual(remoteRest);
      expect(localRest.custom_claims).toEqual({ team: 'red', tier: 2 });
      expect(localRest.roles).toEqual(['stytch_member', 'stytch_admin']);
      expect(Date.parse(localExpiry)).toBe(Date.parse(remoteExpiry));
    });

    it('authenticateJwt verifies locally, and with max_token_age_seconds 0 goes to the server, which applies custom claims', async () => {
      const started = await startSession(target.server, cast.member);
      const local = await client.sessions.authenticateJwt({ session_jwt: started.sessionJwt });
      // The local answer is built by the SDK alone: no request id, the same JWT back.
      expect(local).not.toHaveProperty('request_id');
      expect(local.session_jwt).toBe(started.sessionJwt);
      expect(local.member_session.member_session_id).toBe(started.memberSessionId);
      const remote = await client.sessions.authenticateJwt({ session_jwt: started.sessionJwt, max_token_age_seconds: 0, session_custom_claims: { plan: 'pro' } });
      expectToMatchResponseSchema('post', AUTHENTICATE, remote);
      expect(remote).toMatchObject({ status_code: 200, session_token: '', member: { member_id: cast.member.member_id } });
      expect(remote.member_session.custom_claims).toEqual({ plan: 'pro' });
      const reread = await client.sessions.authenticateJwtLocal({ session_jwt: remote.session_jwt });
      expect(reread.custom_claims).toEqual({ plan: 'pro' });
      expect(decodeSessionJwt(remote.session_jwt).payload.plan).toBe('pro');
    });

    it('a revoked session fails remotely with session_not_found while authenticateJwtLocal still accepts its JWT until exp (Stytch behaviour)', async () => {
      const started = await startSession(target.server, cast.member);
      await client.sessions.revoke({ member_session_id: started.memberSessionId });
      await expectStytchRejection(client.sessions.authenticate({ session_jwt: started.sessionJwt }), SESSION_NOT_FOUND);
      await expectStytchRejection(client.sessions.authenticateJwt({ session_jwt: started.sessionJwt, max_token_age_seconds: 0 }), SESSION_NOT_FOUND);
      const local = await client.sessions.authenticateJwtLocal({ session_jwt: started.sessionJwt });
      expect(local.member_session_id).toBe(started.memberSessionId);
      const viaLocalPath = await client.sessions.authenticateJwt({ session_jwt: started.sessionJwt });
      expect(viaLocalPath.member_session.member_session_id).toBe(started.memberSessionId);
    });

    it('authenticateJwt falls back to the server when local verification fails, and the server refuses a forged JWT', async () => {
      const started = await startSession(target.server, cast.member);
      const [header, , signature] = started.sessionJwt.split('.');
      const forged = `${header}.${base64url({ ...decodeSessionJwt(started.sessionJwt).payload, tier: 'gold' })}.${signature}`;
      const localFailure = await client.sessions.authenticateJwtLocal({ session_jwt: forged }).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(localFailure).toBeInstanceOf(ClientError);
      expect((localFailure as ClientError).code).toBe('jwt_invalid');
      await expectStytchRejection(client.sessions.authenticateJwt({ session_jwt: forged }), UNPARSABLE_JWT);
    });

    it('sessions.authenticate refuses tampered, unsigned, foreign and garbage JWTs, and none of them changes anything', async () => {
      const started = await startSession(target.server, cast.admin, { customClaims: { team: 'red' } });
      const before = await liveSessions(client, cast.admin);
      const { payload } = decodeSessionJwt(started.sessionJwt);
      const [header, , signature] = started.sessionJwt.split('.');
      const tampered = `${header}.${base64url({ ...payload, team: 'blue' })}.${signature}`;
      const unsigned = `${base64url({ alg: 'none', typ: 'JWT' })}.${base64url(payload)}.`;
      const unsignedWithKid = `${base64url({ alg: 'none', typ: 'JWT', kid: decodeSessionJwt(started.sessionJwt).header.kid })}.${base64url(payload)}.`;
      const { privateKey } = await generateKeyPair('RS256');
      const foreign = await new SignJWT(payload).setProtectedHeader({ alg: 'RS256', kid: `jwk-test-${randomUUID()}`, typ: 'JWT' }).sign(privateKey);
      const impostor = await new SignJWT(payload).setProtectedHeader({ alg: 'RS256', kid: decodeSessionJwt(started.sessionJwt).header.kid, typ: 'JWT' }).sign(privateKey);
      const garbage = ['garbage', 'a.b.c', 'eyJhbGciOiJSUzI1NiJ9.e30.', `${header}.${signature}`, `${started.sessionJwt}x`];
      for (const jwt of [tampered, unsigned, unsignedWithKid, foreign, impostor, ...garbage]) {
        await expectStytchRejection(client.sessions.authenticate({ session_jwt: jwt }), UNPARSABLE_JWT);
        await expectStytchRejection(client.sessions.authenticate({ session_jwt: jwt, session_duration_minutes: 600, session_custom_claims: { team: 'x' } }), UNPARSABLE_JWT);
      }
      const wrongIssuer = await signWithServerKey({ ...payload, iss: 'stytch.com/project-test-00000000-0000-4000-8000-000000000000' });
      await expectStytchRejection(client.sessions.authenticate({ session_jwt: wrongIssuer }), { status: 401, errorType: 'jwt_invalid_issuer' });
      const wrongAudience = await signWithServerKey({ ...payload, aud: ['project-test-00000000-0000-4000-8000-000000000000'] });
      await expectStytchRejection(client.sessions.authenticate({ session_jwt: wrongAudience }), { status: 401, errorType: 'jwt_invalid_audience' });
      // Even the server's own key cannot lend a session to another member.
      const otherSubject = await signWithServerKey({ ...payload, sub: cast.member.member_id });
      await expectStytchRejection(client.sessions.authenticate({ session_jwt: otherSubject, session_duration_minutes: 600 }), SESSION_NOT_FOUND);
      expect(await liveSessions(client, cast.admin)).toEqual(before);
      const after = await authenticateToken(client, started.sessionToken);
      expect(after.member_session.custom_claims).toEqual({ team: 'red' });
    });
  });
}
