import type { FastifyInstance } from 'fastify';
import type { OrganizationsService } from '../../domain/organizations/organizations-service.js';
import { ok, projectContext } from '../respond.js';
import {
  createOrganizationBody,
  decodeCreateOrganization,
  decodeUpdateOrganization,
  encodeOrganization,
  organizationParams,
  searchOrganizationsBody,
  updateOrganizationBody,
} from '../wire/organizations.js';

type Params = { organization_id: string };
type Body = Record<string, unknown>;

/** Organizations: each handler decodes, calls the service, encodes. */
export function registerOrganizationRoutes(app: FastifyInstance, dependencies: { organizations: OrganizationsService; projectId: string }): void {
  const { organizations, projectId } = dependencies;

  app.post<{ Body: Body }>('/v1/b2b/organizations', { schema: { body: createOrganizationBody } }, async (request) => {
    const organization = await organizations.create(projectContext(request, projectId), decodeCreateOrganization(request.body));
    return ok(request, { organization: encodeOrganization(organization) });
  });

  app.post<{ Body: Body }>(
    '/v1/b2b/organizations/search',
    { schema: { body: searchOrganizationsBody }, config: { rateLimitPerProject: 'searches' } },
    async (request) => {
      const page = await organizations.search({
        cursor: request.body.cursor as string | undefined,
        limit: request.body.limit as number | string | undefined,
        query: request.body.query as { operator?: unknown; operands?: unknown } | undefined,
      });
      return ok(request, {
        organizations: page.items.map(encodeOrganization),
        results_metadata: { total: page.total, next_cursor: page.nextCursor },
      });
    },
  );

  app.get<{ Params: Params }>('/v1/b2b/organizations/:organization_id', { schema: { params: organizationParams } }, async (request) => {
    const organization = await organizations.get(request.params.organization_id);
    return ok(request, { organization: encodeOrganization(organization) });
  });

  app.put<{ Params: Params; Body: Body }>(
    '/v1/b2b/organizations/:organization_id',
    { schema: { params: organizationParams, body: updateOrganizationBody } },
    async (request) => {
      const context = projectContext(request, projectId);
      const organization = await organizations.update(context, request.params.organization_id, decodeUpdateOrganization(request.body));
      return ok(request, { organization: encodeOrganization(organization) });
    },
  );

  app.delete<{ Params: Params }>('/v1/b2b/organizations/:organization_id', { schema: { params: organizationParams } }, async (request) => {
    const organizationId = await organizations.delete(projectContext(request, projectId), request.params.organization_id);
    return ok(request, { organization_id: organizationId });
  });

  app.get<{ Params: Params }>('/v1/b2b/organizations/:organization_id/metrics', { schema: { params: organizationParams } }, async (request) => {
    const { memberCount } = await organizations.metrics(request.params.organization_id);
    return ok(request, { member_count: memberCount });
  });

  app.delete<{ Params: Params }>(
    '/v1/b2b/organizations/:organization_id/external_id',
    { schema: { params: organizationParams } },
    async (request) => {
      const organization = await organizations.deleteExternalId(projectContext(request, projectId), request.params.organization_id);
      return ok(request, { organization: encodeOrganization(organization) });
    },
  );
}
