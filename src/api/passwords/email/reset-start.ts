import { encodeMember } from '../../../http/wire/members.js';
import { stytchOperation } from '../../operation.js';

/** passwords.email.resetStart: the reset link (and a login link) mailed to an organization's member. */
export default stytchOperation({
  operationId: 'api_b2b_password_v1_b2b_passwords_email_ResetStart',
  async handle({ body, context }, { passwordResets }) {
    const sent = await passwordResets.resetStart(context, {
      organizationId: body.organization_id,
      emailAddress: body.email_address,
      resetPasswordRedirectUrl: body.reset_password_redirect_url,
      resetPasswordExpirationMinutes: body.reset_password_expiration_minutes,
      codeChallenge: body.code_challenge,
      loginRedirectUrl: body.login_redirect_url,
      locale: body.locale,
    });
    return { member_id: sent.member.memberId, member_email_id: sent.memberEmailId, member: encodeMember(sent.member, sent.organization) };
  },
});
