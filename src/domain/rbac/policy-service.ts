import type { AuditRecorder } from '../audit/audit-recorder.js';
import type { AuditStore } from '../audit/audit-store.js';
import type { OperationContext } from '../common/operation-context.js';
import type { Transactional } from '../common/transactional.js';
import { checkAssignedRoles } from '../members/member.js';
import type { Organization } from '../organizations/organization.js';
import { toTimestamp, type Clock } from '../../platform/clock.js';
import { PolicyProblemsError, rbacError } from './errors.js';
import { BUILT_IN_RESOURCES, DEFAULT_POLICY_VERSION, isBuiltInResource, type Policy, type PolicyRole, type PolicySource, type PolicyVersion } from './policy.js';
import { diffPolicies, isEmptyDiff, removedActions, removedIds, type PolicyDiff } from './policy-diff.js';
import type { PolicyProblem } from './policy-problems.js';
import { checkPolicyDocument } from './policy-rules.js';
import type { RbacStore } from './rbac-store.js';

type Ports = { readonly rbac: RbacStore; readonly audit: AuditStore };

/** How long a process trusts its copy of the policy before reading it again (other processes may have changed it). */
export const POLICY_CACHE_MS = 5_000;

/**
 * The project's RBAC policy: Stytch's default resources and roles, plus the custom resources, roles
 * and scopes a policy file, the console or the CLI applies. Every change is a new version, written
 * with an audit event holding its diff, in one transaction. Authorization reads `current()`, which
 * is cached per process for at most POLICY_CACHE_MS (a change made here is seen here at once).
 */
export class RbacPolicyService {
  readonly #store: Transactional<Ports>;
  readonly #clock: Clock;
  readonly #audit: AuditRecorder;
  readonly #cacheMs: number;
  #cached: { readonly version: PolicyVersion; readonly readAt: number } | undefined;
  #reading: Promise<PolicyVersion> | undefined;

  constructor(dependencies: { store: Transactional<Ports>; clock: Clock; audit: AuditRecorder; cacheMs?: number }) {
    this.#store = dependencies.store;
    this.#clock = dependencies.clock;
    this.#audit = dependencies.audit;
    this.#cacheMs = dependencies.cacheMs ?? POLICY_CACHE_MS;
  }

  /**
   * The policy in force. Without `ports`: the per-process copy while it is fresh, read again through
   * the pool when it is old (authorization decisions, which write nothing). With a transaction's
   * `ports`: read in that transaction, never from the cache, after taking the shared policy lock, so
   * a transaction that assigns roles decides on the policy that will still be in force at its commit.
   */
  async current(ports?: { readonly rbac: RbacStore }): Promise<PolicyVersion> {
    if (ports !== undefined) {
      await ports.rbac.lockPolicy('shared');
      return this.#read(ports);
    }
    const cached = this.#cached;
    if (cached !== undefined && this.#clock.now().getTime() - cached.readAt < this.#cacheMs) return cached.version;
    // One read for every caller that finds the copy old at the same moment.
    this.#reading ??= this.#read(this.#store).finally(() => {
      this.#reading = undefined;
    });
    return this.#reading;
  }

  /**
   * Every role definition an organization's members' roles are looked up in: the project's roles,
   * then the organization's own (the SDK's local check evaluates the same union).
   */
  async rolesOf(organization: Organization, ports?: { readonly rbac: RbacStore }): Promise<PolicyRole[]> {
    const { policy } = await this.current(ports);
    return [...policy.roles, ...organization.settings.customRoles];
  }

  /**
   * The roles a member is given directly, checked against the roles that exist for the organization
   * now (checkAssignedRoles), in the caller's transaction under the shared policy lock. An empty
   * list reads nothing.
   */
  async checkAssignable(roles: readonly string[], organization: Organization, ports: { readonly rbac: RbacStore }): Promise<string[]> {
    if (roles.length === 0) return [];
    return checkAssignedRoles(roles, await this.rolesOf(organization, ports));
  }

  /** Of a member's direct roles, those still defined for the organization and those no longer (read as checkAssignable). */
  async existingRoles(roles: readonly string[], organization: Organization, ports: { readonly rbac: RbacStore }): Promise<{ kept: string[]; dropped: string[] }> {
    if (roles.length === 0) return { kept: [], dropped: [] };
    const known = new Set((await this.rolesOf(organization, ports)).map((role) => role.roleId));
    return { kept: roles.filter((roleId) => known.has(roleId)), dropped: roles.filter((roleId) => !known.has(roleId)) };
  }

  /** Stored versions, newest first (the built-in default, version 0, is not stored). */
  async history(limit: number): Promise<PolicyVersion[]> {
    return this.#store.rbac.listPolicyVersions(limit);
  }

  /**
   * Applies a policy document (wire form). Refused with every problem listed when it is not valid,
   * or when it removes a role still assigned or a resource (or action) an organization's custom
   * role uses; with `basedOn`, refused when another change was applied since that version was read.
   * An unchanged policy writes nothing.
   */
  async apply(context: OperationContext, document: unknown, options: { source: Exclude<PolicySource, 'default'>; basedOn?: number | undefined }): Promise<{ version: PolicyVersion; previous: PolicyVersion; changed: boolean; diff: PolicyDiff }> {
    const checked = checkPolicyDocument(document);
    if (!checked.ok) throw new PolicyProblemsError(checked.problems);
    const next = checked.value;
    const result = await this.#store.transaction(async (tx) => {
      // Taken first: role assignments wait (or this waits for them), so the in-use checks below stay true until commit.
      await tx.rbac.lockPolicy('exclusive');
      const current = await this.#read(tx);
      if (options.basedOn !== undefined && options.basedOn !== current.version) throw rbacError('rbac_policy_changed');
      const diff = diffPolicies(current.policy, next);
      if (isEmptyDiff(diff)) return { version: current, previous: current, changed: false, diff };
      const blocked = await this.#removalProblems(tx.rbac, current.policy, next, diff);
      if (blocked.length > 0) throw new PolicyProblemsError(blocked);
      const now = this.#clock.now();
      const version: PolicyVersion = { version: current.version + 1, policy: next, source: options.source, createdAt: toTimestamp(now) };
      const written = await tx.rbac.appendPolicy({ ...version, source: options.source });
      if (!written) throw rbacError('rbac_policy_changed');
      await this.#audit.record(tx.audit, context, {
        type: 'rbac.policy_updated',
        organizationId: null,
        occurredAt: version.createdAt,
        details: { version: version.version, previous_version: current.version, source: options.source, changes: diff },
      });
      return { version, previous: current, changed: true, diff };
    });
    this.#remember(result.version);
    return result;
  }

  async #read(ports: { readonly rbac: RbacStore }): Promise<PolicyVersion> {
    const stored = await ports.rbac.latestPolicy();
    const version = stored === undefined ? DEFAULT_POLICY_VERSION : { ...stored, policy: withCurrentBuiltInResources(stored.policy) };
    this.#remember(version);
    return version;
  }

  /** Keeps the newest version seen: a read that started before an apply committed must not put the older one back. */
  #remember(version: PolicyVersion): void {
    const cached = this.#cached;
    if (cached !== undefined && cached.version.version > version.version) return;
    this.#cached = { version, readAt: this.#clock.now().getTime() };
  }

  /** Removals that would leave assignments or organizations' custom roles pointing at nothing. */
  async #removalProblems(store: RbacStore, before: Policy, after: Policy, diff: PolicyDiff): Promise<PolicyProblem[]> {
    const problems: PolicyProblem[] = [];
    for (const roleId of removedIds(diff.roles, 'role_id')) {
      const usage = await store.roleUsage(roleId, null);
      if (usage.directAssignments > 0 || usage.implicitAssignmentOrganizations.length > 0) {
        const where = [
          usage.directAssignments > 0 ? `${usage.directAssignments} member(s) hold it directly` : '',
          usage.implicitAssignmentOrganizations.length > 0 ? `implicit assignments of organization(s) ${usage.implicitAssignmentOrganizations.join(', ')} name it` : '',
        ].filter((part) => part !== '');
        problems.push({ path: 'roles', code: 'rbac_role_in_use', message: `Role "${roleId}" cannot be removed: ${where.join('; ')}.` });
      }
    }
    const checks: { resourceId: string; actions: string[] | null }[] = removedIds(diff.resources, 'resource_id').map((resourceId) => ({ resourceId, actions: null }));
    for (const resource of after.resources) {
      const old = before.resources.find((candidate) => candidate.resourceId === resource.resourceId);
      const gone = old === undefined ? [] : removedActions(old.actions, resource.actions);
      if (gone.length > 0) checks.push({ resourceId: resource.resourceId, actions: gone });
    }
    for (const check of checks) {
      const users = await store.customRolesUsing(check.resourceId, check.actions);
      if (users.length === 0) continue;
      const what = check.actions === null ? `Resource "${check.resourceId}"` : `Action(s) ${check.actions.map((action) => `"${action}"`).join(', ')} of "${check.resourceId}"`;
      const who = users.map((user) => `${user.roleId} (${user.organizationId})`).join(', ');
      problems.push({ path: 'resources', code: 'rbac_resource_in_use', message: `${what} cannot be removed: organizations' custom roles use it: ${who}.` });
    }
    for (const role of after.roles) {
      if (before.roles.some((old) => old.roleId === role.roleId)) continue;
      const clashes = await store.customRolesNamed(role.roleId);
      if (clashes.length > 0) {
        problems.push({ path: 'roles', code: 'invalid_rbac_policy', message: `Role "${role.roleId}" is already a custom role of organization(s) ${clashes.join(', ')}.` });
      }
    }
    return problems;
  }
}

/**
 * The built-in resources (Stytch's and Understudy's) as this release defines them, whatever a stored
 * version copied: a release that adds one, or an action to one, serves it at once, and the policy in
 * force applies again unchanged. Roles are left as stored: a stored `stytch_admin` that grants nothing
 * on a resource added since keeps granting nothing there until the project's policy says otherwise.
 */
function withCurrentBuiltInResources(policy: Policy): Policy {
  return { ...policy, resources: [...BUILT_IN_RESOURCES, ...policy.resources.filter((resource) => !isBuiltInResource(resource.resourceId))] };
}
