import { stytchOperation } from '../operation.js';
import { encodeMemberResponse } from '../organizations/members/member-response.js';

/** recoveryCodes.rotate: a new set of recovery codes for the member; the old ones stop working. */
export default stytchOperation({
  operationId: 'api_b2b_recovery_codes_v1_Rotate',
  async handle({ body, context }, { recoveryCodes }) {
    const rotated = await recoveryCodes.rotate(context, body.organization_id, body.member_id);
    return { ...encodeMemberResponse(rotated), recovery_codes: [...rotated.recoveryCodes] };
  },
});
