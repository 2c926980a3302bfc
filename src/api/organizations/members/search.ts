import type { Member } from '../../../domain/members/member.js';
import type { Organization } from '../../../domain/organizations/organization.js';
import { encodeMember } from '../../../http/wire/members.js';
import { encodeOrganization } from '../../../http/wire/organizations.js';
import { searchCall } from '../../member-requirements.js';
import { stytchOperation } from '../../operation.js';

/** organizations.members.search: members of the given organizations, filtered and paged; counted against the project's search limit. */
export default stytchOperation({
  operationId: 'api_organization_v1_organizations_members_Search',
  config: { rateLimitPerProject: 'searches' },
  /** search, and every organization listed must be the caller's. */
  memberAuthorization: ({ body, context }, services) => searchCall(services, context, body.organization_ids),
  async handle({ body }, { members }) {
    const page = await members.search({ organizationIds: body.organization_ids, cursor: body.cursor, limit: body.limit, query: body.query });
    const byId = new Map(page.organizations.map((organization) => [organization.organizationId, organization]));
    return {
      members: page.items.map((member) => encodeMember(member, organizationOf(member, byId))),
      results_metadata: { total: page.total, next_cursor: page.nextCursor },
      organizations: Object.fromEntries(page.organizations.map((organization) => [organization.organizationId, encodeOrganization(organization)])),
    };
  },
});

/** The search only returns members of the organizations it answers with, so a miss is a bug of ours, not the caller's. */
function organizationOf(member: Member, byId: ReadonlyMap<string, Organization>): Organization {
  const organization = byId.get(member.organizationId);
  if (organization === undefined) throw new Error(`members.search returned member ${member.memberId} without its organization ${member.organizationId}`);
  return organization;
}
