import type { ExtensionOperation } from '../operation.js';
import auditChain from './chain.js';
import auditChainVerify from './chain-verify.js';

/** Our operations for the audit chains' heads and verification (registered in src/api/operations.ts). */
export const auditChainOperations: readonly ExtensionOperation[] = [auditChain, auditChainVerify] as readonly ExtensionOperation[];
