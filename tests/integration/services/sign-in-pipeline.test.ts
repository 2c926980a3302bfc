import { createHash } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import { encodeAuthOutcome } from '../../../src/api/sessions/encode-auth-outcome.js';
import type { StoredSigningKey } from '../../../src/crypto/keys/signing-keys-store.js';
import type { AuditEvent } from '../../../src/domain/audit/audit-event.js';
import type { OperationContext } from '../../../src/domain/common/operation-context.js';
import type { Member } from '../../../src/domain/members/member.js';
import type { Organization } from '../../../src/domain/organizations/organization.js';
import type { AuthenticationFactor } from '../../../src/domain/sessions/session.js';
import type { AuthOutcome, IntermediateSessionIssued } from '../../../src/domain/sessions/sign-in/auth-outcome.js';
import type { SignInOptions } from '../../../src/domain/sessions/sign-in/pipeline.js';
import type { SignInVerifier } from '../../../src/domain/sessions/sign-in/verifier.js';
import { emailFactor, givenFactor, issuedSession } from '../../support/sessions.js';
import { STORES } from '../../support/stores.js';
import { CONTEXT, START, auditTrail, domainErrorCode, footprint, useServices, type ServiceHarness } from './service-harness.js';

const MINUTE = 60_000;
const CLIENT_CONTEXT: OperationContext = { ...CONTEXT, client: { ipAddress: '198.51.100.4', userAgent: 'test-agent/2.0' } };

function later(milliseconds: number): string {
  return new Date(new Date(START).getTime() + milliseconds).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** A second factor, as an authenticator-app sign-in would add it. */
function totpFactor(at: string): AuthenticationFactor {
  return { type: 'totp', deliveryMethod: 'authenticator_app', createdAt: at, lastAuthenticatedAt: at, updatedAt: at, detail: { name: 'authenticator_app_factor', fields: { totp_id: 'totp-test-1' } } };
}

/** A primary sign-in method for ada (satisfies no MFA), counting how often it ran. */
function primary(member: Member, organization: Organization, at = START): SignInVerifier<unknown> & { readonly verify: ReturnType<typeof vi.fn> } {
  const verifier = givenFactor(member, organization, emailFactor(member.emailAddress, at), { satisfiesMfa: false });
  return { verify: vi.fn(verifier.verify) };
}

/** A second-factor sign-in method, whose factor satisfies MFA. */
function secondFactor(member: Member, organization: Organization, at = START): SignInVerifier<unknown> {
  return givenFactor(member, organization, totpFactor(at), { satisfiesMfa: true });
}

function intermediate(outcome: AuthOutcome): IntermediateSessionIssued {
  if (outcome.memberAuthenticated) throw new Error('expected an intermediate session, got a member session');
  return outcome;
}

/** Generating an RSA key takes ~100 ms, so the first test's key is reused (it is sealed under the harness's master key). */
let sharedSigningKey: StoredSigningKey | undefined;

describe.each(STORES)('SignInPipeline on $name', (factory) => {
  const harness = useServices(factory);

  /** A signing key, organization `acme` (with `settings`) and its members ada and bob. */
  async function setup(settings: { mfaPolicy?: string } = {}): Promise<{ h: ServiceHarness; organization: Organization; member: Member; bob: Member }> {
    const h = harness();
    if (sharedSigningKey !== undefined) await h.store.signingKeys.insertSigningKey(sharedSigningKey);
    await h.services.keystore.ensureSigningKey();
    sharedSigningKey ??= (await h.store.signingKeys.listSigningKeys())[0];
    await h.organizations.create(CONTEXT, { organizationName: 'Acme', organizationSlug: 'acme', ...settings });
    const { member, organization } = await h.members.create(CONTEXT, 'acme', { emailAddress: 'ada@acme.example' });
    const bob = (await h.members.create(CONTEXT, 'acme', { emailAddress: 'bob@acme.example' })).member;
    return { h, organization, member, bob };
  }

  function signIn(h: ServiceHarness, verifier: SignInVerifier<unknown>, options?: SignInOptions) {
    return h.services.signIn.signIn(CLIENT_CONTEXT, verifier, options);
  }

  async function events(h: ServiceHarness, type: AuditEvent['type']): Promise<AuditEvent[]> {
    return (await auditTrail(h.store)).filter((event) => event.type === type);
  }

  describe('starting a session', () => {
    it("writes the session and a session.started event in the pipeline's transaction; the token is stored only as lookup id and digest", async () => {
      const { h, organization, member } = await setup();
      const { session, sessionToken, sessionJwt } = issuedSession(await signIn(h, givenFactor(member, organization, emailFactor(member.emailAddress, START))));
      const id = session.memberSessionId;
      expect(session).toMatchObject({
        memberId: member.memberId,
        organizationId: organization.organizationId,
        startedAt: START,
        lastAccessedAt: START,
        expiresAt: later(60 * MINUTE),
        attributes: { ipAddress: '198.51.100.4', userAgent: 'test-agent/2.0' },
        roles: ['stytch_member'],
        revokedAt: null,
      });
      expect(sessionToken).toMatch(/^[A-Za-z0-9_-]{44}$/);
      expect(sessionJwt.split('.')).toHaveLength(3);
      const stored = await h.store.sessions.findSessionByTokenLookupId(sessionToken.slice(0, 12));
      expect(stored?.session).toEqual(session);
      expect(stored?.tokenDigest.equals(createHash('sha256').update(sessionToken).digest())).toBe(true);
      expect(await events(h, 'session.started')).toEqual([
        expect.objectContaining({
          requestId: CONTEXT.requestId,
          organizationId: organization.organizationId,
          memberId: member.memberId,
          occurredAt: START,
          details: { member_session_id: id, factor: 'magic_link', expires_at: later(60 * MINUTE) },
        }),
      ]);
    });

    it("leaves no session and no event when the sign-in's transaction rolls back after the session was written", async () => {
      const { h, organization, member } = await setup();
      const before = await footprint(h.store);
      const failure = new Error('sign-in failed after the session was started');
      const verifier: SignInVerifier<unknown> = {
        verify: async () => ({
          member,
          organization,
          factor: emailFactor(member.emailAddress, START),
          onSession: async () => {
            throw failure;
          },
        }),
      };
      await expect(signIn(h, verifier)).rejects.toBe(failure);
      expect(await footprint(h.store)).toEqual(before);
      expect(await h.store.sessions.listLiveSessions(organization.organizationId, member.memberId, START)).toEqual([]);
    });

    it.each([
      [{ sessionDurationMinutes: 4 }, 'invalid_session_duration_minutes'],
      [{ sessionDurationMinutes: 527_041 }, 'invalid_session_duration_minutes'],
      [{ sessionDurationMinutes: 30.5 }, 'invalid_session_duration_minutes'],
      [{ sessionCustomClaims: { act: { sub: 'forged' } } }, 'reserved_claims_in_custom_claims'],
      [{ sessionCustomClaims: { 'https://stytch.com/session': {} } }, 'stytch_claims_in_custom_claims'],
      [{ sessionCustomClaims: { blob: 'x'.repeat(4100) } }, 'custom_claims_too_large'],
      [{ sessionToken: 'x'.repeat(44), sessionJwt: 'a.b.c' }, 'too_many_session_arguments'],
      [{ sessionToken: 'x'.repeat(44), intermediateSessionToken: 'y'.repeat(44) }, 'too_many_session_arguments'],
      [{ sessionToken: 'x'.repeat(44) }, 'session_not_found'],
      [{ sessionJwt: 'not.a.jwt' }, 'unable_to_parse_session_jwt'],
      [{ intermediateSessionToken: 'y'.repeat(44) }, 'intermediate_session_not_found'],
      [{ intermediateSessionToken: 'short' }, 'intermediate_session_not_found'],
    ] satisfies [SignInOptions, string][])('refuses %o with %s before the credential is verified, writing nothing', async (options, code) => {
      const { h, organization, member } = await setup();
      const before = await footprint(h.store);
      const verifier = primary(member, organization);
      expect(await domainErrorCode(signIn(h, verifier, options))).toBe(code);
      expect(verifier.verify).not.toHaveBeenCalled();
      expect(await footprint(h.store)).toEqual(before);
      expect(await h.store.sessions.listLiveSessions(organization.organizationId, member.memberId, START)).toEqual([]);
    });

    it('refuses a deleted member, starting nothing', async () => {
      const { h, organization, member } = await setup();
      const deleted: Member = { ...member, status: 'deleted' };
      expect(await domainErrorCode(signIn(h, givenFactor(deleted, organization, emailFactor(member.emailAddress, START))))).toBe('member_not_found');
      expect(await h.store.sessions.listLiveSessions(organization.organizationId, member.memberId, START)).toEqual([]);
    });
  });

  describe('with an existing session', () => {
    it('adds the factor to a live session of the same member (by token or JWT), extends it and merges claims, starting none', async () => {
      const { h, organization, member } = await setup();
      const first = issuedSession(await signIn(h, givenFactor(member, organization, emailFactor(member.emailAddress, START)), { sessionCustomClaims: { plan: 'pro' } }));
      h.clock.advance(10 * MINUTE);
      const byToken = issuedSession(
        await signIn(h, secondFactor(member, organization, later(10 * MINUTE)), { sessionToken: first.sessionToken, sessionDurationMinutes: 120, sessionCustomClaims: { team: 'blue' } }),
      );
      expect(byToken.sessionToken).toBe(first.sessionToken);
      expect(byToken.session).toMatchObject({ memberSessionId: first.session.memberSessionId, expiresAt: later(130 * MINUTE), customClaims: { plan: 'pro', team: 'blue' } });
      expect(byToken.session.authenticationFactors.map((factor) => factor.type)).toEqual(['magic_link', 'totp']);
      expect((await h.store.sessions.findSessionById(first.session.memberSessionId))?.session).toEqual(byToken.session);
      // The same type and delivery method again refreshes its entry instead of adding another.
      h.clock.advance(MINUTE);
      const byJwt = issuedSession(await signIn(h, givenFactor(member, organization, emailFactor(member.emailAddress, later(11 * MINUTE))), { sessionJwt: byToken.sessionJwt }));
      expect(byJwt.sessionToken).toBe('');
      expect(byJwt.session.authenticationFactors.map((factor) => [factor.type, factor.lastAuthenticatedAt])).toEqual([
        ['totp', later(10 * MINUTE)],
        ['magic_link', later(11 * MINUTE)],
      ]);
      expect(await h.store.sessions.listLiveSessions(organization.organizationId, member.memberId, later(11 * MINUTE))).toHaveLength(1);
      expect((await events(h, 'session.updated')).map((event) => event.details)).toEqual([
        { member_session_id: first.session.memberSessionId, added_factor: 'totp', expires_at: later(130 * MINUTE) },
        { member_session_id: first.session.memberSessionId, added_factor: 'magic_link', expires_at: later(130 * MINUTE) },
      ]);
    });

    it('adds the factor without an MFA step even where MFA is required for all', async () => {
      const { h, organization, member } = await setup({ mfaPolicy: 'REQUIRED_FOR_ALL' });
      const first = issuedSession(await signIn(h, givenFactor(member, organization, totpFactor(START))));
      const again = await signIn(h, primary(member, organization), { sessionToken: first.sessionToken });
      expect(again).toMatchObject({ memberAuthenticated: true, session: { memberSessionId: first.session.memberSessionId } });
      expect(await events(h, 'intermediate_session.started')).toEqual([]);
    });

    it("ignores another member's session: the verified member gets a session of their own", async () => {
      const { h, organization, member, bob } = await setup();
      const bobs = issuedSession(await signIn(h, givenFactor(bob, organization, emailFactor(bob.emailAddress, START))));
      const adas = issuedSession(await signIn(h, givenFactor(member, organization, emailFactor(member.emailAddress, START)), { sessionToken: bobs.sessionToken }));
      expect(adas.session.memberId).toBe(member.memberId);
      expect(adas.session.memberSessionId).not.toBe(bobs.session.memberSessionId);
      expect((await h.store.sessions.findSessionById(bobs.session.memberSessionId))?.session).toEqual(bobs.session);
    });

    it('refuses a session revoked after it was presented, rolling back everything the verifier wrote', async () => {
      const { h, organization, member } = await setup();
      const first = issuedSession(await signIn(h, givenFactor(member, organization, emailFactor(member.emailAddress, START))));
      // The revocation lands between the presented session's lookup and the pipeline's locked read of it.
      const revokesFirst: SignInVerifier<{ sessions: ServiceHarness['store']['sessions'] }> = {
        verify: async (tx) => {
          await tx.sessions.revokeSession(first.session.memberSessionId, START);
          return { member, organization, factor: totpFactor(START) };
        },
      };
      expect(await domainErrorCode(h.services.signIn.signIn(CLIENT_CONTEXT, revokesFirst, { sessionToken: first.sessionToken }))).toBe('session_not_found');
      expect((await h.store.sessions.findSessionById(first.session.memberSessionId))?.session).toEqual(first.session);
      expect(await events(h, 'session.updated')).toEqual([]);
    });
  });

  describe('MFA and intermediate sessions', () => {
    it('answers a primary factor in a REQUIRED_FOR_ALL organization with a 10-minute intermediate session, stored as lookup id and digest', async () => {
      const { h, organization, member } = await setup({ mfaPolicy: 'REQUIRED_FOR_ALL' });
      const outcome = intermediate(await signIn(h, primary(member, organization), { sessionDurationMinutes: 120, sessionCustomClaims: { ignored: true } }));
      expect(outcome).toMatchObject({ memberAuthenticated: false, intermediateSessionExpiresAt: later(10 * MINUTE), mfaRequired: { memberOptions: null, secondaryAuthInitiated: null } });
      expect(outcome.intermediateSessionToken).toMatch(/^[A-Za-z0-9_-]{44}$/);
      expect(await h.store.sessions.listLiveSessions(organization.organizationId, member.memberId, START)).toEqual([]);
      const stored = await h.store.sessions.findIntermediateSessionByTokenLookupId(outcome.intermediateSessionToken.slice(0, 12));
      expect(stored?.tokenDigest.equals(createHash('sha256').update(outcome.intermediateSessionToken).digest())).toBe(true);
      expect(stored?.intermediateSession).toMatchObject({ memberId: member.memberId, organizationId: organization.organizationId, createdAt: START, expiresAt: later(10 * MINUTE), consumedAt: null });
      expect(stored?.intermediateSession.authenticationFactors.map((factor) => factor.type)).toEqual(['magic_link']);
      expect(await events(h, 'intermediate_session.started')).toEqual([
        expect.objectContaining({
          memberId: member.memberId,
          details: { intermediate_session_id: stored?.intermediateSession.intermediateSessionId, factor: 'magic_link', expires_at: later(10 * MINUTE) },
        }),
      ]);
      expect(await events(h, 'session.started')).toEqual([]);
      expect(encodeAuthOutcome(outcome)).toMatchObject({
        member_id: member.memberId,
        organization_id: organization.organizationId,
        member_session: null,
        session_token: '',
        session_jwt: '',
        intermediate_session_token: outcome.intermediateSessionToken,
        member_authenticated: false,
        mfa_required: { member_options: null, secondary_auth_initiated: null },
      });
    });

    it("requires MFA of a member enrolled in it, listing their phone number as an option; a factor that satisfies MFA needs none", async () => {
      const { h, organization, member } = await setup();
      const enrolled = (await h.members.update(CONTEXT, 'acme', member.memberId, { mfaEnrolled: true, mfaPhoneNumber: '+12025550123' })).member;
      const outcome = intermediate(await signIn(h, primary(enrolled, organization)));
      expect(outcome.mfaRequired).toEqual({ memberOptions: { mfaPhoneNumber: '+12025550123', totpRegistrationId: '' }, secondaryAuthInitiated: null });
      expect(await signIn(h, secondFactor(enrolled, organization))).toMatchObject({ memberAuthenticated: true });
    });

    it('issues a session with both factors when a factor satisfying MFA comes with the intermediate session, and spends it', async () => {
      const { h, organization, member } = await setup({ mfaPolicy: 'REQUIRED_FOR_ALL' });
      const { intermediateSessionToken } = intermediate(await signIn(h, primary(member, organization)));
      const id = (await h.store.sessions.findIntermediateSessionByTokenLookupId(intermediateSessionToken.slice(0, 12)))?.intermediateSession.intermediateSessionId;
      h.clock.advance(2 * MINUTE);
      const session = issuedSession(await signIn(h, secondFactor(member, organization, later(2 * MINUTE)), { intermediateSessionToken, sessionDurationMinutes: 30 }));
      expect(session.session.authenticationFactors.map((factor) => factor.type)).toEqual(['magic_link', 'totp']);
      expect(session.session.expiresAt).toBe(later(32 * MINUTE));
      expect((await h.store.sessions.findIntermediateSessionByTokenLookupId(intermediateSessionToken.slice(0, 12)))?.intermediateSession.consumedAt).toBe(later(2 * MINUTE));
      expect((await events(h, 'session.started')).map((event) => event.details)).toEqual([
        { member_session_id: session.session.memberSessionId, factor: 'totp', expires_at: later(32 * MINUTE), intermediate_session_id: id },
      ]);
      const before = await footprint(h.store);
      expect(await domainErrorCode(signIn(h, secondFactor(member, organization), { intermediateSessionToken }))).toBe('intermediate_session_not_found');
      expect(await footprint(h.store)).toEqual(before);
    });

    it('lets exactly one of two concurrent exchanges of one intermediate session win', async () => {
      const { h, organization, member } = await setup({ mfaPolicy: 'REQUIRED_FOR_ALL' });
      const { intermediateSessionToken } = intermediate(await signIn(h, primary(member, organization)));
      const outcomes = await Promise.allSettled([1, 2].map(() => signIn(h, secondFactor(member, organization), { intermediateSessionToken })));
      expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(1);
      const refused = outcomes.find((outcome) => outcome.status === 'rejected');
      expect(await domainErrorCode(Promise.reject(refused?.reason))).toBe('intermediate_session_not_found');
      expect(await h.store.sessions.listLiveSessions(organization.organizationId, member.memberId, START)).toHaveLength(1);
      expect(await events(h, 'session.started')).toHaveLength(1);
    });

    it('refuses an intermediate session at its expiry, writing nothing', async () => {
      const { h, organization, member } = await setup({ mfaPolicy: 'REQUIRED_FOR_ALL' });
      const { intermediateSessionToken } = intermediate(await signIn(h, primary(member, organization)));
      h.clock.advance(10 * MINUTE);
      const before = await footprint(h.store);
      const verifier = primary(member, organization);
      expect(await domainErrorCode(signIn(h, verifier, { intermediateSessionToken }))).toBe('intermediate_session_not_found');
      expect(await domainErrorCode(signIn(h, secondFactor(member, organization), { intermediateSessionToken }))).toBe('intermediate_session_not_found');
      expect(verifier.verify).not.toHaveBeenCalled();
      expect(await footprint(h.store)).toEqual(before);
    });

    it('answers another primary factor with the same intermediate session token, its factors now both and its expiry unchanged', async () => {
      const { h, organization, member } = await setup({ mfaPolicy: 'REQUIRED_FOR_ALL' });
      const first = intermediate(await signIn(h, primary(member, organization)));
      h.clock.advance(MINUTE);
      const password: AuthenticationFactor = { type: 'password', deliveryMethod: 'knowledge', createdAt: later(MINUTE), lastAuthenticatedAt: later(MINUTE), updatedAt: later(MINUTE) };
      const second = intermediate(await signIn(h, givenFactor(member, organization, password, { satisfiesMfa: false }), { intermediateSessionToken: first.intermediateSessionToken }));
      expect(second.intermediateSessionToken).toBe(first.intermediateSessionToken);
      expect(second.intermediateSessionExpiresAt).toBe(later(10 * MINUTE));
      const stored = await h.store.sessions.findIntermediateSessionByTokenLookupId(first.intermediateSessionToken.slice(0, 12));
      expect(stored?.intermediateSession.authenticationFactors.map((factor) => factor.type)).toEqual(['magic_link', 'password']);
      expect((await events(h, 'intermediate_session.updated')).map((event) => event.details)).toEqual([
        { intermediate_session_id: stored?.intermediateSession.intermediateSessionId, added_factor: 'password' },
      ]);
      expect(await events(h, 'intermediate_session.started')).toHaveLength(1);
    });

    it("refuses another member's intermediate session, which stays usable by its own member", async () => {
      const { h, organization, member, bob } = await setup({ mfaPolicy: 'REQUIRED_FOR_ALL' });
      const { intermediateSessionToken } = intermediate(await signIn(h, primary(bob, organization)));
      const before = await footprint(h.store);
      expect(await domainErrorCode(signIn(h, secondFactor(member, organization), { intermediateSessionToken }))).toBe('invalid_intermediate_session_token_for_organization');
      expect(await footprint(h.store)).toEqual(before);
      expect(await signIn(h, secondFactor(bob, organization), { intermediateSessionToken })).toMatchObject({ memberAuthenticated: true, session: { memberId: bob.memberId } });
    });

    it('ends a member’s intermediate sessions when the member is deleted or changes address (even keeping sessions), and with the organization', async () => {
      const { h, organization, member, bob } = await setup({ mfaPolicy: 'REQUIRED_FOR_ALL' });
      const adas = intermediate(await signIn(h, primary(member, organization)));
      const bobs = intermediate(await signIn(h, primary(bob, organization)));
      await h.members.update(CONTEXT, 'acme', member.memberId, { emailAddress: 'ada@new.acme.example', preserveExistingSessions: true });
      expect(await domainErrorCode(signIn(h, secondFactor(member, organization), { intermediateSessionToken: adas.intermediateSessionToken }))).toBe('intermediate_session_not_found');
      await h.members.delete(CONTEXT, 'acme', bob.memberId);
      expect(await h.store.sessions.findIntermediateSessionByTokenLookupId(bobs.intermediateSessionToken.slice(0, 12))).toBeUndefined();
      const again = intermediate(await signIn(h, primary({ ...member, emailAddress: 'ada@new.acme.example' }, organization)));
      await h.organizations.delete(CONTEXT, 'acme');
      expect(await h.store.sessions.findIntermediateSessionByTokenLookupId(again.intermediateSessionToken.slice(0, 12))).toBeUndefined();
    });

    it('issues the session once the organization no longer requires MFA, spending the intermediate session', async () => {
      const { h, organization, member } = await setup({ mfaPolicy: 'REQUIRED_FOR_ALL' });
      const { intermediateSessionToken } = intermediate(await signIn(h, primary(member, organization)));
      const relaxed = await h.organizations.update(CONTEXT, 'acme', { mfaPolicy: 'OPTIONAL' });
      const password: AuthenticationFactor = { type: 'password', deliveryMethod: 'knowledge', createdAt: START, lastAuthenticatedAt: START, updatedAt: START };
      const session = issuedSession(await signIn(h, givenFactor(member, relaxed, password, { satisfiesMfa: false }), { intermediateSessionToken }));
      expect(session.session.authenticationFactors.map((factor) => factor.type)).toEqual(['magic_link', 'password']);
      expect((await h.store.sessions.findIntermediateSessionByTokenLookupId(intermediateSessionToken.slice(0, 12)))?.intermediateSession.consumedAt).toBe(START);
    });
  });
});
