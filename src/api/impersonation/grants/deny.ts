import { encodeAccessGrant } from '../../../http/wire/impersonation.js';
import { objectSchema, str } from '../../json-schema.js';
import { extensionOperation } from '../../operation.js';
import { grantCall } from './support-access-call.js';

interface Params {
  readonly grant_id: string;
}

const paramsSchema = objectSchema({ grant_id: str } satisfies Record<keyof Params, unknown>, ['grant_id']);

/** impersonation.accessGrants.deny (our extension): a member of the organization allowed `understudy.support-access:grant` refuses a grant support requested. Only with member-session headers. */
export default extensionOperation<Record<string, never>, Record<string, never>, Params>({
  name: 'impersonation.accessGrants.deny',
  method: 'POST',
  url: '/v1/b2b/impersonation/access_grants/:grant_id/deny',
  schema: { params: paramsSchema },
  memberAuthorization: async ({ context }) => grantCall(context, 'grant'),
  async handle({ params, context }, { accessGrants }) {
    return { access_grant: encodeAccessGrant(await accessGrants.deny(context, params.grant_id)) };
  },
});
