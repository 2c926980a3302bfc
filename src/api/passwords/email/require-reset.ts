import { encodeMember } from '../../../http/wire/members.js';
import { encodeOrganization } from '../../../http/wire/organizations.js';
import { requireResetCall } from '../../member-requirements.js';
import { stytchOperation } from '../../operation.js';

/**
 * passwords.email.requireReset: the password of the member (or, cross-organization, of every
 * member) with this address is deleted, so they must reset it by email. `member_id`, `member` and
 * `organization` are answered when exactly one member was concerned.
 */
export default stytchOperation({
  operationId: 'api_b2b_password_v1_b2b_passwords_email_RequireReset',
  memberAuthorization: ({ body }, services) => requireResetCall(services, body),
  async handle({ body, context }, { passwords }) {
    const required = await passwords.requireReset(context, { emailAddress: body.email_address, organizationId: body.organization_id, memberId: body.member_id });
    if (!('member' in required)) return {};
    return { member_id: required.member.memberId, member: encodeMember(required.member, required.organization), organization: encodeOrganization(required.organization) };
  },
});
