import type { ExtensionOperation } from '../operation.js';

/** Our operations for the audit chains' heads and verification (registered in src/api/operations.ts). */
export const auditChainOperations: readonly ExtensionOperation[] = [] as readonly ExtensionOperation[];
