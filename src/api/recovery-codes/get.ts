import { stytchOperation } from '../operation.js';
import { encodeMemberResponse } from '../organizations/members/member-response.js';

/** recoveryCodes.get: the member's unused recovery codes, shown again. */
export default stytchOperation({
  operationId: 'api_b2b_recovery_codes_v1_Get',
  async handle({ params }, { recoveryCodes }) {
    const shown = await recoveryCodes.get(params.organization_id, params.member_id);
    return { ...encodeMemberResponse(shown), recovery_codes: [...shown.recoveryCodes] };
  },
});
