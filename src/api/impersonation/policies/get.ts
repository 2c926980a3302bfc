import { encodePolicy } from '../../../http/wire/impersonation.js';
import { objectSchema, str } from '../../json-schema.js';
import { extensionOperation } from '../../operation.js';
import { callerSession } from '../caller-session.js';

interface Params {
  readonly organization_id: string;
}

const paramsSchema = objectSchema({ organization_id: str } satisfies Record<keyof Params, unknown>, ['organization_id']);

/**
 * impersonation.policies.get (our extension): an organization's impersonation policy, stored and
 * in effect. The organization's own admins may read it with their member session
 * (X-Stytch-Member-Session), which the service checks.
 */
export default extensionOperation<Record<string, never>, Record<string, never>, Params>({
  name: 'impersonation.policies.get',
  method: 'GET',
  url: '/v1/b2b/impersonation/policies/:organization_id',
  schema: { params: paramsSchema },
  config: { handlesMemberSessionHeaders: true },
  async handle({ params, request }, { impersonationAdmin, sessions }) {
    const reader = await callerSession(request, sessions);
    return encodePolicy(await impersonationAdmin.getPolicy(params.organization_id, { reader }));
  },
});
