import { encodeWebhookEndpoint } from '../../http/wire/webhooks.js';
import { supportAccessCall } from '../impersonation/grants/support-access-call.js';
import { objectSchema, str } from '../json-schema.js';
import { extensionOperation } from '../operation.js';
import { viewerOf } from './viewer.js';

interface Query {
  readonly organization_id?: string;
}

const querySchema = objectSchema({ organization_id: str } satisfies Record<keyof Query, unknown>);

/**
 * webhooks.endpoints.list (our extension): endpoints newest first, enabled and disabled; with the
 * project's credentials every one, or one organization's. With member-session headers (a member
 * allowed `understudy.support-access:update.settings`) their organization's.
 */
export default extensionOperation<Record<string, never>, Query>({
  name: 'webhooks.endpoints.list',
  method: 'GET',
  url: '/v1/b2b/impersonation/webhooks/endpoints',
  schema: { querystring: querySchema },
  memberAuthorization: ({ query, context }, services) => supportAccessCall(services, context, query.organization_id, 'update.settings'),
  async handle({ query, context }, { webhooks }) {
    const endpoints = await webhooks.listEndpoints(viewerOf(context), query.organization_id);
    return { endpoints: endpoints.map(encodeWebhookEndpoint) };
  },
});
