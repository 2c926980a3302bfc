import { describe, expect, it } from 'vitest';
import { DEFAULT_POLICY, type Policy } from '../../../src/domain/rbac/policy.js';
import type { StoredPolicyVersion } from '../../../src/domain/rbac/rbac-store.js';
import { aMember } from '../../support/builders/member-builder.js';
import { anOrganization } from '../../support/builders/organization-builder.js';
import { STORES } from '../../support/stores.js';
import { useFreshStore } from './contract-support.js';

/** The RBAC policy store on every database: versions appended and read back, and where roles and resources are still used. */
const DOCUMENTS: Policy = {
  ...DEFAULT_POLICY,
  resources: [...DEFAULT_POLICY.resources, { resourceId: 'documents', description: 'Team documents', actions: ['read', 'write'] }],
  roles: [...DEFAULT_POLICY.roles, { roleId: 'editor', description: 'Edits documents', permissions: [{ resourceId: 'documents', actions: ['read', 'write'] }] }],
  scopes: [{ scope: 'read:documents', description: 'Read documents', permissions: [{ resourceId: 'documents', actions: ['read'] }] }],
};

function version(number: number, policy: Policy = DOCUMENTS, source: StoredPolicyVersion['source'] = 'cli'): StoredPolicyVersion {
  return { version: number, policy, source, createdAt: `2026-02-0${number}T10:00:00Z` };
}

describe.each(STORES)('RbacStore on $name', (factory) => {
  const store = useFreshStore(factory);

  it('has no policy until one is appended, then answers the newest version as written', async () => {
    expect(await store().rbac.latestPolicy()).toBeUndefined();
    expect(await store().rbac.listPolicyVersions(10)).toEqual([]);
    expect(await store().rbac.appendPolicy(version(1, DOCUMENTS, 'file'))).toBe(true);
    const second: Policy = { ...DOCUMENTS, scopes: [] };
    expect(await store().rbac.appendPolicy(version(2, second, 'console'))).toBe(true);
    expect(await store().rbac.latestPolicy()).toEqual(version(2, second, 'console'));
  });

  it('lists versions newest first, up to the limit', async () => {
    for (const number of [1, 2, 3]) expect(await store().rbac.appendPolicy(version(number))).toBe(true);
    expect((await store().rbac.listPolicyVersions(10)).map((stored) => stored.version)).toEqual([3, 2, 1]);
    expect(await store().rbac.listPolicyVersions(2)).toEqual([version(3), version(2)]);
  });

  it('answers false for a version number that exists, writing nothing', async () => {
    expect(await store().rbac.appendPolicy(version(1))).toBe(true);
    expect(await store().rbac.appendPolicy(version(1, DEFAULT_POLICY, 'console'))).toBe(false);
    expect(await store().rbac.listPolicyVersions(10)).toEqual([version(1)]);
  });

  it('answers false inside a transaction too, and the transaction can still commit other writes', async () => {
    expect(await store().rbac.appendPolicy(version(1))).toBe(true);
    const outcome = await store().transaction(async (tx) => tx.rbac.appendPolicy(version(1, DEFAULT_POLICY)));
    expect(outcome).toBe(false);
    expect(await store().rbac.latestPolicy()).toEqual(version(1));
  });

  it('counts live members holding a role directly, per organization or everywhere, and organizations whose implicit assignments name it', async () => {
    const first = anOrganization({ settings: { rbacEmailImplicitRoleAssignments: [{ domain: 'example.com', roleId: 'editor' }] } });
    const second = anOrganization();
    const third = anOrganization({ settings: { rbacEmailImplicitRoleAssignments: [{ domain: 'example.org', roleId: 'editor_plus' }] } });
    for (const organization of [first, second, third]) await store().organizations.insertOrganization(organization);
    await store().members.insertMember(aMember({ organizationId: first.organizationId, assignedRoles: ['editor'] }));
    await store().members.insertMember(aMember({ organizationId: second.organizationId, assignedRoles: ['stytch_admin', 'editor'] }));
    await store().members.insertMember(aMember({ organizationId: second.organizationId, assignedRoles: ['editor'], status: 'deleted' }));
    // Ids that merely contain the role id, and a LIKE wildcard in another id, are not the role.
    await store().members.insertMember(aMember({ organizationId: third.organizationId, assignedRoles: ['editor_plus', 'xeditor'] }));

    expect(await store().rbac.roleUsage('editor', null)).toEqual({ directAssignments: 2, implicitAssignmentOrganizations: [first.organizationId] });
    expect(await store().rbac.roleUsage('editor', second.organizationId)).toEqual({ directAssignments: 1, implicitAssignmentOrganizations: [] });
    expect(await store().rbac.roleUsage('editor', first.organizationId)).toEqual({ directAssignments: 1, implicitAssignmentOrganizations: [first.organizationId] });
    expect(await store().rbac.roleUsage('editor_plus', null)).toEqual({ directAssignments: 1, implicitAssignmentOrganizations: [third.organizationId] });
    expect(await store().rbac.roleUsage('edito_', null)).toEqual({ directAssignments: 0, implicitAssignmentOrganizations: [] });
    expect(await store().rbac.roleUsage('viewer', null)).toEqual({ directAssignments: 0, implicitAssignmentOrganizations: [] });
  });

  it("finds organizations' custom roles using a resource, or some of its actions, and custom roles by id", async () => {
    const reviewer = { roleId: 'reviewer', description: '', permissions: [{ resourceId: 'documents', actions: ['read'] }] };
    const writer = { roleId: 'writer', description: '', permissions: [{ resourceId: 'documents', actions: ['write'] }, { resourceId: 'stytch.self', actions: ['*'] }] };
    const first = anOrganization({ settings: { customRoles: [reviewer, writer] } });
    const second = anOrganization({ settings: { customRoles: [{ ...reviewer, permissions: [{ resourceId: 'documents_archive', actions: ['read'] }] }] } });
    const third = anOrganization();
    for (const organization of [first, second, third]) await store().organizations.insertOrganization(organization);

    const byRole = (users: { organizationId: string; roleId: string }[]) => users.map((user) => `${user.organizationId}/${user.roleId}`).sort();
    expect(byRole(await store().rbac.customRolesUsing('documents', null))).toEqual([`${first.organizationId}/reviewer`, `${first.organizationId}/writer`].sort());
    expect(byRole(await store().rbac.customRolesUsing('documents', ['write', 'delete']))).toEqual([`${first.organizationId}/writer`]);
    expect(await store().rbac.customRolesUsing('documents', ['delete'])).toEqual([]);
    expect(byRole(await store().rbac.customRolesUsing('documents_archive', null))).toEqual([`${second.organizationId}/reviewer`]);
    expect(await store().rbac.customRolesUsing('invoices', null)).toEqual([]);

    expect((await store().rbac.customRolesNamed('reviewer')).sort()).toEqual([first.organizationId, second.organizationId].sort());
    expect(await store().rbac.customRolesNamed('writer')).toEqual([first.organizationId]);
    expect(await store().rbac.customRolesNamed('review')).toEqual([]);
  });
});
