import type { MemberWithOrganization } from '../../../domain/members/members-service.js';
import { encodeMember } from '../../../http/wire/members.js';
import { encodeOrganization } from '../../../http/wire/organizations.js';

/** `{member_id, member, organization}`: the answer of most organizations.members operations. */
export function encodeMemberResponse({ member, organization }: MemberWithOrganization) {
  return { member_id: member.memberId, member: encodeMember(member, organization), organization: encodeOrganization(organization) };
}
