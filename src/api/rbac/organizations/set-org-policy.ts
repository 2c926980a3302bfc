import { isDomainError } from '../../../domain/common/domain-error.js';
import { stytchOperation } from '../../operation.js';
import { encodeRole } from '../encode-role.js';

/**
 * rbac.organizations.setOrgPolicy: replaces the organization's custom roles (Stytch's semantics: the
 * list given is the whole list). The SDK sends no member-session headers here; a raw caller that
 * does needs `stytch.custom-org-roles` `update` in the session's own organization.
 */
export default stytchOperation({
  operationId: 'api_b2b_rbac_v1_b2b_rbac_organizations_SetOrgPolicy',
  async memberAuthorization({ params }, { organizations }) {
    const organization = await organizations.get(params.organization_id).catch((error: unknown) => {
      // An organization that does not exist is not the caller's: a tenancy refusal, as for any other.
      if (isDomainError(error) && error.code === 'organization_not_found') return undefined;
      throw error;
    });
    return {
      organizationIds: [organization?.organizationId],
      permissions: [{ resourceId: 'stytch.custom-org-roles', action: 'update' }],
    };
  },
  async handle({ params, body, context }, { organizationRoles }) {
    const { roles } = await organizationRoles.setOrgPolicy(context, params.organization_id, body.org_policy.roles);
    return { org_policy: { roles: roles.map(encodeRole) } };
  },
});
