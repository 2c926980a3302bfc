import { FOR_SHARE, FOR_UPDATE } from '../common/read-for-update.js';
import { memberError } from './errors.js';
import type { Member } from './member.js';
import type { MembersStore } from './members-store.js';
import type { Organization } from '../organizations/organization.js';
import type { OrganizationsStore } from '../organizations/organizations-store.js';
import { requireOrganization } from '../organizations/require-organization.js';

export type LiveMemberPorts = { readonly organizations: Pick<OrganizationsStore, 'findOrganization'>; readonly members: Pick<MembersStore, 'findMember'> };

/**
 * The organization and live (not deleted) member a call names, by id, slug or external id; else
 * `member_not_found`. Inside a transaction that writes, `locked` takes the lock order
 * (read-for-update.ts): the organization shared, then the member for update, so changes of one
 * member run one at a time.
 */
export async function requireLiveMember(
  ports: LiveMemberPorts,
  organizationReference: string,
  memberReference: string,
  options: { readonly locked?: boolean } = {},
): Promise<{ organization: Organization; member: Member }> {
  const organization = await requireOrganization(ports, organizationReference, options.locked === true ? FOR_SHARE : undefined);
  const member = memberReference === '' ? undefined : await ports.members.findMember(organization.organizationId, memberReference, options.locked === true ? FOR_UPDATE : undefined);
  if (member === undefined || member.status === 'deleted') throw memberError('member_not_found');
  return { organization, member };
}
