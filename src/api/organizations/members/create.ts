import type { CreateMemberInput } from '../../../domain/members/members-service.js';
import { newMemberCall } from '../../member-requirements.js';
import { type RequestBodyOf, stytchOperation } from '../../operation.js';
import { encodeMemberResponse } from './member-response.js';

/** organizations.members.create: adds a member (active, or pending when asked) to an organization. */
export default stytchOperation({
  operationId: 'api_organization_v1_organizations_members_Create',
  /** create, plus update.settings.roles for roles and update.settings.is-breakglass for a break-glass member; never trusted_metadata. */
  memberAuthorization: ({ body, params }, services) => newMemberCall(services, params.organization_id, body),
  async handle({ body, params, context }, { members }) {
    return encodeMemberResponse(await members.create(context, params.organization_id, decodeCreateMember(body)));
  },
});

function decodeCreateMember(body: RequestBodyOf<'api_organization_v1_organizations_members_Create'>): CreateMemberInput {
  return {
    emailAddress: body.email_address,
    name: body.name,
    trustedMetadata: body.trusted_metadata,
    untrustedMetadata: body.untrusted_metadata,
    createMemberAsPending: body.create_member_as_pending,
    isBreakglass: body.is_breakglass,
    mfaPhoneNumber: body.mfa_phone_number,
    mfaEnrolled: body.mfa_enrolled,
    roles: body.roles,
    externalId: body.external_id,
  };
}
