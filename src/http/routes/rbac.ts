import type { FastifyInstance } from 'fastify';
import type { OrganizationsService } from '../../domain/organizations/organizations-service.js';
import { DEFAULT_POLICY, type PolicyRole } from '../../domain/rbac/policy.js';
import { ok } from '../respond.js';
import { organizationParams } from '../wire/organizations.js';

function encodeRole(role: PolicyRole) {
  return {
    role_id: role.roleId,
    description: role.description,
    permissions: role.permissions.map((permission) => ({ resource_id: permission.resourceId, actions: [...permission.actions] })),
  };
}

/** The RBAC policies the SDK's local authorization fetches and caches (project and organization). */
export function registerRbacRoutes(app: FastifyInstance, dependencies: { organizations: OrganizationsService }): void {
  app.get('/v1/b2b/rbac/policy', async (request) =>
    ok(request, {
      policy: {
        roles: DEFAULT_POLICY.roles.map(encodeRole),
        resources: DEFAULT_POLICY.resources.map((resource) => ({ resource_id: resource.resourceId, description: resource.description, actions: [...resource.actions] })),
        scopes: [],
      },
    }),
  );

  app.get<{ Params: { organization_id: string } }>('/v1/b2b/rbac/organizations/:organization_id', { schema: { params: organizationParams } }, async (request) => {
    const organization = await dependencies.organizations.get(request.params.organization_id);
    return ok(request, { org_policy: { roles: organization.settings.customRoles.map(encodeRole) } });
  });
}
