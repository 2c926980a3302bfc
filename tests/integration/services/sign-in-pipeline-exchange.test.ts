import { describe, expect, it } from 'vitest';
import { createOpaqueToken } from '../../../src/crypto/opaque-token.js';
import type { Member } from '../../../src/domain/members/member.js';
import type { Organization } from '../../../src/domain/organizations/organization.js';
import type { IntermediateSession } from '../../../src/domain/sessions/intermediate-session.js';
import type { AuthenticationFactor } from '../../../src/domain/sessions/session.js';
import type { AuthOutcome, IntermediateSessionIssued } from '../../../src/domain/sessions/sign-in/auth-outcome.js';
import type { SignInVerifier, VerifiedExchange } from '../../../src/domain/sessions/sign-in/verifier.js';
import { cryptoRandom } from '../../../src/platform/random.js';
import { emailFactor, givenFactor, issuedSession } from '../../support/sessions.js';
import { STORES } from '../../support/stores.js';
import { CONTEXT, START, domainErrorCode, footprint, useServices, type ServiceHarness } from './service-harness.js';

function intermediate(outcome: AuthOutcome): IntermediateSessionIssued {
  if (outcome.memberAuthenticated) throw new Error('expected an intermediate session, got a member session');
  return outcome;
}

function totpFactor(at: string): AuthenticationFactor {
  return { type: 'totp', deliveryMethod: 'authenticator_app', createdAt: at, lastAuthenticatedAt: at, updatedAt: at };
}

/**
 * The sign-in pipeline with intermediate sessions that belong to an address only (discovery), and
 * with exchanges (verifiers that move proofs into an organization instead of adding a factor).
 */
describe.each(STORES)('SignInPipeline: discovery intermediate sessions and exchanges on $name', (factory) => {
  const harness = useServices(factory);

  async function setup(settings: { mfaPolicy?: string } = {}): Promise<{ h: ServiceHarness; organization: Organization; ada: Member; bob: Member }> {
    const h = harness();
    await h.services.keystore.ensureSigningKey();
    await h.organizations.create(CONTEXT, { organizationName: 'Acme', organizationSlug: 'acme', ...settings });
    const { member: ada, organization } = await h.members.create(CONTEXT, 'acme', { emailAddress: 'ada@acme.example' });
    const bob = (await h.members.create(CONTEXT, 'acme', { emailAddress: 'bob@acme.example' })).member;
    return { h, organization, ada, bob };
  }

  /** An intermediate session for the address alone, as discovery writes it. */
  async function discoveryIntermediate(h: ServiceHarness, emailAddress: string): Promise<string> {
    const token = createOpaqueToken(cryptoRandom);
    const session: IntermediateSession = {
      intermediateSessionId: h.services.ids.next('intermediate-session'),
      organizationId: null,
      memberId: null,
      emailAddress,
      authenticationFactors: [emailFactor(emailAddress, START)],
      createdAt: START,
      expiresAt: '2026-03-01T12:10:00Z',
      consumedAt: null,
    };
    await h.store.transaction((tx) => tx.sessions.insertIntermediateSession(session, { lookupId: token.lookupId, digest: token.digest }));
    return token.token;
  }

  it("a proof by the address's own member continues a discovery intermediate session: MFA answers the same token, a second factor spends it", async () => {
    const { h, organization, ada } = await setup({ mfaPolicy: 'REQUIRED_FOR_ALL' });
    const intermediateSessionToken = await discoveryIntermediate(h, ada.emailAddress);
    const password: AuthenticationFactor = { type: 'password', deliveryMethod: 'knowledge', createdAt: START, lastAuthenticatedAt: START, updatedAt: START };
    const pending = intermediate(await h.services.signIn.signIn(CONTEXT, givenFactor(ada, organization, password, { satisfiesMfa: false }), { intermediateSessionToken }));
    expect(pending).toMatchObject({ intermediateSessionToken, mfaRequired: { memberOptions: null }, primaryRequired: null });
    const session = issuedSession(await h.services.signIn.signIn(CONTEXT, givenFactor(ada, organization, totpFactor(START)), { intermediateSessionToken }));
    expect(session.session.authenticationFactors.map((factor) => factor.type)).toEqual(['magic_link', 'password', 'totp']);
    expect(await domainErrorCode(h.services.signIn.signIn(CONTEXT, givenFactor(ada, organization, totpFactor(START)), { intermediateSessionToken }))).toBe('intermediate_session_not_found');
  });

  it("refuses a discovery intermediate session of another address, and another member's own, changing nothing", async () => {
    const { h, organization, ada, bob } = await setup({ mfaPolicy: 'REQUIRED_FOR_ALL' });
    const bobsAddress = await discoveryIntermediate(h, bob.emailAddress);
    const bobsOwn = intermediate(await h.services.signIn.signIn(CONTEXT, givenFactor(bob, organization, emailFactor(bob.emailAddress, START), { satisfiesMfa: false }))).intermediateSessionToken;
    const before = await footprint(h.store);
    for (const intermediateSessionToken of [bobsAddress, bobsOwn]) {
      expect(await domainErrorCode(h.services.signIn.signIn(CONTEXT, givenFactor(ada, organization, totpFactor(START)), { intermediateSessionToken }))).toBe(
        'invalid_intermediate_session_token_for_organization',
      );
    }
    expect(await footprint(h.store)).toEqual(before);
  });

  it('an exchange accepts any usable intermediate session its verifier matched, and an exchange that moves no factor must require a primary factor', async () => {
    const { h, organization, ada, bob } = await setup();
    const bobsAddress = await discoveryIntermediate(h, bob.emailAddress);
    const exchange = (verified: Partial<VerifiedExchange>): SignInVerifier<unknown> => ({
      verify: async () => ({ member: ada, organization, carriedFactors: [], primaryRequired: null, signInMethod: 'test_exchange', ...verified }),
    });
    await expect(h.services.signIn.signIn(CONTEXT, exchange({}))).rejects.toThrow('an exchange with no factor must require a primary factor');
    const required = intermediate(await h.services.signIn.signIn(CONTEXT, exchange({ primaryRequired: { allowedAuthMethods: ['sso'] } })));
    expect(required).toMatchObject({ primaryRequired: { allowedAuthMethods: ['sso'] }, mfaRequired: null });
    const session = issuedSession(await h.services.signIn.signIn(CONTEXT, exchange({}), { intermediateSessionToken: bobsAddress }));
    expect(session.session).toMatchObject({ memberId: ada.memberId, authenticationFactors: [{ type: 'magic_link' }] });
  });
});
