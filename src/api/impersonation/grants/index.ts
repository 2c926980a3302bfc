import type { ExtensionOperation } from '../../operation.js';

/** Our operations for access grants and the access mode  (registered in src/api/operations.ts). */
export const accessGrantOperations: readonly ExtensionOperation[] = [] as readonly ExtensionOperation[];
