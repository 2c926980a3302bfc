import type { ExtensionOperation } from '../operation.js';

/** Our operations for webhook endpoints and the delivery log (registered in src/api/operations.ts). */
export const webhookOperations: readonly ExtensionOperation[] = [] as readonly ExtensionOperation[];
