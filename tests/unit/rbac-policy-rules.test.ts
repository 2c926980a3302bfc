import { describe, expect, it } from 'vitest';
import { BUILT_IN_RESOURCES, DEFAULT_POLICY, DEFAULT_ROLES, type Policy, STYTCH_RESOURCES } from '../../src/domain/rbac/policy.js';
import { diffPolicies, isEmptyDiff } from '../../src/domain/rbac/policy-diff.js';
import type { PolicyProblem } from '../../src/domain/rbac/policy-problems.js';
import { checkOrganizationRoles, checkPolicyDocument, policyDocument } from '../../src/domain/rbac/policy-rules.js';

/** A small valid custom policy in wire form: one resource, one role, one scope. */
function documentsPolicy(): { resources: unknown[]; roles: unknown[]; scopes: unknown[] } {
  return {
    resources: [{ resource_id: 'documents', description: 'Team documents', actions: ['read', 'write', 'delete'] }],
    roles: [{ role_id: 'editor', description: 'Edits documents', permissions: [{ resource_id: 'documents', actions: ['read', 'write'] }] }],
    scopes: [{ scope: 'read:documents', description: 'Read documents', permissions: [{ resource_id: 'documents', actions: ['read'] }] }],
  };
}

function problemsOf(document: unknown): readonly PolicyProblem[] {
  const checked = checkPolicyDocument(document);
  if (checked.ok) throw new Error(`expected problems, but the document is valid: ${JSON.stringify(document)}`);
  return checked.problems;
}

function policyOf(document: unknown): Policy {
  const checked = checkPolicyDocument(document);
  if (!checked.ok) throw new Error(`expected a valid document: ${JSON.stringify(checked.problems)}`);
  return checked.value;
}

describe('checkPolicyDocument', () => {
  it('accepts a custom resource, role and scope, keeping every Stytch and Understudy resource and default role', () => {
    const policy = policyOf(documentsPolicy());
    expect(policy.resources.map((resource) => resource.resourceId)).toEqual([
      ...STYTCH_RESOURCES.map((resource) => resource.resourceId),
      'understudy.support-access',
      'understudy.impersonation',
      'documents',
    ]);
    expect(policy.roles.map((role) => role.roleId)).toEqual(['stytch_member', 'stytch_admin', 'editor']);
    expect(policy.roles[2]).toEqual({ roleId: 'editor', description: 'Edits documents', permissions: [{ resourceId: 'documents', actions: ['read', 'write'] }] });
    expect(policy.scopes).toEqual([{ scope: 'read:documents', description: 'Read documents', permissions: [{ resourceId: 'documents', actions: ['read'] }] }]);
  });

  it('lists every problem of a document that has several, each with its path and code, in document order', () => {
    const problems = problemsOf({
      resources: [
        { resource_id: 'stytch.member', description: 'changed', actions: ['create'] },
        { resource_id: 'stytch-docs', description: 'x', actions: ['read'] },
        { resource_id: 'documents', description: 'x', actions: ['read', 'read'] },
        { resource_id: 'documents', description: 'again', actions: ['read'] },
      ],
      roles: [
        { role_id: 'editor', description: 'x', permissions: [{ resource_id: 'documents', actions: ['*', 'read'] }] },
        { role_id: 'editor', description: 'twice', permissions: [] },
        { role_id: 'viewer', permissions: [{ resource_id: 'nothing', actions: ['read'] }, { resource_id: 'documents', actions: ['fly'] }] },
      ],
      scopes: [{ scope: 'read docs', description: 'x', permissions: [] }],
      version: 3,
    });
    expect(problems.map((problem) => [problem.path, problem.code])).toEqual([
      ['version', 'invalid_rbac_policy'],
      ['resources[0].actions', 'invalid_rbac_policy'],
      ['resources[1].resource_id', 'invalid_stytch_prefixed_resource'],
      ['resources[2].actions', 'invalid_rbac_policy'],
      ['resources[3].resource_id', 'invalid_rbac_policy'],
      ['roles[0].permissions[0].actions', 'cannot_specify_wildcard_with_other_actions'],
      ['roles[1].role_id', 'invalid_rbac_policy'],
      ['roles[2].permissions[0].resource_id', 'invalid_rbac_policy'],
      ['roles[2].permissions[1].actions', 'invalid_rbac_policy'],
      ['scopes[0].scope', 'invalid_rbac_policy'],
    ]);
    const messages = problems.map((problem) => problem.message);
    expect(messages[0]).toBe('Unknown field "version"; expected resources, roles, scopes.');
    expect(messages[3]).toBe('Resource "documents" lists an action twice.');
    expect(messages[4]).toBe('Resource "documents" is listed twice.');
    expect(messages[6]).toBe('Role "editor" is listed twice.');
    expect(messages[7]).toBe('Resource "nothing" is not in the policy.');
    expect(messages[8]).toBe('"documents" has no action "fly".');
  });

  it("refuses a change to a Stytch resource's actions but accepts it listed as it is", () => {
    const member = STYTCH_RESOURCES.find((resource) => resource.resourceId === 'stytch.member');
    if (member === undefined) throw new Error('stytch.member is a Stytch resource');
    const asIs = { resource_id: 'stytch.member', description: member.description, actions: [...member.actions].reverse() };
    expect(policyOf({ resources: [asIs] }).resources).toEqual(BUILT_IN_RESOURCES);
    for (const actions of [[...member.actions, 'fly'], member.actions.slice(1), []]) {
      expect(problemsOf({ resources: [{ ...asIs, actions }] })).toEqual([
        { path: 'resources[0].actions', code: 'invalid_rbac_policy', message: "stytch.member is one of Stytch's resources; its actions cannot be changed." },
      ]);
    }
  });

  it("refuses a change to Understudy's resources, accepts them listed as they are, and refuses custom resources under understudy.", () => {
    const asIs = { resource_id: 'understudy.impersonation', description: 'mine', actions: ['read-audit', 'create'] };
    expect(policyOf({ resources: [asIs] }).resources).toEqual(BUILT_IN_RESOURCES);
    expect(problemsOf({ resources: [{ ...asIs, actions: ['create'] }] })).toEqual([
      { path: 'resources[0].actions', code: 'invalid_rbac_policy', message: "understudy.impersonation is one of Understudy's resources; its actions cannot be changed." },
    ]);
    for (const resourceId of ['understudy.billing', 'Understudy.Impersonation2', 'UNDERSTUDY.x']) {
      expect(problemsOf({ resources: [{ resource_id: resourceId, description: '', actions: ['read'] }] })).toEqual([
        { path: 'resources[0].resource_id', code: 'invalid_rbac_policy', message: `Resource "${resourceId}": custom resource ids may not start with "understudy." (Understudy's own resources use it).` },
      ]);
    }
    // Only the prefix with its dot is reserved.
    expect(policyOf({ resources: [{ resource_id: 'understudy-notes', description: '', actions: ['read'] }] }).resources.at(-1)?.resourceId).toBe('understudy-notes');
  });

  it('grants stytch_admin every action on both Understudy resources by default; a policy giving it permissions keeps only those', () => {
    const admin = policyOf({}).roles.find((role) => role.roleId === 'stytch_admin');
    expect(admin?.permissions).toContainEqual({ resourceId: 'understudy.support-access', actions: ['*'] });
    expect(admin?.permissions).toContainEqual({ resourceId: 'understudy.impersonation', actions: ['*'] });
    const given = policyOf({ roles: [{ role_id: 'stytch_admin', permissions: [{ resource_id: 'stytch.member', actions: ['*'] }] }] }).roles[1];
    expect(given?.permissions).toEqual([{ resourceId: 'stytch.member', actions: ['*'] }]);
  });

  it('refuses custom resources whose id starts with "stytch", whatever the case, with invalid_stytch_prefixed_resource', () => {
    for (const resourceId of ['stytch.documents', 'stytchdocs', 'Stytch-files', 'STYTCH_X']) {
      expect(problemsOf({ resources: [{ resource_id: resourceId, description: '', actions: ['read'] }] })).toEqual([
        { path: 'resources[0].resource_id', code: 'invalid_stytch_prefixed_resource', message: `Resource "${resourceId}": custom resource ids may not start with "stytch".` },
      ]);
    }
    // Custom roles may not take the prefix either (only the two default roles have it).
    expect(problemsOf({ roles: [{ role_id: 'stytch_owner', permissions: [] }] }).map((problem) => problem.path)).toEqual(['roles[0].role_id']);
  });

  it('refuses "*" listed with other actions, in roles and in scopes; accepts it alone', () => {
    const { resources } = documentsPolicy();
    const problems = problemsOf({
      resources,
      roles: [{ role_id: 'owner', permissions: [{ resource_id: 'documents', actions: ['read', '*'] }] }],
      scopes: [{ scope: 'all:documents', permissions: [{ resource_id: 'stytch.member', actions: ['*', 'delete'] }] }],
    });
    expect(problems.map((problem) => [problem.path, problem.code])).toEqual([
      ['roles[0].permissions[0].actions', 'cannot_specify_wildcard_with_other_actions'],
      ['scopes[0].permissions[0].actions', 'cannot_specify_wildcard_with_other_actions'],
    ]);
    const policy = policyOf({ resources, roles: [{ role_id: 'owner', permissions: [{ resource_id: 'documents', actions: ['*'] }] }] });
    expect(policy.roles.at(-1)?.permissions).toEqual([{ resourceId: 'documents', actions: ['*'] }]);
    // A resource cannot define "*" as one of its actions.
    expect(problemsOf({ resources: [{ resource_id: 'files', actions: ['*'] }] }).map((problem) => problem.path)).toEqual(['resources[0].actions[0]']);
  });

  it('refuses permissions on resources or actions the policy does not have, in roles and scopes alike', () => {
    const { resources } = documentsPolicy();
    const problems = problemsOf({
      resources,
      roles: [{ role_id: 'reader', permissions: [{ resource_id: 'files', actions: ['read'] }, { resource_id: 'stytch.self', actions: ['fly', 'delete', 'swim'] }] }],
      scopes: [{ scope: 'docs', permissions: [{ resource_id: 'documents', actions: ['print'] }, { resource_id: 'documents', actions: ['read'] }] }],
    });
    expect(problems.map((problem) => [problem.path, problem.message])).toEqual([
      ['roles[0].permissions[0].resource_id', 'Resource "files" is not in the policy.'],
      ['roles[0].permissions[1].actions', '"stytch.self" has no action "fly", "swim".'],
      ['scopes[0].permissions[0].actions', '"documents" has no action "print".'],
      ['scopes[0].permissions[1].resource_id', 'Resource "documents" has two permissions; list its actions once.'],
    ]);
  });

  it('keeps the default roles present and first: an empty document is the default policy; given permissions replace theirs', () => {
    expect(policyOf({})).toEqual(DEFAULT_POLICY);
    expect(policyOf({ resources: [], roles: [], scopes: [] })).toEqual(DEFAULT_POLICY);
    const policy = policyOf({
      roles: [
        { role_id: 'auditor', description: 'Reads members', permissions: [{ resource_id: 'stytch.member', actions: ['search'] }] },
        { role_id: 'stytch_admin', permissions: [{ resource_id: 'stytch.member', actions: ['*'] }] },
      ],
    });
    expect(policy.roles.map((role) => role.roleId)).toEqual(['stytch_member', 'stytch_admin', 'auditor']);
    expect(policy.roles[0]).toEqual(DEFAULT_ROLES[0]);
    // stytch_admin keeps its description (none was given) and takes the permissions given.
    expect(policy.roles[1]).toEqual({ roleId: 'stytch_admin', description: DEFAULT_ROLES[1]?.description, permissions: [{ resourceId: 'stytch.member', actions: ['*'] }] });
  });

  it('refuses a document that is not an object, and lists and fields of the wrong type', () => {
    for (const document of [null, [], 'policy', 3]) {
      expect(problemsOf(document)).toEqual([{ path: '', code: 'invalid_rbac_policy', message: 'The policy must be an object with resources, roles and scopes.' }]);
    }
    expect(problemsOf({ resources: {}, roles: 'editor', scopes: null }).map((problem) => problem.path)).toEqual(['resources', 'roles', 'scopes']);
    expect(problemsOf({ roles: [{ role_id: 7, description: 4, permissions: [{ actions: ['read'] }] }] }).map((problem) => problem.path)).toEqual([
      'roles[0].role_id',
      'roles[0].description',
      'roles[0].permissions[0].resource_id',
    ]);
  });

  it('round-trips: the wire form of a checked policy checks to the same policy', () => {
    const policy = policyOf(documentsPolicy());
    expect(policyOf(policyDocument(policy))).toEqual(policy);
    expect(policyOf(JSON.parse(JSON.stringify(policyDocument(DEFAULT_POLICY))))).toEqual(DEFAULT_POLICY);
  });
});

describe('checkOrganizationRoles', () => {
  const project = policyOf(documentsPolicy());

  it("accepts roles over the project's resources and actions", () => {
    const checked = checkOrganizationRoles([{ role_id: 'reviewer', description: 'Reviews', permissions: [{ resource_id: 'documents', actions: ['read'] }] }], project);
    expect(checked).toEqual({ ok: true, value: [{ roleId: 'reviewer', description: 'Reviews', permissions: [{ resourceId: 'documents', actions: ['read'] }] }] });
    expect(checkOrganizationRoles([], project)).toEqual({ ok: true, value: [] });
  });

  it("refuses the project's role ids, reserved ids, unknown resources or actions, duplicates and mixed wildcards, listing each", () => {
    const checked = checkOrganizationRoles(
      [
        { role_id: 'editor', permissions: [] },
        { role_id: 'stytch_reviewer', permissions: [] },
        { role_id: 'reviewer', permissions: [{ resource_id: 'files', actions: ['read'] }] },
        { role_id: 'reviewer', permissions: [] },
        { role_id: 'writer', permissions: [{ resource_id: 'documents', actions: ['*', 'write'] }, { resource_id: 'stytch.member', actions: ['fly'] }] },
      ],
      project,
    );
    expect(checked.ok).toBe(false);
    if (checked.ok) return;
    expect(checked.problems.map((problem) => [problem.path, problem.code])).toEqual([
      ['roles[0].role_id', 'invalid_rbac_policy'],
      ['roles[1].role_id', 'invalid_rbac_policy'],
      ['roles[2].permissions[0].resource_id', 'invalid_rbac_policy'],
      ['roles[3].role_id', 'invalid_rbac_policy'],
      ['roles[4].permissions[0].actions', 'cannot_specify_wildcard_with_other_actions'],
      ['roles[4].permissions[1].actions', 'invalid_rbac_policy'],
    ]);
    expect(checked.problems[0]?.message).toBe(`Role "editor" is already a role of the project's policy.`);
  });

  it('refuses something other than a list', () => {
    expect(checkOrganizationRoles({ roles: [] }, project)).toEqual({
      ok: false,
      problems: [{ path: 'roles', code: 'invalid_rbac_policy', message: 'org_policy.roles must be a list of roles.' }],
    });
  });
});

describe('diffPolicies', () => {
  it('reports added, removed and changed items by id, in wire form', () => {
    const before = policyOf(documentsPolicy());
    const after = policyOf({
      resources: [
        { resource_id: 'documents', description: 'Team documents', actions: ['read', 'write', 'delete', 'share'] },
        { resource_id: 'invoices', description: 'Invoices', actions: ['read'] },
      ],
      roles: [{ role_id: 'billing', description: 'Billing', permissions: [{ resource_id: 'invoices', actions: ['read'] }] }],
      scopes: [{ scope: 'read:documents', description: 'Read documents', permissions: [{ resource_id: 'documents', actions: ['read'] }] }],
    });
    const diff = diffPolicies(before, after);
    expect(diff.resources).toEqual({
      added: [{ resource_id: 'invoices', description: 'Invoices', actions: ['read'] }],
      removed: [],
      changed: [
        {
          before: { resource_id: 'documents', description: 'Team documents', actions: ['read', 'write', 'delete'] },
          after: { resource_id: 'documents', description: 'Team documents', actions: ['read', 'write', 'delete', 'share'] },
        },
      ],
    });
    expect(diff.roles).toEqual({
      added: [{ role_id: 'billing', description: 'Billing', permissions: [{ resource_id: 'invoices', actions: ['read'] }] }],
      removed: [{ role_id: 'editor', description: 'Edits documents', permissions: [{ resource_id: 'documents', actions: ['read', 'write'] }] }],
      changed: [],
    });
    expect(diff.scopes).toEqual({ added: [], removed: [], changed: [] });
    expect(isEmptyDiff(diff)).toBe(false);
  });

  it('does not count reordered actions or permissions as a change', () => {
    const before = policyOf({
      resources: [{ resource_id: 'documents', description: '', actions: ['read', 'write'] }],
      roles: [{ role_id: 'editor', permissions: [{ resource_id: 'documents', actions: ['read', 'write'] }, { resource_id: 'stytch.self', actions: ['delete', 'update.info.name'] }] }],
    });
    const after = policyOf({
      resources: [{ resource_id: 'documents', description: '', actions: ['write', 'read'] }],
      roles: [{ role_id: 'editor', permissions: [{ resource_id: 'stytch.self', actions: ['update.info.name', 'delete'] }, { resource_id: 'documents', actions: ['write', 'read'] }] }],
    });
    expect(isEmptyDiff(diffPolicies(before, after))).toBe(true);
    expect(isEmptyDiff(diffPolicies(DEFAULT_POLICY, policyOf({})))).toBe(true);
  });

  it("counts a description or a default role's permissions as a change", () => {
    const renamed = policyOf({ roles: [{ role_id: 'stytch_member', description: 'Everyone', permissions: [{ resource_id: 'stytch.self', actions: ['*'] }] }] });
    expect(diffPolicies(DEFAULT_POLICY, renamed).roles.changed.map((change) => (change.after as { role_id: string }).role_id)).toEqual(['stytch_member']);
  });
});
