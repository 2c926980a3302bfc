import { encodeWebhookEndpoint } from '../../http/wire/webhooks.js';
import { supportAccessCall } from '../impersonation/grants/support-access-call.js';
import { objectSchema, str } from '../json-schema.js';
import { extensionOperation } from '../operation.js';

interface Body {
  /** Absent or null with the project's credentials: the project's (the vendor's) endpoint. */
  readonly organization_id?: string | null;
  readonly url: string;
  readonly description?: string;
}

const bodySchema = objectSchema(
  { organization_id: { anyOf: [str, { type: 'null' }] }, url: str, description: str } satisfies Record<keyof Body, unknown>,
  ['url'],
);

/**
 * webhooks.endpoints.create (our extension): adds an endpoint and answers its signing secret, this
 * once. With member-session headers of a member allowed `understudy.support-access:update.settings`
 * it is always their organization's endpoint (never from an impersonated session: support must not
 * redirect a customer's notifications); with the project's credentials, the organization's
 * `organization_id` names, or the project's.
 */
export default extensionOperation<Body>({
  name: 'webhooks.endpoints.create',
  method: 'POST',
  url: '/v1/b2b/impersonation/webhooks/endpoints',
  schema: { body: bodySchema },
  memberAuthorization: ({ body, context }, services) => supportAccessCall(services, context, body.organization_id ?? undefined, 'update.settings', { consent: true }),
  async handle({ body, context }, { webhooks }) {
    const organization = context.actor.type === 'member_session' ? context.actor.organizationId : (body.organization_id ?? null);
    const { endpoint, secret } = await webhooks.addEndpoint(context, { organization, url: body.url, description: body.description });
    return { endpoint: encodeWebhookEndpoint(endpoint), secret };
  },
});
