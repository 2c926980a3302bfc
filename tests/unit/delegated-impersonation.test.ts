import { describe, expect, it } from 'vitest';
import { isDomainError } from '../../src/domain/common/domain-error.js';
import { type DelegatedMintFacts, judgeDelegatedMint } from '../../src/domain/impersonation/delegated-impersonation.js';
import type { DelegatedImpersonation } from '../../src/domain/impersonation/impersonation.js';
import type { Member } from '../../src/domain/members/member.js';
import { grantedPermissions, permissionsBeyond } from '../../src/domain/rbac/permission-sets.js';
import { DEFAULT_POLICY, type PolicyRole } from '../../src/domain/rbac/policy.js';
import { aMember } from '../support/builders/member-builder.js';
import { anOrganization } from '../support/builders/organization-builder.js';

const RESOURCES = [...DEFAULT_POLICY.resources, { resourceId: 'documents', description: '', actions: ['read', 'write', 'delete'] }];
const ROLES: PolicyRole[] = [
  ...DEFAULT_POLICY.roles,
  { roleId: 'editor', description: '', permissions: [{ resourceId: 'documents', actions: ['read', 'write'] }] },
  { roleId: 'owner', description: '', permissions: [{ resourceId: 'documents', actions: ['*'] }] },
  { roleId: 'writer', description: '', permissions: [{ resourceId: 'documents', actions: ['write'] }] },
  // Allowed to impersonate, with nothing else beyond stytch_member.
  { roleId: 'helpdesk', description: '', permissions: [{ resourceId: 'understudy.impersonation', actions: ['create'] }] },
  { roleId: 'helpdesk-editor', description: '', permissions: [{ resourceId: 'understudy.impersonation', actions: ['create'] }, { resourceId: 'documents', actions: ['read', 'write'] }] },
];

describe('the subset rule: what a set of roles grants', () => {
  it('spells "*" out as every action of the resource, and counts only held roles that are defined', () => {
    const owner = grantedPermissions(ROLES, ['owner', 'ghost'], RESOURCES);
    expect([...(owner.get('documents') ?? [])].sort()).toEqual(['delete', 'read', 'write']);
    expect(owner.size).toBe(1);
  });

  it('names every pair the first set grants and the second does not', () => {
    const editor = grantedPermissions(ROLES, ['editor'], RESOURCES);
    const owner = grantedPermissions(ROLES, ['owner'], RESOURCES);
    const writer = grantedPermissions(ROLES, ['writer'], RESOURCES);
    expect(permissionsBeyond(owner, editor)).toEqual(['documents:delete']);
    expect(permissionsBeyond(editor, owner)).toEqual([]);
    expect(permissionsBeyond(editor, writer)).toEqual(['documents:read']);
    expect(permissionsBeyond(writer, editor)).toEqual([]);
    // Granted one by one or by "*", the same actions are the same permissions.
    const spelled = grantedPermissions([{ roleId: 'all', description: '', permissions: [{ resourceId: 'documents', actions: ['read', 'write', 'delete'] }] }], ['all'], RESOURCES);
    expect(permissionsBeyond(owner, spelled)).toEqual([]);
  });
});

describe('judgeDelegatedMint', () => {
  const organization = anOrganization();
  const member = (roles: string[]): Member => aMember({ organizationId: organization.organizationId, assignedRoles: roles });
  const admin = member(['stytch_admin']);
  const facts = (caller: Member, target: Member | undefined, delegated: DelegatedImpersonation = 'members', overrides: Partial<DelegatedMintFacts> = {}): DelegatedMintFacts => ({
    caller: { memberId: caller.memberId, emailAddress: caller.emailAddress, organizationId: caller.organizationId, roles: ['stytch_member', ...caller.assignedRoles] },
    organization,
    target,
    delegated,
    roles: ROLES,
    resources: RESOURCES,
    ...overrides,
  });
  const verdict = (given: DelegatedMintFacts): string => {
    const judged = judgeDelegatedMint(given);
    return isDomainError(judged) ? judged.code : `ok as ${judged.impersonatorId}`;
  };

  const plain = member([]);
  const editor = member(['editor']);
  const otherAdmin = member(['stytch_admin']);
  const helpdesk = member(['helpdesk']);
  const helpdeskEditor = member(['helpdesk-editor']);
  const rows: [string, DelegatedMintFacts, string][] = [
    ['an admin, a plain member', facts(admin, plain), `ok as ${admin.memberId}`],
    ['an admin, a member with a custom role the admin lacks', facts(admin, editor), 'delegated_impersonation_not_allowed'],
    ['an admin, another admin (members)', facts(admin, otherAdmin), 'delegated_impersonation_not_allowed'],
    ['an admin, another admin (members_and_admins)', facts(admin, otherAdmin, 'members_and_admins'), `ok as ${admin.memberId}`],
    ['an admin, themselves (members_and_admins)', facts(admin, admin, 'members_and_admins'), 'delegated_impersonation_not_allowed'],
    ['an admin, with delegated impersonation off', facts(admin, plain, 'off'), 'delegated_impersonation_not_allowed'],
    ['a plain member, who may not create', facts(plain, member([])), 'session_authorization_error'],
    ['helpdesk (create only), a plain member', facts(helpdesk, plain), `ok as ${helpdesk.memberId}`],
    ['helpdesk (create only), an editor', facts(helpdesk, editor), 'delegated_impersonation_not_allowed'],
    ['helpdesk-editor, an editor', facts(helpdeskEditor, editor), `ok as ${helpdeskEditor.memberId}`],
    // Whoever may impersonate counts as an admin: helpdesk-editor holds create.
    ['helpdesk, helpdesk-editor (members)', facts(helpdesk, helpdeskEditor), 'delegated_impersonation_not_allowed'],
    ['helpdesk-editor, helpdesk (members_and_admins)', facts(helpdeskEditor, helpdesk, 'members_and_admins'), `ok as ${helpdeskEditor.memberId}`],
    ['an admin, a member of another organization', facts(admin, aMember({ organizationId: 'organization-test-elsewhere' })), 'member_not_found'],
    ['an admin naming another organization', facts(admin, plain, 'members', { organization: anOrganization() }), 'session_authorization_tenancy_error'],
    ['an admin naming no organization', facts(admin, undefined, 'members', { organization: undefined }), 'session_authorization_tenancy_error'],
    ['an admin naming no member', facts(admin, undefined), 'member_not_found'],
  ];
  for (const [what, given, expected] of rows) {
    it(`${what}: ${expected}`, () => {
      expect(verdict(given)).toBe(expected);
    });
  }

  it("counts the organization's custom roles, and the target's SSO- and email-granted roles", () => {
    const withCustom = facts(admin, member(['org-auditor']), 'members', {
      roles: [...ROLES, { roleId: 'org-auditor', description: '', permissions: [{ resourceId: 'documents', actions: ['read'] }] }],
    });
    expect(verdict(withCustom)).toBe('delegated_impersonation_not_allowed');
    const byDomain = anOrganization({ organizationId: organization.organizationId, settings: { rbacEmailImplicitRoleAssignments: [{ domain: 'example.com', roleId: 'editor' }] } });
    expect(verdict(facts(admin, member([]), 'members', { organization: byDomain }))).toBe('delegated_impersonation_not_allowed');
  });

  it('says what the target holds beyond the caller', () => {
    const judged = judgeDelegatedMint(facts(helpdesk, editor));
    if (!isDomainError(judged)) throw new Error('expected a refusal');
    expect(judged.message).toBe("The member's roles grant what the caller's do not: documents:read, documents:write.");
  });
});
