import { encodeOrganization } from '../../http/wire/organizations.js';
import { ANY_ACTION } from '../../domain/rbac/policy.js';
import { organizationCall } from '../member-requirements.js';
import { stytchOperation } from '../operation.js';

/** organizations.deleteExternalId: clears the organization's external id. */
export default stytchOperation({
  operationId: 'api_organization_v1_DeleteExternalId',
  /** Stytch names no action for the external id: only a role granted all of stytch.organization may clear it. */
  memberAuthorization: ({ params }, services) => organizationCall(services, params.organization_id, [ANY_ACTION]),
  async handle({ params, context }, { organizations }) {
    return { organization: encodeOrganization(await organizations.deleteExternalId(context, params.organization_id)) };
  },
});
