import { encodeOrganization } from '../../http/wire/organizations.js';
import { organizationUpdateCall } from '../member-requirements.js';
import { stytchOperation } from '../operation.js';
import { decodeUpdateOrganization } from './decode-organization.js';

/** organizations.update: changes only the fields sent. */
export default stytchOperation({
  operationId: 'api_organization_v1_Update',
  /** Each field sent needs its own stytch.organization action (member-requirements.ts); trusted_metadata is refused. */
  memberAuthorization: ({ body, params }, services) => organizationUpdateCall(services, params.organization_id, body),
  async handle({ body, params, context }, { organizations }) {
    const organization = await organizations.update(context, params.organization_id, decodeUpdateOrganization(body));
    return { organization: encodeOrganization(organization) };
  },
});
