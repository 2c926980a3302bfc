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
/** Every action of stytch.self: what stytch_member grants every member over their own record. */
const SELF_ACTIONS = RESOURCES.find((resource) => resource.resourceId === 'stytch.self')?.actions ?? [];
const ROLES: PolicyRole[] = [
  ...DEFAULT_POLICY.roles,
  { roleId: 'editor', description: '', permissions: [{ resourceId: 'documents', actions: ['read', 'write'] }] },
  { roleId: 'owner', description: '', permissions: [{ resourceId: 'documents', actions: ['*'] }] },
  { roleId: 'writer', description: '', permissions: [{ resourceId: 'documents', actions: ['write'] }] },
  // Allowed to impersonate, with nothing else beyond stytch_member.
  { roleId: 'helpdesk', description: '', permissions: [{ resourceId: 'understudy.impersonation', actions: ['create'] }] },
  // Allowed to impersonate, and to do to any member what a member may do to themselves.
  { roleId: 'member-admin', description: '', permissions: [{ resourceId: 'understudy.impersonation', actions: ['create'] }, { resourceId: 'stytch.member', actions: SELF_ACTIONS }] },
  // Allowed to impersonate, and to read members (the reading actions stytch.self has are stytch.member's get.connected-apps).
  { roleId: 'reader', description: '', permissions: [{ resourceId: 'understudy.impersonation', actions: ['create'] }, { resourceId: 'stytch.member', actions: ['search', 'get.connected-apps'] }] },
  {
    roleId: 'helpdesk-editor',
    description: '',
    permissions: [
      { resourceId: 'understudy.impersonation', actions: ['create'] },
      { resourceId: 'stytch.member', actions: ['*'] },
      { resourceId: 'documents', actions: ['read', 'write'] },
    ],
  },
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
    mask: null,
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
  const memberAdmin = member(['member-admin']);
  const reader = member(['reader']);
  const readOnly = { mask: { readOnly: true } } as const;
  const only = (resourceId: string, action: string) => ({ mask: { actions: [{ resourceId, action }] } });
  const rows: [string, DelegatedMintFacts, string][] = [
    ['an admin, a plain member', facts(admin, plain), `ok as ${admin.memberId}`],
    ['an admin, a member with a custom role the admin lacks', facts(admin, editor), 'delegated_impersonation_not_allowed'],
    ['an admin, another admin (members)', facts(admin, otherAdmin), 'delegated_impersonation_not_allowed'],
    ['an admin, another admin (members_and_admins)', facts(admin, otherAdmin, 'members_and_admins'), `ok as ${admin.memberId}`],
    ['an admin, themselves (members_and_admins)', facts(admin, admin, 'members_and_admins'), 'delegated_impersonation_not_allowed'],
    ['an admin, with delegated impersonation off', facts(admin, plain, 'off'), 'delegated_impersonation_not_allowed'],
    ['a plain member, who may not create', facts(plain, member([])), 'session_authorization_error'],
    // A plain member's stytch.self actions act on their own record: over the impersonated member's record
    // they are stytch.member actions, which a role with create alone does not grant (their email, their deletion…).
    ['helpdesk (create only), a plain member', facts(helpdesk, plain), 'delegated_impersonation_not_allowed'],
    ['helpdesk (create only), a plain member, read_only', facts(helpdesk, plain, 'members', readOnly), 'delegated_impersonation_not_allowed'],
    ['helpdesk (create only), an editor', facts(helpdesk, editor), 'delegated_impersonation_not_allowed'],
    // Holding every stytch.self action as a stytch.member one (stytch_admin holds stytch.member:*) is enough.
    ['member-admin (stytch.member: every stytch.self action), a plain member', facts(memberAdmin, plain), `ok as ${memberAdmin.memberId}`],
    ['member-admin, an editor', facts(memberAdmin, editor), 'delegated_impersonation_not_allowed'],
    // A mask leaves only some of the member's permissions: those alone are compared.
    ['reader, a plain member, unmasked', facts(reader, plain), 'delegated_impersonation_not_allowed'],
    ['reader, a plain member, read_only (leaves stytch.self:get.connected-apps)', facts(reader, plain, 'members', readOnly), `ok as ${reader.memberId}`],
    ['helpdesk, a plain member, masked to stytch.self:get.connected-apps', facts(helpdesk, plain, 'members', only('stytch.self', 'get.connected-apps')), 'delegated_impersonation_not_allowed'],
    ['reader, a plain member, masked to stytch.self:update.info.email', facts(reader, plain, 'members', only('stytch.self', 'update.info.email')), 'delegated_impersonation_not_allowed'],
    ['reader, an editor, read_only (leaves documents:read)', facts(reader, editor, 'members', readOnly), 'delegated_impersonation_not_allowed'],
    ['helpdesk-editor, an editor, read_only', facts(helpdeskEditor, editor, 'members', readOnly), `ok as ${helpdeskEditor.memberId}`],
    // A mask naming nothing the member holds leaves nothing to compare.
    ['helpdesk, a plain member, masked to documents:read (not theirs)', facts(helpdesk, plain, 'members', only('documents', 'read')), `ok as ${helpdesk.memberId}`],
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

  it('says what the target holds beyond the caller, a stytch.self action as the stytch.member one it needs', () => {
    const judged = judgeDelegatedMint(facts(memberAdmin, editor));
    if (!isDomainError(judged)) throw new Error('expected a refusal');
    expect(judged.message).toBe("The member's roles grant what the caller's do not (their stytch.self actions count as stytch.member ones over them): documents:read, documents:write.");
    const overSelf = judgeDelegatedMint(facts(reader, plain, 'members', only('stytch.self', 'update.info.email')));
    if (!isDomainError(overSelf)) throw new Error('expected a refusal');
    expect(overSelf.message).toContain('): stytch.member:update.info.email.');
  });
});
