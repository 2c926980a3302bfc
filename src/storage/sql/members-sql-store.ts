import { sql, type Expression, type ExpressionBuilder, type Kysely, type Selectable, type SqlBool } from 'kysely';
import type { Member, MemberSsoRegistration, MemberStatus, RetiredEmail } from '../../domain/members/member.js';
import type { MembersStore, MfaStateChanges, SsoStateChanges } from '../../domain/members/members-store.js';
import type { PageRequest } from '../../domain/common/pagination.js';
import type { ReadForUpdate } from '../../domain/common/read-for-update.js';
import type { SearchFilter, SearchQuery } from '../../domain/common/search.js';
import type { Database, MemberRow } from '../database.js';
import { fromFlag, fromJson, likePattern, toFlag, toJson } from './json-column.js';
import { combineFilters } from './combine-filters.js';
import { translateUniqueViolation } from './unique-violation.js';

type MembersBuilder = ExpressionBuilder<Database, 'members'>;

const UNIQUE_FIELDS = ['external_id', 'email_address'] as const;

export class MembersSqlStore implements MembersStore {
  readonly #db: Kysely<Database>;
  readonly #dialect: 'sqlite' | 'postgres';

  constructor(db: Kysely<Database>, dialect: 'sqlite' | 'postgres') {
    this.#db = db;
    this.#dialect = dialect;
  }

  async insertMember(member: Member): Promise<void> {
    await translateUniqueViolation(UNIQUE_FIELDS, () => this.#db.insertInto('members').values(toRow(member)).execute());
  }

  async updateMember(member: Member): Promise<void> {
    const { member_id: memberId, organization_id: organizationId, ...row } = toRow(member);
    await translateUniqueViolation(UNIQUE_FIELDS, () =>
      this.#db.updateTable('members').set(row).where('member_id', '=', memberId).where('organization_id', '=', organizationId).execute(),
    );
  }

  async findMember(organizationId: string, reference: string, options: ReadForUpdate = {}): Promise<Member | undefined> {
    // Two indexed lookups rather than one `member_id = ? OR external_id = ?`, which the databases
    // answer by reading every member of the organization: by id (the primary key) first, as an id
    // wins; then by external id, a live member winning over deleted ones.
    const byId = this.#db.selectFrom('members').selectAll().where('member_id', '=', reference).where('organization_id', '=', organizationId);
    const found = await this.#locked(byId, options).executeTakeFirst();
    if (found !== undefined) return fromRow(found);
    const byExternalId = this.#db.selectFrom('members').selectAll().where('organization_id', '=', organizationId).where('external_id', '=', reference);
    const rows = await this.#locked(byExternalId, options).execute();
    const match = rows.find((row) => row.status !== 'deleted') ?? rows[0];
    return match === undefined ? undefined : fromRow(match);
  }

  async findMemberByEmail(organizationId: string, emailAddress: string): Promise<Member | undefined> {
    const row = await this.#db
      .selectFrom('members')
      .selectAll()
      .where('organization_id', '=', organizationId)
      .where('email_address', '=', emailAddress)
      // A literal, not a parameter: SQLite uses the partial index members_live_email (status <> 'deleted')
      // only when it can prove the condition at prepare time, and re-prepares a bound one at every call.
      .where('status', '<>', sql.lit('deleted'))
      .executeTakeFirst();
    return row === undefined ? undefined : fromRow(row);
  }

  async findMembersWithVerifiedPhoneNumber(organizationId: string, phoneNumber: string): Promise<Member[]> {
    // Within one organization (members_organization_created_at narrows it to its members).
    const rows = await this.#db
      .selectFrom('members')
      .selectAll()
      .where('organization_id', '=', organizationId)
      .where('mfa_phone_number', '=', phoneNumber)
      .where('mfa_phone_number_verified', '=', toFlag(true))
      .where('status', '<>', sql.lit('deleted'))
      .execute();
    return rows.map(fromRow);
  }

  async findMemberById(memberId: string, options: ReadForUpdate = {}): Promise<Member | undefined> {
    const select = this.#db.selectFrom('members').selectAll().where('member_id', '=', memberId);
    const row = await this.#locked(select, options).executeTakeFirst();
    return row === undefined ? undefined : fromRow(row);
  }

  async markSignedInByEmail(organizationId: string, memberId: string, at: string): Promise<Member | undefined> {
    // Only a member with something to change is written: a returning active, verified member (every
    // sign-in but the first) costs a read, not a row lock and a write.
    const row = await this.#db
      .updateTable('members')
      .set({ status: sql<string>`case when status in ('pending', 'invited') then 'active' else status end`, email_address_verified: toFlag(true), updated_at: at })
      .where('member_id', '=', memberId)
      .where('organization_id', '=', organizationId)
      .where((eb) => eb.or([eb('status', 'in', ['pending', 'invited']), eb.and([eb('status', '=', 'active'), eb('email_address_verified', '=', toFlag(false))])]))
      .returningAll()
      .executeTakeFirst();
    if (row !== undefined) return fromRow(row);
    const member = await this.findMemberById(memberId);
    return member === undefined || member.organizationId !== organizationId || member.status === 'deleted' ? undefined : member;
  }

  async markInvited(organizationId: string, memberId: string, at: string): Promise<Member | undefined> {
    await this.#db
      .updateTable('members')
      .set({ status: 'invited', updated_at: at })
      .where('member_id', '=', memberId)
      .where('organization_id', '=', organizationId)
      .where('status', '=', 'pending')
      .execute();
    return this.findMember(organizationId, memberId);
  }

  async setMemberPasswordId(organizationId: string, memberId: string, memberPasswordId: string, at: string): Promise<Member | undefined> {
    const row = await this.#db
      .updateTable('members')
      .set({ member_password_id: memberPasswordId, updated_at: at })
      .where('member_id', '=', memberId)
      .where('organization_id', '=', organizationId)
      .where('status', '<>', 'deleted')
      .returningAll()
      .executeTakeFirst();
    return row === undefined ? undefined : fromRow(row);
  }

  async setMfaState(organizationId: string, memberId: string, changes: MfaStateChanges, at: string): Promise<Member | undefined> {
    const row = await this.#db
      .updateTable('members')
      .set({
        ...(changes.mfaEnrolled !== undefined && { mfa_enrolled: toFlag(changes.mfaEnrolled) }),
        ...(changes.defaultMfaMethod !== undefined && { default_mfa_method: changes.defaultMfaMethod }),
        ...(changes.mfaPhoneNumber !== undefined && { mfa_phone_number: changes.mfaPhoneNumber }),
        ...(changes.mfaPhoneNumberVerified !== undefined && { mfa_phone_number_verified: toFlag(changes.mfaPhoneNumberVerified) }),
        ...(changes.totpRegistrationId !== undefined && { totp_registration_id: changes.totpRegistrationId }),
        updated_at: at,
      })
      .where('member_id', '=', memberId)
      .where('organization_id', '=', organizationId)
      .where('status', '<>', 'deleted')
      .returningAll()
      .executeTakeFirst();
    return row === undefined ? undefined : fromRow(row);
  }

  async setMemberLock(organizationId: string, memberId: string, lock: { readonly createdAt: string; readonly expiresAt: string } | null, at: string): Promise<Member | undefined> {
    const row = await this.#db
      .updateTable('members')
      .set({ is_locked: toFlag(lock !== null), lock_created_at: lock?.createdAt ?? null, lock_expires_at: lock?.expiresAt ?? null, updated_at: at })
      .where('member_id', '=', memberId)
      .where('organization_id', '=', organizationId)
      .where('status', '<>', 'deleted')
      .returningAll()
      .executeTakeFirst();
    return row === undefined ? undefined : fromRow(row);
  }

  async setSsoState(organizationId: string, memberId: string, changes: SsoStateChanges, at: string): Promise<Member | undefined> {
    const row = await this.#db
      .updateTable('members')
      .set({
        sso_registrations: toJson(changes.ssoRegistrations),
        sso_groups: toJson(changes.ssoGroups),
        ...(changes.status !== undefined && { status: changes.status }),
        ...(changes.emailAddressVerified !== undefined && { email_address_verified: toFlag(changes.emailAddressVerified) }),
        ...(changes.name !== undefined && { name: changes.name }),
        updated_at: at,
      })
      .where('member_id', '=', memberId)
      .where('organization_id', '=', organizationId)
      .returningAll()
      .executeTakeFirst();
    return row === undefined ? undefined : fromRow(row);
  }

  async clearPasswordState(organizationId: string, memberId: string, at: string): Promise<void> {
    await this.#db
      .updateTable('members')
      .set({ member_password_id: '', is_locked: toFlag(false), lock_created_at: null, lock_expires_at: null, updated_at: at })
      .where('member_id', '=', memberId)
      .where('organization_id', '=', organizationId)
      .execute();
  }

  /** Row locks only on PostgreSQL: a SQLite transaction holds the database's write lock from its start. */
  #locked<Query extends { forUpdate(): Query; forShare(): Query }>(select: Query, options: ReadForUpdate): Query {
    if (this.#dialect !== 'postgres') return select;
    return options.forUpdate === true ? select.forUpdate() : options.forShare === true ? select.forShare() : select;
  }

  async searchMembers(organizationIds: readonly string[], query: SearchQuery, page: PageRequest): Promise<{ rows: Member[]; total: number }> {
    if (organizationIds.length === 0) return { rows: [], total: 0 };
    const matches = (eb: MembersBuilder): Expression<SqlBool> =>
      eb.and([eb('organization_id', 'in', organizationIds), combineFilters(eb, query, memberFilter)]);
    let select = this.#db.selectFrom('members').selectAll().where(matches);
    if (page.after !== null) {
      const { createdAt, id } = page.after;
      select = select.where((eb) => eb.or([eb('created_at', '>', createdAt), eb.and([eb('created_at', '=', createdAt), eb('member_id', '>', id)])]));
    }
    const [rows, count] = await Promise.all([
      select.orderBy('created_at').orderBy('member_id').limit(page.limit + 1).execute(),
      this.#db.selectFrom('members').select((eb) => eb.fn.countAll<number | string>().as('total')).where(matches).executeTakeFirstOrThrow(),
    ]);
    return { rows: rows.map(fromRow), total: Number(count.total) };
  }

  async findLiveMembersByEmail(emailAddress: string): Promise<Member[]> {
    // members_email (0001) serves it.
    const rows = await this.#db.selectFrom('members').selectAll().where('email_address', '=', emailAddress).where('status', '<>', 'deleted').execute();
    return rows.map(fromRow);
  }

  async findOrganizationsWithVerifiedMemberOnDomain(organizationIds: readonly string[], domain: string): Promise<string[]> {
    if (organizationIds.length === 0) return [];
    const rows = await this.#db
      .selectFrom('members')
      .select('organization_id')
      .distinct()
      .where(sql<SqlBool>`${EMAIL_DOMAIN} = ${domain}`)
      .where('organization_id', 'in', organizationIds)
      .where('email_address_verified', '=', toFlag(true))
      .where('status', '<>', 'deleted')
      .execute();
    return rows.map((row) => row.organization_id);
  }
}

/**
 * The domain of a stored (canonical) address, written exactly as the members_email_domain index
 * (migration 0012) is, so both databases seek it: everything after the last character that cannot
 * be in a canonical domain, which is the `@`. Inlined, not bound: an index expression matches only
 * literal text.
 */
const EMAIL_DOMAIN = sql.raw(`substr(email_address, length(rtrim(email_address, 'abcdefghijklmnopqrstuvwxyz0123456789.-')) + 1)`);

function memberFilter(eb: MembersBuilder, filter: SearchFilter): Expression<SqlBool> {
  const list = filter.type === 'string[]' ? filter.value : [];
  const text = filter.type === 'string' ? filter.value : '';
  switch (filter.name) {
    case 'member_ids':
      return eb('member_id', 'in', list);
    case 'member_emails':
      return eb('email_address', 'in', list.map((email) => email.trim().toLowerCase()));
    case 'member_email_fuzzy':
      return sql<SqlBool>`members.email_address like ${likePattern(text)} escape '\\'`;
    case 'member_is_breakglass':
      return eb('is_breakglass', '=', toFlag(filter.value === true));
    case 'statuses':
      return eb('status', 'in', list);
    case 'member_phone_numbers':
      return eb('mfa_phone_number', 'in', list);
    case 'member_phone_number_fuzzy':
      return sql<SqlBool>`members.mfa_phone_number like ${likePattern(text)} escape '\\'`;
    default:
      throw new Error(`unhandled member filter ${filter.name}`);
  }
}

function toRow(member: Member): MemberRow {
  return {
    member_id: member.memberId,
    organization_id: member.organizationId,
    email_address: member.emailAddress,
    email_address_verified: toFlag(member.emailAddressVerified),
    status: member.status,
    name: member.name,
    external_id: member.externalId,
    is_breakglass: toFlag(member.isBreakglass),
    mfa_phone_number: member.mfaPhoneNumber,
    mfa_phone_number_verified: toFlag(member.mfaPhoneNumberVerified),
    mfa_enrolled: toFlag(member.mfaEnrolled),
    default_mfa_method: member.defaultMfaMethod,
    assigned_roles: toJson(member.assignedRoles),
    sso_groups: toJson(member.ssoGroups),
    sso_registrations: toJson(member.ssoRegistrations),
    trusted_metadata: toJson(member.trustedMetadata),
    untrusted_metadata: toJson(member.untrustedMetadata),
    retired_email_addresses: toJson(member.retiredEmailAddresses),
    member_password_id: member.memberPasswordId,
    totp_registration_id: member.totpRegistrationId,
    is_locked: toFlag(member.isLocked),
    lock_created_at: member.lockCreatedAt,
    lock_expires_at: member.lockExpiresAt,
    created_at: member.createdAt,
    updated_at: member.updatedAt,
  };
}

function fromRow(row: Selectable<MemberRow>): Member {
  return {
    memberId: row.member_id,
    organizationId: row.organization_id,
    emailAddress: row.email_address,
    emailAddressVerified: fromFlag(row.email_address_verified),
    status: row.status as MemberStatus,
    name: row.name,
    externalId: row.external_id,
    isBreakglass: fromFlag(row.is_breakglass),
    mfaPhoneNumber: row.mfa_phone_number,
    mfaPhoneNumberVerified: fromFlag(row.mfa_phone_number_verified),
    mfaEnrolled: fromFlag(row.mfa_enrolled),
    defaultMfaMethod: row.default_mfa_method,
    assignedRoles: fromJson<string[]>(row.assigned_roles),
    ssoGroups: fromJson<Record<string, string[]>>(row.sso_groups),
    ssoRegistrations: fromJson<MemberSsoRegistration[]>(row.sso_registrations),
    trustedMetadata: fromJson<Record<string, unknown>>(row.trusted_metadata),
    untrustedMetadata: fromJson<Record<string, unknown>>(row.untrusted_metadata),
    retiredEmailAddresses: fromJson<RetiredEmail[]>(row.retired_email_addresses),
    memberPasswordId: row.member_password_id,
    totpRegistrationId: row.totp_registration_id,
    isLocked: fromFlag(row.is_locked),
    lockCreatedAt: row.lock_created_at,
    lockExpiresAt: row.lock_expires_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export { fromRow as memberFromRow };
