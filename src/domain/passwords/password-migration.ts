import type { RbacStore } from '../rbac/rbac-store.js';
import type { RbacPolicyService } from '../rbac/policy-service.js';
import type { Clock } from '../../platform/clock.js';
import { toTimestamp } from '../../platform/clock.js';
import type { IdGenerator } from '../../platform/ids.js';
import type { AuditRecorder } from '../audit/audit-recorder.js';
import type { OperationContext } from '../common/operation-context.js';
import { FOR_SHARE, FOR_UPDATE } from '../common/read-for-update.js';
import { UniqueConstraintError } from '../common/unique-constraint-error.js';
import { memberError } from '../members/errors.js';
import { checkMemberExternalId, checkMemberName, checkMetadata, checkPhoneNumber, newMember, normalizeEmail, type Member } from '../members/member.js';
import type { MembersStore } from '../members/members-store.js';
import type { Organization } from '../organizations/organization.js';
import type { OrganizationsStore } from '../organizations/organizations-store.js';
import { requireOrganization } from '../organizations/require-organization.js';
import type { MemberPasswords, PasswordPorts } from './member-passwords.js';
import type { PasswordHash } from './stored-password.js';

/** What migrating one member reads and writes: the organization, the member, their password, the audit trail. */
export type MigrationPorts = PasswordPorts & { organizations: OrganizationsStore; rbac: RbacStore };

/**
 * One member's password brought over from another system, as plain values: what passwords.migrate
 * is given and what a bulk import reads from a file. Only `organizationId`, `emailAddress` and
 * `hash` are required; the rest is applied when given.
 */
export interface MemberMigrationInput {
  /** The organization's id, slug or external id. */
  readonly organizationId: string;
  /** As given; normalized here. */
  readonly emailAddress: string;
  /**
   * Already checked: what PasswordHashing.checkMigratedHash returned (cheap, no hashing).
   * Undefined (a bulk import's member without a password): the member is created or updated as
   * with one, and keeps whatever password they have.
   */
  readonly hash: PasswordHash | undefined;
  readonly name?: string | undefined;
  readonly trustedMetadata?: Record<string, unknown> | undefined;
  readonly untrustedMetadata?: Record<string, unknown> | undefined;
  /** Replaces the member's explicitly assigned roles. */
  readonly roles?: readonly string[] | undefined;
  readonly mfaPhoneNumber?: string | undefined;
  /** The caller attests the member owns `mfaPhoneNumber`. */
  readonly setPhoneNumberVerified?: boolean | undefined;
  /** For a member created now only; ignored when the member exists (as Stytch does). */
  readonly externalId?: string | undefined;
}

export interface MemberMigrated {
  readonly member: Member;
  readonly organization: Organization;
  readonly memberCreated: boolean;
}

/**
 * Migrating a member's password, inside the caller's transaction: passwords.migrate runs it alone,
 * a bulk import once per member. The caller attests that the address is the member's, so the member
 * ends `active` with a verified address, as an email proof would leave them: created when the
 * organization has no live member with the address, otherwise updated with the fields given. The
 * migrated hash replaces any password they had; it is verified with its own algorithm until their
 * first sign-in replaces it with argon2id (MemberPasswords.confirm).
 *
 * A migration started with no live member races another for the same address: the loser's insert
 * fails on the unique address (UniqueConstraintError 'email_address'); run the transaction once more
 * (retryOnceOnDuplicate) and it finds the member the winner created.
 */
export class PasswordMigration {
  readonly #passwords: Pick<MemberPasswords, 'savePassword'>;
  readonly #ids: IdGenerator;
  readonly #clock: Clock;
  readonly #audit: AuditRecorder;
  readonly #rbacPolicy: Pick<RbacPolicyService, 'checkAssignable'>;

  constructor(dependencies: { passwords: Pick<MemberPasswords, 'savePassword'>; ids: IdGenerator; clock: Clock; audit: AuditRecorder; rbacPolicy: Pick<RbacPolicyService, 'checkAssignable'> }) {
    this.#passwords = dependencies.passwords;
    this.#ids = dependencies.ids;
    this.#clock = dependencies.clock;
    this.#audit = dependencies.audit;
    this.#rbacPolicy = dependencies.rbacPolicy;
  }

  async migrateMember(tx: MigrationPorts, context: OperationContext, input: MemberMigrationInput): Promise<MemberMigrated> {
    const given = checkGiven(input);
    const organization = await requireOrganization(tx, input.organizationId, FOR_SHARE);
    // Checked whether or not the member exists: an import never drops a wrong role silently.
    const roles = input.roles === undefined ? undefined : await this.#rbacPolicy.checkAssignable(input.roles, organization, tx);
    const found = await tx.members.findMemberByEmail(organization.organizationId, given.emailAddress);
    const locked = found === undefined ? undefined : await tx.members.findMemberById(found.memberId, FOR_UPDATE);
    // As locked: a member whose address changed (or who was deleted) since the lookup is not this address's member.
    const existing = locked !== undefined && locked.emailAddress === given.emailAddress && locked.status !== 'deleted' ? locked : undefined;
    const at = toTimestamp(this.#clock.now());
    const { member, created } =
      existing === undefined || existing.status === 'deleted'
        ? { member: await this.#create(tx, context, organization, given, roles, at), created: true }
        : { member: await this.#update(tx, context, organization, existing, given, roles, at), created: false };
    if (input.hash === undefined) return { member, organization, memberCreated: created };
    // One member per call, as Stytch's migrate is (called once per organization for an address in
    // several): a migration never overwrites the address's password in other organizations.
    const saved = await this.#passwords.savePassword(tx, context, member, input.hash, 'migrate', { thisMemberOnly: true });
    if (saved === undefined) throw memberError('member_not_found');
    return { member: saved, organization, memberCreated: created };
  }

  async #create(tx: MigrationPorts, context: OperationContext, organization: Organization, given: Given, roles: string[] | undefined, at: string): Promise<Member> {
    const member = newMember({
      memberId: this.#ids.next('member'),
      organization,
      emailAddress: given.emailAddress,
      status: 'active',
      at,
      overrides: {
        emailAddressVerified: true,
        name: given.name ?? '',
        externalId: given.externalId ?? null,
        mfaPhoneNumber: given.mfaPhoneNumber ?? '',
        mfaPhoneNumberVerified: (given.mfaPhoneNumber ?? '') !== '' && given.setPhoneNumberVerified,
        assignedRoles: roles ?? [],
        trustedMetadata: given.trustedMetadata ?? {},
        untrustedMetadata: given.untrustedMetadata ?? {},
      },
    });
    if (member.externalId !== null) await assertExternalIdFree(tx.members, organization.organizationId, member.externalId);
    try {
      await tx.members.insertMember(member);
    } catch (error) {
      // The address: a concurrent migration won the race; the caller's retry finds its member.
      if (error instanceof UniqueConstraintError && error.field === 'external_id') throw memberError('duplicate_member_external_id');
      throw error;
    }
    await this.#audit.record(tx.audit, context, {
      type: 'member.created',
      organizationId: organization.organizationId,
      memberId: member.memberId,
      occurredAt: at,
      details: { status: member.status, roles: member.assignedRoles, by: 'password_migration' },
    });
    return member;
  }

  /** The fields given replace the member's (their row is locked); the member becomes active with a verified address. */
  async #update(
    tx: MigrationPorts,
    context: OperationContext,
    organization: Organization,
    current: Member,
    given: Given,
    roles: string[] | undefined,
    at: string,
  ): Promise<Member> {
    const phoneChanged = given.mfaPhoneNumber !== undefined && given.mfaPhoneNumber !== current.mfaPhoneNumber;
    const updated: Member = {
      ...current,
      status: 'active',
      emailAddressVerified: true,
      name: given.name ?? current.name,
      mfaPhoneNumber: given.mfaPhoneNumber ?? current.mfaPhoneNumber,
      mfaPhoneNumberVerified:
        given.mfaPhoneNumber === undefined
          ? current.mfaPhoneNumberVerified
          : given.mfaPhoneNumber !== '' && (given.setPhoneNumberVerified || (!phoneChanged && current.mfaPhoneNumberVerified)),
      assignedRoles: roles ?? current.assignedRoles,
      trustedMetadata: given.trustedMetadata ?? current.trustedMetadata,
      untrustedMetadata: given.untrustedMetadata ?? current.untrustedMetadata,
      updatedAt: at,
    };
    const fields = changedFields(current, updated);
    if (fields.length === 0) return current;
    await tx.members.updateMember(updated);
    await this.#audit.record(tx.audit, context, {
      type: 'member.updated',
      organizationId: organization.organizationId,
      memberId: current.memberId,
      occurredAt: at,
      details: { fields, by: 'password_migration' },
    });
    return updated;
  }
}

type Given = {
  readonly emailAddress: string;
  readonly name: string | undefined;
  readonly trustedMetadata: Record<string, unknown> | undefined;
  readonly untrustedMetadata: Record<string, unknown> | undefined;
  readonly mfaPhoneNumber: string | undefined;
  readonly setPhoneNumberVerified: boolean;
  readonly externalId: string | undefined;
};

/** Everything that can be checked without the organization, as members.create checks it. */
function checkGiven(input: MemberMigrationInput): Given {
  return {
    emailAddress: normalizeEmail(input.emailAddress),
    name: input.name === undefined ? undefined : checkMemberName(input.name),
    trustedMetadata: input.trustedMetadata === undefined ? undefined : checkMetadata(input.trustedMetadata, 'trusted_metadata'),
    untrustedMetadata: input.untrustedMetadata === undefined ? undefined : checkMetadata(input.untrustedMetadata, 'untrusted_metadata'),
    mfaPhoneNumber: input.mfaPhoneNumber === undefined ? undefined : checkPhoneNumber(input.mfaPhoneNumber),
    setPhoneNumberVerified: input.setPhoneNumberVerified === true,
    externalId: input.externalId === undefined || input.externalId === '' ? undefined : checkMemberExternalId(input.externalId),
  };
}

/**
 * A member is found by id or external id alike, the id winning: an external id that is another
 * member's id, or another live member's external id, would name two members.
 */
async function assertExternalIdFree(members: MembersStore, organizationId: string, externalId: string): Promise<void> {
  const byId = await members.findMemberById(externalId);
  if (byId !== undefined && byId.organizationId === organizationId) throw memberError('duplicate_member_external_id', 'external_id is the member_id of another member of the organization.');
  const byExternalId = await members.findMember(organizationId, externalId);
  if (byExternalId !== undefined && byExternalId.status !== 'deleted' && byExternalId.externalId === externalId) throw memberError('duplicate_member_external_id');
}

const COMPARED: readonly (keyof Member)[] = [
  'status',
  'emailAddressVerified',
  'name',
  'mfaPhoneNumber',
  'mfaPhoneNumberVerified',
  'assignedRoles',
  'trustedMetadata',
  'untrustedMetadata',
];

/** The wire names of the fields that differ, for the audit event. */
function changedFields(before: Member, after: Member): string[] {
  return COMPARED.filter((field) => JSON.stringify(before[field]) !== JSON.stringify(after[field])).map((field) =>
    field.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`),
  );
}
