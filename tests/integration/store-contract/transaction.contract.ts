import { describe, expect, it } from 'vitest';
import { aMember } from '../../support/builders/member-builder.js';
import { anOrganization } from '../../support/builders/organization-builder.js';
import type { StoreFactory } from '../../support/stores.js';
import { useFreshStore } from './contract-support.js';

/** Store.transaction (src/storage/store.ts): every port bound to one transaction, all or nothing. */
export function describeTransactionContract(factory: StoreFactory): void {
  describe('Store.transaction', () => {
    const store = useFreshStore(factory);

    it('commits every write of the work and returns its result', async () => {
      const organization = anOrganization({ settings: { emailAllowedDomains: ['committed.example'] } });
      const member = aMember({ organizationId: organization.organizationId });
      const result = await store().transaction(async (tx) => {
        await tx.organizations.insertOrganization(organization);
        await tx.members.insertMember(member);
        // Reads inside the transaction see its own writes.
        expect(await tx.members.findMemberById(member.memberId)).toEqual(member);
        return 'done';
      });
      expect(result).toBe('done');
      expect(await store().organizations.findOrganization(organization.organizationId)).toEqual(organization);
      expect(await store().members.findMemberById(member.memberId)).toEqual(member);
    });

    it('rolls back every write, across ports, when the work throws, and rethrows the same error', async () => {
      const existing = anOrganization();
      await store().organizations.insertOrganization(existing);
      const organization = anOrganization({ settings: { emailAllowedDomains: ['rolled-back.example'] } });
      const member = aMember({ organizationId: organization.organizationId });
      const failure = new Error('work failed');
      const outcome = store().transaction(async (tx) => {
        await tx.organizations.insertOrganization(organization);
        await tx.members.insertMember(member);
        await tx.organizations.updateOrganization({ ...existing, organizationName: 'Changed inside' });
        await tx.audit.appendEvent({
          eventId: 'audit-event-test-rolled-back',
          type: 'organization.created',
          occurredAt: organization.createdAt,
          requestId: 'request-id-test-1',
          actor: { type: 'system' },
          organizationId: organization.organizationId,
          memberId: null,
          impersonatorId: null,
          client: null,
          details: {},
        });
        await tx.projects.replaceProject({ projectId: 'project-test-rolled-back', secretDigest: 'digest', createdAt: organization.createdAt });
        throw failure;
      });
      await expect(outcome).rejects.toBe(failure);
      expect(await store().organizations.findOrganization(organization.organizationId)).toBeUndefined();
      expect(await store().organizations.findOrganization(existing.organizationId)).toEqual(existing);
      expect(await store().members.findMemberById(member.memberId)).toBeUndefined();
      expect(await store().audit.listEvents({ organizationId: null, limit: 10 })).toEqual([]);
      expect(await store().projects.findProject()).toBeUndefined();
      const byDomain = await store().organizations.searchOrganizations(
        { operator: 'AND', filters: [{ name: 'allowed_domains', type: 'string[]', value: ['rolled-back.example'] }] },
        { limit: 10, after: null },
      );
      expect(byDomain.total).toBe(0);
    });

    it('rolls back when a write inside the work hits a unique index, leaving the earlier writes out too', async () => {
      await store().organizations.insertOrganization(anOrganization({ organizationSlug: 'already-here' }));
      const first = anOrganization();
      const outcome = store().transaction(async (tx) => {
        await tx.organizations.insertOrganization(first);
        await tx.organizations.insertOrganization(anOrganization({ organizationSlug: 'already-here' }));
      });
      await expect(outcome).rejects.toMatchObject({ name: 'UniqueConstraintError', field: 'organization_slug' });
      expect(await store().organizations.findOrganization(first.organizationId)).toBeUndefined();
    });
  });
}
