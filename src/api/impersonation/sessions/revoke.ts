import { encodeImpersonatedSession } from '../../../http/wire/impersonation.js';
import { objectSchema, str } from '../../json-schema.js';
import { extensionOperation } from '../../operation.js';
import { scopeOf, scopeProperties, type ScopeWire } from '../scope.js';

interface Body extends ScopeWire {
  readonly member_session_id?: string;
}

const bodySchema = objectSchema({ member_session_id: str, ...scopeProperties } satisfies Record<keyof Body, unknown>);

/**
 * impersonation.sessions.revoke (our extension): ends impersonated sessions at once, one by
 * member_session_id or all of an impersonator's, a member's or an organization's.
 */
export default extensionOperation<Body>({
  name: 'impersonation.sessions.revoke',
  method: 'POST',
  url: '/v1/b2b/impersonation/sessions/revoke',
  schema: { body: bodySchema },
  async handle({ body, context }, { impersonationAdmin }) {
    const revoked = await impersonationAdmin.revoke(context, { ...scopeOf(body), memberSessionId: body.member_session_id });
    return { revoked_sessions: revoked.map(encodeImpersonatedSession) };
  },
});
