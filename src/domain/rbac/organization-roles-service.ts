import type { AuditRecorder } from '../audit/audit-recorder.js';
import type { AuditStore } from '../audit/audit-store.js';
import type { OperationContext } from '../common/operation-context.js';
import { FOR_UPDATE } from '../common/read-for-update.js';
import type { Transactional } from '../common/transactional.js';
import type { Organization } from '../organizations/organization.js';
import type { OrganizationsStore } from '../organizations/organizations-store.js';
import { requireOrganization } from '../organizations/require-organization.js';
import { toTimestamp, type Clock } from '../../platform/clock.js';
import { PolicyProblemsError } from './errors.js';
import type { PolicyRole } from './policy.js';
import { diffPolicies, removedIds, type ItemDiff } from './policy-diff.js';
import type { PolicyProblem } from './policy-problems.js';
import { checkOrganizationRoles } from './policy-rules.js';
import type { RbacPolicyService } from './policy-service.js';
import type { RbacStore } from './rbac-store.js';

type Ports = { readonly organizations: OrganizationsStore; readonly rbac: RbacStore; readonly audit: AuditStore };

export interface OrgPolicyUpdate {
  readonly organization: Organization;
  readonly roles: readonly PolicyRole[];
  readonly changed: boolean;
  readonly diff: ItemDiff;
}

/**
 * An organization's own custom roles (`rbac.organizations.setOrgPolicy`), which supplement the
 * project's roles for its members. Stored in the organization's settings; every change is written
 * with its audit event (the diff of the roles) in one transaction.
 */
export class OrganizationRolesService {
  readonly #store: Transactional<Ports>;
  readonly #clock: Clock;
  readonly #audit: AuditRecorder;
  readonly #rbacPolicy: Pick<RbacPolicyService, 'current'>;

  constructor(dependencies: { store: Transactional<Ports>; clock: Clock; audit: AuditRecorder; rbacPolicy: Pick<RbacPolicyService, 'current'> }) {
    this.#store = dependencies.store;
    this.#clock = dependencies.clock;
    this.#audit = dependencies.audit;
    this.#rbacPolicy = dependencies.rbacPolicy;
  }

  /**
   * Replaces the organization's custom roles with `roles` (wire form, `org_policy.roles`), as Stytch
   * does. Refused with every problem listed when a role is not valid against the project's policy
   * (unknown resources or actions, an id the project's policy or Stytch already uses), or when a
   * role left out is still assigned in the organization (directly or by an implicit assignment).
   * An unchanged list writes nothing.
   */
  async setOrgPolicy(context: OperationContext, reference: string, roles: unknown): Promise<OrgPolicyUpdate> {
    return this.#store.transaction(async (tx) => {
      // Locked first (lock order): the whole settings document is written back, and a member change
      // (which shares the lock) must not assign a role this call is removing.
      const organization = await requireOrganization(tx, reference, FOR_UPDATE);
      const { policy } = await this.#rbacPolicy.current(tx);
      const checked = checkOrganizationRoles(roles, policy);
      if (!checked.ok) throw new PolicyProblemsError(checked.problems);
      const before = organization.settings.customRoles;
      const diff = diffPolicies({ resources: [], scopes: [], roles: before }, { resources: [], scopes: [], roles: checked.value }).roles;
      if (diff.added.length === 0 && diff.removed.length === 0 && diff.changed.length === 0) {
        return { organization, roles: before, changed: false, diff };
      }
      const blocked = await this.#stillAssigned(tx.rbac, organization.organizationId, removedIds(diff, 'role_id'));
      if (blocked.length > 0) throw new PolicyProblemsError(blocked);
      const now = toTimestamp(this.#clock.now());
      const updated: Organization = { ...organization, settings: { ...organization.settings, customRoles: checked.value }, updatedAt: now };
      await tx.organizations.updateOrganization(updated);
      await this.#audit.record(tx.audit, context, {
        type: 'organization.rbac_policy_updated',
        organizationId: organization.organizationId,
        occurredAt: now,
        details: { changes: { roles: diff } },
      });
      return { organization: updated, roles: checked.value, changed: true, diff };
    });
  }

  /** Removed roles that members of the organization still hold, directly or by its implicit assignments. */
  async #stillAssigned(store: RbacStore, organizationId: string, roleIds: readonly string[]): Promise<PolicyProblem[]> {
    const problems: PolicyProblem[] = [];
    for (const roleId of roleIds) {
      const usage = await store.roleUsage(roleId, organizationId);
      const where = [
        usage.directAssignments > 0 ? `${usage.directAssignments} member(s) hold it directly` : '',
        usage.implicitAssignmentOrganizations.length > 0 ? "the organization's implicit role assignments name it" : '',
      ].filter((part) => part !== '');
      if (where.length > 0) problems.push({ path: 'roles', code: 'rbac_role_in_use', message: `Role "${roleId}" cannot be removed: ${where.join('; ')}.` });
    }
    return problems;
  }
}
