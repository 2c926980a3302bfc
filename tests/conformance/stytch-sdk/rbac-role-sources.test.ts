import type { B2BClient, Member } from 'stytch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuthenticationFactor } from '../../../src/domain/sessions/session.js';
import { expectStytchRejection, expectToMatchResponseSchema } from '../../support/openapi.js';
import { startSdkTarget, type SdkTarget } from '../../support/sdk-targets.js';
import { STORES } from '../../support/stores.js';
import { uniqueSuffix } from '../../support/wire-formats.js';
import { AUTHENTICATE, decodeSessionJwt, SESSION_CLAIM, startSession } from './session-fixtures.js';

/**
 * Where a member's roles come from (member.roles[].sources) and how they follow the member: a change
 * of the member's roles or of the organization's implicit assignments shows in sessions.authenticate's
 * member_session.roles and in the JWT's roles claim at the next authenticate. Roles from SSO
 * connections count only in sessions signed in through that connection. Implicit assignments name
 * only roles that exist for the organization.
 */
const CLI = { requestId: 'request-id-test-00000000-0000-4000-8000-0000000000c2', actor: { type: 'cli' as const } };
const PROJECT_POLICY = {
  resources: [{ resource_id: 'reports', description: 'Reports', actions: ['read', 'publish'] }],
  roles: [
    { role_id: 'analyst', description: 'Reads reports', permissions: [{ resource_id: 'reports', actions: ['read'] }] },
    { role_id: 'publisher', description: 'Publishes reports', permissions: [{ resource_id: 'reports', actions: ['publish'] }] },
  ],
  scopes: [],
};
const MEMBER_PATH = '/v1/b2b/organizations/{organization_id}/member';
const DIRECT = { type: 'direct_assignment', details: {} };
const SAML = 'saml-connection-test-00000000-0000-4000-8000-0000000000c2';

function samlFactor(connectionId: string): AuthenticationFactor {
  const at = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  return {
    type: 'sso',
    deliveryMethod: 'sso_saml',
    createdAt: at,
    lastAuthenticatedAt: at,
    updatedAt: at,
    detail: { name: 'saml_sso_factor', fields: { id: 'saml-registration-test-00000000-0000-4000-8000-0000000000c2', provider_id: connectionId, external_id: 'ada' } },
  };
}

for (const store of STORES) {
  describe(`member role sources and roles that follow the member (${store.name})`, () => {
    let target: SdkTarget;
    let client: B2BClient;

    beforeAll(async () => {
      target = await startSdkTarget(store.name, 'http');
      client = target.client;
      await target.server.server.app.services.rbacPolicy.apply(CLI, PROJECT_POLICY, { source: 'cli' });
    });
    afterAll(async () => target?.stop());

    async function organizationWithMember(options: { domain: string; roles?: string[] }) {
      const suffix = uniqueSuffix();
      const { organization } = await client.organizations.create({ organization_name: `Sources ${suffix}`, organization_slug: `sources-${suffix}` });
      const { member } = await client.organizations.members.create({
        organization_id: organization.organization_id,
        email_address: `ada-${suffix}@${options.domain}`,
        roles: options.roles ?? [],
      });
      return { organization, member };
    }

    async function memberRoles(member: Member) {
      const response = await client.organizations.members.get({ organization_id: member.organization_id, member_id: member.member_id });
      expectToMatchResponseSchema('get', MEMBER_PATH, response);
      return response.member.roles;
    }

    /** sessions.authenticate's answer: member_session.roles, the member's role ids, and the roles claim of the JWT it answers. */
    async function authenticated(credential: { session_token: string } | { session_jwt: string }) {
      const response = await client.sessions.authenticate(credential);
      expectToMatchResponseSchema('post', AUTHENTICATE, response);
      const claim = decodeSessionJwt(response.session_jwt).payload[SESSION_CLAIM] as { roles: string[] };
      return { sessionRoles: response.member_session.roles, memberRoles: response.member.roles.map((role) => role.role_id), jwtRoles: claim.roles, jwt: response.session_jwt };
    }

    it('lists direct and email-domain sources, both for a role held both ways', async () => {
      const { organization, member } = await organizationWithMember({ domain: 'sources.example', roles: ['analyst'] });
      await client.organizations.update({
        organization_id: organization.organization_id,
        rbac_email_implicit_role_assignments: [
          { domain: 'sources.example', role_id: 'analyst' },
          { domain: 'sources.example', role_id: 'publisher' },
          { domain: 'elsewhere.example', role_id: 'stytch_admin' },
        ],
      });
      const email = { type: 'email_assignment', details: { email_domain: 'sources.example' } };
      expect(await memberRoles(member)).toEqual([
        { role_id: 'stytch_member', sources: [DIRECT] },
        { role_id: 'analyst', sources: [DIRECT, email] },
        { role_id: 'publisher', sources: [email] },
      ]);
      const started = await startSession(target.server, member);
      expect((await authenticated({ session_token: started.sessionToken })).sessionRoles).toEqual(['stytch_member', 'analyst', 'publisher']);
    });

    it('a change of the member\'s roles shows in member_session.roles and the JWT\'s roles claim at the next authenticate', async () => {
      const { organization, member } = await organizationWithMember({ domain: 'follow.example' });
      const started = await startSession(target.server, member);
      expect(decodeSessionJwt(started.sessionJwt).payload[SESSION_CLAIM]).toMatchObject({ roles: ['stytch_member'] });
      const first = await authenticated({ session_token: started.sessionToken });
      expect([first.sessionRoles, first.jwtRoles]).toEqual([['stytch_member'], ['stytch_member']]);

      await client.organizations.members.update({ organization_id: organization.organization_id, member_id: member.member_id, roles: ['analyst', 'stytch_admin'] });
      // By token, and by the JWT issued before the change (sessions.authenticate reads the member afresh either way).
      for (const credential of [{ session_token: started.sessionToken }, { session_jwt: started.sessionJwt }]) {
        const after = await authenticated(credential);
        expect(after.sessionRoles).toEqual(['stytch_member', 'analyst', 'stytch_admin']);
        expect(after.jwtRoles).toEqual(['stytch_member', 'analyst', 'stytch_admin']);
        expect(after.memberRoles).toEqual(['stytch_member', 'analyst', 'stytch_admin']);
      }
      // The new JWT carries them to the SDK's local check too.
      const reissued = await authenticated({ session_token: started.sessionToken });
      expect((await client.sessions.authenticateJwtLocal({ session_jwt: reissued.jwt })).roles).toEqual(['stytch_member', 'analyst', 'stytch_admin']);

      await client.organizations.members.update({ organization_id: organization.organization_id, member_id: member.member_id, roles: [] });
      const removed = await authenticated({ session_token: started.sessionToken });
      expect([removed.sessionRoles, removed.jwtRoles]).toEqual([['stytch_member'], ['stytch_member']]);
    });

    it('a change of the organization\'s email-domain assignments follows the member the same way', async () => {
      const { organization, member } = await organizationWithMember({ domain: 'implicit.example' });
      const started = await startSession(target.server, member);
      await client.organizations.update({ organization_id: organization.organization_id, rbac_email_implicit_role_assignments: [{ domain: 'implicit.example', role_id: 'publisher' }] });
      const granted = await authenticated({ session_jwt: started.sessionJwt });
      expect([granted.sessionRoles, granted.jwtRoles]).toEqual([
        ['stytch_member', 'publisher'],
        ['stytch_member', 'publisher'],
      ]);
      const verdict = await client.sessions.authenticate({
        session_token: started.sessionToken,
        authorization_check: { organization_id: organization.organization_id, resource_id: 'reports', action: 'publish' },
      });
      expect(verdict.verdict).toEqual({ authorized: true, granting_roles: ['publisher'] });
      await client.organizations.update({ organization_id: organization.organization_id, rbac_email_implicit_role_assignments: [] });
      const withdrawn = await authenticated({ session_token: started.sessionToken });
      expect([withdrawn.sessionRoles, withdrawn.jwtRoles]).toEqual([['stytch_member'], ['stytch_member']]);
    });

    it('lists SSO connection and group sources; a session holds those roles only when it signed in through that connection', async () => {
      const { organization, member } = await organizationWithMember({ domain: 'sso.example' });
      // Nothing sets these through the API yet (SSO connections arrive later): written as SSO sign-ins will write them.
      const { store } = target.server.server;
      const storedOrganization = await store.organizations.findOrganization(organization.organization_id);
      if (storedOrganization === undefined) throw new Error('organization not stored');
      await store.organizations.updateOrganization({
        ...storedOrganization,
        settings: {
          ...storedOrganization.settings,
          ssoImplicitRoleAssignments: [
            { connectionId: SAML, roleId: 'analyst' },
            { connectionId: SAML, group: 'publishers', roleId: 'publisher' },
            { connectionId: SAML, group: 'admins', roleId: 'stytch_admin' },
          ],
        },
      });
      const storedMember = await store.members.findMemberById(member.member_id);
      if (storedMember === undefined) throw new Error('member not stored');
      await store.members.updateMember({ ...storedMember, ssoGroups: { [SAML]: ['publishers', 'readers'] } });

      expect(await memberRoles(member)).toEqual([
        { role_id: 'stytch_member', sources: [DIRECT] },
        { role_id: 'analyst', sources: [{ type: 'sso_connection', details: { connection_id: SAML } }] },
        { role_id: 'publisher', sources: [{ type: 'sso_connection_group', details: { connection_id: SAML, group: 'publishers' } }] },
      ]);

      const byEmail = await startSession(target.server, member);
      const emailSession = await authenticated({ session_token: byEmail.sessionToken });
      expect(emailSession.memberRoles).toEqual(['stytch_member', 'analyst', 'publisher']);
      expect([emailSession.sessionRoles, emailSession.jwtRoles]).toEqual([['stytch_member'], ['stytch_member']]);
      await expectStytchRejection(
        client.sessions.authenticate({
          session_token: byEmail.sessionToken,
          authorization_check: { organization_id: organization.organization_id, resource_id: 'reports', action: 'read' },
        }),
        { status: 403, errorType: 'session_authorization_error' },
      );

      const bySso = await startSession(target.server, member, { factor: samlFactor(SAML) });
      expect(decodeSessionJwt(bySso.sessionJwt).payload[SESSION_CLAIM]).toMatchObject({ roles: ['stytch_member', 'analyst', 'publisher'] });
      const ssoSession = await authenticated({ session_token: bySso.sessionToken });
      expect([ssoSession.sessionRoles, ssoSession.jwtRoles]).toEqual([
        ['stytch_member', 'analyst', 'publisher'],
        ['stytch_member', 'analyst', 'publisher'],
      ]);
      const response = await client.sessions.authenticate({
        session_token: bySso.sessionToken,
        authorization_check: { organization_id: organization.organization_id, resource_id: 'reports', action: 'read' },
      });
      expect(response.verdict).toEqual({ authorized: true, granting_roles: ['analyst'] });
      expect(response.member_session.authentication_factors).toEqual([
        expect.objectContaining({ type: 'sso', delivery_method: 'sso_saml', saml_sso_factor: expect.objectContaining({ provider_id: SAML }) }),
      ]);

      // Another connection's sign-in grants none of them.
      const otherConnection = await startSession(target.server, member, { factor: samlFactor('saml-connection-test-00000000-0000-4000-8000-0000000000ff') });
      expect((await authenticated({ session_token: otherConnection.sessionToken })).sessionRoles).toEqual(['stytch_member']);
    });

    it('implicit assignments name only roles of the project or of the organization itself, never stytch_member', async () => {
      const { organization } = await organizationWithMember({ domain: 'checked.example' });
      const organizationId = organization.organization_id;
      const assign = (roleId: string) => client.organizations.update({ organization_id: organizationId, rbac_email_implicit_role_assignments: [{ domain: 'checked.example', role_id: roleId }] });
      await expectStytchRejection(assign('nonexistent'), { status: 400, errorType: 'invalid_rbac_role_id' });
      await expectStytchRejection(assign('stytch_member'), { status: 400, errorType: 'cannot_assign_default_rbac_role_id' });
      // Another organization's custom role is not this organization's.
      const other = await organizationWithMember({ domain: 'other.example' });
      const auditor = { role_id: 'auditor', description: 'Reads reports', permissions: [{ resource_id: 'reports', actions: ['read'] }] };
      await client.rbac.organizations.setOrgPolicy({ organization_id: other.organization.organization_id, org_policy: { roles: [auditor] } });
      await expectStytchRejection(assign('auditor'), { status: 400, errorType: 'invalid_rbac_role_id' });
      expect((await client.organizations.get({ organization_id: organizationId })).organization.rbac_email_implicit_role_assignments).toEqual([]);

      expect((await assign('analyst')).organization.rbac_email_implicit_role_assignments).toEqual([{ domain: 'checked.example', role_id: 'analyst' }]);
      expect((await assign('stytch_admin')).organization.rbac_email_implicit_role_assignments).toEqual([{ domain: 'checked.example', role_id: 'stytch_admin' }]);
      await client.rbac.organizations.setOrgPolicy({ organization_id: organizationId, org_policy: { roles: [auditor] } });
      expect((await assign('auditor')).organization.rbac_email_implicit_role_assignments).toEqual([{ domain: 'checked.example', role_id: 'auditor' }]);

      // organizations.create checks them the same way (a new organization has no custom roles yet).
      const create = (roleId: string) =>
        client.organizations.create({
          organization_name: 'Implicit roles',
          organization_slug: `implicit-${uniqueSuffix()}`,
          rbac_email_implicit_role_assignments: [{ domain: 'created.example', role_id: roleId }],
        });
      await expectStytchRejection(create('auditor'), { status: 400, errorType: 'invalid_rbac_role_id' });
      await expectStytchRejection(create('stytch_member'), { status: 400, errorType: 'cannot_assign_default_rbac_role_id' });
      expect((await create('publisher')).organization.rbac_email_implicit_role_assignments).toEqual([{ domain: 'created.example', role_id: 'publisher' }]);
    });
  });
}
