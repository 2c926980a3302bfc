import { setOrgPolicyCall } from '../../member-requirements.js';
import { stytchOperation } from '../../operation.js';
import { roleDocument } from '../../../domain/rbac/policy-rules.js';

/**
 * rbac.organizations.setOrgPolicy: replaces the organization's custom roles (Stytch's semantics: the
 * list given is the whole list). The SDK sends no member-session headers here; a raw caller that
 * does needs `stytch.custom-org-roles` `update` in the session's own organization, and may only
 * grant what its roles grant it.
 */
export default stytchOperation({
  operationId: 'api_b2b_rbac_v1_b2b_rbac_organizations_SetOrgPolicy',
  /** stytch.custom-org-roles update, and every permission a role gains must be the caller's own (setOrgPolicyCall). */
  memberAuthorization: ({ params, body }, services) => setOrgPolicyCall(services, params.organization_id, body.org_policy.roles),
  async handle({ params, body, context }, { organizationRoles }) {
    const { roles } = await organizationRoles.setOrgPolicy(context, params.organization_id, body.org_policy.roles);
    return { org_policy: { roles: roles.map(roleDocument) } };
  },
});
