import { encodeOrganization } from '../../http/wire/organizations.js';
import { stytchOperation } from '../operation.js';
import { decodeUpdateOrganization } from './decode-organization.js';

/** organizations.update: changes only the fields sent. */
export default stytchOperation({
  operationId: 'api_organization_v1_Update',
  async handle({ body, params, context }, { organizations }) {
    const organization = await organizations.update(context, params.organization_id, decodeUpdateOrganization(body));
    return { organization: encodeOrganization(organization) };
  },
});
