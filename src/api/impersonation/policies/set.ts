import { encodePolicy } from '../../../http/wire/impersonation.js';
import { bool, objectSchema, str } from '../../json-schema.js';
import { extensionOperation } from '../../operation.js';

interface Params {
  readonly organization_id: string;
}

interface Body {
  readonly impersonation_enabled?: boolean;
  /** null clears the organization's own URL. */
  readonly impersonation_redirect_url?: string | null;
}

const paramsSchema = objectSchema({ organization_id: str } satisfies Record<keyof Params, unknown>, ['organization_id']);

const bodySchema = objectSchema({
  impersonation_enabled: bool,
  impersonation_redirect_url: { type: ['string', 'null'], maxLength: 2048 },
} satisfies Record<keyof Body, unknown>);

/** impersonation.policies.set (our extension): changes an organization's impersonation policy; fields left out stay as they are. */
export default extensionOperation<Body, Record<string, never>, Params>({
  name: 'impersonation.policies.set',
  method: 'PUT',
  url: '/v1/b2b/impersonation/policies/:organization_id',
  schema: { params: paramsSchema, body: bodySchema },
  async handle({ body, params, context }, { impersonationAdmin }) {
    const view = await impersonationAdmin.setPolicy(context, params.organization_id, {
      enabled: body.impersonation_enabled,
      redirectUrl: body.impersonation_redirect_url,
    });
    return encodePolicy(view);
  },
});
