import type { B2BClient, B2BOrganizationsMembersCreateRequest, Member, Organization } from 'stytch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectStytchRejection, expectToMatchResponseSchema } from '../../support/openapi.js';
import { startSdkTarget, TRANSPORTS, type SdkTarget } from '../../support/sdk-targets.js';
import { STORES } from '../../support/stores.js';
import { expectTimestamp, idPattern, uniqueSuffix } from '../../support/wire-formats.js';

/** `client.organizations.members.*` of the official SDK against Understudy, every response judged by the OpenAPI document. */
const MEMBERS = '/v1/b2b/organizations/{organization_id}/members';
const MEMBER = '/v1/b2b/organizations/{organization_id}/member';
const DANGEROUSLY_GET = '/v1/b2b/organizations/members/dangerously_get/{member_id}';
const MEMBER_BY_ID = '/v1/b2b/organizations/{organization_id}/members/{member_id}';
const REACTIVATE = '/v1/b2b/organizations/{organization_id}/members/{member_id}/reactivate';
const SEARCH = '/v1/b2b/organizations/members/search';
const EXTERNAL_ID = '/v1/b2b/organizations/{organization_id}/members/{member_id}/external_id';
const MFA_PHONE_NUMBER = '/v1/b2b/organizations/{organization_id}/members/mfa_phone_numbers/{member_id}';

const MEMBER_ROLE = { role_id: 'stytch_member', sources: [{ type: 'direct_assignment', details: {} }] };
const NOT_FOUND = { status: 404, errorType: 'member_not_found' };

for (const store of STORES) {
  for (const transport of TRANSPORTS) {
    describe(`client.organizations.members (${store.name}, ${transport})`, () => {
      let target: SdkTarget;
      let client: B2BClient;
      let organization: Organization;
      let organizationExternalId: string;

      beforeAll(async () => {
        target = await startSdkTarget(store.name, transport);
        client = target.client;
        const suffix = uniqueSuffix();
        organizationExternalId = `members-ext-${suffix}`;
        const created = await client.organizations.create({
          organization_name: `Members ${suffix}`,
          organization_slug: `members-${suffix}`,
          organization_external_id: organizationExternalId,
          rbac_email_implicit_role_assignments: [{ domain: 'admins.example.org', role_id: 'stytch_admin' }],
        });
        organization = created.organization;
      });
      afterAll(async () => target?.stop());

      async function createMember(request: Partial<B2BOrganizationsMembersCreateRequest> = {}): Promise<Member> {
        const response = await client.organizations.members.create({
          organization_id: organization.organization_id,
          email_address: `member-${uniqueSuffix()}@example.org`,
          ...request,
        });
        expectToMatchResponseSchema('post', MEMBERS, response);
        return response.member;
      }

      it(`the server and the SDK really talk ${transport}`, () => {
        expect(new URL(target.server.baseUrl).protocol).toBe(`${transport}:`);
      });

      it('create answers an active member-test member holding only stytch_member, with its organization', async () => {
        const response = await client.organizations.members.create({
          organization_id: organization.organization_id,
          email_address: `  Ada.${uniqueSuffix()}@Example.ORG `,
          name: 'Ada Lovelace',
          trusted_metadata: { employee_id: 7 },
          untrusted_metadata: { theme: 'dark' },
        });
        expectToMatchResponseSchema('post', MEMBERS, response);
        expect(response.request_id).toMatch(idPattern('request-id'));
        expect(response.member_id).toMatch(idPattern('member'));
        expect(response.organization).toEqual(organization);
        const member = response.member;
        expect(member).toMatchObject({
          member_id: response.member_id,
          organization_id: organization.organization_id,
          name: 'Ada Lovelace',
          status: 'active',
          is_admin: false,
          is_breakglass: false,
          email_address_verified: false,
          roles: [MEMBER_ROLE],
          trusted_metadata: { employee_id: 7 },
          untrusted_metadata: { theme: 'dark' },
          external_id: '',
          mfa_phone_number: '',
          retired_email_addresses: [],
        });
        // Addresses are compared case-insensitively, so they come back trimmed and in lower case.
        expect(member.email_address).toMatch(/^ada\.[0-9a-f]{10}@example\.org$/);
        expect(expectTimestamp(member.created_at)).toBe(expectTimestamp(member.updated_at));
      });

      it('create honours roles, pending status, breakglass and email-domain implicit roles', async () => {
        const admin = await createMember({ roles: ['stytch_admin'], is_breakglass: true });
        expect(admin.is_admin).toBe(true);
        expect(admin.is_breakglass).toBe(true);
        expect(admin.roles).toEqual([MEMBER_ROLE, { role_id: 'stytch_admin', sources: [{ type: 'direct_assignment', details: {} }] }]);
        const pending = await createMember({ create_member_as_pending: true });
        expect(pending.status).toBe('pending');
        // The organization's external id stands in for organization_id, as with Stytch.
        const implicit = await createMember({ organization_id: organizationExternalId, email_address: `boss-${uniqueSuffix()}@admins.example.org` });
        expect(implicit.organization_id).toBe(organization.organization_id);
        expect(implicit.is_admin).toBe(true);
        expect(implicit.roles).toContainEqual({ role_id: 'stytch_admin', sources: [{ type: 'email_assignment', details: { email_domain: 'admins.example.org' } }] });
      });

      it('get finds a member by member_id, external id and email address, with the organization by id, slug or external id', async () => {
        const externalId = `emp-${uniqueSuffix()}`;
        const member = await createMember({ external_id: externalId });
        const organizationReferences = [organization.organization_id, organization.organization_slug, organizationExternalId];
        for (const organizationId of organizationReferences) {
          for (const by of [{ member_id: member.member_id }, { member_id: externalId }, { email_address: member.email_address.toUpperCase() }]) {
            const response = await client.organizations.members.get({ organization_id: organizationId, ...by });
            expectToMatchResponseSchema('get', MEMBER, response);
            expect(response.member).toEqual(member);
            expect(response.organization.organization_id).toBe(organization.organization_id);
          }
        }
      });

      it('update changes name, metadata, roles and external id; the new external id works as member_id', async () => {
        const member = await createMember({ roles: ['stytch_admin'] });
        const externalId = `hr|${uniqueSuffix()}`;
        const response = await client.organizations.members.update({
          organization_id: organization.organization_slug,
          member_id: member.member_id,
          name: 'Grace Hopper',
          trusted_metadata: { level: 3 },
          untrusted_metadata: { locale: 'en' },
          roles: [],
          external_id: externalId,
          mfa_phone_number: '+12025550123',
          default_mfa_method: 'sms_otp',
        });
        expectToMatchResponseSchema('put', MEMBER_BY_ID, response);
        expect(response.member).toMatchObject({
          member_id: member.member_id,
          name: 'Grace Hopper',
          trusted_metadata: { level: 3 },
          untrusted_metadata: { locale: 'en' },
          roles: [MEMBER_ROLE],
          is_admin: false,
          external_id: externalId,
          mfa_phone_number: '+12025550123',
          default_mfa_method: 'sms_otp',
          email_address: member.email_address,
          created_at: member.created_at,
        });
        expect(expectTimestamp(response.member.updated_at)).toBeGreaterThanOrEqual(expectTimestamp(member.updated_at));
        const byExternalId = await client.organizations.members.update({ organization_id: organization.organization_id, member_id: externalId, roles: ['stytch_admin'] });
        expectToMatchResponseSchema('put', MEMBER_BY_ID, byExternalId);
        expect(byExternalId.member_id).toBe(member.member_id);
        expect(byExternalId.member.is_admin).toBe(true);
        const deleted = await client.organizations.members.delete({ organization_id: organizationExternalId, member_id: externalId });
        expectToMatchResponseSchema('delete', MEMBER_BY_ID, deleted);
        expect(deleted.member_id).toBe(member.member_id);
      });

      it('update of the email address retires the old one and leaves the new one unverified', async () => {
        const member = await createMember();
        const newAddress = `moved-${uniqueSuffix()}@example.org`;
        const response = await client.organizations.members.update({ organization_id: organization.organization_id, member_id: member.member_id, email_address: newAddress });
        expectToMatchResponseSchema('put', MEMBER_BY_ID, response);
        expect(response.member.email_address).toBe(newAddress);
        expect(response.member.email_address_verified).toBe(false);
        expect(response.member.retired_email_addresses).toEqual([{ email_id: expect.stringMatching(idPattern('email')), email_address: member.email_address }]);
        const byNewAddress = await client.organizations.members.get({ organization_id: organization.organization_id, email_address: newAddress });
        expect(byNewAddress.member_id).toBe(member.member_id);
        await expectStytchRejection(client.organizations.members.get({ organization_id: organization.organization_id, email_address: member.email_address }), NOT_FOUND);
      });

      it('delete marks the member deleted; dangerouslyGet shows it only with include_deleted; reactivate brings it back', async () => {
        const member = await createMember();
        const found = await client.organizations.members.dangerouslyGet({ member_id: member.member_id });
        expectToMatchResponseSchema('get', DANGEROUSLY_GET, found);
        expect(found.member).toEqual(member);
        expect(found.organization.organization_id).toBe(organization.organization_id);

        const deleted = await client.organizations.members.delete({ organization_id: organization.organization_id, member_id: member.member_id });
        expectToMatchResponseSchema('delete', MEMBER_BY_ID, deleted);
        expect(deleted.member_id).toBe(member.member_id);
        await expectStytchRejection(client.organizations.members.get({ organization_id: organization.organization_id, member_id: member.member_id }), NOT_FOUND);
        await expectStytchRejection(client.organizations.members.dangerouslyGet({ member_id: member.member_id }), NOT_FOUND);
        await expectStytchRejection(client.organizations.members.dangerouslyGet({ member_id: member.member_id, include_deleted: false }), NOT_FOUND);
        const withDeleted = await client.organizations.members.dangerouslyGet({ member_id: member.member_id, include_deleted: true });
        expectToMatchResponseSchema('get', DANGEROUSLY_GET, withDeleted);
        expect(withDeleted.member.status).toBe('deleted');

        const reactivated = await client.organizations.members.reactivate({ organization_id: organization.organization_id, member_id: member.member_id });
        expectToMatchResponseSchema('put', REACTIVATE, reactivated);
        expect(reactivated.member).toMatchObject({ member_id: member.member_id, status: 'active', email_address: member.email_address });
        await expectStytchRejection(client.organizations.members.reactivate({ organization_id: organization.organization_id, member_id: member.member_id }), {
          status: 400,
          errorType: 'no_deleted_member_found_for_reactivation',
        });
      });

      it('deleteExternalId clears the external id, which then no longer finds the member', async () => {
        const externalId = `gone-${uniqueSuffix()}`;
        const member = await createMember({ external_id: externalId });
        const response = await client.organizations.members.deleteExternalId({ organization_id: organization.organization_id, member_id: externalId });
        expectToMatchResponseSchema('delete', EXTERNAL_ID, response);
        expect(response.member_id).toBe(member.member_id);
        expect(response.member.external_id).toBe('');
        await expectStytchRejection(client.organizations.members.get({ organization_id: organization.organization_id, member_id: externalId }), NOT_FOUND);
      });

      it('deleteMFAPhoneNumber clears the phone number and an sms_otp default', async () => {
        const member = await createMember({ mfa_phone_number: '+14155550100' });
        expect(member.mfa_phone_number).toBe('+14155550100');
        await client.organizations.members.update({ organization_id: organization.organization_id, member_id: member.member_id, default_mfa_method: 'sms_otp' });
        const response = await client.organizations.members.deleteMFAPhoneNumber({ organization_id: organization.organization_id, member_id: member.member_id });
        expectToMatchResponseSchema('delete', MFA_PHONE_NUMBER, response);
        expect(response.member).toMatchObject({ member_id: member.member_id, mfa_phone_number: '', mfa_phone_number_verified: false, default_mfa_method: '' });
      });

      it('search filters by status and pages with next_cursor until null, each member exactly once', async () => {
        const other = await client.organizations.create({ organization_name: 'Search', organization_slug: `search-${uniqueSuffix()}` });
        const otherId = other.organization.organization_id;
        const created: string[] = [];
        for (let index = 0; index < 5; index += 1) {
          const response = await client.organizations.members.create({ organization_id: otherId, email_address: `page-${index}@example.org` });
          created.push(response.member_id);
        }
        await client.organizations.members.delete({ organization_id: otherId, member_id: created[4] ?? '' });
        const query = { operator: 'AND' as const, operands: [{ filter_name: 'statuses', filter_value: ['active'] }] };
        const seen: string[] = [];
        let cursor: string | undefined;
        for (let page = 0; page < 10; page += 1) {
          const response = await client.organizations.members.search({ organization_ids: [other.organization.organization_slug], query, limit: 3, ...(cursor !== undefined && { cursor }) });
          expectToMatchResponseSchema('post', SEARCH, response);
          expect(response.results_metadata.total).toBe(4);
          expect(Object.keys(response.organizations)).toEqual([otherId]);
          expect(response.organizations[otherId]?.organization_slug).toBe(other.organization.organization_slug);
          seen.push(...response.members.map((member) => member.member_id));
          if (response.results_metadata.next_cursor === null) break;
          cursor = response.results_metadata.next_cursor;
        }
        expect(seen.sort()).toEqual(created.slice(0, 4).sort());
      });

      it('refuses a duplicate email address (case-insensitively) and a duplicate external id', async () => {
        const externalId = `dup-${uniqueSuffix()}`;
        const member = await createMember({ external_id: externalId });
        const create = (request: Partial<B2BOrganizationsMembersCreateRequest>) =>
          client.organizations.members.create({ organization_id: organization.organization_id, email_address: `other-${uniqueSuffix()}@example.org`, ...request });
        await expectStytchRejection(create({ email_address: member.email_address.toUpperCase() }), { status: 400, errorType: 'duplicate_member_email' });
        await expectStytchRejection(create({ external_id: externalId }), { status: 400, errorType: 'duplicate_member_external_id' });
        const other = await createMember();
        const update = (request: { email_address?: string; external_id?: string }) =>
          client.organizations.members.update({ organization_id: organization.organization_id, member_id: other.member_id, ...request });
        await expectStytchRejection(update({ email_address: member.email_address }), { status: 400, errorType: 'duplicate_member_email' });
        await expectStytchRejection(update({ external_id: externalId }), { status: 400, errorType: 'duplicate_member_external_id' });
      });

      it('treats a full-width spelling of an address as the same member and refuses invisible or look-alike characters', async () => {
        const local = `admin${uniqueSuffix()}`;
        const admin = await createMember({ email_address: `${local}@acme.example` });
        const fullWidth = `${local.toUpperCase().replace(/[A-Z0-9]/g, (character) => String.fromCodePoint((character.codePointAt(0) as number) + 0xfee0))}＠acme.example`;
        await expectStytchRejection(createMember({ email_address: fullWidth }), { status: 400, errorType: 'duplicate_member_email' });
        for (const lookAlike of [local.replace('i', 'ı'), local.replace('a', 'a\u200b'), `\u0130${local}`, local.replace('a', '\u0430')]) {
          await expectStytchRejection(createMember({ email_address: `${lookAlike}@acme.example` }), { status: 400, errorType: 'invalid_email' });
        }
        const byFullWidth = await client.organizations.members.get({ organization_id: organization.organization_id, email_address: fullWidth });
        expect(byFullWidth.member.member_id).toBe(admin.member_id);
        const search = await client.organizations.members.search({
          organization_ids: [organization.organization_id],
          query: { operator: 'AND', operands: [{ filter_name: 'member_emails', filter_value: [fullWidth] }] },
        });
        expect(search.members.map((member) => member.member_id)).toEqual([admin.member_id]);
        const organizations = await client.organizations.search({ query: { operator: 'AND', operands: [{ filter_name: 'member_emails', filter_value: [fullWidth] }] } });
        expect(organizations.organizations.map((found) => found.organization_id)).toEqual([organization.organization_id]);
      });

      it("refuses an external id that is another member's id", async () => {
        const first = await createMember();
        await expectStytchRejection(createMember({ external_id: first.member_id }), { status: 400, errorType: 'duplicate_member_external_id' });
        const second = await createMember();
        await expectStytchRejection(
          client.organizations.members.update({ organization_id: organization.organization_id, member_id: second.member_id, external_id: first.member_id }),
          { status: 400, errorType: 'duplicate_member_external_id' },
        );
        const reread = await client.organizations.members.get({ organization_id: organization.organization_id, member_id: first.member_id });
        expect(reread.member.member_id).toBe(first.member_id);
        expect((await client.organizations.members.get({ organization_id: organization.organization_id, member_id: second.member_id })).member.external_id).toBe('');
      });

      it('refuses an invalid email address on create and update', async () => {
        await expectStytchRejection(createMember({ email_address: 'not-an-email' }), { status: 400, errorType: 'invalid_email' });
        const member = await createMember();
        await expectStytchRejection(
          client.organizations.members.update({ organization_id: organization.organization_id, member_id: member.member_id, email_address: 'a@b' }),
          { status: 400, errorType: 'invalid_email' },
        );
      });

      it('answers member_not_found for an unknown member and organization_not_found for an unknown organization', async () => {
        const organizationId = organization.organization_id;
        const memberId = 'member-test-00000000-0000-4000-8000-000000000000';
        const members = client.organizations.members;
        await expectStytchRejection(members.get({ organization_id: organizationId, member_id: memberId }), NOT_FOUND);
        await expectStytchRejection(members.get({ organization_id: organizationId, email_address: 'nobody@example.org' }), NOT_FOUND);
        await expectStytchRejection(members.dangerouslyGet({ member_id: memberId, include_deleted: true }), NOT_FOUND);
        await expectStytchRejection(members.update({ organization_id: organizationId, member_id: memberId, name: 'x' }), NOT_FOUND);
        await expectStytchRejection(members.delete({ organization_id: organizationId, member_id: memberId }), NOT_FOUND);
        await expectStytchRejection(members.reactivate({ organization_id: organizationId, member_id: memberId }), NOT_FOUND);
        await expectStytchRejection(members.deleteExternalId({ organization_id: organizationId, member_id: memberId }), NOT_FOUND);
        await expectStytchRejection(members.deleteMFAPhoneNumber({ organization_id: organizationId, member_id: memberId }), NOT_FOUND);
        const unknownOrganization = { status: 404, errorType: 'organization_not_found' };
        await expectStytchRejection(members.create({ organization_id: 'no-such-org', email_address: 'x@example.org' }), unknownOrganization);
        await expectStytchRejection(members.search({ organization_ids: ['no-such-org'] }), unknownOrganization);
      });

      it('a member of another organization is not found through this one', async () => {
        const other = await client.organizations.create({ organization_name: 'Elsewhere', organization_slug: `elsewhere-${uniqueSuffix()}` });
        const stranger = await client.organizations.members.create({ organization_id: other.organization.organization_id, email_address: 'stranger@example.org' });
        await expectStytchRejection(client.organizations.members.get({ organization_id: organization.organization_id, member_id: stranger.member_id }), NOT_FOUND);
        await expectStytchRejection(client.organizations.members.delete({ organization_id: organization.organization_id, member_id: stranger.member_id }), NOT_FOUND);
      });

      it('refuses a wrong secret with unauthorized_credentials', async () => {
        const intruder = target.clientWith({ projectId: target.server.projectId, secret: 'secret-test-not-the-right-one' });
        await expectStytchRejection(intruder.organizations.members.get({ organization_id: organization.organization_id, email_address: 'x@example.org' }), {
          status: 401,
          errorType: 'unauthorized_credentials',
        });
      });
    });
  }
}
