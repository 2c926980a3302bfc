import { encodeOrganization } from '../../http/wire/organizations.js';
import { stytchOperation } from '../operation.js';

/** organizations.deleteExternalId: clears the organization's external id. */
export default stytchOperation({
  operationId: 'api_organization_v1_DeleteExternalId',
  async handle({ params, context }, { organizations }) {
    return { organization: encodeOrganization(await organizations.deleteExternalId(context, params.organization_id)) };
  },
});
