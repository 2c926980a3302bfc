import { describe, expect, it } from 'vitest';
import type { Organization } from '../../../src/domain/organizations/organization.js';
import type { SearchQuery } from '../../../src/domain/common/search.js';
import { aMember } from '../../support/builders/member-builder.js';
import { anOrganization } from '../../support/builders/organization-builder.js';
import type { StoreFactory } from '../../support/stores.js';
import { uniqueViolationField, useFreshStore } from './contract-support.js';
import { describeOrganizationsSearchContract } from './organizations-search.contract.js';

/** An organization with every field away from its default, to prove each one survives storage. */
function aFullyPopulatedOrganization(): Organization {
  return anOrganization({
    organizationName: 'Ünïcode & Co. "quoted"',
    organizationLogoUrl: 'https://example.com/logo.png',
    organizationExternalId: 'ext|full.org_1',
    trustedMetadata: { tier: 'gold', seats: 42, active: true, nothing: null, nested: { list: [1, 'two', false] } },
    settings: {
      ssoJitProvisioning: 'RESTRICTED',
      ssoJitProvisioningAllowedConnections: ['saml-connection-test-1'],
      ssoDefaultConnectionId: 'saml-connection-test-1',
      emailAllowedDomains: ['full.example', 'other.example'],
      emailJitProvisioning: 'RESTRICTED',
      emailInvites: 'RESTRICTED',
      authMethods: 'RESTRICTED',
      allowedAuthMethods: ['magic_link', 'password'],
      mfaPolicy: 'REQUIRED_FOR_ALL',
      mfaMethods: 'RESTRICTED',
      allowedMfaMethods: ['totp'],
      rbacEmailImplicitRoleAssignments: [{ domain: 'full.example', roleId: 'stytch_admin' }],
      ssoImplicitRoleAssignments: [
        { connectionId: 'saml-connection-test-1', roleId: 'stytch_admin' },
        { connectionId: 'saml-connection-test-1', group: 'finance', roleId: 'billing' },
      ],
      oauthTenantJitProvisioning: 'RESTRICTED',
      allowedOauthTenants: { slack: ['T123'], github: ['acme'] },
      claimedEmailDomains: ['claimed.example'],
      firstPartyConnectedAppsAllowedType: 'NOT_ALLOWED',
      allowedFirstPartyConnectedApps: ['app-1'],
      thirdPartyConnectedAppsAllowedType: 'RESTRICTED',
      allowedThirdPartyConnectedApps: ['app-2', 'app-3'],
      customRoles: [{ roleId: 'billing', description: 'Billing admins', permissions: [{ resourceId: 'invoices', actions: ['read', '*'] }] }],
    },
  });
}

function byAllowedDomain(domain: string): SearchQuery {
  return { operator: 'AND', filters: [{ name: 'allowed_domains', type: 'string[]', value: [domain] }] };
}

/** The OrganizationsStore port (src/domain/organizations/organizations-store.ts) against one adapter. */
export function describeOrganizationsStoreContract(factory: StoreFactory): void {
  describe('OrganizationsStore', () => {
    const store = useFreshStore(factory);

    describe('insertOrganization', () => {
      it('round-trips every field, including JSON metadata, nested settings and nulls', async () => {
        const full = aFullyPopulatedOrganization();
        const minimal = anOrganization({ organizationExternalId: null, settings: { ssoDefaultConnectionId: null } });
        await store().organizations.insertOrganization(full);
        await store().organizations.insertOrganization(minimal);
        expect(await store().organizations.findOrganization(full.organizationId)).toEqual(full);
        expect(await store().organizations.findOrganization(minimal.organizationId)).toEqual(minimal);
      });

      it('rejects a second organization with the same slug with UniqueConstraintError(organization_slug) and keeps the first', async () => {
        const first = anOrganization({ organizationSlug: 'taken-slug' });
        const second = anOrganization({ organizationSlug: 'taken-slug' });
        await store().organizations.insertOrganization(first);
        expect(await uniqueViolationField(store().organizations.insertOrganization(second))).toBe('organization_slug');
        expect(await store().organizations.findOrganization('taken-slug')).toEqual(first);
        expect(await store().organizations.findOrganization(second.organizationId)).toBeUndefined();
      });

      it('rejects a second organization with the same external id with UniqueConstraintError(organization_external_id)', async () => {
        await store().organizations.insertOrganization(anOrganization({ organizationExternalId: 'shared-external' }));
        const second = anOrganization({ organizationExternalId: 'shared-external' });
        expect(await uniqueViolationField(store().organizations.insertOrganization(second))).toBe('organization_external_id');
        expect(await store().organizations.findOrganization(second.organizationId)).toBeUndefined();
      });

      it('allows any number of organizations without an external id', async () => {
        const first = anOrganization({ organizationExternalId: null });
        const second = anOrganization({ organizationExternalId: null });
        await store().organizations.insertOrganization(first);
        await store().organizations.insertOrganization(second);
        expect(await store().organizations.findOrganizationsByIds([first.organizationId, second.organizationId])).toHaveLength(2);
      });
    });

    describe('updateOrganization', () => {
      it('replaces every stored field and leaves other organizations alone', async () => {
        const original = anOrganization();
        const bystander = anOrganization();
        await store().organizations.insertOrganization(original);
        await store().organizations.insertOrganization(bystander);
        const full = aFullyPopulatedOrganization();
        const replaced: Organization = { ...full, organizationId: original.organizationId, createdAt: original.createdAt };
        await store().organizations.updateOrganization(replaced);
        expect(await store().organizations.findOrganization(original.organizationId)).toEqual(replaced);
        expect(await store().organizations.findOrganization(bystander.organizationId)).toEqual(bystander);
      });

      it('can clear the external id back to null', async () => {
        const organization = anOrganization({ organizationExternalId: 'to-clear' });
        await store().organizations.insertOrganization(organization);
        await store().organizations.updateOrganization({ ...organization, organizationExternalId: null });
        expect((await store().organizations.findOrganization(organization.organizationId))?.organizationExternalId).toBeNull();
        expect(await store().organizations.findOrganization('to-clear')).toBeUndefined();
      });

      it('rewrites the allowed and claimed domains used by search', async () => {
        const organization = anOrganization({ settings: { emailAllowedDomains: ['old.example'] } });
        await store().organizations.insertOrganization(organization);
        await store().organizations.updateOrganization({ ...organization, settings: { ...organization.settings, emailAllowedDomains: ['new.example'] } });
        const page = { limit: 10, after: null };
        expect((await store().organizations.searchOrganizations(byAllowedDomain('old.example'), page)).total).toBe(0);
        const found = await store().organizations.searchOrganizations(byAllowedDomain('new.example'), page);
        expect(found.rows.map((row) => row.organizationId)).toEqual([organization.organizationId]);
      });

      it('rejects taking another organization slug or external id with the matching UniqueConstraintError field', async () => {
        const holder = anOrganization({ organizationSlug: 'held-slug', organizationExternalId: 'held-external' });
        const other = anOrganization();
        await store().organizations.insertOrganization(holder);
        await store().organizations.insertOrganization(other);
        expect(await uniqueViolationField(store().organizations.updateOrganization({ ...other, organizationSlug: 'held-slug' }))).toBe(
          'organization_slug',
        );
        expect(
          await uniqueViolationField(store().organizations.updateOrganization({ ...other, organizationExternalId: 'held-external' })),
        ).toBe('organization_external_id');
        expect(await store().organizations.findOrganization(other.organizationId)).toEqual(other);
      });

      it('is a no-op for an organization that does not exist, even one with domains', async () => {
        const ghost = anOrganization({ settings: { emailAllowedDomains: ['ghost.example'], claimedEmailDomains: ['ghost.example'] } });
        await store().organizations.updateOrganization(ghost);
        expect(await store().organizations.findOrganization(ghost.organizationId)).toBeUndefined();
        expect((await store().organizations.searchOrganizations(byAllowedDomain('ghost.example'), { limit: 10, after: null })).total).toBe(0);
      });
    });

    describe('findOrganization', () => {
      it('finds an organization by id, by slug and by external id', async () => {
        const organization = anOrganization({ organizationSlug: 'find-me', organizationExternalId: 'find-me-external' });
        await store().organizations.insertOrganization(organization);
        expect(await store().organizations.findOrganization(organization.organizationId)).toEqual(organization);
        expect(await store().organizations.findOrganization('find-me')).toEqual(organization);
        expect(await store().organizations.findOrganization('find-me-external')).toEqual(organization);
      });

      it('returns undefined when nothing matches, including a slug in another letter case', async () => {
        await store().organizations.insertOrganization(anOrganization({ organizationSlug: 'lower-slug' }));
        expect(await store().organizations.findOrganization('organization-test-unknown')).toBeUndefined();
        expect(await store().organizations.findOrganization('LOWER-SLUG')).toBeUndefined();
      });

      it('prefers an id over a slug and a slug over an external id', async () => {
        const byId = anOrganization();
        const slugEqualsId = anOrganization({ organizationSlug: byId.organizationId });
        const bySlug = anOrganization({ organizationSlug: 'contested' });
        const externalEqualsSlug = anOrganization({ organizationExternalId: 'contested' });
        for (const organization of [externalEqualsSlug, slugEqualsId, byId, bySlug]) {
          await store().organizations.insertOrganization(organization);
        }
        expect((await store().organizations.findOrganization(byId.organizationId))?.organizationId).toBe(byId.organizationId);
        expect((await store().organizations.findOrganization('contested'))?.organizationId).toBe(bySlug.organizationId);
      });
    });

    describe('findOrganizationsByReference', () => {
      it('returns every organization answering to the reference by id, slug or external id, and nothing else', async () => {
        const byId = anOrganization();
        const bySlug = anOrganization({ organizationSlug: byId.organizationId });
        const byExternalId = anOrganization({ organizationExternalId: byId.organizationId });
        const bystander = anOrganization({ organizationSlug: 'bystander', organizationExternalId: 'bystander-external' });
        for (const organization of [byId, bySlug, byExternalId, bystander]) await store().organizations.insertOrganization(organization);
        const found = await store().organizations.findOrganizationsByReference(byId.organizationId);
        expect(found.map((organization) => organization.organizationId).sort()).toEqual(
          [byId.organizationId, bySlug.organizationId, byExternalId.organizationId].sort(),
        );
        expect(found.find((organization) => organization.organizationId === bySlug.organizationId)).toEqual(bySlug);
        expect(await store().organizations.findOrganizationsByReference('BYSTANDER')).toEqual([]);
        expect(await store().organizations.findOrganizationsByReference('bystander-external')).toEqual([bystander]);
      });

      it('lockReferences can be taken by one transaction after another, and outside of one', async () => {
        await store().transaction((tx) => tx.organizations.lockReferences());
        await store().transaction((tx) => tx.organizations.lockReferences());
        await store().organizations.lockReferences();
      });
    });

    describe('findOrganizationsByIds', () => {
      it('returns the organizations with these ids and leaves unknown ids out', async () => {
        const first = anOrganization();
        const second = anOrganization();
        const third = anOrganization();
        for (const organization of [first, second, third]) await store().organizations.insertOrganization(organization);
        const found = await store().organizations.findOrganizationsByIds([third.organizationId, 'organization-test-missing', first.organizationId]);
        expect(found.map((organization) => organization.organizationId).sort()).toEqual([first.organizationId, third.organizationId].sort());
        expect(found.find((organization) => organization.organizationId === first.organizationId)).toEqual(first);
      });

      it('matches ids only, not slugs or external ids, and returns [] for an empty list', async () => {
        await store().organizations.insertOrganization(anOrganization({ organizationSlug: 'slug-only', organizationExternalId: 'external-only' }));
        expect(await store().organizations.findOrganizationsByIds(['slug-only', 'external-only'])).toEqual([]);
        expect(await store().organizations.findOrganizationsByIds([])).toEqual([]);
      });
    });

    describe('deleteOrganization', () => {
      it('removes the organization, its members and its domains, and nothing of other organizations', async () => {
        const doomed = anOrganization({ settings: { emailAllowedDomains: ['doomed.example'], claimedEmailDomains: ['doomed.example'] } });
        const survivor = anOrganization({ settings: { emailAllowedDomains: ['doomed.example'] } });
        await store().organizations.insertOrganization(doomed);
        await store().organizations.insertOrganization(survivor);
        const doomedMember = aMember({ organizationId: doomed.organizationId, emailAddress: 'same@doomed.example' });
        const deletedMember = aMember({ organizationId: doomed.organizationId, status: 'deleted' });
        const survivingMember = aMember({ organizationId: survivor.organizationId, emailAddress: 'same@doomed.example' });
        for (const member of [doomedMember, deletedMember, survivingMember]) await store().members.insertMember(member);

        await store().organizations.deleteOrganization(doomed.organizationId);

        expect(await store().organizations.findOrganization(doomed.organizationId)).toBeUndefined();
        expect(await store().members.findMemberById(doomedMember.memberId)).toBeUndefined();
        expect(await store().members.findMemberById(deletedMember.memberId)).toBeUndefined();
        expect(await store().members.findMemberById(survivingMember.memberId)).toEqual(survivingMember);
        const search = await store().organizations.searchOrganizations(byAllowedDomain('doomed.example'), { limit: 10, after: null });
        expect(search.rows.map((row) => row.organizationId)).toEqual([survivor.organizationId]);
        // Leftover domain rows would collide with the primary key of a re-created organization.
        await store().organizations.insertOrganization(doomed);
        expect(await store().organizations.findOrganization(doomed.organizationId)).toEqual(doomed);
      });

      it('is a no-op for an organization that does not exist', async () => {
        const organization = anOrganization();
        await store().organizations.insertOrganization(organization);
        await store().organizations.deleteOrganization('organization-test-missing');
        expect(await store().organizations.findOrganization(organization.organizationId)).toEqual(organization);
      });
    });

    describe('countMembers', () => {
      it('counts the live members of one organization, ignoring deleted ones and other organizations', async () => {
        const counted = anOrganization();
        const other = anOrganization();
        await store().organizations.insertOrganization(counted);
        await store().organizations.insertOrganization(other);
        await store().members.insertMember(aMember({ organizationId: counted.organizationId, status: 'active' }));
        await store().members.insertMember(aMember({ organizationId: counted.organizationId, status: 'pending' }));
        await store().members.insertMember(aMember({ organizationId: counted.organizationId, status: 'invited' }));
        await store().members.insertMember(aMember({ organizationId: counted.organizationId, status: 'deleted' }));
        await store().members.insertMember(aMember({ organizationId: other.organizationId }));
        expect(await store().organizations.countMembers(counted.organizationId)).toBe(3);
        expect(await store().organizations.countMembers(other.organizationId)).toBe(1);
      });

      it('returns 0 for an organization without members and for an unknown organization', async () => {
        const empty = anOrganization();
        await store().organizations.insertOrganization(empty);
        expect(await store().organizations.countMembers(empty.organizationId)).toBe(0);
        expect(await store().organizations.countMembers('organization-test-missing')).toBe(0);
      });
    });
  });

  describeOrganizationsSearchContract(factory);
}
