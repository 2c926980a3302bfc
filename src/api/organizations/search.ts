import { encodeOrganization } from '../../http/wire/organizations.js';
import { stytchOperation } from '../operation.js';

/** organizations.search: organizations filtered and paged; counted against the project's search limit. */
export default stytchOperation({
  operationId: 'api_organization_v1_Search',
  config: { rateLimitPerProject: 'searches' },
  async handle({ body }, { organizations }) {
    const page = await organizations.search({ cursor: body.cursor, limit: body.limit, query: body.query });
    return {
      organizations: page.items.map(encodeOrganization),
      results_metadata: { total: page.total, next_cursor: page.nextCursor },
    };
  },
});
