import { encodeWebhookEndpoint } from '../../http/wire/webhooks.js';
import { supportAccessCall } from '../impersonation/grants/support-access-call.js';
import { objectSchema, str } from '../json-schema.js';
import { extensionOperation } from '../operation.js';
import { viewerOf } from './viewer.js';

interface Params {
  readonly endpoint_id: string;
}

const paramsSchema = objectSchema({ endpoint_id: str } satisfies Record<keyof Params, unknown>, ['endpoint_id']);

/**
 * webhooks.endpoints.disable (our extension): the endpoint receives nothing more; deliveries still
 * pending to it fail. A member session (allowed `understudy.support-access:update.settings`, not
 * impersonated) disables only its organization's: another organization's is not found.
 */
export default extensionOperation<Record<string, never>, Record<string, never>, Params>({
  name: 'webhooks.endpoints.disable',
  method: 'POST',
  url: '/v1/b2b/impersonation/webhooks/endpoints/:endpoint_id/disable',
  schema: { params: paramsSchema },
  memberAuthorization: ({ context }, services) => supportAccessCall(services, context, undefined, 'update.settings', { consent: true }),
  async handle({ params, context }, { webhooks }) {
    return { endpoint: encodeWebhookEndpoint(await webhooks.disableEndpoint(context, viewerOf(context), params.endpoint_id)) };
  },
});
