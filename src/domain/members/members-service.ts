import type { RbacPolicyService } from '../rbac/policy-service.js';
import type { Clock } from '../../platform/clock.js';
import { toTimestamp } from '../../platform/clock.js';
import type { IdGenerator } from '../../platform/ids.js';
import type { AuditRecorder } from '../audit/audit-recorder.js';
import type { DomainEventPublisher } from '../common/domain-events.js';
import { organizationError } from '../organizations/errors.js';
import type { Organization } from '../organizations/organization.js';
import type { OrganizationsStore } from '../organizations/organizations-store.js';
import type { OperationContext } from '../common/operation-context.js';
import { FOR_SHARE, FOR_UPDATE } from '../common/read-for-update.js';
import { decodeCursor, parseLimit, toPage, type Page } from '../common/pagination.js';
import { parseSearchQuery, type FilterValueType, type RawSearchQuery } from '../common/search.js';
import type { Transactional } from '../common/transactional.js';
import type { StorePorts } from '../ports.js';
import { UniqueConstraintError } from '../common/unique-constraint-error.js';
import { requireOrganization } from '../organizations/require-organization.js';
import { memberError } from './errors.js';
import {
  checkDefaultMfaMethod,
  checkMemberExternalId,
  checkMemberName,
  checkMetadata,
  checkPhoneNumber,
  newMember,
  normalizeEmail,
  type Member,
  type MemberStatus,
  withCanonicalEmails,
} from './member.js';
import { sharedError } from '../common/errors.js';
import type { MembersStore } from './members-store.js';
import { requireLiveMember } from './require-live-member.js';

/** Changes lock the member's row until their transaction ends: the whole row is written back. */
const LOCKED = { locked: true } as const;

const MEMBER_STATUSES: readonly MemberStatus[] = ['pending', 'invited', 'active', 'deleted'];

/** Transactions bind every port: a published event's subscribers (sessions, impersonation) write theirs in it. */
export type MembersServiceStore = Transactional<StorePorts>;

export interface MemberWithOrganization {
  readonly member: Member;
  readonly organization: Organization;
}

export interface CreateMemberInput {
  readonly emailAddress: string;
  readonly name?: string | undefined;
  readonly trustedMetadata?: Record<string, unknown> | undefined;
  readonly untrustedMetadata?: Record<string, unknown> | undefined;
  readonly createMemberAsPending?: boolean | undefined;
  readonly isBreakglass?: boolean | undefined;
  readonly mfaPhoneNumber?: string | undefined;
  readonly mfaEnrolled?: boolean | undefined;
  readonly roles?: readonly string[] | undefined;
  readonly externalId?: string | undefined;
}

export interface UpdateMemberInput {
  readonly name?: string | undefined;
  readonly trustedMetadata?: Record<string, unknown> | undefined;
  readonly untrustedMetadata?: Record<string, unknown> | undefined;
  readonly isBreakglass?: boolean | undefined;
  readonly mfaPhoneNumber?: string | undefined;
  readonly mfaEnrolled?: boolean | undefined;
  readonly roles?: readonly string[] | undefined;
  readonly preserveExistingSessions?: boolean | undefined;
  readonly defaultMfaMethod?: string | undefined;
  readonly emailAddress?: string | undefined;
  readonly externalId?: string | undefined;
  readonly unlinkEmail?: boolean | undefined;
}

export interface SearchMembersInput {
  readonly organizationIds: readonly string[];
  readonly cursor?: string | undefined;
  readonly limit?: number | string | undefined;
  readonly query?: RawSearchQuery | undefined;
}

/** organizations.members.search filters, as the Node SDK types them. */
export const MEMBER_SEARCH_FILTERS: Readonly<Record<string, FilterValueType>> = {
  member_ids: 'string[]',
  member_emails: 'string[]',
  member_email_fuzzy: 'string',
  member_is_breakglass: 'boolean',
  statuses: 'string[]',
  member_phone_numbers: 'string[]',
  member_phone_number_fuzzy: 'string',
};

/** Use cases of the Members API. */
export class MembersService {
  readonly #store: MembersServiceStore;
  readonly #ids: IdGenerator;
  readonly #clock: Clock;
  readonly #audit: AuditRecorder;
  readonly #rbacPolicy: Pick<RbacPolicyService, 'checkAssignable' | 'existingRoles'>;
  readonly #events: DomainEventPublisher<StorePorts>;

  constructor(dependencies: {
    store: MembersServiceStore;
    ids: IdGenerator;
    clock: Clock;
    audit: AuditRecorder;
    /** The roles members may be given (the project's policy and the organization's own). */
    rbacPolicy: Pick<RbacPolicyService, 'checkAssignable' | 'existingRoles'>;
    /** Told of deletions and address changes, in their transaction: the member's sessions and impersonation tokens end with them. */
    events: DomainEventPublisher<StorePorts>;
  }) {
    this.#store = dependencies.store;
    this.#ids = dependencies.ids;
    this.#clock = dependencies.clock;
    this.#audit = dependencies.audit;
    this.#rbacPolicy = dependencies.rbacPolicy;
    this.#events = dependencies.events;
  }

  async create(context: OperationContext, organizationReference: string, input: CreateMemberInput): Promise<MemberWithOrganization> {
    return this.#store.transaction(async (tx) => {
      const organization = await requireOrganization(tx, organizationReference, FOR_SHARE);
      const now = toTimestamp(this.#clock.now());
      const member = newMember({
        memberId: this.#ids.next('member'),
        organization,
        emailAddress: normalizeEmail(input.emailAddress),
        status: input.createMemberAsPending === true ? 'pending' : 'active',
        at: now,
        overrides: {
          name: checkMemberName(input.name ?? ''),
          externalId: emptyToNull(input.externalId),
          isBreakglass: input.isBreakglass ?? false,
          mfaPhoneNumber: checkPhoneNumber(input.mfaPhoneNumber ?? ''),
          mfaEnrolled: input.mfaEnrolled ?? false,
          assignedRoles: await this.#rbacPolicy.checkAssignable(input.roles ?? [], organization, tx),
          trustedMetadata: checkMetadata(input.trustedMetadata ?? {}, 'trusted_metadata'),
          untrustedMetadata: checkMetadata(input.untrustedMetadata ?? {}, 'untrusted_metadata'),
        },
      });
      await assertUniqueWithinOrganization(tx.members, member);
      await writeOrExplain(() => tx.members.insertMember(member));
      await this.#audit.record(tx.audit, context, {
        type: 'member.created',
        organizationId: organization.organizationId,
        memberId: member.memberId,
        occurredAt: now,
        details: { status: member.status, roles: member.assignedRoles },
      });
      return { member, organization };
    });
  }

  /** members.get: by member id (or external id) or by email address, exactly one of them. */
  async get(organizationReference: string, by: { memberId?: string | undefined; emailAddress?: string | undefined }): Promise<MemberWithOrganization> {
    if ((by.memberId === undefined) === (by.emailAddress === undefined)) throw memberError('invalid_member_get_fields');
    const organization = await requireOrganization(this.#store, organizationReference);
    const member =
      by.memberId !== undefined
        ? await this.#store.members.findMember(organization.organizationId, by.memberId)
        : await this.#store.members.findMemberByEmail(organization.organizationId, normalizeEmail(by.emailAddress as string));
    if (member === undefined || member.status === 'deleted') throw memberError('member_not_found');
    return { member, organization };
  }

  /** members.dangerouslyGet: by member id alone, across organizations. */
  async dangerouslyGet(memberId: string, options: { includeDeleted: boolean }): Promise<MemberWithOrganization> {
    const member = await this.#store.members.findMemberById(memberId);
    if (member === undefined || (member.status === 'deleted' && !options.includeDeleted)) throw memberError('member_not_found');
    const organization = await requireOrganization(this.#store, member.organizationId);
    return { member, organization };
  }

  async update(
    context: OperationContext,
    organizationReference: string,
    memberReference: string,
    input: UpdateMemberInput,
  ): Promise<MemberWithOrganization> {
    return this.#store.transaction(async (tx) => {
      const { member: current, organization } = await requireLiveMember(tx, organizationReference, memberReference, LOCKED);
      const now = toTimestamp(this.#clock.now());
      const updated: Member = {
        ...current,
        ...changedEmail(current, input, () => this.#ids.next('email')),
        name: input.name === undefined ? current.name : checkMemberName(input.name),
        externalId: input.externalId === undefined ? current.externalId : emptyToNull(input.externalId),
        isBreakglass: input.isBreakglass ?? current.isBreakglass,
        mfaPhoneNumber: input.mfaPhoneNumber === undefined ? current.mfaPhoneNumber : checkPhoneNumber(input.mfaPhoneNumber),
        mfaPhoneNumberVerified:
          input.mfaPhoneNumber === undefined || input.mfaPhoneNumber === current.mfaPhoneNumber ? current.mfaPhoneNumberVerified : false,
        mfaEnrolled: input.mfaEnrolled ?? current.mfaEnrolled,
        defaultMfaMethod: input.defaultMfaMethod === undefined ? current.defaultMfaMethod : checkDefaultMfaMethod(input.defaultMfaMethod),
        assignedRoles: input.roles === undefined ? current.assignedRoles : await this.#rbacPolicy.checkAssignable(input.roles, organization, tx),
        trustedMetadata: input.trustedMetadata === undefined ? current.trustedMetadata : checkMetadata(input.trustedMetadata, 'trusted_metadata'),
        untrustedMetadata:
          input.untrustedMetadata === undefined ? current.untrustedMetadata : checkMetadata(input.untrustedMetadata, 'untrusted_metadata'),
        updatedAt: now,
      };
      await assertUniqueWithinOrganization(tx.members, updated);
      await writeOrExplain(() => tx.members.updateMember(updated));
      // Tokens minted for the old address die; sessions end unless the caller keeps them (Stytch's preserve_existing_sessions).
      if (updated.emailAddress !== current.emailAddress) {
        await this.#events.publish(tx, context, {
          type: 'member.email_changed',
          organizationId: organization.organizationId,
          memberId: current.memberId,
          preserveSessions: input.preserveExistingSessions === true,
        });
      }
      await this.#audit.record(tx.audit, context, {
        type: 'member.updated',
        organizationId: organization.organizationId,
        memberId: current.memberId,
        occurredAt: now,
        details: { fields: changedFields(input) },
      });
      // As stored now: the email change's subscribers may have changed the row too (its password is deleted).
      const stored = updated.emailAddress === current.emailAddress ? undefined : await tx.members.findMemberById(current.memberId);
      return { member: stored ?? updated, organization };
    });
  }

  /** Deleting a member marks it `deleted`; members.reactivate can bring it back. */
  async delete(context: OperationContext, organizationReference: string, memberReference: string): Promise<string> {
    return this.#store.transaction(async (tx) => {
      const { member, organization } = await requireLiveMember(tx, organizationReference, memberReference, LOCKED);
      const now = toTimestamp(this.#clock.now());
      // Its second factors are deleted with it (mfa-event-handlers.ts), so nothing may name them: a
      // reactivated member enrols again, and verifies its phone number again.
      const second = { totpRegistrationId: '', mfaPhoneNumberVerified: false, defaultMfaMethod: '' };
      await tx.members.updateMember({ ...member, ...second, status: 'deleted', updatedAt: now });
      // The member's sessions end and its unredeemed impersonation tokens are revoked, for good.
      await this.#events.publish(tx, context, { type: 'member.deleted', organizationId: organization.organizationId, memberId: member.memberId });
      await this.#audit.record(tx.audit, context, {
        type: 'member.deleted',
        organizationId: organization.organizationId,
        memberId: member.memberId,
        occurredAt: now,
      });
      return member.memberId;
    });
  }

  /** members.reactivate takes the real member id only: Stytch accepts no external id for it. */
  async reactivate(context: OperationContext, organizationReference: string, memberId: string): Promise<MemberWithOrganization> {
    return this.#store.transaction(async (tx) => {
      const organization = await requireOrganization(tx, organizationReference, FOR_SHARE);
      const member = await tx.members.findMemberById(memberId, FOR_UPDATE);
      if (member === undefined || member.organizationId !== organization.organizationId) throw memberError('member_not_found');
      if (member.status !== 'deleted') throw memberError('no_deleted_member_found_for_reactivation');
      const now = toTimestamp(this.#clock.now());
      // Roles removed from the policies while the member was deleted do not come back with them
      // (nor later, should a role of that id be defined again).
      const { kept: assignedRoles, dropped: droppedRoles } = await this.#rbacPolicy.existingRoles(member.assignedRoles, organization, tx);
      const reactivated: Member = { ...member, assignedRoles, status: 'active', updatedAt: now };
      const holder = await tx.members.findMemberByEmail(organization.organizationId, member.emailAddress);
      if (holder !== undefined) throw memberError('reactivation_email_belongs_to_another_member');
      await assertUniqueWithinOrganization(tx.members, reactivated);
      await writeOrExplain(() => tx.members.updateMember(reactivated));
      await this.#audit.record(tx.audit, context, {
        type: 'member.reactivated',
        organizationId: organization.organizationId,
        memberId: member.memberId,
        occurredAt: now,
        ...(droppedRoles.length > 0 && { details: { dropped_roles: droppedRoles } }),
      });
      return { member: reactivated, organization };
    });
  }

  async deleteExternalId(context: OperationContext, organizationReference: string, memberReference: string): Promise<MemberWithOrganization> {
    return this.#updateField(context, organizationReference, memberReference, 'member.external_id_deleted', (member) => ({
      ...member,
      externalId: null,
    }));
  }

  /**
   * organizations.members.deleteMFAPhoneNumber: the member's number, its verification and an
   * `sms_otp` default MFA method are cleared (those columns only), and a code sent to it stops
   * working; the member's sessions stay. `reason` (the console asks for one) is recorded with the event.
   * A member with none of these gets the same answer, and nothing is written; `deleted` (not on the
   * wire) tells the console whether there was a number.
   */
  async deleteMFAPhoneNumber(context: OperationContext, organizationReference: string, memberReference: string, reason?: string): Promise<MemberWithOrganization & { readonly deleted: boolean }> {
    return this.#store.transaction(async (tx) => {
      const { member, organization } = await requireLiveMember(tx, organizationReference, memberReference, LOCKED);
      // Nothing to clear: a retried delete is safe and audits nothing (as deleteTOTP).
      if (member.mfaPhoneNumber === '' && !member.mfaPhoneNumberVerified && member.defaultMfaMethod !== 'sms_otp') return { member, organization, deleted: false };
      const now = toTimestamp(this.#clock.now());
      const changes = { mfaPhoneNumber: '', mfaPhoneNumberVerified: false, defaultMfaMethod: member.defaultMfaMethod === 'sms_otp' ? '' : member.defaultMfaMethod };
      const updated = await tx.members.setMfaState(organization.organizationId, member.memberId, changes, now);
      if (updated === undefined) throw memberError('member_not_found');
      await tx.smsCodes.deleteSmsCode(member.memberId);
      await this.#audit.record(tx.audit, context, {
        type: 'member.mfa_phone_number_deleted',
        organizationId: organization.organizationId,
        memberId: member.memberId,
        occurredAt: now,
        details: { phone_number: member.mfaPhoneNumber, ...(reason !== undefined && reason !== '' && { reason }) },
      });
      // Something was cleared (a number, its verification or an sms_otp default), written and audited.
      return { member: updated, organization, deleted: true };
    });
  }

  async search(input: SearchMembersInput): Promise<Page<Member> & { organizations: Organization[] }> {
    if (input.organizationIds.length === 0) throw memberError('member_search_organization_ids_empty');
    const page = { limit: parseLimit(input.limit), after: decodeCursor(input.cursor) };
    const query = withCanonicalEmails(parseSearchQuery(input.query, MEMBER_SEARCH_FILTERS, 'member_search'));
    const statuses = query.filters.find((filter) => filter.name === 'statuses');
    if (statuses?.type === 'string[]' && statuses.value.some((status) => !MEMBER_STATUSES.includes(status as MemberStatus))) {
      throw sharedError('search_invalid_status_filter');
    }
    const organizations = await resolveOrganizations(this.#store.organizations, input.organizationIds);
    const { rows, total } = await this.#store.members.searchMembers(
      organizations.map((organization) => organization.organizationId),
      query,
      page,
    );
    const result = toPage(rows, page, total, (row) => ({ createdAt: row.createdAt, id: row.memberId }));
    return { ...result, organizations };
  }

  async #updateField(
    context: OperationContext,
    organizationReference: string,
    memberReference: string,
    type: 'member.updated' | 'member.external_id_deleted',
    change: (member: Member) => Member,
  ): Promise<MemberWithOrganization> {
    return this.#store.transaction(async (tx) => {
      const { member, organization } = await requireLiveMember(tx, organizationReference, memberReference, LOCKED);
      const now = toTimestamp(this.#clock.now());
      const updated = { ...change(member), updatedAt: now };
      await tx.members.updateMember(updated);
      await this.#audit.record(tx.audit, context, { type, organizationId: organization.organizationId, memberId: member.memberId, occurredAt: now });
      return { member: updated, organization };
    });
  }
}

/** Ids are matched exactly first; whatever is left may be a slug or an external id. */
async function resolveOrganizations(store: OrganizationsStore, references: readonly string[]): Promise<Organization[]> {
  const unique = [...new Set(references)];
  const found = await store.findOrganizationsByIds(unique);
  const foundIds = new Set(found.map((organization) => organization.organizationId));
  for (const reference of unique.filter((candidate) => !foundIds.has(candidate))) {
    const organization = await store.findOrganization(reference);
    if (organization === undefined) throw organizationError('organization_not_found', `Organization ${JSON.stringify(reference)} could not be found.`);
    if (!foundIds.has(organization.organizationId)) found.push(organization);
    foundIds.add(organization.organizationId);
  }
  return found;
}

async function assertUniqueWithinOrganization(store: MembersStore, member: Member): Promise<void> {
  const byEmail = await store.findMemberByEmail(member.organizationId, member.emailAddress);
  if (byEmail !== undefined && byEmail.memberId !== member.memberId) throw memberError('duplicate_member_email');
  if (member.externalId !== null) {
    // A member is found by id or external id alike (findMember), and the id wins: an external id equal to
    // another member's id would name two members. Emails cannot meet external ids, which have no "@".
    const byId = await store.findMemberById(member.externalId);
    if (byId !== undefined && byId.memberId !== member.memberId && byId.organizationId === member.organizationId) {
      throw memberError('duplicate_member_external_id', 'external_id is the member_id of another member of the organization.');
    }
    const byExternalId = await store.findMember(member.organizationId, member.externalId);
    if (byExternalId !== undefined && byExternalId.memberId !== member.memberId && byExternalId.status !== 'deleted' && byExternalId.externalId === member.externalId) {
      throw memberError('duplicate_member_external_id');
    }
  }
}

async function writeOrExplain(write: () => Promise<void>): Promise<void> {
  try {
    await write();
  } catch (error) {
    if (error instanceof UniqueConstraintError) {
      throw memberError(error.field === 'external_id' ? 'duplicate_member_external_id' : 'duplicate_member_email');
    }
    throw error;
  }
}

/**
 * A new email address retires the old one (kept in `retired_email_addresses`) unless
 * `unlink_email` asks to drop it; the new address is unverified until the member proves it.
 */
function changedEmail(current: Member, input: UpdateMemberInput, newEmailId: () => string): Partial<Member> {
  if (input.emailAddress === undefined) return {};
  const emailAddress = normalizeEmail(input.emailAddress);
  if (emailAddress === current.emailAddress) return {};
  const retired = input.unlinkEmail === true ? current.retiredEmailAddresses : [...current.retiredEmailAddresses, { emailId: newEmailId(), emailAddress: current.emailAddress }];
  return { emailAddress, emailAddressVerified: false, retiredEmailAddresses: retired };
}

function emptyToNull(value: string | undefined): string | null {
  return value === undefined || value === '' ? null : checkMemberExternalId(value);
}

function changedFields(input: UpdateMemberInput): string[] {
  return Object.entries(input)
    .filter(([, value]) => value !== undefined)
    .map(([key]) => key.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`));
}
