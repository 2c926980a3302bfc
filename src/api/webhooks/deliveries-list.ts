import { sharedError } from '../../domain/common/errors.js';
import { encodeWebhookDelivery } from '../../http/wire/webhooks.js';
import { supportAccessCall } from '../impersonation/grants/support-access-call.js';
import { objectSchema, str } from '../json-schema.js';
import { extensionOperation } from '../operation.js';
import { viewerOf } from './viewer.js';

interface Query {
  readonly endpoint_id?: string;
  readonly organization_id?: string;
  /** pending | delivered | failed */
  readonly status?: string;
  readonly limit?: string;
}

const querySchema = objectSchema({ endpoint_id: str, organization_id: str, status: str, limit: str } satisfies Record<keyof Query, unknown>);

/**
 * webhooks.deliveries.list (our extension): the delivery log, newest first: status, attempts, the
 * last answer's status code or error. With member-session headers (a member allowed
 * `understudy.support-access:update.settings`) only deliveries to their organization's endpoints.
 */
export default extensionOperation<Record<string, never>, Query>({
  name: 'webhooks.deliveries.list',
  method: 'GET',
  url: '/v1/b2b/impersonation/webhooks/deliveries',
  schema: { querystring: querySchema },
  memberAuthorization: ({ query, context }, services) => supportAccessCall(services, context, query.organization_id, 'update.settings'),
  async handle({ query, context }, { webhooks }) {
    if (query.limit !== undefined && !/^\d{1,4}$/.test(query.limit)) throw sharedError('invalid_limit');
    const deliveries = await webhooks.listDeliveries(viewerOf(context), {
      endpointId: query.endpoint_id,
      organization: query.organization_id,
      status: query.status,
      limit: query.limit === undefined ? undefined : Number(query.limit),
    });
    return { deliveries: deliveries.map(encodeWebhookDelivery) };
  },
});
