import {
  ANY_ACTION,
  BUILT_IN_RESOURCES,
  DEFAULT_ROLES,
  isDefaultRole,
  isStytchResource,
  type Policy,
  type PolicyPermission,
  type PolicyResource,
  type PolicyRole,
  type PolicyScope,
} from './policy.js';
import type { RbacErrorCode } from './errors.js';
import type { PolicyCheck, PolicyProblem } from './policy-problems.js';
import { UNDERSTUDY_PREFIX } from './understudy-resources.js';

// Ids people type and SDKs send back: letters, digits and a few separators, never whitespace.
const ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
const ACTION = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
const MAX_DESCRIPTION = 1024;
const MAX_ITEMS = 500;

/**
 * Checks a project policy in its wire form (`{resources, roles, scopes}`, snake_case fields, as
 * `rbac.policy` answers it and a policy file holds it) and lists every problem, not the first.
 * The built-in resources (Stytch's and Understudy's `understudy.*`) are always present and cannot be
 * changed (listing one is allowed only as it is); `stytch_member` and `stytch_admin` are always
 * present and keep their built-in permissions unless the document gives them others. Custom
 * resources may not start with `stytch` nor with `understudy.`.
 */
export function checkPolicyDocument(document: unknown): PolicyCheck<Policy> {
  const problems: PolicyProblem[] = [];
  const report: Report = (path, code, message) => {
    problems.push({ path, code, message });
  };
  if (!isRecord(document)) {
    report('', 'invalid_rbac_policy', 'The policy must be an object with resources, roles and scopes.');
    return { ok: false, problems };
  }
  unknownKeys(document, ['resources', 'roles', 'scopes'], '', report);

  const resources: PolicyResource[] = [...BUILT_IN_RESOURCES];
  const custom = listAt(document, 'resources', '', report);
  const seenResources = new Set<string>();
  for (const [index, item] of custom.entries()) {
    const path = `resources[${index}]`;
    if (!isRecord(item)) {
      report(path, 'invalid_rbac_policy', 'A resource must be an object with resource_id, description and actions.');
      continue;
    }
    unknownKeys(item, ['resource_id', 'description', 'actions'], path, report);
    const resourceId = idAt(item, 'resource_id', path, report);
    const description = descriptionAt(item, path, report);
    const actions = stringsAt(item, 'actions', path, report);
    if (resourceId === undefined) continue;
    if (seenResources.has(resourceId)) {
      report(`${path}.resource_id`, 'invalid_rbac_policy', `Resource "${resourceId}" is listed twice.`);
      continue;
    }
    seenResources.add(resourceId);
    const builtIn = BUILT_IN_RESOURCES.find((resource) => resource.resourceId === resourceId);
    if (builtIn !== undefined) {
      if (actions !== undefined && !sameSet(actions, builtIn.actions)) {
        const whose = isStytchResource(resourceId) ? "Stytch's" : "Understudy's";
        report(`${path}.actions`, 'invalid_rbac_policy', `${resourceId} is one of ${whose} resources; its actions cannot be changed.`);
      }
      continue;
    }
    if (resourceId.toLowerCase().startsWith('stytch')) {
      report(`${path}.resource_id`, 'invalid_stytch_prefixed_resource', `Resource "${resourceId}": custom resource ids may not start with "stytch".`);
      continue;
    }
    if (resourceId.toLowerCase().startsWith(UNDERSTUDY_PREFIX)) {
      report(`${path}.resource_id`, 'invalid_rbac_policy', `Resource "${resourceId}": custom resource ids may not start with "${UNDERSTUDY_PREFIX}" (Understudy's own resources use it).`);
      continue;
    }
    if (actions === undefined) continue;
    if (actions.length === 0) report(`${path}.actions`, 'invalid_rbac_policy', `Resource "${resourceId}" needs at least one action.`);
    for (const [actionIndex, action] of actions.entries()) {
      if (action === ANY_ACTION) report(`${path}.actions[${actionIndex}]`, 'invalid_rbac_policy', `"*" is not an action a resource can define; roles use it to grant every action.`);
      else if (!ACTION.test(action)) report(`${path}.actions[${actionIndex}]`, 'invalid_rbac_policy', `Action "${action}" must be 1 to 128 letters, digits, ".", "_", ":" or "-".`);
    }
    if (new Set(actions).size !== actions.length) report(`${path}.actions`, 'invalid_rbac_policy', `Resource "${resourceId}" lists an action twice.`);
    resources.push({ resourceId, description: description ?? '', actions });
  }

  const byResource = new Map(resources.map((resource) => [resource.resourceId, resource]));
  const isReserved = (role: GrantingItem): boolean => {
    if (isDefaultRole(role.id) || !role.id.toLowerCase().startsWith('stytch')) return false;
    report(`${role.path}.role_id`, 'invalid_rbac_policy', `Role "${role.id}": custom role ids may not start with "stytch".`);
    return true;
  };
  const roles: PolicyRole[] = grantingItems(listAt(document, 'roles', '', report), 'role_id', byResource, report, (role) => !isReserved(role)).map((role) => {
    const builtIn = DEFAULT_ROLES.find((candidate) => candidate.roleId === role.id);
    return { roleId: role.id, description: role.description ?? builtIn?.description ?? '', permissions: role.permissions ?? builtIn?.permissions ?? [] };
  });
  // The default roles come first, as Stytch lists them, whether or not the document names them.
  const ordered = [...DEFAULT_ROLES.map((role) => roles.find((given) => given.roleId === role.roleId) ?? role), ...roles.filter((role) => !isDefaultRole(role.roleId))];

  const scopes: PolicyScope[] = grantingItems(listAt(document, 'scopes', '', report), 'scope', byResource, report).map((scope) => ({
    scope: scope.id,
    description: scope.description ?? '',
    permissions: scope.permissions ?? [],
  }));

  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, value: { resources, roles: ordered, scopes } };
}

/**
 * Checks an organization's custom roles (`rbac.organizations.setOrgPolicy`'s `org_policy.roles`)
 * against the project's policy: their permissions name the project's resources and actions, and
 * their ids are neither the project's roles nor reserved.
 */
export function checkOrganizationRoles(document: unknown, project: Policy): PolicyCheck<PolicyRole[]> {
  const problems: PolicyProblem[] = [];
  const report: Report = (path, code, message) => {
    problems.push({ path, code, message });
  };
  if (!Array.isArray(document)) {
    report('roles', 'invalid_rbac_policy', 'org_policy.roles must be a list of roles.');
    return { ok: false, problems };
  }
  if (document.length > MAX_ITEMS) report('roles', 'invalid_rbac_policy', `At most ${MAX_ITEMS} roles.`);
  const byResource = new Map(project.resources.map((resource) => [resource.resourceId, resource]));
  const projectRoles = new Set(project.roles.map((role) => role.roleId));
  const isTaken = (role: GrantingItem): boolean => {
    if (role.id.toLowerCase().startsWith('stytch')) report(`${role.path}.role_id`, 'invalid_rbac_policy', `Role "${role.id}": role ids starting with "stytch" are reserved.`);
    else if (projectRoles.has(role.id)) report(`${role.path}.role_id`, 'invalid_rbac_policy', `Role "${role.id}" is already a role of the project's policy.`);
    else return false;
    return true;
  };
  const roles: PolicyRole[] = grantingItems(document, 'role_id', byResource, report, (role) => !isTaken(role)).map((role) => ({
    roleId: role.id,
    description: role.description ?? '',
    permissions: role.permissions ?? [],
  }));
  return problems.length > 0 ? { ok: false, problems } : { ok: true, value: roles };
}

type Report = (path: string, code: RbacErrorCode, message: string) => void;

/** A role or scope as given: its id, where it is, and its description and permissions when valid (undefined when absent). */
interface GrantingItem {
  readonly id: string;
  readonly path: string;
  readonly description: string | undefined;
  readonly permissions: PolicyPermission[] | undefined;
}

/**
 * Roles and scopes share a shape (an id, a description, permissions on the policy's resources):
 * each is checked, problems reported, and those with a valid id given once come back in order.
 */
function grantingItems(
  list: readonly unknown[],
  idKey: 'role_id' | 'scope',
  resources: ReadonlyMap<string, PolicyResource>,
  report: Report,
  // The caller's own checks of an item, run in turn so problems come out in the document's order; false drops it.
  accept: (item: GrantingItem) => boolean = () => true,
): GrantingItem[] {
  const noun = idKey === 'role_id' ? 'role' : 'scope';
  const items: GrantingItem[] = [];
  const seen = new Set<string>();
  for (const [index, item] of list.entries()) {
    const path = `${noun === 'role' ? 'roles' : 'scopes'}[${index}]`;
    if (!isRecord(item)) {
      report(path, 'invalid_rbac_policy', `A ${noun} must be an object with ${idKey}, description and permissions.`);
      continue;
    }
    unknownKeys(item, [idKey, 'description', 'permissions'], path, report);
    const id = idAt(item, idKey, path, report);
    const description = descriptionAt(item, path, report);
    const permissions = permissionsAt(item, path, resources, report);
    if (id === undefined) continue;
    if (seen.has(id)) {
      report(`${path}.${idKey}`, 'invalid_rbac_policy', `${noun === 'role' ? 'Role' : 'Scope'} "${id}" is listed twice.`);
      continue;
    }
    seen.add(id);
    const entry = { id, path, description, permissions };
    if (accept(entry)) items.push(entry);
  }
  return items;
}

function permissionsAt(item: Record<string, unknown>, path: string, resources: ReadonlyMap<string, PolicyResource>, report: Report): PolicyPermission[] | undefined {
  if (item.permissions === undefined) return undefined;
  const list = listAt(item, 'permissions', path, report);
  const permissions: PolicyPermission[] = [];
  const seen = new Set<string>();
  for (const [index, entry] of list.entries()) {
    const at = `${path}.permissions[${index}]`;
    if (!isRecord(entry)) {
      report(at, 'invalid_rbac_policy', 'A permission must be an object with resource_id and actions.');
      continue;
    }
    unknownKeys(entry, ['resource_id', 'actions'], at, report);
    const resourceId = typeof entry.resource_id === 'string' ? entry.resource_id : undefined;
    if (resourceId === undefined) {
      report(`${at}.resource_id`, 'invalid_rbac_policy', 'resource_id is required.');
      continue;
    }
    const resource = resources.get(resourceId);
    if (resource === undefined) {
      report(`${at}.resource_id`, 'invalid_rbac_policy', `Resource "${resourceId}" is not in the policy.`);
      continue;
    }
    if (seen.has(resourceId)) {
      report(`${at}.resource_id`, 'invalid_rbac_policy', `Resource "${resourceId}" has two permissions; list its actions once.`);
      continue;
    }
    seen.add(resourceId);
    const actions = stringsAt(entry, 'actions', at, report);
    if (actions === undefined) continue;
    if (actions.length === 0) {
      report(`${at}.actions`, 'invalid_rbac_policy', `The permission on "${resourceId}" needs at least one action.`);
      continue;
    }
    if (actions.includes(ANY_ACTION) && actions.length > 1) {
      report(`${at}.actions`, 'cannot_specify_wildcard_with_other_actions', `"*" grants every action on "${resourceId}" and cannot be listed with others.`);
      continue;
    }
    const unknown = actions.filter((action) => action !== ANY_ACTION && !resource.actions.includes(action));
    if (unknown.length > 0) {
      report(`${at}.actions`, 'invalid_rbac_policy', `"${resourceId}" has no action ${unknown.map((action) => `"${action}"`).join(', ')}.`);
      continue;
    }
    if (new Set(actions).size !== actions.length) {
      report(`${at}.actions`, 'invalid_rbac_policy', 'An action is listed twice.');
      continue;
    }
    permissions.push({ resourceId, actions });
  }
  return permissions;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function unknownKeys(item: Record<string, unknown>, known: readonly string[], path: string, report: Report): void {
  for (const key of Object.keys(item)) {
    if (!known.includes(key)) report(path === '' ? key : `${path}.${key}`, 'invalid_rbac_policy', `Unknown field "${key}"; expected ${known.join(', ')}.`);
  }
}

function listAt(item: Record<string, unknown>, key: string, path: string, report: Report): unknown[] {
  const value = item[key];
  const at = path === '' ? key : `${path}.${key}`;
  if (value === undefined) return [];
  if (!Array.isArray(value)) {
    report(at, 'invalid_rbac_policy', `${key} must be a list.`);
    return [];
  }
  if (value.length > MAX_ITEMS) {
    report(at, 'invalid_rbac_policy', `${key} may hold at most ${MAX_ITEMS} entries.`);
    return [];
  }
  return value;
}

function idAt(item: Record<string, unknown>, key: string, path: string, report: Report): string | undefined {
  const value = item[key];
  if (typeof value !== 'string') {
    report(`${path}.${key}`, 'invalid_rbac_policy', `${key} is required and must be text.`);
    return undefined;
  }
  if (!ID.test(value)) {
    report(`${path}.${key}`, 'invalid_rbac_policy', `${key} "${value.slice(0, 140)}" must be 1 to 128 letters, digits, ".", "_", ":" or "-", starting with a letter or digit.`);
    return undefined;
  }
  return value;
}

function descriptionAt(item: Record<string, unknown>, path: string, report: Report): string | undefined {
  const value = item.description;
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length > MAX_DESCRIPTION) {
    report(`${path}.description`, 'invalid_rbac_policy', `description must be text of at most ${MAX_DESCRIPTION} characters.`);
    return undefined;
  }
  return value;
}

function stringsAt(item: Record<string, unknown>, key: string, path: string, report: Report): string[] | undefined {
  const value = item[key];
  if (!Array.isArray(value) || !value.every((entry) => typeof entry === 'string')) {
    report(`${path}.${key}`, 'invalid_rbac_policy', `${key} is required and must be a list of text.`);
    return undefined;
  }
  if (value.length > MAX_ITEMS) {
    report(`${path}.${key}`, 'invalid_rbac_policy', `${key} may hold at most ${MAX_ITEMS} entries.`);
    return undefined;
  }
  return value as string[];
}

function sameSet(left: readonly string[], right: readonly string[]): boolean {
  const set = new Set(left);
  return set.size === right.length && right.every((entry) => set.has(entry));
}

/** The policy in its wire (and file) form. */
export interface PolicyDocument {
  resources: { resource_id: string; description: string; actions: string[] }[];
  roles: RoleDocument[];
  scopes: { scope: string; description: string; permissions: { resource_id: string; actions: string[] }[] }[];
}

export interface RoleDocument {
  role_id: string;
  description: string;
  permissions: { resource_id: string; actions: string[] }[];
}

export function policyDocument(policy: Policy): PolicyDocument {
  return {
    resources: policy.resources.map((resource) => ({ resource_id: resource.resourceId, description: resource.description, actions: [...resource.actions] })),
    roles: policy.roles.map(roleDocument),
    scopes: policy.scopes.map((scope) => ({ scope: scope.scope, description: scope.description, permissions: scope.permissions.map(permissionDocument) })),
  };
}

export function roleDocument(role: PolicyRole): RoleDocument {
  return { role_id: role.roleId, description: role.description, permissions: role.permissions.map(permissionDocument) };
}

function permissionDocument(permission: PolicyPermission): { resource_id: string; actions: string[] } {
  return { resource_id: permission.resourceId, actions: [...permission.actions] };
}
