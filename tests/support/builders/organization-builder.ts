import { randomUUID } from 'node:crypto';
import { DEFAULT_SETTINGS, type Organization, type OrganizationSettings } from '../../../src/domain/organizations/organization.js';

export type OrganizationOverrides = Partial<Omit<Organization, 'settings'>> & { readonly settings?: Partial<OrganizationSettings> };

let sequence = 0;

/**
 * A valid organization as the domain stores it (style rule 21). Each call gets a fresh id, slug and
 * creation time one second after the previous call's, so callers can rely on insertion order.
 */
export function anOrganization(overrides: OrganizationOverrides = {}): Organization {
  sequence += 1;
  const unique = randomUUID();
  const createdAt = new Date(Date.UTC(2026, 0, 1) + sequence * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const { settings, ...rest } = overrides;
  return {
    organizationId: `organization-test-${unique}`,
    organizationName: `Organization ${sequence}`,
    organizationSlug: `org-${sequence}-${unique.slice(0, 8)}`,
    organizationLogoUrl: '',
    organizationExternalId: null,
    trustedMetadata: {},
    settings: { ...DEFAULT_SETTINGS, ...settings },
    createdAt,
    updatedAt: createdAt,
    ...rest,
  };
}
