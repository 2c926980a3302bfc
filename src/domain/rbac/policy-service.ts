import type { AuditRecorder } from '../audit/audit-recorder.js';
import type { AuditStore } from '../audit/audit-store.js';
import type { OperationContext } from '../common/operation-context.js';
import type { Transactional } from '../common/transactional.js';
import type { Organization } from '../organizations/organization.js';
import { toTimestamp, type Clock } from '../../platform/clock.js';
import { PolicyProblemsError, rbacError } from './errors.js';
import { DEFAULT_POLICY_VERSION, type Policy, type PolicyRole, type PolicySource, type PolicyVersion } from './policy.js';
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
   * The policy in force. When the cached copy is old it is read again: through `ports` inside a
   * transaction (SQLite has one connection, which the transaction holds), through the pool otherwise.
   */
  async current(ports?: { readonly rbac: RbacStore }): Promise<PolicyVersion> {
    const cached = this.#cached;
    if (cached !== undefined && this.#clock.now().getTime() - cached.readAt < this.#cacheMs) return cached.version;
    if (ports !== undefined) return this.#read(ports);
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
  async apply(context: OperationContext, document: unknown, options: { source: Exclude<PolicySource, 'default'>; basedOn?: number | undefined }): Promise<{ version: PolicyVersion; changed: boolean; diff: PolicyDiff }> {
    const checked = checkPolicyDocument(document);
    if (!checked.ok) throw new PolicyProblemsError(checked.problems);
    const next = checked.value;
    const result = await this.#store.transaction(async (tx) => {
      const current = await this.#read(tx);
      if (options.basedOn !== undefined && options.basedOn !== current.version) throw rbacError('rbac_policy_changed');
      const diff = diffPolicies(current.policy, next);
      if (isEmptyDiff(diff)) return { version: current, changed: false, diff };
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
      return { version, changed: true, diff };
    });
    this.#cached = { version: result.version, readAt: this.#clock.now().getTime() };
    return result;
  }

  async #read(ports: { readonly rbac: RbacStore }): Promise<PolicyVersion> {
    const stored = await ports.rbac.latestPolicy();
    const version = stored ?? DEFAULT_POLICY_VERSION;
    this.#cached = { version, readAt: this.#clock.now().getTime() };
    return version;
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
