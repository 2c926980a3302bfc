import type { UpdateMemberInput } from '../../../domain/members/members-service.js';
import { memberUpdateCall } from '../../member-requirements.js';
import { type RequestBodyOf, stytchOperation } from '../../operation.js';
import { encodeMemberResponse } from './member-response.js';

/** organizations.members.update: changes a live member; only the fields sent change. */
export default stytchOperation({
  operationId: 'api_organization_v1_organizations_members_Update',
  /** Each field sent needs its own stytch.member action, or stytch.self's on oneself (member-requirements.ts); trusted_metadata is refused. */
  memberAuthorization: ({ body, params, context }, services) => memberUpdateCall(services, context, params, body),
  async handle({ body, params, context }, { members }) {
    const result = await members.update(context, params.organization_id, params.member_id, decodeUpdateMember(body));
    return encodeMemberResponse(result);
  },
});

function decodeUpdateMember(body: RequestBodyOf<'api_organization_v1_organizations_members_Update'>): UpdateMemberInput {
  return {
    name: body.name,
    trustedMetadata: body.trusted_metadata,
    untrustedMetadata: body.untrusted_metadata,
    isBreakglass: body.is_breakglass,
    mfaPhoneNumber: body.mfa_phone_number,
    mfaEnrolled: body.mfa_enrolled,
    roles: body.roles,
    preserveExistingSessions: body.preserve_existing_sessions,
    defaultMfaMethod: body.default_mfa_method,
    emailAddress: body.email_address,
    externalId: body.external_id,
    unlinkEmail: body.unlink_email,
  };
}
