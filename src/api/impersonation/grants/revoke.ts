import { encodeAccessGrant } from '../../../http/wire/impersonation.js';
import { objectSchema, str } from '../../json-schema.js';
import { extensionOperation } from '../../operation.js';
import { grantCall } from './support-access-call.js';

interface Params {
  readonly grant_id: string;
}

const paramsSchema = objectSchema({ grant_id: str } satisfies Record<keyof Params, unknown>, ['grant_id']);

/** impersonation.accessGrants.revoke (our extension): ends an open grant early, with member-session headers of a member allowed `understudy.support-access:revoke` or with the project's credentials; the impersonations started or minted under it end at once. */
export default extensionOperation<Record<string, never>, Record<string, never>, Params>({
  name: 'impersonation.accessGrants.revoke',
  method: 'POST',
  url: '/v1/b2b/impersonation/access_grants/:grant_id/revoke',
  schema: { params: paramsSchema },
  memberAuthorization: async ({ context }) => grantCall(context, 'revoke'),
  async handle({ params, context }, { accessGrants }) {
    return { access_grant: encodeAccessGrant(await accessGrants.revoke(context, params.grant_id)) };
  },
});
