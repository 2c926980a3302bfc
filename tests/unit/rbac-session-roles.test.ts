import { describe, expect, it } from 'vitest';
import { effectiveRoles } from '../../src/domain/members/member.js';
import { DEFAULT_SETTINGS, storedSettings, type OrganizationSettings } from '../../src/domain/organizations/organization.js';
import { sessionRoleIds, ssoConnectionsOf } from '../../src/domain/rbac/session-roles.js';
import type { AuthenticationFactor } from '../../src/domain/sessions/session.js';
import { aMember } from '../support/builders/member-builder.js';
import { anOrganization } from '../support/builders/organization-builder.js';

/** Which roles a member lists (with their sources) and which of them a session holds, given its factors. */
const AT = '2026-01-01T00:00:00Z';
const SAML = 'saml-connection-test-00000000-0000-4000-8000-000000000001';
const OIDC = 'oidc-connection-test-00000000-0000-4000-8000-000000000002';
const UNUSED = 'saml-connection-test-00000000-0000-4000-8000-000000000003';

function factor(type: string, detail?: AuthenticationFactor['detail'], deliveryMethod = 'email'): AuthenticationFactor {
  return { type, deliveryMethod, createdAt: AT, lastAuthenticatedAt: AT, updatedAt: AT, ...(detail && { detail }) };
}

const EMAIL = factor('magic_link', { name: 'email_factor', fields: { email_id: 'email-test-1', email_address: 'ada@acme.example' } });
const samlFactor = (connectionId: string) =>
  factor('sso', { name: 'saml_sso_factor', fields: { id: 'saml-registration-test-1', provider_id: connectionId, external_id: 'ada' } }, 'sso_saml');
const oidcFactor = (connectionId: string) =>
  factor('sso', { name: 'oidc_sso_factor', fields: { id: 'oidc-registration-test-1', provider_id: connectionId, external_id: 'ada' } }, 'sso_oidc');

function setting(settings: Partial<OrganizationSettings>) {
  return anOrganization({ settings });
}

describe('effectiveRoles and sessionRoleIds', () => {
  const organization = setting({
    rbacEmailImplicitRoleAssignments: [{ domain: 'acme.example', roleId: 'reader' }],
    ssoImplicitRoleAssignments: [
      { connectionId: SAML, roleId: 'saml_user' },
      { connectionId: SAML, group: 'engineering', roleId: 'engineer' },
      { connectionId: SAML, group: 'finance', roleId: 'accountant' },
      { connectionId: OIDC, roleId: 'oidc_user' },
      // Granted directly too: a direct source makes it a role of every session.
      { connectionId: SAML, roleId: 'writer' },
      { connectionId: UNUSED, roleId: 'never' },
    ],
  });
  const member = aMember({
    organizationId: organization.organizationId,
    emailAddress: 'ada@acme.example',
    assignedRoles: ['writer'],
    ssoGroups: { [SAML]: ['engineering', 'sales'], [OIDC]: [] },
  });

  it('lists every source: direct, email domain, SSO connection and SSO connection group (only the groups the IdP asserted)', () => {
    expect(effectiveRoles(member, organization)).toEqual([
      { roleId: 'stytch_member', sources: [{ type: 'direct_assignment', details: {} }] },
      {
        roleId: 'writer',
        sources: [
          { type: 'direct_assignment', details: {} },
          { type: 'sso_connection', details: { connection_id: SAML } },
        ],
      },
      { roleId: 'reader', sources: [{ type: 'email_assignment', details: { email_domain: 'acme.example' } }] },
      { roleId: 'saml_user', sources: [{ type: 'sso_connection', details: { connection_id: SAML } }] },
      { roleId: 'engineer', sources: [{ type: 'sso_connection_group', details: { connection_id: SAML, group: 'engineering' } }] },
      { roleId: 'oidc_user', sources: [{ type: 'sso_connection', details: { connection_id: OIDC } }] },
    ]);
  });

  it('a member who never signed in through a connection gets none of its roles listed', () => {
    const stranger = aMember({ organizationId: organization.organizationId, emailAddress: 'bob@other.example' });
    expect(effectiveRoles(stranger, organization).map((role) => role.roleId)).toEqual(['stytch_member']);
  });

  it('a session without an SSO factor holds only the roles with a direct or email source', () => {
    expect(sessionRoleIds(member, organization, [EMAIL])).toEqual(['stytch_member', 'writer', 'reader']);
    expect(sessionRoleIds(member, organization, [])).toEqual(['stytch_member', 'writer', 'reader']);
  });

  it('a session signed in through a connection holds that connection\'s roles and its groups\' roles, not another connection\'s', () => {
    expect(sessionRoleIds(member, organization, [samlFactor(SAML)])).toEqual(['stytch_member', 'writer', 'reader', 'saml_user', 'engineer']);
    expect(sessionRoleIds(member, organization, [EMAIL, oidcFactor(OIDC)])).toEqual(['stytch_member', 'writer', 'reader', 'oidc_user']);
    expect(sessionRoleIds(member, organization, [samlFactor(SAML), oidcFactor(OIDC)])).toEqual([
      'stytch_member',
      'writer',
      'reader',
      'saml_user',
      'engineer',
      'oidc_user',
    ]);
    // A factor of a connection the member has no SSO groups for grants nothing by itself.
    expect(sessionRoleIds(member, organization, [samlFactor(UNUSED)])).toEqual(['stytch_member', 'writer', 'reader']);
  });

  it('only SSO factors name connections: another factor type or sub-object carrying the same id does not', () => {
    const impostors = [
      factor('magic_link', { name: 'saml_sso_factor', fields: { id: 'x', provider_id: SAML, external_id: 'ada' } }),
      factor('sso', { name: 'email_factor', fields: { provider_id: SAML } }),
      factor('sso', { name: 'saml_sso_factor', fields: { id: SAML, external_id: 'ada' } }),
      factor('sso'),
    ];
    expect([...ssoConnectionsOf(impostors)]).toEqual([]);
    expect(sessionRoleIds(member, organization, impostors)).toEqual(['stytch_member', 'writer', 'reader']);
    expect([...ssoConnectionsOf([samlFactor(SAML), oidcFactor(OIDC), samlFactor(SAML)])]).toEqual([SAML, OIDC]);
  });

  it('organization settings stored before SSO assignments existed read as none', () => {
    const { ssoImplicitRoleAssignments: _dropped, ...older } = DEFAULT_SETTINGS;
    const read = storedSettings({ ...older, rbacEmailImplicitRoleAssignments: [{ domain: 'acme.example', roleId: 'reader' }] });
    expect(read.ssoImplicitRoleAssignments).toEqual([]);
    expect(read.rbacEmailImplicitRoleAssignments).toEqual([{ domain: 'acme.example', roleId: 'reader' }]);
    const old = anOrganization({ settings: read });
    expect(sessionRoleIds(member, old, [samlFactor(SAML)])).toEqual(['stytch_member', 'writer', 'reader']);
  });
});
