import { policyDocument } from '../../domain/rbac/policy-rules.js';
import { stytchOperation } from '../operation.js';

/** rbac.policy: the project's RBAC policy in force, which the SDK fetches and caches for local authorization. */
export default stytchOperation({
  operationId: 'api_b2b_rbac_v1_Policy',
  async handle(_call, { rbacPolicy }) {
    const { policy } = await rbacPolicy.current();
    return { policy: policyDocument(policy) };
  },
});
