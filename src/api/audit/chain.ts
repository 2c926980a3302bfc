import { extensionOperation } from '../operation.js';
import { encodeChainHead } from './chain-wire.js';

/**
 * impersonation.audit.chain (our extension): every audit chain's head (one per organization with
 * chained events, and `project`) and their digest, as publication computes it. The project's
 * credentials only: member-session headers are refused (no memberAuthorization).
 */
export default extensionOperation({
  name: 'impersonation.audit.chain',
  method: 'GET',
  url: '/v1/b2b/impersonation/audit/chain',
  async handle(_call, { auditChain }) {
    const { heads, digest } = await auditChain.heads();
    return { heads: heads.map(encodeChainHead), digest };
  },
});
