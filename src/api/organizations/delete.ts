import { organizationCall } from '../member-requirements.js';
import { stytchOperation } from '../operation.js';

/** organizations.delete: the organization, its members, sessions and impersonations. */
export default stytchOperation({
  operationId: 'api_organization_v1_Delete',
  memberAuthorization: ({ params }, services) => organizationCall(services, params.organization_id, ['delete']),
  async handle({ params, context }, { organizations }) {
    return { organization_id: await organizations.delete(context, params.organization_id) };
  },
});
