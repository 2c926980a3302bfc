import type { FastifyInstance } from 'fastify';
import type { MembersService, MemberWithOrganization } from '../../domain/members/members-service.js';
import { ok, projectContext } from '../respond.js';
import { encodeMember, createMemberBody, decodeCreateMember, decodeUpdateMember, getMemberQuery, memberParams, searchMembersBody, updateMemberBody } from '../wire/members.js';
import { encodeOrganization, organizationParams } from '../wire/organizations.js';
import { objectSchema, queryBool, queryFlag, str } from '../wire/schema-types.js';

type OrganizationParams = { organization_id: string };
type MemberParams = { organization_id: string; member_id: string };
type Body = Record<string, unknown>;

/** `{member_id, member, organization}`, the shape most member endpoints answer with. */
function memberResponse({ member, organization }: MemberWithOrganization) {
  return { member_id: member.memberId, member: encodeMember(member, organization), organization: encodeOrganization(organization) };
}

/** Members: each handler decodes, calls the service, encodes. */
export function registerMemberRoutes(app: FastifyInstance, dependencies: { members: MembersService; projectId: string }): void {
  const { members, projectId } = dependencies;

  app.post<{ Params: OrganizationParams; Body: Body }>(
    '/v1/b2b/organizations/:organization_id/members',
    { schema: { params: organizationParams, body: createMemberBody } },
    async (request) => {
      const result = await members.create(projectContext(request, projectId), request.params.organization_id, decodeCreateMember(request.body));
      return ok(request, memberResponse(result));
    },
  );

  app.get<{ Params: OrganizationParams; Querystring: { member_id?: string; email_address?: string } }>(
    '/v1/b2b/organizations/:organization_id/member',
    { schema: { params: organizationParams, querystring: getMemberQuery } },
    async (request) => {
      const result = await members.get(request.params.organization_id, {
        memberId: request.query.member_id,
        emailAddress: request.query.email_address,
      });
      return ok(request, memberResponse(result));
    },
  );

  app.get<{ Params: { member_id: string }; Querystring: { include_deleted?: string } }>(
    '/v1/b2b/organizations/members/dangerously_get/:member_id',
    { schema: { params: objectSchema({ member_id: str }, ['member_id']), querystring: objectSchema({ include_deleted: queryBool }) } },
    async (request) => {
      const result = await members.dangerouslyGet(request.params.member_id, { includeDeleted: queryFlag(request.query.include_deleted) });
      return ok(request, memberResponse(result));
    },
  );

  app.post<{ Body: Body }>(
    '/v1/b2b/organizations/members/search',
    { schema: { body: searchMembersBody }, config: { rateLimitPerProject: 'searches' } },
    async (request) => {
      const page = await members.search({
        organizationIds: request.body.organization_ids as string[],
        cursor: request.body.cursor as string | undefined,
        limit: request.body.limit as number | string | undefined,
        query: request.body.query as { operator?: unknown; operands?: unknown } | undefined,
      });
      const byId = new Map(page.organizations.map((organization) => [organization.organizationId, organization]));
      return ok(request, {
        members: page.items.map((member) => encodeMember(member, byId.get(member.organizationId) as never)),
        results_metadata: { total: page.total, next_cursor: page.nextCursor },
        organizations: Object.fromEntries(page.organizations.map((organization) => [organization.organizationId, encodeOrganization(organization)])),
      });
    },
  );

  app.put<{ Params: MemberParams; Body: Body }>(
    '/v1/b2b/organizations/:organization_id/members/:member_id',
    { schema: { params: memberParams, body: updateMemberBody } },
    async (request) => {
      const { organization_id: organizationId, member_id: memberId } = request.params;
      const result = await members.update(projectContext(request, projectId), organizationId, memberId, decodeUpdateMember(request.body));
      return ok(request, memberResponse(result));
    },
  );

  app.delete<{ Params: MemberParams }>('/v1/b2b/organizations/:organization_id/members/:member_id', { schema: { params: memberParams } }, async (request) => {
    const memberId = await members.delete(projectContext(request, projectId), request.params.organization_id, request.params.member_id);
    return ok(request, { member_id: memberId });
  });

  app.put<{ Params: MemberParams }>(
    '/v1/b2b/organizations/:organization_id/members/:member_id/reactivate',
    { schema: { params: memberParams } },
    async (request) => {
      const result = await members.reactivate(projectContext(request, projectId), request.params.organization_id, request.params.member_id);
      return ok(request, memberResponse(result));
    },
  );

  app.delete<{ Params: MemberParams }>(
    '/v1/b2b/organizations/:organization_id/members/:member_id/external_id',
    { schema: { params: memberParams } },
    async (request) => {
      const result = await members.deleteExternalId(projectContext(request, projectId), request.params.organization_id, request.params.member_id);
      return ok(request, memberResponse(result));
    },
  );

  app.delete<{ Params: MemberParams }>(
    '/v1/b2b/organizations/:organization_id/members/mfa_phone_numbers/:member_id',
    { schema: { params: memberParams } },
    async (request) => {
      const result = await members.deleteMfaPhoneNumber(projectContext(request, projectId), request.params.organization_id, request.params.member_id);
      return ok(request, memberResponse(result));
    },
  );
}
