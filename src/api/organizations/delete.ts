import { stytchOperation } from '../operation.js';

/** organizations.delete: the organization, its members, sessions and impersonations. */
export default stytchOperation({
  operationId: 'api_organization_v1_Delete',
  async handle({ params, context }, { organizations }) {
    return { organization_id: await organizations.delete(context, params.organization_id) };
  },
});
