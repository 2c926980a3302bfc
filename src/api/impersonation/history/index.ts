import type { ExtensionOperation } from '../../operation.js';
import impersonationHistory from './list.js';

/** Our operations for members' own impersonation history and admins' reading of the trail (registered in src/api/operations.ts). */
export const impersonationHistoryOperations: readonly ExtensionOperation[] = [impersonationHistory] as readonly ExtensionOperation[];
