import { encodeOrganization } from '../../http/wire/organizations.js';
import { stytchOperation } from '../operation.js';
import { decodeCreateOrganization } from './decode-organization.js';

/** organizations.create: a new organization with its settings; the slug is derived from the name when not given. */
export default stytchOperation({
  operationId: 'api_organization_v1_Create',
  async handle({ body, context }, { organizations }) {
    const organization = await organizations.create(context, decodeCreateOrganization(body));
    return { organization: encodeOrganization(organization) };
  },
});
