import { inviteCall } from '../../member-requirements.js';
import { stytchOperation } from '../../operation.js';
import { encodeMemberSent } from '../encode-member-sent.js';

/** magicLinks.email.invite: an invitation link to a new, pending or invited member. */
export default stytchOperation({
  operationId: 'api_b2b_magic_v1_b2b_magic_links_email_Invite',
  memberAuthorization: ({ body, context }, services) => inviteCall(services, context, body),
  async handle({ body, context }, { magicLinks }) {
    return encodeMemberSent(
      await magicLinks.invite(context, {
        organizationId: body.organization_id,
        emailAddress: body.email_address,
        inviteRedirectUrl: body.invite_redirect_url,
        invitedByMemberId: body.invited_by_member_id,
        name: body.name,
        trustedMetadata: body.trusted_metadata,
        untrustedMetadata: body.untrusted_metadata,
        locale: body.locale,
        roles: body.roles,
        inviteExpirationMinutes: body.invite_expiration_minutes,
      }),
    );
  },
});
