import type { B2BClient, Organization } from 'stytch';
import type { SsoImplicitRoleAssignment } from '../../../src/domain/organizations/organization.js';
import { expectToMatchResponseSchema } from '../../support/openapi.js';
import { linkToken, listEmails, waitForEmail } from '../../support/outbox.js';
import { givenActiveConnection } from '../../support/sso-tokens.js';
import type { TestServer } from '../../support/test-server.js';
import { createEmailOrganization, type EmailOrganization } from './email-sign-in-fixtures.js';

/** Shared setup of the sso.authenticate suites. */
export const SSO_AUTHENTICATE = '/v1/b2b/sso/authenticate';

/** Roles the suites' project policy defines besides Stytch's, for SSO implicit assignments. */
export const PROJECT_POLICY = {
  resources: [{ resource_id: 'reports', description: 'Reports', actions: ['read', 'publish'] }],
  roles: [
    { role_id: 'analyst', description: 'Reads reports', permissions: [{ resource_id: 'reports', actions: ['read'] }] },
    { role_id: 'publisher', description: 'Publishes reports', permissions: [{ resource_id: 'reports', actions: ['publish'] }] },
  ],
  scopes: [],
};
export const CLI = { requestId: 'request-id-test-00000000-0000-4000-8000-0000000000d1', actor: { type: 'cli' as const } };

export const SSO_REGISTRATION = {
  saml: /^saml-member-registration-test-[0-9a-f-]{36}$/,
  oidc: /^oidc-member-registration-test-[0-9a-f-]{36}$/,
} as const;

type OrganizationSettings = Parameters<typeof createEmailOrganization>[1];

/** An organization (members may also sign in by email) with an active SSO connection. */
export interface SsoOrganization extends EmailOrganization {
  readonly connectionId: string;
}

export async function createSsoOrganization(server: TestServer, kind: 'saml' | 'oidc' = 'saml', settings: OrganizationSettings = {}): Promise<SsoOrganization> {
  const organization = await createEmailOrganization(server.client, settings);
  const connection = await givenActiveConnection(server, organization.organization.organization_id, kind);
  return { ...organization, connectionId: connection.connectionId };
}

/** sso.authenticate through the SDK, its answer checked against the contract. */
export async function ssoAuthenticate(client: B2BClient, ssoToken: string, extra: Omit<Parameters<B2BClient['sso']['authenticate']>[0], 'sso_token'> = {}) {
  const response = await client.sso.authenticate({ sso_token: ssoToken, ...extra });
  expectToMatchResponseSchema('post', SSO_AUTHENTICATE, response);
  return response;
}

/**
 * The organization's SSO implicit role assignments, written to its settings as the SAML and OIDC
 * connection updates write them (`*_implicit_role_assignments`): the one place session roles read them.
 */
export async function givenImplicitRoles(server: TestServer, organization: Organization, assignments: readonly SsoImplicitRoleAssignment[]): Promise<void> {
  const { store } = server.server;
  await store.transaction(async (tx) => {
    const stored = await tx.organizations.findOrganization(organization.organization_id, { forUpdate: true });
    if (stored === undefined) throw new Error('organization not stored');
    await tx.organizations.updateOrganization({ ...stored, settings: { ...stored.settings, ssoImplicitRoleAssignments: assignments } });
  });
}

/** The member signs in with a magic link (the login link of an existing member); answers the sign-in. */
export async function signInByMagicLink(server: TestServer, organization: Organization, emailAddress: string, extra: { intermediate_session_token?: string } = {}) {
  const [latest] = await listEmails(server, emailAddress);
  await server.client.magicLinks.email.loginOrSignup({ organization_id: organization.organization_id, email_address: emailAddress });
  const message = await waitForEmail(server, emailAddress, latest && { after: latest });
  return server.client.magicLinks.authenticate({ magic_links_token: linkToken(message.link as string), ...extra });
}
