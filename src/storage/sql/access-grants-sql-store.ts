import type { Kysely, Selectable } from 'kysely';
import type { Actor } from '../../domain/common/operation-context.js';
import type {
  AccessGrant,
  AccessGrantFilter,
  AccessGrantStatus,
  AccessGrantTransition,
  AccessGrantsStore,
} from '../../domain/impersonation/access-grant.js';
import type { Database, ImpersonationAccessGrantRow } from '../database.js';
import { fromJson, toJson } from './json-column.js';

export class AccessGrantsSqlStore implements AccessGrantsStore {
  readonly #db: Kysely<Database>;
  readonly #dialect: 'sqlite' | 'postgres';

  constructor(db: Kysely<Database>, dialect: 'sqlite' | 'postgres' = 'sqlite') {
    this.#db = db;
    this.#dialect = dialect;
  }

  async insertGrant(grant: AccessGrant): Promise<void> {
    await this.#db.insertInto('impersonation_access_grants').values(grantToRow(grant)).execute();
  }

  async findGrant(grantId: string, lock?: 'for_update' | 'for_share'): Promise<AccessGrant | undefined> {
    const select = this.#db.selectFrom('impersonation_access_grants').selectAll().where('grant_id', '=', grantId);
    // SQLite needs no row lock: a transaction holds the database's write lock from its start (store.ts).
    const locked = this.#dialect !== 'postgres' || lock === undefined ? select : lock === 'for_update' ? select.forUpdate() : select.forShare();
    const row = await locked.executeTakeFirst();
    return row === undefined ? undefined : grantFromRow(row);
  }

  async findCoveringGrants(organizationId: string, memberId: string, now: string, lock?: 'for_share'): Promise<AccessGrant[]> {
    const select = this.#db
      .selectFrom('impersonation_access_grants')
      .selectAll()
      .where('organization_id', '=', organizationId)
      .where('status', '=', 'open')
      .where('expires_at', '>', now)
      .orderBy('opened_at')
      .orderBy('grant_id');
    const rows = await (this.#dialect === 'postgres' && lock === 'for_share' ? select.forShare() : select).execute();
    // The scope is a JSON list, matched here: an organization has a handful of open grants at most.
    return rows.map(grantFromRow).filter((grant) => grant.memberIds === null || grant.memberIds.includes(memberId));
  }

  async transitionGrant(
    grantId: string,
    condition: { readonly from: readonly AccessGrantStatus[]; readonly unexpiredAt?: string | undefined },
    to: AccessGrantStatus,
    change: AccessGrantTransition,
  ): Promise<AccessGrant | undefined> {
    // One conditional UPDATE decides a race: on PostgreSQL a concurrent transition waits for the row
    // lock and then finds the status changed (the WHERE is evaluated again); on SQLite writers are serialized.
    let update = this.#db
      .updateTable('impersonation_access_grants')
      .set({
        status: to,
        ...(change.openedBy !== undefined && { opened_by: toJson(change.openedBy) }),
        ...(change.openedAt !== undefined && { opened_at: change.openedAt }),
        ...(change.expiresAt !== undefined && { expires_at: change.expiresAt }),
        ...(change.closedBy !== undefined && { closed_by: toJson(change.closedBy) }),
        ...(change.closedAt !== undefined && { closed_at: change.closedAt }),
      })
      .where('grant_id', '=', grantId)
      .where('status', 'in', [...condition.from]);
    if (condition.unexpiredAt !== undefined) update = update.where('expires_at', '>', condition.unexpiredAt);
    const row = await update.returningAll().executeTakeFirst();
    return row === undefined ? undefined : grantFromRow(row);
  }

  async listGrants(filter: AccessGrantFilter): Promise<AccessGrant[]> {
    let select = this.#db.selectFrom('impersonation_access_grants').selectAll();
    if (filter.organizationId !== undefined) select = select.where('organization_id', '=', filter.organizationId);
    switch (filter.state) {
      case undefined:
        break;
      case 'open':
        select = select.where('status', '=', 'open').where('expires_at', '>', filter.now);
        break;
      case 'expired':
        select = select.where('status', '=', 'open').where('expires_at', '<=', filter.now);
        break;
      default:
        select = select.where('status', '=', filter.state);
    }
    const rows = await select.orderBy('requested_at', 'desc').orderBy('grant_id', 'desc').limit(filter.limit).execute();
    return rows.map(grantFromRow);
  }
}

function grantToRow(grant: AccessGrant): ImpersonationAccessGrantRow {
  return {
    grant_id: grant.grantId,
    organization_id: grant.organizationId,
    status: grant.status,
    member_ids: grant.memberIds === null ? null : toJson(grant.memberIds),
    duration_minutes: grant.durationMinutes,
    reason: grant.reason,
    requested_by: toJson(grant.requestedBy),
    requested_at: grant.requestedAt,
    opened_by: grant.openedBy === null ? null : toJson(grant.openedBy),
    opened_at: grant.openedAt,
    expires_at: grant.expiresAt,
    closed_by: grant.closedBy === null ? null : toJson(grant.closedBy),
    closed_at: grant.closedAt,
  };
}

function grantFromRow(row: Selectable<ImpersonationAccessGrantRow>): AccessGrant {
  const actor = (column: string | null): Actor | null => (column === null ? null : fromJson<Actor>(column));
  return {
    grantId: row.grant_id,
    organizationId: row.organization_id,
    status: row.status as AccessGrantStatus,
    memberIds: row.member_ids === null ? null : fromJson<string[]>(row.member_ids),
    durationMinutes: Number(row.duration_minutes),
    reason: row.reason,
    requestedBy: fromJson<Actor>(row.requested_by),
    requestedAt: row.requested_at,
    openedBy: actor(row.opened_by),
    openedAt: row.opened_at,
    expiresAt: row.expires_at,
    closedBy: actor(row.closed_by),
    closedAt: row.closed_at,
  };
}
