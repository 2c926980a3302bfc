import type { MemberSent } from '../../domain/email-sign-in/organization-sends.js';
import { encodeMember } from '../../http/wire/members.js';
import { encodeOrganization } from '../../http/wire/organizations.js';

/** `{member_id, member, organization}`: what an organization's email send answers (login_or_signup adds member_created). */
export function encodeMemberSent({ member, organization }: MemberSent) {
  return { member_id: member.memberId, member: encodeMember(member, organization), organization: encodeOrganization(organization) };
}
