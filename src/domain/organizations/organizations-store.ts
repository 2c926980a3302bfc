import type { PageRequest } from '../common/pagination.js';
import type { ReadForUpdate } from '../common/read-for-update.js';
import type { SearchQuery } from '../common/search.js';
import type { Organization } from './organization.js';

/** Storage port for organizations (style rule 11). */
export interface OrganizationsStore {
  /** Inserts a new organization; throws UniqueConstraintError('organization_slug' | 'organization_external_id'). */
  insertOrganization(organization: Organization): Promise<void>;
  /** Replaces every stored field of an existing organization; same unique errors as insert; no-op when absent. */
  updateOrganization(organization: Organization): Promise<void>;
  /** The organization whose id, slug or external id is `reference` (in that order of preference), or undefined; `forUpdate` locks it (ReadForUpdate). */
  findOrganization(reference: string, options?: ReadForUpdate): Promise<Organization | undefined>;
  /** Every organization (at most three) whose id, slug or external id is `reference`, in no particular order. */
  findOrganizationsByReference(reference: string): Promise<Organization[]>;
  /**
   * Inside a transaction: waits until no other transaction can be choosing slugs or external ids,
   * and keeps it so until this one ends, so a check of which references are free stays true until
   * the write. Outside a transaction it guarantees nothing.
   */
  lockReferences(): Promise<void>;
  /** The organizations with these ids, in no particular order; unknown ids are left out. */
  findOrganizationsByIds(organizationIds: readonly string[]): Promise<Organization[]>;
  /** Deletes the organization and every member of it; no-op when absent. */
  deleteOrganization(organizationId: string): Promise<void>;
  /** One page (`limit + 1` rows, oldest first) of the organizations matching `query`, and the total count. */
  searchOrganizations(query: SearchQuery, page: PageRequest): Promise<{ rows: Organization[]; total: number }>;
  /** How many members of the organization are not deleted; 0 when none. */
  countMembers(organizationId: string): Promise<number>;
  /** The organizations whose `email_allowed_domains` include `domain` (lower case), in no particular order; [] when none. */
  findOrganizationsByAllowedDomain(domain: string): Promise<Organization[]>;
}
