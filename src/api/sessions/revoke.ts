import { revokeCall } from '../member-requirements.js';
import { stytchOperation } from '../operation.js';

/** sessions.revoke: one session (by id, token or JWT) or every session of a member. */
export default stytchOperation({
  operationId: 'api_b2b_session_v1_Revoke',
  memberAuthorization: ({ body, context }, services) => revokeCall(services, context, body),
  async handle({ body, context }, { sessions }) {
    await sessions.revoke(context, {
      memberSessionId: body.member_session_id,
      sessionToken: body.session_token,
      sessionJwt: body.session_jwt,
      memberId: body.member_id,
    });
    return {};
  },
});
