import { encodePolicy } from '../../../http/wire/impersonation.js';
import { bool, objectSchema, str } from '../../json-schema.js';
import { extensionOperation } from '../../operation.js';
import { supportAccessCall } from '../grants/support-access-call.js';

interface Params {
  readonly organization_id: string;
}

interface Body {
  /** The older switch: true is any mode but off (turning off into open), false is off. */
  readonly impersonation_enabled?: boolean;
  /** open | by_grant | off; checked by the service (invalid_impersonation_policy). */
  readonly access_mode?: string;
  /** off | members | members_and_admins; checked by the service. */
  readonly delegated_impersonation?: string;
  readonly notify_member?: boolean;
  readonly notify_admins?: boolean;
  /** null clears the organization's own URL. */
  readonly impersonation_redirect_url?: string | null;
}

const paramsSchema = objectSchema({ organization_id: str } satisfies Record<keyof Params, unknown>, ['organization_id']);

const bodySchema = objectSchema({
  impersonation_enabled: bool,
  access_mode: str,
  delegated_impersonation: str,
  notify_member: bool,
  notify_admins: bool,
  impersonation_redirect_url: { type: ['string', 'null'], maxLength: 2048 },
} satisfies Record<keyof Body, unknown>);

/**
 * impersonation.policies.set (our extension): changes an organization's impersonation policy; fields
 * left out stay as they are. With member-session headers, a member of that organization allowed
 * `understudy.support-access:update.settings` changes their own organization's (never from an
 * impersonated session). The redirect URL is the vendor's alone: support's tokens are sent there.
 */
export default extensionOperation<Body, Record<string, never>, Params>({
  name: 'impersonation.policies.set',
  method: 'PUT',
  url: '/v1/b2b/impersonation/policies/:organization_id',
  schema: { params: paramsSchema, body: bodySchema },
  memberAuthorization: ({ params, body, context }, services) =>
    supportAccessCall(services, context, params.organization_id, 'update.settings', {
      consent: true,
      forbiddenFields: body.impersonation_redirect_url === undefined ? [] : ['impersonation_redirect_url'],
    }),
  async handle({ body, params, context }, { impersonationAdmin }) {
    const view = await impersonationAdmin.setPolicy(context, params.organization_id, {
      enabled: body.impersonation_enabled,
      accessMode: body.access_mode,
      delegated: body.delegated_impersonation,
      notifyMember: body.notify_member,
      notifyAdmins: body.notify_admins,
      redirectUrl: body.impersonation_redirect_url,
    });
    return encodePolicy(view);
  },
});
