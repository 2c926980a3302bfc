import type { B2BClient, B2BOrganizationsMembersCreateRequest, Member, Organization } from 'stytch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectStytchRejection, expectToMatchResponseSchema } from '../../support/openapi.js';
import { startSdkTarget, TRANSPORTS, type SdkTarget } from '../../support/sdk-targets.js';
import { STORES } from '../../support/stores.js';
import { uniqueSuffix } from '../../support/wire-formats.js';

/** `client.organizations.members.*` of the official SDK refused with Stytch's specific error types (docs/errors.md). */
const MEMBERS = '/v1/b2b/organizations/{organization_id}/members';

for (const store of STORES) {
  for (const transport of TRANSPORTS) {
    describe(`client.organizations.members errors (${store.name}, ${transport})`, () => {
      let target: SdkTarget;
      let client: B2BClient;
      let organization: Organization;

      beforeAll(async () => {
        target = await startSdkTarget(store.name, transport);
        client = target.client;
        const suffix = uniqueSuffix();
        organization = (await client.organizations.create({ organization_name: `Member Errors ${suffix}`, organization_slug: `member-errors-${suffix}` })).organization;
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

      it('reactivate refuses a deleted member whose email address another member took, and leaves it deleted', async () => {
        const member = await createMember();
        await client.organizations.members.delete({ organization_id: organization.organization_id, member_id: member.member_id });
        const holder = await createMember({ email_address: member.email_address.toUpperCase() });
        await expectStytchRejection(client.organizations.members.reactivate({ organization_id: organization.organization_id, member_id: member.member_id }), {
          status: 400,
          errorType: 'reactivation_email_belongs_to_another_member',
        });
        const stillDeleted = await client.organizations.members.dangerouslyGet({ member_id: member.member_id, include_deleted: true });
        expect(stillDeleted.member.status).toBe('deleted');
        const byEmail = await client.organizations.members.get({ organization_id: organization.organization_id, email_address: member.email_address });
        expect(byEmail.member_id).toBe(holder.member_id);
      });

      it('search refuses an unknown status and bad operands with member_search_* error types', async () => {
        const search = (operand: Record<string, unknown>) =>
          client.organizations.members.search({
            organization_ids: [organization.organization_id],
            query: { operator: 'AND', operands: [operand as { filter_name: string; filter_value: string[] }] },
          });
        await expectStytchRejection(search({ filter_name: 'statuses', filter_value: ['active', 'banned'] }), { status: 400, errorType: 'search_invalid_status_filter' });
        await expectStytchRejection(search({ filter_name: 'nope', filter_value: ['x'] }), { status: 400, errorType: 'member_search_filter_name_not_recognized' });
        await expectStytchRejection(search({ filter_name: 'member_is_breakglass', filter_value: 'true' }), { status: 400, errorType: 'member_search_expected_boolean' });
        await expectStytchRejection(search({ filter_name: 'statuses', filter_value: 'active' }), { status: 400, errorType: 'member_search_expected_array_of_strings' });
        await expectStytchRejection(client.organizations.members.search({ organization_ids: [] }), { status: 400, errorType: 'member_search_organization_ids_empty' });
      });
    });
  }
}
