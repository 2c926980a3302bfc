import { decodeJwt, decodeProtectedHeader } from 'jose';
import { describe, expect, it } from 'vitest';
import type { StoredSigningKey } from '../../../src/crypto/keys/signing-keys-store.js';
import type { AuditEvent } from '../../../src/domain/audit/audit-event.js';
import type { Member } from '../../../src/domain/members/member.js';
import type { Organization } from '../../../src/domain/organizations/organization.js';
import type { OperationContext } from '../../../src/domain/common/operation-context.js';
import type { AuthenticationFactor } from '../../../src/domain/sessions/session.js';
import type { AuthenticateSessionInput } from '../../../src/domain/sessions/sessions-service.js';
import { STORES } from '../../support/stores.js';
import { emailFactor, givenFactor, issuedSession } from '../../support/sessions.js';
import { CONTEXT, START, auditTrail, domainErrorCode, footprint, useServices, type ServiceHarness } from './service-harness.js';

const MINUTE = 60_000;
const PROJECT_ID = 'project-test-00000000-0000-4000-8000-0000000000bb';
const CLIENT_CONTEXT: OperationContext = { ...CONTEXT, client: { ipAddress: '198.51.100.4', userAgent: 'test-agent/2.0' } };
const IMPERSONATED: AuthenticationFactor = {
  type: 'impersonated',
  deliveryMethod: 'impersonation',
  createdAt: START,
  lastAuthenticatedAt: START,
  updatedAt: START,
  detail: { name: 'impersonated_factor', fields: { impersonator_id: 'user-test-support-1', impersonator_email_address: 'support@vendor.example' } },
};

function later(milliseconds: number): string {
  return new Date(new Date(START).getTime() + milliseconds).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Generating an RSA key takes ~100 ms, so the first test's key is reused (it is sealed under the harness's master key). */
let sharedSigningKey: StoredSigningKey | undefined;

describe.each(STORES)('SessionsService on $name', (factory) => {
  const harness = useServices(factory);

  /** A signing key, organization `acme` and member ada@acme.example. */
  async function setup(): Promise<{ h: ServiceHarness; organization: Organization; member: Member }> {
    const h = harness();
    if (sharedSigningKey !== undefined) await h.store.signingKeys.insertSigningKey(sharedSigningKey);
    await h.services.keystore.ensureSigningKey();
    sharedSigningKey ??= (await h.store.signingKeys.listSigningKeys())[0];
    await h.organizations.create(CONTEXT, { organizationName: 'Acme', organizationSlug: 'acme' });
    const { member, organization } = await h.members.create(CONTEXT, 'acme', { emailAddress: 'ada@acme.example' });
    return { h, organization, member };
  }

  /** Starts a session for ada through the sign-in pipeline and returns what a sign-in method would hand back. */
  async function start(options: { factor?: AuthenticationFactor; durationMinutes?: number; customClaims?: Record<string, unknown> } = {}) {
    const { h, organization, member } = await setup();
    const verifier = givenFactor(member, organization, options.factor ?? emailFactor(member.emailAddress, START));
    const started = issuedSession(
      await h.services.signIn.signIn(CLIENT_CONTEXT, verifier, { sessionDurationMinutes: options.durationMinutes, sessionCustomClaims: options.customClaims }),
    );
    const { session, sessionToken, sessionJwt } = started;
    return { h, organization, member, session, sessionToken, sessionJwt, id: session.memberSessionId };
  }

  async function events(h: ServiceHarness, type: AuditEvent['type']): Promise<AuditEvent[]> {
    return (await auditTrail(h.store)).filter((event) => event.type === type);
  }

  function authenticate(h: ServiceHarness, input: AuthenticateSessionInput) {
    return h.services.sessions.authenticate(CONTEXT, input);
  }

  describe('authenticate', () => {
    it('authenticates with the token (echoed back) and with the JWT (token ""), both answering with the session, member, organization and a JWT', async () => {
      const { h, organization, member, sessionToken, sessionJwt, id } = await start();
      const byToken = await authenticate(h, { sessionToken });
      expect(byToken).toMatchObject({ sessionToken, session: { memberSessionId: id }, member: { memberId: member.memberId }, organization });
      const byJwt = await authenticate(h, { sessionJwt });
      expect(byJwt).toMatchObject({ sessionToken: '', session: { memberSessionId: id } });
      const [key] = await h.store.signingKeys.listSigningKeys();
      expect(decodeProtectedHeader(byJwt.sessionJwt)).toEqual({ alg: 'RS256', kid: key?.kid, typ: 'JWT' });
      const claims = decodeJwt(byJwt.sessionJwt);
      expect(claims).toMatchObject({ iss: `stytch.com/${PROJECT_ID}`, aud: [PROJECT_ID], sub: member.memberId, 'https://stytch.com/session': { id } });
      expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBe(300);
      expect(claims.act).toBeUndefined();
    });

    it('refuses missing, doubled, unknown, forged and malformed credentials with their error types', async () => {
      const { h, sessionToken, sessionJwt } = await start();
      const forgedSecret = `${sessionToken.slice(0, 12)}${sessionToken.slice(12).startsWith('A') ? 'B' : 'A'}${sessionToken.slice(13)}`;
      expect(await domainErrorCode(authenticate(h, {}))).toBe('no_session_arguments');
      expect(await domainErrorCode(authenticate(h, { sessionToken, sessionJwt }))).toBe('too_many_session_arguments');
      expect(await domainErrorCode(authenticate(h, { sessionToken: 'x'.repeat(44) }))).toBe('session_not_found');
      expect(await domainErrorCode(authenticate(h, { sessionToken: forgedSecret }))).toBe('session_not_found');
      expect(await domainErrorCode(authenticate(h, { sessionToken: 'short' }))).toBe('session_not_found');
      expect(await domainErrorCode(authenticate(h, { sessionJwt: 'not.a.jwt' }))).toBe('unable_to_parse_session_jwt');
      const [header, payload, signature] = sessionJwt.split('.') as [string, string, string];
      const tampered = `${header}.${payload}.${signature.startsWith('A') ? 'B' : 'A'}${signature.slice(1)}`;
      expect(await domainErrorCode(authenticate(h, { sessionJwt: tampered }))).toBe('unable_to_parse_session_jwt');
    });

    it('extends the expiry from now for session_duration_minutes and records session.updated; refuses an invalid duration changing nothing', async () => {
      const { h, sessionToken, id } = await start();
      h.clock.advance(10 * MINUTE);
      const before = await footprint(h.store);
      for (const minutes of [4, 527_041, 7.5]) {
        expect(await domainErrorCode(authenticate(h, { sessionToken, sessionDurationMinutes: minutes }))).toBe('invalid_session_duration_minutes');
      }
      expect(await footprint(h.store)).toEqual(before);
      expect((await h.store.sessions.findSessionById(id))?.session.expiresAt).toBe(later(60 * MINUTE));
      const extended = await authenticate(h, { sessionToken, sessionDurationMinutes: 120 });
      expect(extended.session.expiresAt).toBe(later(130 * MINUTE));
      expect((await h.store.sessions.findSessionById(id))?.session.expiresAt).toBe(later(130 * MINUTE));
      expect(await events(h, 'session.updated')).toEqual([
        expect.objectContaining({ occurredAt: later(10 * MINUTE), details: { member_session_id: id, expires_at: later(130 * MINUTE) } }),
      ]);
    });

    it('merges custom claims (null deletes), puts them at the top level of the JWT and records session.updated', async () => {
      const { h, sessionToken, id } = await start({ customClaims: { plan: 'pro', keep: 1 } });
      const updated = await authenticate(h, { sessionToken, sessionCustomClaims: { plan: null, tier: { level: 2 } } });
      expect(updated.session.customClaims).toEqual({ keep: 1, tier: { level: 2 } });
      expect((await h.store.sessions.findSessionById(id))?.session.customClaims).toEqual({ keep: 1, tier: { level: 2 } });
      expect(decodeJwt(updated.sessionJwt)).toMatchObject({ keep: 1, tier: { level: 2 } });
      expect(decodeJwt(updated.sessionJwt).plan).toBeUndefined();
      expect(await events(h, 'session.updated')).toHaveLength(1);
    });

    it.each([
      ...['iss', 'sub', 'aud', 'exp', 'nbf', 'iat', 'jti', 'act', 'act_permissions'].map((name) => [{ [name]: 'x' }, 'reserved_claims_in_custom_claims'] as const),
      [{ 'https://stytch.com/organization': {} }, 'stytch_claims_in_custom_claims'] as const,
      [{ blob: 'x'.repeat(4100) }, 'custom_claims_too_large'] as const,
    ])('refuses custom claims %o with %s, changing nothing', async (claims, code) => {
      const { h, sessionToken, session } = await start({ customClaims: { kept: true } });
      const before = await footprint(h.store);
      expect(await domainErrorCode(authenticate(h, { sessionToken, sessionCustomClaims: claims }))).toBe(code);
      expect(await footprint(h.store)).toEqual(before);
      expect((await h.store.sessions.findSessionById(session.memberSessionId))?.session).toEqual(session);
    });

    it('records no session.updated for plain authentications, writes last_accessed_at at most once a minute', async () => {
      const { h, sessionToken, id } = await start();
      const lastAccess = async () => (await h.store.sessions.findSessionById(id))?.session.lastAccessedAt;
      const steps: [number, string][] = [[30_000, START], [61_000, later(61_000)], [90_000, later(61_000)], [120_000, later(61_000)], [122_000, later(122_000)]];
      for (const [at, expected] of steps) {
        h.clock.set(later(at));
        expect((await authenticate(h, { sessionToken })).session.lastAccessedAt).toBe(expected);
        expect(await lastAccess()).toBe(expected);
      }
      expect(await events(h, 'session.updated')).toEqual([]);
    });

    it('recomputes roles from the member current roles at each authentication, and a new JWT carries them', async () => {
      const { h, sessionToken, sessionJwt, member, id } = await start();
      await h.members.update(CONTEXT, 'acme', member.memberId, { roles: ['stytch_admin'] });
      const promoted = await authenticate(h, { sessionToken });
      expect(promoted.session.roles).toEqual(['stytch_member', 'stytch_admin']);
      expect((await h.store.sessions.findSessionById(id))?.session.roles).toEqual(['stytch_member', 'stytch_admin']);
      expect(promoted.sessionJwt).not.toBe(sessionJwt);
      expect(decodeJwt(promoted.sessionJwt)['https://stytch.com/session']).toMatchObject({ roles: ['stytch_member', 'stytch_admin'] });
      await h.members.update(CONTEXT, 'acme', member.memberId, { roles: [] });
      expect((await authenticate(h, { sessionToken })).session.roles).toEqual(['stytch_member']);
    });

    it('accepts a JWT past its 5-minute exp while the session lives, answering with a fresh JWT', async () => {
      const { h, sessionJwt, id } = await start();
      h.clock.advance(6 * MINUTE);
      const result = await authenticate(h, { sessionJwt });
      expect(result.session.memberSessionId).toBe(id);
      expect(result.sessionJwt).not.toBe(sessionJwt);
      expect(decodeJwt(result.sessionJwt).exp).toBe(Math.floor(new Date(later(11 * MINUTE)).getTime() / 1000));
    });
  });

  describe('JWT reuse', () => {
    it('hands out the identical JWT within a minute, a new one when the claims change', async () => {
      const { h, sessionToken, sessionJwt } = await start();
      h.clock.advance(20_000);
      const first = await authenticate(h, { sessionToken });
      h.clock.advance(39_000);
      const second = await authenticate(h, { sessionJwt });
      expect(first.sessionJwt).toBe(sessionJwt);
      expect(second.sessionJwt).toBe(sessionJwt);
      const withClaims = await authenticate(h, { sessionToken, sessionCustomClaims: { team: 'blue' } });
      expect(withClaims.sessionJwt).not.toBe(sessionJwt);
      expect((await authenticate(h, { sessionToken })).sessionJwt).toBe(withClaims.sessionJwt);
    });

    it('signs a new JWT for unchanged claims once the cached one has less than 2 of its 5 minutes left', async () => {
      const { h, sessionToken } = await start();
      const record = await authenticate(h, { sessionToken });
      h.clock.advance(180_000);
      expect(await h.services.sessions.issueJwt(record)).toBe(record.sessionJwt);
      h.clock.advance(1_000);
      const renewed = await h.services.sessions.issueJwt(record);
      expect(renewed).not.toBe(record.sessionJwt);
      expect(decodeJwt(renewed).iat).toBe(Math.floor(new Date(later(181_000)).getTime() / 1000));
      h.clock.advance(10_000);
      expect((await authenticate(h, { sessionToken })).sessionJwt).not.toBe(record.sessionJwt);
    });
  });

  describe('expiry, revocation and member changes', () => {
    it('stops authenticating at expires_at', async () => {
      const { h, sessionToken, sessionJwt } = await start({ durationMinutes: 5 });
      h.clock.set(later(5 * MINUTE - 1_000));
      await authenticate(h, { sessionToken });
      h.clock.set(later(5 * MINUTE));
      expect(await domainErrorCode(authenticate(h, { sessionToken }))).toBe('session_not_found');
      expect(await domainErrorCode(authenticate(h, { sessionJwt }))).toBe('session_not_found');
      expect(await domainErrorCode(h.services.sessions.revoke(CONTEXT, { sessionToken }))).toBe('session_not_found');
    });

    it.each(['memberSessionId', 'sessionToken', 'sessionJwt', 'memberId'] as const)(
      'revokes by %s: token and JWT stop working at once and session.revoked is recorded',
      async (by) => {
        const { h, sessionToken, sessionJwt, id, member } = await start();
        await authenticate(h, { sessionJwt });
        const input = { memberSessionId: id, sessionToken, sessionJwt, memberId: member.memberId }[by];
        await h.services.sessions.revoke(CONTEXT, { [by]: input });
        expect(await domainErrorCode(authenticate(h, { sessionToken }))).toBe('session_not_found');
        expect(await domainErrorCode(authenticate(h, { sessionJwt }))).toBe('session_not_found');
        expect(await events(h, 'session.revoked')).toEqual([
          expect.objectContaining({ memberId: member.memberId, occurredAt: START, details: { member_session_ids: [id] } }),
        ]);
        if (by !== 'memberId') expect(await domainErrorCode(h.services.sessions.revoke(CONTEXT, { [by]: input }))).toBe('session_not_found');
      },
    );

    it('refuses revoke without arguments or with two of them', async () => {
      const { h, id, sessionToken } = await start();
      expect(await domainErrorCode(h.services.sessions.revoke(CONTEXT, {}))).toBe('no_session_revoke_arguments');
      expect(await domainErrorCode(h.services.sessions.revoke(CONTEXT, { memberSessionId: id, sessionToken }))).toBe('too_many_session_revoke_arguments');
      await authenticate(h, { sessionToken });
    });

    it('revokes every session of a deleted member, recording session.revoked', async () => {
      const { h, member, organization, sessionToken, id } = await start();
      const second = issuedSession(await h.services.signIn.signIn(CONTEXT, givenFactor(member, organization, emailFactor(member.emailAddress, START))));
      await h.members.delete(CONTEXT, 'acme', member.memberId);
      expect(await domainErrorCode(authenticate(h, { sessionToken }))).toBe('session_not_found');
      const revoked = await events(h, 'session.revoked');
      expect(revoked.map((event) => [event.memberId, [...(event.details.member_session_ids as string[])].sort()])).toEqual([
        [member.memberId, [id, second.session.memberSessionId].sort()],
      ]);
    });

    it('refuses the sessions of a member marked deleted even before they are revoked', async () => {
      const { h, member, sessionToken, sessionJwt } = await start();
      await h.store.members.updateMember({ ...member, status: 'deleted' });
      expect(await domainErrorCode(authenticate(h, { sessionToken }))).toBe('session_not_found');
      expect(await domainErrorCode(authenticate(h, { sessionJwt }))).toBe('session_not_found');
    });

    it('revokes the sessions on an email change, unless preserveExistingSessions is true', async () => {
      const { h, member, sessionToken, id } = await start();
      await h.members.update(CONTEXT, 'acme', member.memberId, { emailAddress: 'ada.kept@acme.example', preserveExistingSessions: true });
      await authenticate(h, { sessionToken });
      expect(await events(h, 'session.revoked')).toEqual([]);
      await h.members.update(CONTEXT, 'acme', member.memberId, { emailAddress: 'ada.new@acme.example' });
      expect(await domainErrorCode(authenticate(h, { sessionToken }))).toBe('session_not_found');
      expect(await events(h, 'session.revoked')).toEqual([expect.objectContaining({ details: { member_session_ids: [id] } })]);
    });
  });

  describe('impersonated sessions', () => {
    it('keep their expiry whatever session_duration_minutes asks for, and their JWT carries act {sub, email}', async () => {
      const { h, sessionToken, sessionJwt, id } = await start({ factor: IMPERSONATED });
      expect(decodeJwt(sessionJwt).act).toEqual({ sub: 'user-test-support-1', email: 'support@vendor.example' });
      h.clock.advance(10 * MINUTE);
      for (const minutes of [5, 600]) {
        const result = await authenticate(h, { sessionToken, sessionDurationMinutes: minutes });
        expect(result.session.expiresAt).toBe(later(60 * MINUTE));
        expect(decodeJwt(result.sessionJwt).act).toEqual({ sub: 'user-test-support-1', email: 'support@vendor.example' });
      }
      expect((await h.store.sessions.findSessionById(id))?.session.expiresAt).toBe(later(60 * MINUTE));
      expect(await events(h, 'session.updated')).toEqual([]);
    });
  });
});
