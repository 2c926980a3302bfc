import { describe, expect, it } from 'vitest';
import type { Organization } from '../../../src/domain/organizations/organization.js';
import type { PageRequest } from '../../../src/domain/common/pagination.js';
import { MAX_QUERY_VALUES, type SearchFilter, type SearchQuery } from '../../../src/domain/common/search.js';
import { aMember } from '../../support/builders/member-builder.js';
import { anOrganization, type OrganizationOverrides } from '../../support/builders/organization-builder.js';
import type { StoreFactory } from '../../support/stores.js';
import { useFreshStore } from './contract-support.js';

const FIRST_PAGE: PageRequest = { limit: 100, after: null };

function all(...filters: SearchFilter[]): SearchQuery {
  return { operator: 'AND', filters };
}

function list(name: string, value: readonly string[]): SearchFilter {
  return { name, type: 'string[]', value };
}

function text(name: string, value: string): SearchFilter {
  return { name, type: 'string', value };
}

/** OrganizationsStore.searchOrganizations: every filter of ORGANIZATION_SEARCH_FILTERS, AND/OR, totals and keyset pages. */
export function describeOrganizationsSearchContract(factory: StoreFactory): void {
  describe('OrganizationsStore.searchOrganizations', () => {
    const store = useFreshStore(factory);

    async function insert(...overrides: OrganizationOverrides[]): Promise<Organization[]> {
      const organizations = overrides.map((override) => anOrganization(override));
      for (const organization of organizations) await store().organizations.insertOrganization(organization);
      return organizations;
    }

    async function ids(query: SearchQuery, page: PageRequest = FIRST_PAGE): Promise<string[]> {
      return (await store().organizations.searchOrganizations(query, page)).rows.map((row) => row.organizationId);
    }

    it('returns every organization, oldest first, with the total, when the query has no filters', async () => {
      const organizations = await insert({}, {}, {});
      const result = await store().organizations.searchOrganizations(all(), FIRST_PAGE);
      expect(result.rows).toEqual(organizations);
      expect(result.total).toBe(3);
    });

    it('returns no rows and a total of 0 on an empty store', async () => {
      expect(await store().organizations.searchOrganizations(all(), FIRST_PAGE)).toEqual({ rows: [], total: 0 });
    });

    it('fetches limit + 1 rows and continues strictly after the cursor; the total ignores the cursor', async () => {
      const organizations = await insert({}, {}, {}, {}, {});
      const first = await store().organizations.searchOrganizations(all(), { limit: 2, after: null });
      expect(first.rows.map((row) => row.organizationId)).toEqual(organizations.slice(0, 3).map((row) => row.organizationId));
      expect(first.total).toBe(5);
      const second = organizations[1] as Organization;
      const next = await store().organizations.searchOrganizations(all(), {
        limit: 2,
        after: { createdAt: second.createdAt, id: second.organizationId },
      });
      expect(next.rows.map((row) => row.organizationId)).toEqual(organizations.slice(2, 5).map((row) => row.organizationId));
      expect(next.total).toBe(5);
      const last = organizations[4] as Organization;
      expect(await ids(all(), { limit: 2, after: { createdAt: last.createdAt, id: last.organizationId } })).toEqual([]);
    });

    it('orders organizations created in the same second by id and pages through the tie without skipping or repeating', async () => {
      const createdAt = '2030-05-05T05:05:05Z';
      const tied = await insert(
        { organizationId: 'organization-test-c', createdAt },
        { organizationId: 'organization-test-a', createdAt },
        { organizationId: 'organization-test-b', createdAt },
      );
      const earlier = (await insert({ createdAt: '2030-05-05T05:05:04Z' }))[0] as Organization;
      expect(await ids(all())).toEqual([earlier.organizationId, 'organization-test-a', 'organization-test-b', 'organization-test-c']);
      const seen: string[] = [];
      let after: PageRequest['after'] = null;
      for (let pageNumber = 0; pageNumber < 5; pageNumber += 1) {
        const rows: Organization[] = (await store().organizations.searchOrganizations(all(), { limit: 1, after })).rows;
        const first = rows[0];
        if (first === undefined) break;
        seen.push(first.organizationId);
        after = { createdAt: first.createdAt, id: first.organizationId };
      }
      expect(seen).toEqual([earlier.organizationId, 'organization-test-a', 'organization-test-b', 'organization-test-c']);
      expect(tied).toHaveLength(3);
    });

    it('filters by organization_ids, organization_slugs and organization_external_ids', async () => {
      const [first, second, third] = (await insert(
        { organizationSlug: 'slug-one', organizationExternalId: 'ext-one' },
        { organizationSlug: 'slug-two', organizationExternalId: 'ext-two' },
        { organizationSlug: 'slug-three' },
      )) as [Organization, Organization, Organization];
      expect(await ids(all(list('organization_ids', [third.organizationId, first.organizationId, 'organization-test-none'])))).toEqual([
        first.organizationId,
        third.organizationId,
      ]);
      expect(await ids(all(list('organization_slugs', ['slug-two', 'slug-none'])))).toEqual([second.organizationId]);
      expect(await ids(all(list('organization_external_ids', ['ext-one', 'ext-two'])))).toEqual([first.organizationId, second.organizationId]);
    });

    it('matches organization_name_fuzzy case-insensitively and treats % and _ literally', async () => {
      const [percent, plain, underscore, lookalike] = (await insert(
        { organizationName: '100% Pure Acme' },
        { organizationName: '1000 Pure ACME' },
        { organizationName: 'snake_case Ltd' },
        { organizationName: 'snakeXcase Ltd' },
      )) as [Organization, Organization, Organization, Organization];
      expect(await ids(all(text('organization_name_fuzzy', 'acme')))).toEqual([percent.organizationId, plain.organizationId]);
      expect(await ids(all(text('organization_name_fuzzy', '100%')))).toEqual([percent.organizationId]);
      expect(await ids(all(text('organization_name_fuzzy', 'E_C')))).toEqual([underscore.organizationId]);
      expect(await ids(all(text('organization_name_fuzzy', '%')))).toEqual([percent.organizationId]);
      expect(await ids(all(text('organization_name_fuzzy', 'snakexcase')))).toEqual([lookalike.organizationId]);
    });

    it('matches organization_slug_fuzzy case-insensitively and treats _ literally', async () => {
      const [underscore, lookalike] = (await insert({ organizationSlug: 'My_Slug' }, { organizationSlug: 'myxslug' })) as [
        Organization,
        Organization,
      ];
      expect(await ids(all(text('organization_slug_fuzzy', 'MY_')))).toEqual([underscore.organizationId]);
      expect(await ids(all(text('organization_slug_fuzzy', 'slug')))).toEqual([underscore.organizationId, lookalike.organizationId]);
      expect(await ids(all(text('organization_slug_fuzzy', '%')))).toEqual([]);
    });

    it('filters by member_emails and member_email_fuzzy over live members only, case-insensitively and literally', async () => {
      const [withLive, withDeleted, lookalike] = (await insert({}, {}, {})) as [Organization, Organization, Organization];
      await store().members.insertMember(aMember({ organizationId: withLive.organizationId, emailAddress: 'first_last@live.example' }));
      await store().members.insertMember(
        aMember({ organizationId: withDeleted.organizationId, emailAddress: 'first_last@live.example', status: 'deleted' }),
      );
      await store().members.insertMember(aMember({ organizationId: lookalike.organizationId, emailAddress: 'firstxlast@live.example' }));
      expect(await ids(all(list('member_emails', ['FIRST_LAST@live.example'])))).toEqual([withLive.organizationId]);
      expect(await ids(all(text('member_email_fuzzy', 'T_L')))).toEqual([withLive.organizationId]);
      expect(await ids(all(text('member_email_fuzzy', 'LIVE.EXAMPLE')))).toEqual([withLive.organizationId, lookalike.organizationId]);
      expect(await ids(all(text('member_email_fuzzy', '%')))).toEqual([]);
    });

    it('filters by allowed_domains, allowed_domain_fuzzy and claimed_email_domains, each on its own kind of domain', async () => {
      const [allowed, claimed, lookalike] = (await insert(
        { settings: { emailAllowedDomains: ['my-corp.example', 'second.example'] } },
        { settings: { claimedEmailDomains: ['my-corp.example'] } },
        { settings: { emailAllowedDomains: ['myxcorp.example'] } },
      )) as [Organization, Organization, Organization];
      expect(await ids(all(list('allowed_domains', ['MY-CORP.example'])))).toEqual([allowed.organizationId]);
      expect(await ids(all(list('claimed_email_domains', ['my-corp.example'])))).toEqual([claimed.organizationId]);
      expect(await ids(all(text('allowed_domain_fuzzy', 'CORP')))).toEqual([allowed.organizationId, lookalike.organizationId]);
      expect(await ids(all(text('allowed_domain_fuzzy', 'my_corp')))).toEqual([]);
      expect(await ids(all(text('allowed_domain_fuzzy', '%')))).toEqual([]);
      // An organization with two matching domains is listed once.
      expect(await ids(all(text('allowed_domain_fuzzy', '.example')))).toEqual([allowed.organizationId, lookalike.organizationId]);
    });

    it('answers the SSO filters as if no organization had an SSO connection yet', async () => {
      const organizations = await insert({}, {});
      expect(await ids(all({ name: 'has_active_sso_connection', type: 'boolean', value: true }))).toEqual([]);
      expect(await ids(all({ name: 'has_active_sso_connection', type: 'boolean', value: false }))).toEqual(
        organizations.map((organization) => organization.organizationId),
      );
      expect(await ids(all(text('sso_connection_id', 'saml-connection-test-1')))).toEqual([]);
    });

    it('requires every filter with AND and any filter with OR, and counts the matches', async () => {
      const [acme, acmeBeta, beta] = (await insert(
        { organizationName: 'Acme', organizationSlug: 'acme' },
        { organizationName: 'Acme Beta', organizationSlug: 'acme-beta' },
        { organizationName: 'Beta', organizationSlug: 'beta' },
      )) as [Organization, Organization, Organization];
      await insert({ organizationName: 'Gamma' });
      const filters = [text('organization_name_fuzzy', 'acme'), text('organization_slug_fuzzy', 'beta')];
      const and = await store().organizations.searchOrganizations({ operator: 'AND', filters }, FIRST_PAGE);
      expect(and.rows.map((row) => row.organizationId)).toEqual([acmeBeta.organizationId]);
      expect(and.total).toBe(1);
      const or = await store().organizations.searchOrganizations({ operator: 'OR', filters }, FIRST_PAGE);
      expect(or.rows.map((row) => row.organizationId)).toEqual([acme.organizationId, acmeBeta.organizationId, beta.organizationId]);
      expect(or.total).toBe(3);
    });

    it('applies filters and the cursor together', async () => {
      const matching = await insert({ organizationName: 'Paged 1' }, { organizationName: 'Other' }, { organizationName: 'Paged 2' }, { organizationName: 'Paged 3' });
      const [first, , second, third] = matching as [Organization, Organization, Organization, Organization];
      const result = await store().organizations.searchOrganizations(all(text('organization_name_fuzzy', 'paged')), {
        limit: 1,
        after: { createdAt: first.createdAt, id: first.organizationId },
      });
      expect(result.rows.map((row) => row.organizationId)).toEqual([second.organizationId, third.organizationId]);
      expect(result.total).toBe(3);
    });

    it('answers the largest query the service lets through: MAX_QUERY_VALUES values across operands', async () => {
      const [wanted] = (await insert({ organizationSlug: 'wanted' })) as [Organization];
      const values = ['wanted', ...Array.from({ length: MAX_QUERY_VALUES - 2 }, (_, index) => `absent-${index}`)];
      const query = { operator: 'OR' as const, filters: [list('organization_slugs', values.slice(0, 600)), list('member_emails', values.slice(600)), text('organization_name_fuzzy', 'zzz')] };
      const result = await store().organizations.searchOrganizations(query, FIRST_PAGE);
      expect(result.rows.map((row) => row.organizationId)).toEqual([wanted.organizationId]);
      expect(result.total).toBe(1);
    });
  });
}
