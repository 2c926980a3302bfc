import { stytchOperation } from '../../operation.js';
import { roleDocument } from '../../../domain/rbac/policy-rules.js';

/** rbac.organizations.getOrgPolicy: the organization's custom roles, which the SDK adds to the project's policy. */
export default stytchOperation({
  operationId: 'api_b2b_rbac_v1_b2b_rbac_organizations_GetOrgPolicy',
  async handle({ params }, { organizations }) {
    const organization = await organizations.get(params.organization_id);
    return { org_policy: { roles: organization.settings.customRoles.map(roleDocument) } };
  },
});
