import type { ExtensionOperation } from '../../operation.js';
import approve from './approve.js';
import create from './create.js';
import deny from './deny.js';
import list from './list.js';
import revoke from './revoke.js';

/** Our operations for access grants (registered in src/api/operations.ts); the access mode is part of the policy operations. */
export const accessGrantOperations: readonly ExtensionOperation[] = [create, list, approve, deny, revoke] as readonly ExtensionOperation[];
