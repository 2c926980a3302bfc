import { sql, type Kysely, type SqlBool } from 'kysely';
import type { Organization, OrganizationSettings } from '../../domain/organizations/organization.js';
import type { Policy } from '../../domain/rbac/policy.js';
import type { RbacStore, RoleUsage, StoredPolicyVersion } from '../../domain/rbac/rbac-store.js';
import type { Database, RbacPolicyVersionRow } from '../database.js';
import type { Dialect } from '../store.js';
import { fromJson, toJson } from './json-column.js';

export class RbacSqlStore implements RbacStore {
  readonly #db: Kysely<Database>;

  readonly #dialect: Dialect;

  constructor(db: Kysely<Database>, dialect: Dialect) {
    this.#db = db;
    this.#dialect = dialect;
  }

  async lockPolicy(mode: 'exclusive' | 'shared'): Promise<void> {
    if (this.#dialect !== 'postgres') return;
    if (mode === 'exclusive') await sql`select pg_advisory_xact_lock(hashtext('understudy.rbac_policy'))`.execute(this.#db);
    else await sql`select pg_advisory_xact_lock_shared(hashtext('understudy.rbac_policy'))`.execute(this.#db);
  }

  async latestPolicy(): Promise<StoredPolicyVersion | undefined> {
    const row = await this.#db.selectFrom('rbac_policy_versions').selectAll().orderBy('version', 'desc').limit(1).executeTakeFirst();
    return row === undefined ? undefined : toVersion(row);
  }

  async appendPolicy(version: StoredPolicyVersion): Promise<boolean> {
    // ON CONFLICT rather than catching the violation: on PostgreSQL a failed insert aborts the
    // enclosing transaction, so nothing else (not even a commit) could follow an answer of false.
    const result = await this.#db
      .insertInto('rbac_policy_versions')
      .values({ version: version.version, policy: toJson(version.policy), source: version.source, created_at: version.createdAt })
      .onConflict((conflict) => conflict.column('version').doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0n) === 1;
  }

  async listPolicyVersions(limit: number): Promise<StoredPolicyVersion[]> {
    const rows = await this.#db.selectFrom('rbac_policy_versions').selectAll().orderBy('version', 'desc').limit(limit).execute();
    return rows.map(toVersion);
  }

  async roleUsage(roleId: string, organizationId: string | null): Promise<RoleUsage> {
    // Role ids hold no LIKE wildcards or quotes that matter here ("_" is escaped); the JSON text is
    // matched as a quoted string, then confirmed by parsing, so a role named "a" is not found in "ab".
    const quoted = likeQuoted(roleId);
    let members = this.#db
      .selectFrom('members')
      .select(['assigned_roles'])
      .where('status', '!=', 'deleted')
      .where(sql<SqlBool>`assigned_roles like ${quoted} escape '\\'`);
    if (organizationId !== null) members = members.where('organization_id', '=', organizationId);
    const rows = await members.execute();
    const directAssignments = rows.filter((row) => fromJson<string[]>(row.assigned_roles).includes(roleId)).length;
    const organizations = await this.#organizationsMentioning(roleId, organizationId);
    const implicitAssignmentOrganizations = organizations
      .filter((organization) => implicitRoleIds(organization.settings).includes(roleId))
      .map((organization) => organization.organizationId);
    return { directAssignments, implicitAssignmentOrganizations };
  }

  async customRolesUsing(resourceId: string, actions: readonly string[] | null): Promise<{ organizationId: string; roleId: string }[]> {
    const organizations = await this.#organizationsMentioning(resourceId, null);
    const users: { organizationId: string; roleId: string }[] = [];
    for (const organization of organizations) {
      for (const role of organization.settings.customRoles) {
        const uses = role.permissions.some(
          (permission) => permission.resourceId === resourceId && (actions === null || permission.actions.some((action) => actions.includes(action))),
        );
        if (uses) users.push({ organizationId: organization.organizationId, roleId: role.roleId });
      }
    }
    return users;
  }

  async customRolesNamed(roleId: string): Promise<string[]> {
    const organizations = await this.#organizationsMentioning(roleId, null);
    return organizations.filter((organization) => organization.settings.customRoles.some((role) => role.roleId === roleId)).map((organization) => organization.organizationId);
  }

  /** Organizations whose settings text holds `text` as a JSON string, parsed. */
  async #organizationsMentioning(text: string, organizationId: string | null): Promise<Pick<Organization, 'organizationId' | 'settings'>[]> {
    let query = this.#db
      .selectFrom('organizations')
      .select(['organization_id', 'settings'])
      .where(sql<SqlBool>`settings like ${likeQuoted(text)} escape '\\'`);
    if (organizationId !== null) query = query.where('organization_id', '=', organizationId);
    const rows = await query.execute();
    return rows.map((row) => ({ organizationId: row.organization_id, settings: fromJson<OrganizationSettings>(row.settings) }));
  }
}

/** Every role id an organization's implicit assignments name (email domains now; SSO ones as they are stored). */
function implicitRoleIds(settings: OrganizationSettings): string[] {
  const record = settings as unknown as Record<string, unknown>;
  const lists = ['rbacEmailImplicitRoleAssignments', 'ssoImplicitRoleAssignments'].map((key) => record[key]).filter(Array.isArray) as { roleId?: unknown }[][];
  return lists.flat().map((assignment) => String(assignment.roleId));
}

/** `%"text"%` with LIKE's own characters escaped (matched with ESCAPE '\'; SQLite has no default escape). */
function likeQuoted(text: string): string {
  return `%${JSON.stringify(text).replace(/[\\%_]/g, (character) => `\\${character}`)}%`;
}

function toVersion(row: RbacPolicyVersionRow): StoredPolicyVersion {
  return { version: Number(row.version), policy: fromJson<Policy>(row.policy), source: row.source, createdAt: row.created_at };
}
