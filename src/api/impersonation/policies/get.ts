import { encodePolicy } from '../../../http/wire/impersonation.js';
import { objectSchema, str } from '../../json-schema.js';
import { extensionOperation } from '../../operation.js';
import { supportAccessCall } from '../grants/support-access-call.js';

interface Params {
  readonly organization_id: string;
}

const paramsSchema = objectSchema({ organization_id: str } satisfies Record<keyof Params, unknown>, ['organization_id']);

/**
 * impersonation.policies.get (our extension): an organization's impersonation policy, stored and
 * in effect. With member-session headers, a member of that organization allowed
 * `understudy.support-access:read` reads their own organization's.
 */
export default extensionOperation<Record<string, never>, Record<string, never>, Params>({
  name: 'impersonation.policies.get',
  method: 'GET',
  url: '/v1/b2b/impersonation/policies/:organization_id',
  schema: { params: paramsSchema },
  memberAuthorization: ({ params, context }, services) => supportAccessCall(services, context, params.organization_id, 'read'),
  async handle({ params }, { impersonationAdmin }) {
    return encodePolicy(await impersonationAdmin.getPolicy(params.organization_id));
  },
});
