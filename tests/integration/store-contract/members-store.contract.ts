import { describe, expect, it } from 'vitest';
import type { Member } from '../../../src/domain/members/member.js';
import type { Organization } from '../../../src/domain/organizations/organization.js';
import { aMember } from '../../support/builders/member-builder.js';
import { anOrganization } from '../../support/builders/organization-builder.js';
import type { StoreFactory } from '../../support/stores.js';
import { uniqueViolationField, useFreshStore } from './contract-support.js';
import { describeMembersSearchContract } from './members-search.contract.js';

/** A member with every field away from its default, to prove each one survives storage. */
function aFullyPopulatedMember(organizationId: string): Member {
  return aMember({
    organizationId,
    emailAddress: 'full.member+tag@example.com',
    emailAddressVerified: true,
    status: 'invited',
    name: 'Zoë "Full" Member',
    externalId: 'ext|member.1',
    isBreakglass: true,
    mfaPhoneNumber: '+12025550123',
    mfaPhoneNumberVerified: true,
    mfaEnrolled: true,
    defaultMfaMethod: 'totp',
    assignedRoles: ['stytch_admin', 'billing'],
    ssoGroups: { 'saml-connection-test-1': ['engineering', 'Ünïcode "group"'], 'oidc-connection-test-2': [] },
    trustedMetadata: { plan: 'pro', seats: 3, flag: false, none: null, nested: { deep: [1, { two: true }] } },
    untrustedMetadata: { theme: 'dark' },
    retiredEmailAddresses: [{ emailId: 'email-test-1', emailAddress: 'old@example.com' }],
    memberPasswordId: 'member-password-test-1',
    totpRegistrationId: 'totp-registration-test-1',
    isLocked: true,
    lockCreatedAt: '2026-02-01T00:00:00Z',
    lockExpiresAt: '2026-02-01T01:00:00Z',
  });
}

/** The MembersStore port (src/domain/members/members-store.ts) against one adapter, with an isolation case per method. */
export function describeMembersStoreContract(factory: StoreFactory): void {
  describe('MembersStore', () => {
    const store = useFreshStore(factory);

    async function twoOrganizations(): Promise<[Organization, Organization]> {
      const first = anOrganization();
      const second = anOrganization();
      await store().organizations.insertOrganization(first);
      await store().organizations.insertOrganization(second);
      return [first, second];
    }

    async function insert(member: Member): Promise<Member> {
      await store().members.insertMember(member);
      return member;
    }

    describe('insertMember', () => {
      it('round-trips every field, including booleans, JSON documents and nulls', async () => {
        const [organization] = await twoOrganizations();
        const full = await insert(aFullyPopulatedMember(organization.organizationId));
        const minimal = await insert(aMember({ organizationId: organization.organizationId }));
        expect(await store().members.findMemberById(full.memberId)).toEqual(full);
        expect(await store().members.findMemberById(minimal.memberId)).toEqual(minimal);
        expect(minimal.externalId).toBeNull();
        expect(minimal.isBreakglass).toBe(false);
      });

      it('rejects a second live member with the same email in the organization with UniqueConstraintError(email_address)', async () => {
        const [organization] = await twoOrganizations();
        await insert(aMember({ organizationId: organization.organizationId, emailAddress: 'dup@example.com' }));
        const duplicate = aMember({ organizationId: organization.organizationId, emailAddress: 'dup@example.com' });
        expect(await uniqueViolationField(store().members.insertMember(duplicate))).toBe('email_address');
        expect(await store().members.findMemberById(duplicate.memberId)).toBeUndefined();
      });

      it('rejects a second live member with the same external id with UniqueConstraintError(external_id)', async () => {
        const [organization] = await twoOrganizations();
        await insert(aMember({ organizationId: organization.organizationId, externalId: 'dup-external' }));
        const duplicate = aMember({ organizationId: organization.organizationId, externalId: 'dup-external' });
        expect(await uniqueViolationField(store().members.insertMember(duplicate))).toBe('external_id');
        expect(await store().members.findMemberById(duplicate.memberId)).toBeUndefined();
      });

      it('lets deleted members free their email and external id (partial unique indexes)', async () => {
        const [organization] = await twoOrganizations();
        const shared = { organizationId: organization.organizationId, emailAddress: 'reused@example.com', externalId: 'reused-external' };
        const firstDeleted = await insert(aMember({ ...shared, status: 'deleted' }));
        const secondDeleted = await insert(aMember({ ...shared, status: 'deleted' }));
        const live = await insert(aMember(shared));
        for (const member of [firstDeleted, secondDeleted, live]) expect(await store().members.findMemberById(member.memberId)).toEqual(member);
      });

      it('isolation: the same email and external id may live in two organizations', async () => {
        const [first, second] = await twoOrganizations();
        const shared = { emailAddress: 'same@example.com', externalId: 'same-external' };
        const inFirst = await insert(aMember({ ...shared, organizationId: first.organizationId }));
        const inSecond = await insert(aMember({ ...shared, organizationId: second.organizationId }));
        expect(await store().members.findMemberById(inFirst.memberId)).toEqual(inFirst);
        expect(await store().members.findMemberById(inSecond.memberId)).toEqual(inSecond);
      });
    });

    describe('updateMember', () => {
      it('replaces every stored field', async () => {
        const [organization] = await twoOrganizations();
        const original = await insert(aMember({ organizationId: organization.organizationId }));
        const full = aFullyPopulatedMember(organization.organizationId);
        const replaced: Member = { ...full, memberId: original.memberId, createdAt: original.createdAt };
        await store().members.updateMember(replaced);
        expect(await store().members.findMemberById(original.memberId)).toEqual(replaced);
        const cleared: Member = { ...replaced, externalId: null, lockCreatedAt: null, lockExpiresAt: null, isBreakglass: false, isLocked: false };
        await store().members.updateMember(cleared);
        expect(await store().members.findMemberById(original.memberId)).toEqual(cleared);
      });

      it('rejects taking a live email or external id with the matching UniqueConstraintError field', async () => {
        const [organization] = await twoOrganizations();
        await insert(aMember({ organizationId: organization.organizationId, emailAddress: 'held@example.com', externalId: 'held' }));
        const other = await insert(aMember({ organizationId: organization.organizationId }));
        expect(await uniqueViolationField(store().members.updateMember({ ...other, emailAddress: 'held@example.com' }))).toBe('email_address');
        expect(await uniqueViolationField(store().members.updateMember({ ...other, externalId: 'held' }))).toBe('external_id');
        expect(await store().members.findMemberById(other.memberId)).toEqual(other);
      });

      it('refuses to reactivate a deleted member whose email a live member now holds', async () => {
        const [organization] = await twoOrganizations();
        const deleted = await insert(aMember({ organizationId: organization.organizationId, emailAddress: 'back@example.com', status: 'deleted' }));
        await insert(aMember({ organizationId: organization.organizationId, emailAddress: 'back@example.com' }));
        expect(await uniqueViolationField(store().members.updateMember({ ...deleted, status: 'active' }))).toBe('email_address');
        expect((await store().members.findMemberById(deleted.memberId))?.status).toBe('deleted');
      });

      it('is a no-op for a member that does not exist', async () => {
        const [organization] = await twoOrganizations();
        const ghost = aMember({ organizationId: organization.organizationId });
        await store().members.updateMember(ghost);
        expect(await store().members.findMemberById(ghost.memberId)).toBeUndefined();
      });

      it('isolation: an update naming another organization does not change the row', async () => {
        const [first, second] = await twoOrganizations();
        const member = await insert(aMember({ organizationId: first.organizationId }));
        await store().members.updateMember({ ...member, organizationId: second.organizationId, name: 'Hijacked', status: 'deleted' });
        expect(await store().members.findMemberById(member.memberId)).toEqual(member);
        expect(await store().members.findMember(second.organizationId, member.memberId)).toBeUndefined();
      });
    });

    describe('findMember', () => {
      it('finds a member by id or by external id, and returns undefined when neither matches', async () => {
        const [organization] = await twoOrganizations();
        const member = await insert(aMember({ organizationId: organization.organizationId, externalId: 'by-external' }));
        expect(await store().members.findMember(organization.organizationId, member.memberId)).toEqual(member);
        expect(await store().members.findMember(organization.organizationId, 'by-external')).toEqual(member);
        expect(await store().members.findMember(organization.organizationId, 'member-test-missing')).toBeUndefined();
      });

      it('finds deleted members too, but a live member wins over a deleted one with the same external id', async () => {
        const [organization] = await twoOrganizations();
        const deleted = await insert(aMember({ organizationId: organization.organizationId, externalId: 'contested', status: 'deleted' }));
        expect(await store().members.findMember(organization.organizationId, 'contested')).toEqual(deleted);
        const live = await insert(aMember({ organizationId: organization.organizationId, externalId: 'contested' }));
        expect(await store().members.findMember(organization.organizationId, 'contested')).toEqual(live);
        expect(await store().members.findMember(organization.organizationId, deleted.memberId)).toEqual(deleted);
      });

      it('prefers a member id over another member external id', async () => {
        const [organization] = await twoOrganizations();
        const byId = await insert(aMember({ organizationId: organization.organizationId }));
        await insert(aMember({ organizationId: organization.organizationId, externalId: byId.memberId }));
        expect(await store().members.findMember(organization.organizationId, byId.memberId)).toEqual(byId);
      });

      it('isolation: another organization member id or external id is not found', async () => {
        const [first, second] = await twoOrganizations();
        const member = await insert(aMember({ organizationId: first.organizationId, externalId: 'first-only' }));
        expect(await store().members.findMember(second.organizationId, member.memberId)).toBeUndefined();
        expect(await store().members.findMember(second.organizationId, 'first-only')).toBeUndefined();
      });
    });

    describe('findMemberByEmail', () => {
      it('finds the live member with this email and ignores deleted members', async () => {
        const [organization] = await twoOrganizations();
        await insert(aMember({ organizationId: organization.organizationId, emailAddress: 'gone@example.com', status: 'deleted' }));
        expect(await store().members.findMemberByEmail(organization.organizationId, 'gone@example.com')).toBeUndefined();
        const pending = await insert(aMember({ organizationId: organization.organizationId, emailAddress: 'gone@example.com', status: 'pending' }));
        expect(await store().members.findMemberByEmail(organization.organizationId, 'gone@example.com')).toEqual(pending);
        expect(await store().members.findMemberByEmail(organization.organizationId, 'nobody@example.com')).toBeUndefined();
      });

      it('isolation: the same email in two organizations resolves to each organization own member', async () => {
        const [first, second] = await twoOrganizations();
        const third = anOrganization();
        await store().organizations.insertOrganization(third);
        const inFirst = await insert(aMember({ organizationId: first.organizationId, emailAddress: 'both@example.com' }));
        const inSecond = await insert(aMember({ organizationId: second.organizationId, emailAddress: 'both@example.com' }));
        expect(await store().members.findMemberByEmail(first.organizationId, 'both@example.com')).toEqual(inFirst);
        expect(await store().members.findMemberByEmail(second.organizationId, 'both@example.com')).toEqual(inSecond);
        expect(await store().members.findMemberByEmail(third.organizationId, 'both@example.com')).toBeUndefined();
      });
    });

    describe('findMemberById', () => {
      it('finds a member of any organization, deleted or not, and returns undefined for an unknown id', async () => {
        const [first, second] = await twoOrganizations();
        const inFirst = await insert(aMember({ organizationId: first.organizationId }));
        const deletedInSecond = await insert(aMember({ organizationId: second.organizationId, status: 'deleted' }));
        expect(await store().members.findMemberById(inFirst.memberId)).toEqual(inFirst);
        expect(await store().members.findMemberById(deletedInSecond.memberId)).toEqual(deletedInSecond);
        expect(await store().members.findMemberById('member-test-missing')).toBeUndefined();
      });

      it('isolation: matches member ids only, never an external id another organization chose', async () => {
        const [first, second] = await twoOrganizations();
        const member = await insert(aMember({ organizationId: first.organizationId, externalId: 'looks-like-an-id' }));
        await insert(aMember({ organizationId: second.organizationId, externalId: member.memberId }));
        expect(await store().members.findMemberById('looks-like-an-id')).toBeUndefined();
        expect((await store().members.findMemberById(member.memberId))?.organizationId).toBe(first.organizationId);
      });
    });

    describe('findMembersWithVerifiedPhoneNumber', () => {
      it('finds the live members of the organization who verified the number, not those who only linked it', async () => {
        const [first, second] = await twoOrganizations();
        const verified = await insert(aMember({ organizationId: first.organizationId, mfaPhoneNumber: '+14155550100', mfaPhoneNumberVerified: true }));
        await insert(aMember({ organizationId: first.organizationId, mfaPhoneNumber: '+14155550100', mfaPhoneNumberVerified: false }));
        await insert(aMember({ organizationId: first.organizationId, mfaPhoneNumber: '+14155550100', mfaPhoneNumberVerified: true, status: 'deleted' }));
        await insert(aMember({ organizationId: first.organizationId, mfaPhoneNumber: '+14155550101', mfaPhoneNumberVerified: true }));
        await insert(aMember({ organizationId: second.organizationId, mfaPhoneNumber: '+14155550100', mfaPhoneNumberVerified: true }));
        expect(await store().members.findMembersWithVerifiedPhoneNumber(first.organizationId, '+14155550100')).toEqual([verified]);
        expect(await store().members.findMembersWithVerifiedPhoneNumber(first.organizationId, '+14155550199')).toEqual([]);
      });
    });

    describe('setSsoState', () => {
      const registration = { connectionId: 'saml-connection-test-1', externalId: 'nameid-ada', registrationId: 'saml-member-registration-test-1', ssoAttributes: { email: 'ada@example.com', groups: ['a', 'b'] } };

      it('sets the SSO columns, and status, verification and name only when named; every other column is left as stored', async () => {
        const [organization] = await twoOrganizations();
        const member = await insert(aFullyPopulatedMember(organization.organizationId));
        const at = '2026-03-01T00:00:00Z';
        const changes = { ssoRegistrations: [registration], ssoGroups: { 'saml-connection-test-1': ['a'] } };
        const updated = await store().members.setSsoState(organization.organizationId, member.memberId, changes, at);
        expect(updated).toEqual({ ...member, ...changes, updatedAt: at });
        expect(await store().members.findMemberById(member.memberId)).toEqual(updated);
        const all = { ...changes, status: 'active' as const, emailAddressVerified: false, name: 'Ada' };
        expect(await store().members.setSsoState(organization.organizationId, member.memberId, all, at)).toEqual({ ...member, ...all, updatedAt: at });
      });

      it('isolation: names the member within its organization only; undefined when it is not there', async () => {
        const [first, second] = await twoOrganizations();
        const member = await insert(aMember({ organizationId: first.organizationId }));
        expect(await store().members.setSsoState(second.organizationId, member.memberId, { ssoRegistrations: [registration], ssoGroups: {} }, '2026-03-01T00:00:00Z')).toBeUndefined();
        expect(await store().members.findMemberById(member.memberId)).toEqual(member);
      });
    });
  });

  describeMembersSearchContract(factory);
}
