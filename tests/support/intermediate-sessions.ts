import { createOpaqueToken } from '../../src/crypto/opaque-token.js';
import { emailFactor, emailIdOf } from '../../src/domain/email-sign-in/email-factor.js';
import { INTERMEDIATE_SESSION_MINUTES, type IntermediateSession } from '../../src/domain/sessions/intermediate-session.js';
import { cryptoRandom } from '../../src/platform/random.js';
import { emailFactor as memberEmailFactor, givenFactor } from './sessions.js';
import type { TestServer } from './test-server.js';

/**
 * Test setup: the intermediate session a discovery sign-in (a discovery magic link or code) leaves
 * for `emailAddress`, written straight to the store as the discovery service writes it: bound to the
 * address alone (no organization, no member), with one proof of the address, for 10 minutes from
 * `now`. Returns the token the SDK user would hold. Suites that test discovery itself go through
 * the SDK instead.
 */
export async function givenDiscoveryIntermediateSession(
  target: TestServer,
  emailAddress: string,
  options: { readonly now: Date; readonly method?: 'magic_link' | 'email_otp' },
): Promise<{ intermediateSessionToken: string; intermediateSessionId: string }> {
  const { store, app } = target.server;
  const { ids } = app.services;
  const at = options.now.toISOString().replace(/\.\d{3}Z$/, 'Z');
  const token = createOpaqueToken(cryptoRandom);
  const intermediate: IntermediateSession = {
    intermediateSessionId: ids.next('intermediate-session'),
    organizationId: null,
    memberId: null,
    emailAddress,
    authenticationFactors: [emailFactor(options.method ?? 'magic_link', emailIdOf(ids.environment, emailAddress, null), emailAddress, at)],
    createdAt: at,
    expiresAt: new Date(options.now.getTime() + INTERMEDIATE_SESSION_MINUTES * 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    consumedAt: null,
  };
  await store.transaction((tx) => tx.sessions.insertIntermediateSession(intermediate, { lookupId: token.lookupId, digest: token.digest }));
  return { intermediateSessionToken: token.token, intermediateSessionId: intermediate.intermediateSessionId };
}

/**
 * Test setup: the intermediate session an organization's own sign-in leaves when MFA is still
 * required (the organization requires it for all, or the member enrolled): a primary factor (an
 * email magic link) through the sign-in pipeline, as a sign-in method would. Fails the test when
 * the sign-in gave a member session instead.
 */
export async function givenMemberIntermediateSession(
  target: TestServer,
  options: { readonly organizationId: string; readonly memberId: string; readonly now: Date },
): Promise<{ intermediateSessionToken: string }> {
  const { store, app } = target.server;
  const organization = await store.organizations.findOrganization(options.organizationId);
  if (organization === undefined) throw new Error(`no organization ${options.organizationId}`);
  const member = await store.members.findMember(organization.organizationId, options.memberId);
  if (member === undefined) throw new Error(`no member ${options.memberId}`);
  const at = options.now.toISOString().replace(/\.\d{3}Z$/, 'Z');
  const context = { requestId: 'request-id-test-00000000-0000-4000-8000-00000000000e', actor: { type: 'system' as const } };
  const outcome = await app.services.signIn.signIn(context, givenFactor(member, organization, memberEmailFactor(member.emailAddress, at), { satisfiesMfa: false }));
  if (outcome.memberAuthenticated) throw new Error('expected an intermediate session (MFA required), got a member session');
  return { intermediateSessionToken: outcome.intermediateSessionToken };
}
