import { DEFAULT_POLICY } from '../../domain/rbac/policy.js';
import { stytchOperation } from '../operation.js';
import { encodeRole } from './encode-role.js';

/** rbac.policy: the project's RBAC policy, which the SDK fetches and caches for local authorization. */
export default stytchOperation({
  operationId: 'api_b2b_rbac_v1_Policy',
  async handle() {
    return {
      policy: {
        roles: DEFAULT_POLICY.roles.map(encodeRole),
        resources: DEFAULT_POLICY.resources.map((resource) => ({ resource_id: resource.resourceId, description: resource.description, actions: [...resource.actions] })),
        scopes: [],
      },
    };
  },
});
