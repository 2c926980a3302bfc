import { encodeAccessGrant } from '../../../http/wire/impersonation.js';
import { objectSchema, str } from '../../json-schema.js';
import { extensionOperation } from '../../operation.js';
import { supportAccessCall } from './support-access-call.js';

interface Query {
  readonly organization_id?: string;
  /** requested | open | expired | denied | revoked */
  readonly status?: string;
}

const querySchema = objectSchema({ organization_id: str, status: str } satisfies Record<keyof Query, unknown>);

/**
 * impersonation.accessGrants.list (our extension): grants newest first, of one organization or of
 * all. With member-session headers, a member allowed `understudy.support-access:read` lists their
 * own organization's.
 */
export default extensionOperation<Record<string, never>, Query>({
  name: 'impersonation.accessGrants.list',
  method: 'GET',
  url: '/v1/b2b/impersonation/access_grants',
  schema: { querystring: querySchema },
  memberAuthorization: ({ query, context }, services) => supportAccessCall(services, context, query.organization_id, 'read'),
  async handle({ query, context }, { accessGrants }) {
    // A member session lists its own organization's only (memberAuthorization checked any organization named is it).
    const organization = context.actor.type === 'member_session' ? context.actor.organizationId : query.organization_id;
    const grants = await accessGrants.list({ organization, status: query.status });
    return { access_grants: grants.map(encodeAccessGrant) };
  },
});
