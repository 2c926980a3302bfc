import type { ExtensionOperation } from '../operation.js';
import deliveriesList from './deliveries-list.js';
import endpointsCreate from './endpoints-create.js';
import endpointsDisable from './endpoints-disable.js';
import endpointsList from './endpoints-list.js';

/** Our operations for webhook endpoints and the delivery log (registered in src/api/operations.ts). */
export const webhookOperations: readonly ExtensionOperation[] = [endpointsCreate, endpointsList, endpointsDisable, deliveriesList] as readonly ExtensionOperation[];
