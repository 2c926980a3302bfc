import { stytchOperation } from '../operation.js';

/** organizations.metrics: how many members the organization has. */
export default stytchOperation({
  operationId: 'api_organization_v1_Metrics',
  async handle({ params }, { organizations }) {
    const { memberCount } = await organizations.metrics(params.organization_id);
    return { member_count: memberCount };
  },
});
