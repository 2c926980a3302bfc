import { describe, expect, it } from 'vitest';
import { effectiveRoles, isAdmin } from '../../../src/domain/members/member.js';
import type { CreateMemberInput } from '../../../src/domain/members/members-service.js';
import { STORES } from '../../support/stores.js';
import { CONTEXT, START, auditTrail, domainErrorCode, footprint, useServices } from './service-harness.js';

/** Inputs MembersService.create must refuse, each with its Stytch error_type (src/domain/members/errors.ts). */
const INVALID_MEMBERS: readonly [string, CreateMemberInput, string][] = [
  ['an invalid email', { emailAddress: 'not-an-email' }, 'invalid_email'],
  ['an email with a space', { emailAddress: 'a b@acme.example' }, 'invalid_email'],
  ['the implicit stytch_member role', { emailAddress: 'x@acme.example', roles: ['stytch_member'] }, 'cannot_assign_default_rbac_role_id'],
  ['an unknown role', { emailAddress: 'x@acme.example', roles: ['ghost_role'] }, 'invalid_rbac_role_id'],
  ['an invalid external id', { emailAddress: 'x@acme.example', externalId: 'has space' }, 'invalid_member_external_id'],
  ['a phone number outside E.164', { emailAddress: 'x@acme.example', mfaPhoneNumber: '555-0100' }, 'invalid_phone_number'],
  ['oversized metadata', { emailAddress: 'x@acme.example', trustedMetadata: { blob: 'x'.repeat(5000) } }, 'metadata_too_large'],
];

describe.each(STORES)('MembersService on $name', (factory) => {
  const services = useServices(factory);

  async function anOrganizationNamed(slug: string, settings: Record<string, unknown> = {}): Promise<string> {
    return (await services().organizations.create(CONTEXT, { organizationName: slug, organizationSlug: slug, ...settings })).organizationId;
  }

  describe('create', () => {
    it('creates an active member with a normalized email and records member.created', async () => {
      const { members, store } = services();
      const organizationId = await anOrganizationNamed('acme');
      const { member, organization } = await members.create(CONTEXT, 'acme', { emailAddress: '  Ada@ACME.example ', name: 'Ada' });
      expect(organization.organizationId).toBe(organizationId);
      expect(member).toMatchObject({ organizationId, emailAddress: 'ada@acme.example', status: 'active', name: 'Ada', emailAddressVerified: false });
      expect(member.memberId).toMatch(/^member-test-[0-9a-f-]{36}$/);
      expect(await store.members.findMemberById(member.memberId)).toEqual(member);
      expect((await auditTrail(store)).at(-1)).toEqual({
        eventId: expect.stringMatching(/^audit-event-test-/),
        type: 'member.created',
        occurredAt: START,
        requestId: CONTEXT.requestId,
        actor: CONTEXT.actor,
        organizationId,
        memberId: member.memberId,
        impersonatorId: null,
        client: null,
        details: { status: 'active', roles: [] },
      });
    });

    it('creates a pending member when create_member_as_pending is true, also through the organization external id', async () => {
      const { members } = services();
      await anOrganizationNamed('acme', { organizationExternalId: 'acme-ext' });
      const { member } = await members.create(CONTEXT, 'acme-ext', { emailAddress: 'pending@acme.example', createMemberAsPending: true });
      expect(member.status).toBe('pending');
    });

    it.each(INVALID_MEMBERS)('refuses %s with %s, writing no row and no audit event', async (_label, input, code) => {
      const { members, store } = services();
      await anOrganizationNamed('acme');
      const before = await footprint(store);
      expect(await domainErrorCode(members.create(CONTEXT, 'acme', input))).toBe(code);
      expect(await footprint(store)).toEqual(before);
    });

    it('refuses a live duplicate email (in any letter case) or external id in the same organization, but not in another', async () => {
      const { members, store } = services();
      await anOrganizationNamed('acme');
      await anOrganizationNamed('other');
      await members.create(CONTEXT, 'acme', { emailAddress: 'dup@acme.example', externalId: 'dup-ext' });
      const before = await footprint(store);
      expect(await domainErrorCode(members.create(CONTEXT, 'acme', { emailAddress: 'DUP@acme.example' }))).toBe('duplicate_member_email');
      expect(await domainErrorCode(members.create(CONTEXT, 'acme', { emailAddress: 'new@acme.example', externalId: 'dup-ext' }))).toBe(
        'duplicate_member_external_id',
      );
      expect(await domainErrorCode(members.create(CONTEXT, 'missing', { emailAddress: 'x@acme.example' }))).toBe('organization_not_found');
      expect(await footprint(store)).toEqual(before);
      await members.create(CONTEXT, 'other', { emailAddress: 'dup@acme.example', externalId: 'dup-ext' });
    });
  });

  describe('roles', () => {
    it('makes a member given stytch_admin an admin; a plain member holds only stytch_member', async () => {
      const { members } = services();
      await anOrganizationNamed('acme');
      const admin = await members.create(CONTEXT, 'acme', { emailAddress: 'admin@acme.example', roles: ['stytch_admin', 'stytch_admin'] });
      expect(admin.member.assignedRoles).toEqual(['stytch_admin']);
      const adminRoles = effectiveRoles(admin.member, admin.organization);
      expect(adminRoles.map((role) => role.roleId)).toEqual(['stytch_member', 'stytch_admin']);
      expect(isAdmin(adminRoles)).toBe(true);
      const plain = await members.create(CONTEXT, 'acme', { emailAddress: 'plain@acme.example' });
      expect(effectiveRoles(plain.member, plain.organization)).toEqual([{ roleId: 'stytch_member', sources: [{ type: 'direct_assignment', details: {} }] }]);
      expect(isAdmin(effectiveRoles(plain.member, plain.organization))).toBe(false);
    });

    it('grants the roles of rbac_email_implicit_role_assignments to members of that email domain only', async () => {
      const { members } = services();
      await anOrganizationNamed('acme', { rbacEmailImplicitRoleAssignments: [{ domain: 'ACME.example', roleId: 'stytch_admin' }] });
      const insider = await members.create(CONTEXT, 'acme', { emailAddress: 'ada@Acme.Example' });
      expect(insider.member.assignedRoles).toEqual([]);
      const roles = effectiveRoles(insider.member, insider.organization);
      expect(roles).toContainEqual({ roleId: 'stytch_admin', sources: [{ type: 'email_assignment', details: { email_domain: 'acme.example' } }] });
      expect(isAdmin(roles)).toBe(true);
      const outsider = await members.create(CONTEXT, 'acme', { emailAddress: 'bob@elsewhere.example' });
      expect(isAdmin(effectiveRoles(outsider.member, outsider.organization))).toBe(false);
    });

    it('refuses stytch_member and unknown roles on update too, leaving the member unchanged', async () => {
      const { members, store } = services();
      await anOrganizationNamed('acme');
      const { member } = await members.create(CONTEXT, 'acme', { emailAddress: 'ada@acme.example' });
      const before = await footprint(store);
      expect(await domainErrorCode(members.update(CONTEXT, 'acme', member.memberId, { roles: ['stytch_member'] }))).toBe(
        'cannot_assign_default_rbac_role_id',
      );
      expect(await domainErrorCode(members.update(CONTEXT, 'acme', member.memberId, { roles: ['ghost'] }))).toBe('invalid_rbac_role_id');
      expect(await footprint(store)).toEqual(before);
      expect(await store.members.findMemberById(member.memberId)).toEqual(member);
    });
  });

  describe('update', () => {
    it('retires the old email on an email change, frees it, and records member.updated', async () => {
      const { members, store, clock } = services();
      const organizationId = await anOrganizationNamed('acme');
      const { member } = await members.create(CONTEXT, 'acme', { emailAddress: 'old@acme.example', externalId: 'ada-ext' });
      clock.advance(5_000);
      const { member: updated } = await members.update(CONTEXT, 'acme', 'ada-ext', { emailAddress: 'New@acme.example', name: 'Ada' });
      expect(updated).toMatchObject({ emailAddress: 'new@acme.example', emailAddressVerified: false, name: 'Ada', updatedAt: '2026-03-01T12:00:05Z' });
      expect(updated.retiredEmailAddresses).toEqual([{ emailId: expect.stringMatching(/^email-test-/), emailAddress: 'old@acme.example' }]);
      expect(await store.members.findMemberById(member.memberId)).toEqual(updated);
      expect((await auditTrail(store)).at(-1)).toMatchObject({
        type: 'member.updated',
        organizationId,
        memberId: member.memberId,
        requestId: CONTEXT.requestId,
        actor: CONTEXT.actor,
        occurredAt: '2026-03-01T12:00:05Z',
        details: { fields: ['email_address', 'name'] },
      });
      await members.create(CONTEXT, 'acme', { emailAddress: 'old@acme.example' });
    });

    it('drops the old email instead of retiring it when unlink_email is true', async () => {
      const { members } = services();
      await anOrganizationNamed('acme');
      const { member } = await members.create(CONTEXT, 'acme', { emailAddress: 'old@acme.example' });
      const { member: updated } = await members.update(CONTEXT, 'acme', member.memberId, { emailAddress: 'new@acme.example', unlinkEmail: true });
      expect(updated.emailAddress).toBe('new@acme.example');
      expect(updated.retiredEmailAddresses).toEqual([]);
    });

    it('refuses an email another live member holds, and members of another organization, without writing', async () => {
      const { members, store } = services();
      await anOrganizationNamed('acme');
      await anOrganizationNamed('other');
      await members.create(CONTEXT, 'acme', { emailAddress: 'held@acme.example' });
      const { member } = await members.create(CONTEXT, 'acme', { emailAddress: 'mine@acme.example' });
      const before = await footprint(store);
      expect(await domainErrorCode(members.update(CONTEXT, 'acme', member.memberId, { emailAddress: 'HELD@acme.example' }))).toBe(
        'duplicate_member_email',
      );
      expect(await domainErrorCode(members.update(CONTEXT, 'other', member.memberId, { name: 'Hijack' }))).toBe('member_not_found');
      expect(await footprint(store)).toEqual(before);
      expect(await store.members.findMemberById(member.memberId)).toEqual(member);
    });
  });

  describe('delete and reactivate', () => {
    it('marks the member deleted, hides it from get, and records member.deleted then member.reactivated', async () => {
      const { members, store } = services();
      const organizationId = await anOrganizationNamed('acme');
      const { member } = await members.create(CONTEXT, 'acme', { emailAddress: 'ada@acme.example' });
      expect(await members.delete(CONTEXT, 'acme', member.memberId)).toBe(member.memberId);
      expect((await store.members.findMemberById(member.memberId))?.status).toBe('deleted');
      expect(await domainErrorCode(members.get('acme', { memberId: member.memberId }))).toBe('member_not_found');
      expect((await members.dangerouslyGet(member.memberId, { includeDeleted: true })).member.status).toBe('deleted');
      expect(await domainErrorCode(members.dangerouslyGet(member.memberId, { includeDeleted: false }))).toBe('member_not_found');
      expect(await domainErrorCode(members.delete(CONTEXT, 'acme', member.memberId))).toBe('member_not_found');

      const { member: reactivated } = await members.reactivate(CONTEXT, 'acme', member.memberId);
      expect(reactivated.status).toBe('active');
      expect(await members.get('acme', { emailAddress: 'ada@acme.example' })).toMatchObject({ member: { memberId: member.memberId } });
      const trail = (await auditTrail(store)).slice(-2);
      expect(trail.map((event) => [event.type, event.organizationId, event.memberId, event.requestId])).toEqual([
        ['member.deleted', organizationId, member.memberId, CONTEXT.requestId],
        ['member.reactivated', organizationId, member.memberId, CONTEXT.requestId],
      ]);
      expect(await domainErrorCode(members.reactivate(CONTEXT, 'acme', member.memberId))).toBe('no_deleted_member_found_for_reactivation');
    });

    it('refuses to reactivate a member whose email was taken meanwhile, and a member of another organization', async () => {
      const { members, store } = services();
      await anOrganizationNamed('acme');
      await anOrganizationNamed('other');
      const { member } = await members.create(CONTEXT, 'acme', { emailAddress: 'ada@acme.example' });
      await members.delete(CONTEXT, 'acme', member.memberId);
      await members.create(CONTEXT, 'acme', { emailAddress: 'ada@acme.example' });
      const before = await footprint(store);
      expect(await domainErrorCode(members.reactivate(CONTEXT, 'acme', member.memberId))).toBe('reactivation_email_belongs_to_another_member');
      expect(await domainErrorCode(members.reactivate(CONTEXT, 'other', member.memberId))).toBe('member_not_found');
      expect(await footprint(store)).toEqual(before);
      expect((await store.members.findMemberById(member.memberId))?.status).toBe('deleted');
    });

    it('reactivates a member once the member who took its email address is deleted in turn', async () => {
      const { members } = services();
      await anOrganizationNamed('acme');
      const { member } = await members.create(CONTEXT, 'acme', { emailAddress: 'ada@acme.example' });
      await members.delete(CONTEXT, 'acme', member.memberId);
      const { member: holder } = await members.create(CONTEXT, 'acme', { emailAddress: 'ADA@acme.example' });
      expect(await domainErrorCode(members.reactivate(CONTEXT, 'acme', member.memberId))).toBe('reactivation_email_belongs_to_another_member');
      await members.delete(CONTEXT, 'acme', holder.memberId);
      const { member: reactivated } = await members.reactivate(CONTEXT, 'acme', member.memberId);
      expect(reactivated).toMatchObject({ memberId: member.memberId, status: 'active', emailAddress: 'ada@acme.example' });
      expect(await domainErrorCode(members.reactivate(CONTEXT, 'acme', holder.memberId))).toBe('reactivation_email_belongs_to_another_member');
    });
  });

  describe('get, field deletes and search', () => {
    it('gets a member by id, external id or email in any letter case, and never another organization member', async () => {
      const { members } = services();
      await anOrganizationNamed('acme');
      await anOrganizationNamed('other');
      const { member } = await members.create(CONTEXT, 'acme', { emailAddress: 'ada@acme.example', externalId: 'ada-ext' });
      for (const by of [{ memberId: member.memberId }, { memberId: 'ada-ext' }, { emailAddress: 'ADA@Acme.Example' }]) {
        expect((await members.get('acme', by)).member).toEqual(member);
      }
      expect(await domainErrorCode(members.get('other', { memberId: member.memberId }))).toBe('member_not_found');
      expect(await domainErrorCode(members.get('other', { emailAddress: 'ada@acme.example' }))).toBe('member_not_found');
      expect(await domainErrorCode(members.get('acme', {}))).toBe('invalid_member_get_fields');
      expect(await domainErrorCode(members.get('acme', { memberId: member.memberId, emailAddress: 'ada@acme.example' }))).toBe('invalid_member_get_fields');
    });

    it('deletes the external id and the MFA phone number, recording an event for each', async () => {
      const { members, store } = services();
      await anOrganizationNamed('acme');
      const { member } = await members.create(CONTEXT, 'acme', { emailAddress: 'ada@acme.example', externalId: 'ada-ext', mfaPhoneNumber: '+12025550123' });
      expect((await members.deleteExternalId(CONTEXT, 'acme', 'ada-ext')).member.externalId).toBeNull();
      expect((await members.deleteMFAPhoneNumber(CONTEXT, 'acme', member.memberId)).member.mfaPhoneNumber).toBe('');
      expect(await store.members.findMemberById(member.memberId)).toMatchObject({ externalId: null, mfaPhoneNumber: '' });
      expect((await auditTrail(store)).slice(-2).map((event) => [event.type, event.memberId])).toEqual([
        ['member.external_id_deleted', member.memberId],
        ['member.mfa_phone_number_deleted', member.memberId],
      ]);
    });

    it('searches the listed organizations (by id or slug) only, and refuses unknown ones', async () => {
      const { members } = services();
      const acmeId = await anOrganizationNamed('acme');
      await anOrganizationNamed('other');
      const { member } = await members.create(CONTEXT, 'acme', { emailAddress: 'ada@acme.example' });
      await members.create(CONTEXT, 'other', { emailAddress: 'ada@acme.example' });
      const result = await members.search({ organizationIds: ['acme'], query: { operator: 'AND', operands: [{ filter_name: 'member_email_fuzzy', filter_value: 'ADA' }] } });
      expect(result.items).toEqual([member]);
      expect(result.organizations.map((organization) => organization.organizationId)).toEqual([acmeId]);
      expect(await domainErrorCode(members.search({ organizationIds: ['missing'] }))).toBe('organization_not_found');
      expect(await domainErrorCode(members.search({ organizationIds: [] }))).toBe('member_search_organization_ids_empty');
    });
  });
});
