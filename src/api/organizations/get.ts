import { encodeOrganization } from '../../http/wire/organizations.js';
import { stytchOperation } from '../operation.js';

/** organizations.get: one organization, by id, slug or external id. */
export default stytchOperation({
  operationId: 'api_organization_v1_Get',
  async handle({ params }, { organizations }) {
    return { organization: encodeOrganization(await organizations.get(params.organization_id)) };
  },
});
