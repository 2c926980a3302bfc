import { describe, expect, it } from 'vitest';
import type { Member } from '../../../src/domain/members/member.js';
import type { Organization } from '../../../src/domain/organizations/organization.js';
import type { PageRequest } from '../../../src/domain/common/pagination.js';
import { MAX_QUERY_VALUES, type SearchFilter, type SearchQuery } from '../../../src/domain/common/search.js';
import { aMember } from '../../support/builders/member-builder.js';
import { anOrganization } from '../../support/builders/organization-builder.js';
import type { StoreFactory } from '../../support/stores.js';
import { useFreshStore } from './contract-support.js';

const FIRST_PAGE: PageRequest = { limit: 100, after: null };
const EVERYTHING: SearchQuery = { operator: 'AND', filters: [] };

function all(...filters: SearchFilter[]): SearchQuery {
  return { operator: 'AND', filters };
}

function list(name: string, value: readonly string[]): SearchFilter {
  return { name, type: 'string[]', value };
}

function text(name: string, value: string): SearchFilter {
  return { name, type: 'string', value };
}

/** MembersStore.searchMembers: every filter of MEMBER_SEARCH_FILTERS, organization scope, AND/OR, totals and keyset pages. */
export function describeMembersSearchContract(factory: StoreFactory): void {
  describe('MembersStore.searchMembers', () => {
    const store = useFreshStore(factory);

    async function organization(): Promise<Organization> {
      const created = anOrganization();
      await store().organizations.insertOrganization(created);
      return created;
    }

    async function members(organizationId: string, ...overrides: Partial<Member>[]): Promise<Member[]> {
      const created = overrides.map((override) => aMember({ ...override, organizationId }));
      for (const member of created) await store().members.insertMember(member);
      return created;
    }

    async function ids(organizationIds: readonly string[], query: SearchQuery, page: PageRequest = FIRST_PAGE): Promise<string[]> {
      return (await store().members.searchMembers(organizationIds, query, page)).rows.map((row) => row.memberId);
    }

    function idsOf(rows: readonly Member[]): string[] {
      return rows.map((row) => row.memberId);
    }

    it('returns every member of the organization, deleted ones included, oldest first, with the total', async () => {
      const scoped = await organization();
      const created = await members(scoped.organizationId, {}, { status: 'deleted' }, { status: 'pending' });
      const result = await store().members.searchMembers([scoped.organizationId], EVERYTHING, FIRST_PAGE);
      expect(result.rows).toEqual(created);
      expect(result.total).toBe(3);
    });

    it('returns no rows and a total of 0 for an empty organization list', async () => {
      const scoped = await organization();
      await members(scoped.organizationId, {});
      expect(await store().members.searchMembers([], EVERYTHING, FIRST_PAGE)).toEqual({ rows: [], total: 0 });
    });

    it('isolation: a search scoped to one organization never returns another organization members, whatever the filter', async () => {
      const [mine, theirs] = [await organization(), await organization()];
      const [own] = await members(mine.organizationId, { emailAddress: 'shared@example.com', mfaPhoneNumber: '+12025550100' });
      const [foreign] = await members(theirs.organizationId, { emailAddress: 'shared@example.com', mfaPhoneNumber: '+12025550100' });
      const scope = [mine.organizationId];
      expect(await ids(scope, EVERYTHING)).toEqual([own?.memberId]);
      expect(await ids(scope, all(list('member_ids', [foreign?.memberId as string])))).toEqual([]);
      expect(await ids(scope, all(list('member_emails', ['shared@example.com'])))).toEqual([own?.memberId]);
      expect(await ids(scope, all(text('member_phone_number_fuzzy', '555')))).toEqual([own?.memberId]);
      const or = await store().members.searchMembers(scope, { operator: 'OR', filters: [list('member_ids', [foreign?.memberId as string])] }, FIRST_PAGE);
      expect(or).toEqual({ rows: [], total: 0 });
    });

    it('searches several organizations at once', async () => {
      const [first, second, third] = [await organization(), await organization(), await organization()];
      const inFirst = await members(first.organizationId, {});
      const inSecond = await members(second.organizationId, {});
      await members(third.organizationId, {});
      const result = await store().members.searchMembers([first.organizationId, second.organizationId], EVERYTHING, FIRST_PAGE);
      expect(idsOf(result.rows)).toEqual(idsOf([...inFirst, ...inSecond]));
      expect(result.total).toBe(2);
    });

    it('fetches limit + 1 rows, continues strictly after the cursor, and orders same-second members by id', async () => {
      const scoped = await organization();
      const createdAt = '2030-01-01T00:00:00Z';
      const [c, a, b] = await members(
        scoped.organizationId,
        { memberId: 'member-test-c', createdAt },
        { memberId: 'member-test-a', createdAt },
        { memberId: 'member-test-b', createdAt },
      );
      const [later] = await members(scoped.organizationId, { createdAt: '2030-01-01T00:00:01Z' });
      const scope = [scoped.organizationId];
      expect(await ids(scope, EVERYTHING, { limit: 2, after: null })).toEqual(['member-test-a', 'member-test-b', 'member-test-c']);
      const afterA = { createdAt, id: a?.memberId as string };
      const page = await store().members.searchMembers(scope, EVERYTHING, { limit: 2, after: afterA });
      expect(idsOf(page.rows)).toEqual([b?.memberId, c?.memberId, later?.memberId]);
      expect(page.total).toBe(4);
      expect(await ids(scope, EVERYTHING, { limit: 2, after: { createdAt, id: c?.memberId as string } })).toEqual([later?.memberId]);
    });

    it('filters by member_ids, statuses and member_is_breakglass', async () => {
      const scoped = await organization();
      const [active, pending, glass, deleted] = await members(
        scoped.organizationId,
        { status: 'active' },
        { status: 'pending' },
        { status: 'active', isBreakglass: true },
        { status: 'deleted' },
      );
      const scope = [scoped.organizationId];
      expect(await ids(scope, all(list('member_ids', [deleted?.memberId as string, active?.memberId as string])))).toEqual([
        active?.memberId,
        deleted?.memberId,
      ]);
      expect(await ids(scope, all(list('statuses', ['pending', 'deleted'])))).toEqual([pending?.memberId, deleted?.memberId]);
      expect(await ids(scope, all({ name: 'member_is_breakglass', type: 'boolean', value: true }))).toEqual([glass?.memberId]);
      expect(await ids(scope, all({ name: 'member_is_breakglass', type: 'boolean', value: false }))).toEqual(
        idsOf([active, pending, deleted] as Member[]),
      );
    });

    it('filters by member_emails case-insensitively and by member_email_fuzzy with % and _ taken literally', async () => {
      const scoped = await organization();
      const [underscore, lookalike, percent] = await members(
        scoped.organizationId,
        { emailAddress: 'first_last@corp.example' },
        { emailAddress: 'firstxlast@corp.example' },
        { emailAddress: '100%real@other.example' },
      );
      const scope = [scoped.organizationId];
      expect(await ids(scope, all(list('member_emails', [' First_Last@CORP.example ', 'none@example.com'])))).toEqual([underscore?.memberId]);
      expect(await ids(scope, all(text('member_email_fuzzy', 'T_L')))).toEqual([underscore?.memberId]);
      expect(await ids(scope, all(text('member_email_fuzzy', 'CORP.EXAMPLE')))).toEqual(idsOf([underscore, lookalike] as Member[]));
      expect(await ids(scope, all(text('member_email_fuzzy', '%r')))).toEqual([percent?.memberId]);
    });

    it('filters by member_phone_numbers and member_phone_number_fuzzy with _ taken literally', async () => {
      const scoped = await organization();
      const [first, second] = await members(
        scoped.organizationId,
        { mfaPhoneNumber: '+12025550123' },
        { mfaPhoneNumber: '+442071838750' },
        { mfaPhoneNumber: '' },
      );
      const scope = [scoped.organizationId];
      expect(await ids(scope, all(list('member_phone_numbers', ['+442071838750'])))).toEqual([second?.memberId]);
      expect(await ids(scope, all(text('member_phone_number_fuzzy', '202555')))).toEqual([first?.memberId]);
      expect(await ids(scope, all(text('member_phone_number_fuzzy', '2_2')))).toEqual([]);
      expect(await ids(scope, all(text('member_phone_number_fuzzy', '%')))).toEqual([]);
    });

    it('requires every filter with AND and any filter with OR, and counts the matches', async () => {
      const scoped = await organization();
      const [glassPending, glassActive, plainPending] = await members(
        scoped.organizationId,
        { isBreakglass: true, status: 'pending' },
        { isBreakglass: true, status: 'active' },
        { isBreakglass: false, status: 'pending' },
        { isBreakglass: false, status: 'active' },
      );
      const filters = [{ name: 'member_is_breakglass', type: 'boolean', value: true } as const, list('statuses', ['pending'])];
      const and = await store().members.searchMembers([scoped.organizationId], { operator: 'AND', filters }, FIRST_PAGE);
      expect(idsOf(and.rows)).toEqual([glassPending?.memberId]);
      expect(and.total).toBe(1);
      const or = await store().members.searchMembers([scoped.organizationId], { operator: 'OR', filters }, FIRST_PAGE);
      expect(idsOf(or.rows)).toEqual(idsOf([glassPending, glassActive, plainPending] as Member[]));
      expect(or.total).toBe(3);
    });

    it('answers the largest query the service lets through: MAX_QUERY_VALUES values over 1000 organization ids, on a page after a cursor', async () => {
      const scoped = await organization();
      const [member] = await members(scoped.organizationId, {});
      const organizationIds = [scoped.organizationId, ...Array.from({ length: 999 }, (_, index) => `organization-test-absent-${index}`)];
      const values = [(member as Member).memberId, ...Array.from({ length: MAX_QUERY_VALUES - 1 }, (_, index) => `member-test-absent-${index}`)];
      const query = { operator: 'OR' as const, filters: [list('member_ids', values.slice(0, 500)), list('member_ids', values.slice(500))] };
      const result = await store().members.searchMembers(organizationIds, query, { limit: 1000, after: { createdAt: '2000-01-01T00:00:00Z', id: '' } });
      expect(idsOf(result.rows)).toEqual([(member as Member).memberId]);
      expect(result.total).toBe(1);
    });
  });
}
