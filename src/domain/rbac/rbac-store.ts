import type { Policy, PolicySource } from './policy.js';

/** One stored version of the project's policy, as written. */
export interface StoredPolicyVersion {
  readonly version: number;
  readonly policy: Policy;
  readonly source: Exclude<PolicySource, 'default'>;
  readonly createdAt: string;
}

/** Where a role or resource is still used, so removing it from a policy can say what blocks it. */
export interface RoleUsage {
  /** Live members (not deleted) holding the role by direct assignment. */
  readonly directAssignments: number;
  /** Organizations whose email-domain (or SSO) implicit role assignments name the role. */
  readonly implicitAssignmentOrganizations: readonly string[];
}

/** Storage port for the project's RBAC policy versions (style rule 11). */
export interface RbacStore {
  /**
   * Inside a transaction: orders it against changes of the project's policy. `exclusive` (a policy
   * change) waits for every `shared` holder (a transaction checking role ids against the policy) and
   * keeps them waiting until it ends, so neither decides on a policy the other is changing. Only
   * PostgreSQL needs it; SQLite runs one write transaction at a time.
   */
  lockPolicy(mode: 'exclusive' | 'shared'): Promise<void>;
  /** The newest stored version, or undefined while the project has the built-in default. */
  latestPolicy(): Promise<StoredPolicyVersion | undefined>;
  /** Appends a version; false (and nothing written) when that version number exists already. */
  appendPolicy(version: StoredPolicyVersion): Promise<boolean>;
  /** Up to `limit` stored versions, newest first. */
  listPolicyVersions(limit: number): Promise<StoredPolicyVersion[]>;
  /** Where `roleId` is assigned: in one organization, or in every organization when `organizationId` is null. */
  roleUsage(roleId: string, organizationId: string | null): Promise<RoleUsage>;
  /**
   * Organizations' custom roles that use one of these resources (or, with `actions`, one of these
   * actions of it): what removing them from the project's policy would break.
   */
  customRolesUsing(resourceId: string, actions: readonly string[] | null): Promise<{ organizationId: string; roleId: string }[]>;
  /** Organizations that have a custom role with this id (a new project role may not take it). */
  customRolesNamed(roleId: string): Promise<string[]>;
}
