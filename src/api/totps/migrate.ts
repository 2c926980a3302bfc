import { stytchOperation } from '../operation.js';
import { encodeMemberResponse } from '../organizations/members/member-response.js';

/** totps.migrate: a TOTP secret (and recovery codes) from another system, active at once. */
export default stytchOperation({
  operationId: 'api_b2b_totp_v1_Migrate',
  async handle({ body, context }, { totps }) {
    const migrated = await totps.migrate(context, {
      organizationId: body.organization_id,
      memberId: body.member_id,
      secret: body.secret,
      recoveryCodes: body.recovery_codes,
    });
    return { ...encodeMemberResponse(migrated), totp_registration_id: migrated.totpRegistrationId, recovery_codes: [...migrated.recoveryCodes] };
  },
});
