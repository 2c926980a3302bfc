import { encodeImpersonatedSession } from '../../../http/wire/impersonation.js';
import { objectSchema } from '../../json-schema.js';
import { extensionOperation } from '../../operation.js';
import { scopeOf, scopeProperties, type ScopeWire } from '../scope.js';

const querySchema = objectSchema(scopeProperties);

/** impersonation.sessions.list (our extension): impersonated sessions going on now, narrowed by organization, member or impersonator. */
export default extensionOperation<Record<string, never>, ScopeWire>({
  name: 'impersonation.sessions.list',
  method: 'GET',
  url: '/v1/b2b/impersonation/sessions',
  schema: { querystring: querySchema },
  async handle({ query }, { impersonationAdmin }) {
    const sessions = await impersonationAdmin.listActive(scopeOf(query));
    return { impersonated_sessions: sessions.map(encodeImpersonatedSession) };
  },
});
