import type { Member } from '../../src/domain/members/member.js';
import type { Organization } from '../../src/domain/organizations/organization.js';
import type { AuthenticationFactor } from '../../src/domain/sessions/session.js';
import type { AuthOutcome, SessionIssued } from '../../src/domain/sessions/sign-in/auth-outcome.js';
import type { SignInVerifier } from '../../src/domain/sessions/sign-in/verifier.js';
import type { TestServer } from './test-server.js';

/** An email magic-link factor, the most common primary factor, for sessions made in test setup. */
export function emailFactor(emailAddress: string, at: string): AuthenticationFactor {
  return {
    type: 'magic_link',
    deliveryMethod: 'email',
    createdAt: at,
    lastAuthenticatedAt: at,
    updatedAt: at,
    detail: { name: 'email_factor', fields: { email_id: 'email-test-00000000-0000-4000-8000-000000000001', email_address: emailAddress } },
  };
}

/**
 * A sign-in method for test setup: it proves nothing and hands the sign-in pipeline this member and
 * factor. Its factor satisfies MFA unless `satisfiesMfa` is false, so setup gets a session whatever
 * the organization's MFA policy.
 */
export function givenFactor(member: Member, organization: Organization, factor: AuthenticationFactor, options: { satisfiesMfa?: boolean } = {}): SignInVerifier<unknown> {
  return { verify: async () => ({ member, organization, factor, satisfiesMfa: options.satisfiesMfa ?? true }) };
}

/** The outcome when it is a member session; fails the test otherwise. */
export function issuedSession(outcome: AuthOutcome): SessionIssued {
  if (!outcome.memberAuthenticated) throw new Error('expected a member session, got an intermediate session');
  return outcome;
}

/**
 * Starts a member session through the sign-in pipeline, as a sign-in method would. Returns what
 * the SDK user would hold.
 */
export async function startTestSession(
  target: TestServer,
  options: { organizationId: string; memberId: string; durationMinutes?: number; customClaims?: Record<string, unknown>; factor?: AuthenticationFactor },
): Promise<{ sessionToken: string; sessionJwt: string; memberSessionId: string }> {
  const { store, app } = target.server;
  const organization = await store.organizations.findOrganization(options.organizationId);
  if (organization === undefined) throw new Error(`no organization ${options.organizationId}`);
  const member = await store.members.findMember(organization.organizationId, options.memberId);
  if (member === undefined) throw new Error(`no member ${options.memberId}`);
  const context = { requestId: 'request-id-test-00000000-0000-4000-8000-00000000000f', actor: { type: 'system' as const } };
  const factor = options.factor ?? emailFactor(member.emailAddress, new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'));
  const started = issuedSession(
    await app.services.signIn.signIn(context, givenFactor(member, organization, factor), {
      sessionDurationMinutes: options.durationMinutes,
      sessionCustomClaims: options.customClaims,
    }),
  );
  return { sessionToken: started.sessionToken, sessionJwt: started.sessionJwt, memberSessionId: started.session.memberSessionId };
}
