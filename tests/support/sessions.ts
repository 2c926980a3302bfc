import type { AuthenticationFactor } from '../../src/domain/sessions/session.js';
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
 * Starts a member session through the session service, as a sign-in method would (until the
 * impersonation issue adds the first public way to create one). Returns what the SDK user would hold.
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
  const { record, sessionToken } = await store.transaction((tx) =>
    app.services.sessions.startSession(tx, context, {
      member,
      organization,
      factor,
      durationMinutes: options.durationMinutes,
      customClaims: options.customClaims,
    }),
  );
  const sessionJwt = await app.services.sessions.issueJwt(record);
  return { sessionToken, sessionJwt, memberSessionId: record.session.memberSessionId };
}
