import type { ReadForUpdate } from '../common/read-for-update.js';
import { organizationError } from './errors.js';
import type { Organization } from './organization.js';
import type { OrganizationsStore } from './organizations-store.js';

/**
 * The organization a call names, by its id, slug or external id; `organization_not_found` when none
 * (an empty reference names none). `lock` locks it, before any member row (the lock order,
 * read-for-update.ts), for a change inside a transaction.
 */
export async function requireOrganization(ports: { organizations: Pick<OrganizationsStore, 'findOrganization'> }, reference: string, lock?: ReadForUpdate): Promise<Organization> {
  const organization = reference === '' ? undefined : await ports.organizations.findOrganization(reference, lock);
  if (organization === undefined) throw organizationError('organization_not_found');
  return organization;
}
