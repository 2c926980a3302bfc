import { encodeMemberSession } from '../../http/wire/sessions.js';
import { stytchOperation } from '../operation.js';

/** sessions.get: a member's live sessions. */
export default stytchOperation({
  operationId: 'api_b2b_session_v1_Get',
  async handle({ query }, { sessions }) {
    const { organization, sessions: live } = await sessions.get(query.organization_id, query.member_id);
    return { member_sessions: live.map((session) => encodeMemberSession(session, organization)) };
  },
});
