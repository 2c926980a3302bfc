import { describe, expect, it } from 'vitest';
import { addedImplicitAssignments, gainedPermissions, rolesGainedByAddress } from '../../src/domain/rbac/role-gains.js';
import { aMember } from '../support/builders/member-builder.js';
import { anOrganization } from '../support/builders/organization-builder.js';

/** What a change would give someone: the input of the rule that nobody hands out more than they hold. */
describe('role gains', () => {
  const organization = anOrganization({
    settings: {
      rbacEmailImplicitRoleAssignments: [
        { domain: 'boss.example.com', roleId: 'stytch_admin' },
        { domain: 'example.org', roleId: 'reader' },
      ],
    },
  });

  it('an address gains the roles its domain is given that the member does not hold yet', () => {
    const member = aMember({ organizationId: organization.organizationId, emailAddress: 'ann@example.org', assignedRoles: [] });
    expect(rolesGainedByAddress(member, organization, 'ann@boss.example.com')).toEqual(['stytch_admin']);
    expect(rolesGainedByAddress(member, organization, 'ann@plain.example.net')).toEqual([]);
    // Already held directly: nothing gained.
    const admin = { ...member, assignedRoles: ['stytch_admin'] };
    expect(rolesGainedByAddress(admin, organization, 'ann@boss.example.com')).toEqual([]);
  });

  it('implicit assignments added are those whose domain and role were not there before', () => {
    const before = organization.settings.rbacEmailImplicitRoleAssignments;
    expect(addedImplicitAssignments(before, before)).toEqual([]);
    expect(addedImplicitAssignments(before, before.slice(0, 1))).toEqual([]);
    expect(addedImplicitAssignments(before, [...before, { domain: 'example.org', roleId: 'stytch_admin' }])).toEqual([{ domain: 'example.org', roleId: 'stytch_admin' }]);
  });

  it('permissions gained are the pairs a role id did not grant before; "*" before covers every action', () => {
    const before = [
      { roleId: 'ops', permissions: [{ resourceId: 'documents', actions: ['read'] }] },
      { roleId: 'all-docs', permissions: [{ resourceId: 'documents', actions: ['*'] }] },
    ];
    expect(gainedPermissions(before, [{ role_id: 'ops', permissions: [{ resource_id: 'documents', actions: ['read'] }] }])).toEqual([]);
    expect(gainedPermissions(before, [{ role_id: 'all-docs', permissions: [{ resource_id: 'documents', actions: ['delete'] }] }])).toEqual([]);
    expect(
      gainedPermissions(before, [
        { role_id: 'ops', permissions: [{ resource_id: 'documents', actions: ['read', 'write'] }, { resource_id: 'stytch.organization', actions: ['*'] }] },
        { role_id: 'new', permissions: [{ resource_id: 'documents', actions: ['write'] }] },
      ]),
    ).toEqual([
      { resourceId: 'documents', action: 'write' },
      { resourceId: 'stytch.organization', action: '*' },
    ]);
  });
});
