import type { Clock } from '../../platform/clock.js';
import { toTimestamp } from '../../platform/clock.js';
import type { IdGenerator } from '../../platform/ids.js';
import type { AuditRecorder } from '../audit/audit-recorder.js';
import type { DomainEventPublisher } from '../common/domain-events.js';
import type { OperationContext } from '../common/operation-context.js';
import { FOR_UPDATE } from '../common/read-for-update.js';
import { parseLimit, decodeCursor, toPage, type Page } from '../common/pagination.js';
import { parseSearchQuery, type FilterValueType, type RawSearchQuery } from '../common/search.js';
import { withCanonicalEmails } from '../members/member.js';
import type { Transactional } from '../common/transactional.js';
import type { StorePorts } from '../ports.js';
import { UniqueConstraintError } from '../common/unique-constraint-error.js';
import { organizationError } from './errors.js';
import { checkImplicitRoleIds } from './implicit-roles.js';
import { checkSsoOrganizationSettings } from '../sso/sso-organization-settings.js';
import {
  DEFAULT_SETTINGS,
  checkLogoUrl,
  checkOrganizationExternalId,
  checkOrganizationName,
  checkOrganizationSlug,
  checkTrustedMetadata,
  defaultEmailInvites,
  mergeSettings,
  type Organization,
  type OrganizationSettingsInput,
} from './organization.js';
import type { OrganizationsStore } from './organizations-store.js';

/** Transactions bind every port: a published event's subscribers (sessions, impersonation) write theirs in it. */
export type OrganizationsServiceStore = Transactional<StorePorts>;

export interface CreateOrganizationInput extends OrganizationSettingsInput {
  readonly organizationName: string | undefined;
  readonly organizationSlug?: string | undefined;
  readonly organizationLogoUrl?: string | undefined;
  readonly organizationExternalId?: string | undefined;
  readonly trustedMetadata?: Record<string, unknown> | undefined;
}

export interface UpdateOrganizationInput extends OrganizationSettingsInput {
  readonly organizationName?: string | undefined;
  readonly organizationSlug?: string | undefined;
  readonly organizationLogoUrl?: string | undefined;
  readonly organizationExternalId?: string | undefined;
  readonly trustedMetadata?: Record<string, unknown> | undefined;
}

export interface SearchOrganizationsInput {
  readonly cursor?: string | undefined;
  readonly limit?: number | string | undefined;
  readonly query?: RawSearchQuery | undefined;
}

/** organizations.search filters, as the Node SDK types them. */
export const ORGANIZATION_SEARCH_FILTERS: Readonly<Record<string, FilterValueType>> = {
  organization_ids: 'string[]',
  organization_slugs: 'string[]',
  organization_external_ids: 'string[]',
  organization_name_fuzzy: 'string',
  organization_slug_fuzzy: 'string',
  member_emails: 'string[]',
  member_email_fuzzy: 'string',
  allowed_domains: 'string[]',
  allowed_domain_fuzzy: 'string',
  claimed_email_domains: 'string[]',
  has_active_sso_connection: 'boolean',
  sso_connection_id: 'string',
};

/** Use cases of the Organizations API. */
export class OrganizationsService {
  readonly #store: OrganizationsServiceStore;
  readonly #ids: IdGenerator;
  readonly #clock: Clock;
  readonly #audit: AuditRecorder;
  readonly #events: DomainEventPublisher<StorePorts>;

  constructor(dependencies: {
    store: OrganizationsServiceStore;
    ids: IdGenerator;
    clock: Clock;
    audit: AuditRecorder;
    /** Told of a deletion, in its transaction: the organization's sessions and impersonations end with it. */
    events: DomainEventPublisher<StorePorts>;
  }) {
    this.#store = dependencies.store;
    this.#ids = dependencies.ids;
    this.#clock = dependencies.clock;
    this.#audit = dependencies.audit;
    this.#events = dependencies.events;
  }

  async create(context: OperationContext, input: CreateOrganizationInput): Promise<Organization> {
    const draft = draftOrganization(input, { ids: this.#ids, clock: this.#clock });
    return this.#store.transaction((tx) => insertOrganizationDraft(tx, { audit: this.#audit }, context, draft));
  }

  /** `reference` is an organization id, slug or external id, as everywhere Stytch takes an organization_id. */
  async get(reference: string): Promise<Organization> {
    const organization = await this.#store.organizations.findOrganization(reference);
    if (organization === undefined) throw organizationError('organization_not_found');
    return organization;
  }

  async update(context: OperationContext, reference: string, input: UpdateOrganizationInput): Promise<Organization> {
    return this.#store.transaction(async (tx) => {
      // Locked: the whole row is written back, so a concurrent update must not have read it too.
      const current = await tx.organizations.findOrganization(reference, FOR_UPDATE);
      if (current === undefined) throw organizationError('organization_not_found');
      const now = toTimestamp(this.#clock.now());
      const updated: Organization = {
        ...current,
        organizationName: input.organizationName === undefined ? current.organizationName : checkOrganizationName(input.organizationName),
        organizationSlug: input.organizationSlug === undefined ? current.organizationSlug : checkOrganizationSlug(input.organizationSlug),
        organizationLogoUrl: input.organizationLogoUrl === undefined ? current.organizationLogoUrl : checkLogoUrl(input.organizationLogoUrl),
        organizationExternalId:
          input.organizationExternalId === undefined
            ? current.organizationExternalId
            : emptyToNull(input.organizationExternalId, checkOrganizationExternalId),
        trustedMetadata: input.trustedMetadata === undefined ? current.trustedMetadata : checkTrustedMetadata(input.trustedMetadata),
        settings: mergeSettings(current.settings, input),
        updatedAt: now,
      };
      // Only a changed value is checked, so references that collided before these checks existed do not block unrelated updates.
      const changed = {
        slug: updated.organizationSlug !== current.organizationSlug,
        externalId: updated.organizationExternalId !== current.organizationExternalId,
      };
      if (input.rbacEmailImplicitRoleAssignments !== undefined) await checkImplicitRoleIds(tx, updated);
      await checkSsoOrganizationSettings(tx, updated, input);
      if (changed.slug || changed.externalId) {
        await tx.organizations.lockReferences();
        await assertReferencesFree(tx.organizations, updated, changed);
      }
      await insertOrExplain(() => tx.organizations.updateOrganization(updated));
      await this.#audit.record(tx.audit, context, {
        type: 'organization.updated',
        organizationId: current.organizationId,
        occurredAt: now,
        details: { fields: changedFields(input) },
      });
      return updated;
    });
  }

  /**
   * Deletes the organization and its members (Stytch: "deletes members too"), ends its sessions and
   * its impersonations (unredeemed tokens revoked, live impersonated sessions ended, each audited
   * with `why: organization_deleted`), all in one transaction. Returns the deleted id.
   */
  async delete(context: OperationContext, reference: string): Promise<string> {
    const found = await this.get(reference);
    return this.#store.transaction(async (tx) => {
      // The organization row is locked before any of its rows, as every transaction writing them
      // locks it first (read-for-update.ts): mints, redemptions, policy and member changes running
      // now finish first, and later ones find the organization gone.
      const organization = await tx.organizations.findOrganization(found.organizationId, FOR_UPDATE);
      if (organization === undefined) throw organizationError('organization_not_found');
      // Its impersonations end (tokens first: a redemption in flight commits, and its session is ended too), then its sessions.
      await this.#events.publish(tx, context, { type: 'organization.deleted', organizationId: organization.organizationId });
      await tx.organizations.deleteOrganization(organization.organizationId);
      await this.#audit.record(tx.audit, context, {
        type: 'organization.deleted',
        organizationId: organization.organizationId,
        details: { organization_slug: organization.organizationSlug },
      });
      return organization.organizationId;
    });
  }

  async deleteExternalId(context: OperationContext, reference: string): Promise<Organization> {
    return this.#store.transaction(async (tx) => {
      const current = await tx.organizations.findOrganization(reference, FOR_UPDATE);
      if (current === undefined) throw organizationError('organization_not_found');
      const updated = { ...current, organizationExternalId: null, updatedAt: toTimestamp(this.#clock.now()) };
      await tx.organizations.updateOrganization(updated);
      await this.#audit.record(tx.audit, context, {
        type: 'organization.external_id_deleted',
        organizationId: current.organizationId,
        details: { organization_external_id: current.organizationExternalId },
      });
      return updated;
    });
  }

  async search(input: SearchOrganizationsInput): Promise<Page<Organization>> {
    const page = { limit: parseLimit(input.limit), after: decodeCursor(input.cursor) };
    const query = withCanonicalEmails(parseSearchQuery(input.query, ORGANIZATION_SEARCH_FILTERS, 'organization_search'));
    const { rows, total } = await this.#store.organizations.searchOrganizations(query, page);
    return toPage(rows, page, total, (row) => ({ createdAt: row.createdAt, id: row.organizationId }));
  }

  async metrics(reference: string): Promise<{ memberCount: number }> {
    const organization = await this.get(reference);
    return { memberCount: await this.#store.organizations.countMembers(organization.organizationId) };
  }
}

/** An organization as organizations.create would write it, every field checked; nothing read or written yet. */
export interface OrganizationDraft {
  readonly organization: Organization;
  /** The caller gave no slug: it was derived from the name, and a taken one gets a suffix rather than failing. */
  readonly slugDerived: boolean;
}

/** Checks organizations.create's input and builds the organization it creates (discovery creates one the same way). */
export function draftOrganization(input: CreateOrganizationInput, dependencies: { ids: IdGenerator; clock: Clock }): OrganizationDraft {
  const now = toTimestamp(dependencies.clock.now());
  const organizationName = checkOrganizationName(input.organizationName);
  const settings = mergeSettings({ ...DEFAULT_SETTINGS, emailInvites: defaultEmailInvites(input) }, input);
  const organization: Organization = {
    organizationId: dependencies.ids.next('organization'),
    organizationName,
    organizationSlug: input.organizationSlug === undefined ? slugFromName(organizationName) : checkOrganizationSlug(input.organizationSlug),
    organizationLogoUrl: checkLogoUrl(input.organizationLogoUrl ?? ''),
    organizationExternalId: emptyToNull(input.organizationExternalId, checkOrganizationExternalId),
    trustedMetadata: checkTrustedMetadata(input.trustedMetadata ?? {}),
    settings,
    createdAt: now,
    updatedAt: now,
  };
  return { organization, slugDerived: input.organizationSlug === undefined };
}

/**
 * Writes a drafted organization and its `organization.created` event in the caller's transaction
 * (organizations.create's own, or discovery's, which adds the first member and session to it).
 */
export async function insertOrganizationDraft(
  tx: Pick<StorePorts, 'organizations' | 'audit' | 'rbac' | 'sso'>,
  dependencies: { audit: AuditRecorder },
  context: OperationContext,
  draft: OrganizationDraft,
): Promise<Organization> {
  let organization = draft.organization;
  await checkImplicitRoleIds(tx, organization);
  // Every SSO setting is checked as if sent: a new organization has no connections, so a default
  // or allowed connection is refused, and so is RESTRICTED (its list is necessarily empty).
  await checkSsoOrganizationSettings(tx, organization, organization.settings);
  await tx.organizations.lockReferences();
  // Stytch documents the slug as optional on create. A slug we derived from the name must not
  // make the create fail, so a taken one gets a suffix from the new id; a slug the caller chose does.
  if (draft.slugDerived && (await tx.organizations.findOrganization(organization.organizationSlug)) !== undefined) {
    organization = { ...organization, organizationSlug: `${organization.organizationSlug.slice(0, 119)}-${organization.organizationId.slice(-8)}` };
  }
  await assertReferencesFree(tx.organizations, organization, { slug: true, externalId: true });
  await insertOrExplain(() => tx.organizations.insertOrganization(organization));
  await dependencies.audit.record(tx.audit, context, {
    type: 'organization.created',
    organizationId: organization.organizationId,
    occurredAt: organization.createdAt,
    details: { organization_slug: organization.organizationSlug },
  });
  return organization;
}

/**
 * Every reference to an organization (path, `organization_ids`, impersonation, audit filters) is
 * resolved by id, slug or external id alike, so a slug or external id must be none of these for any
 * other organization: otherwise a new organization would capture references meant for an existing one.
 * Runs after `lockReferences`, so no concurrent transaction can take the value before this one writes.
 */
async function assertReferencesFree(
  store: OrganizationsStore,
  organization: Organization,
  check: { readonly slug: boolean; readonly externalId: boolean },
): Promise<void> {
  if (check.slug) {
    const holder = await otherHolder(store, organization, organization.organizationSlug);
    if (holder !== undefined) {
      throw organizationError('organization_slug_already_used', `organization_slug ${JSON.stringify(organization.organizationSlug)} is already ${holder}.`);
    }
  }
  if (check.externalId && organization.organizationExternalId !== null) {
    const holder = await otherHolder(store, organization, organization.organizationExternalId);
    if (holder !== undefined) {
      throw organizationError(
        'organization_external_id_already_used',
        `organization_external_id ${JSON.stringify(organization.organizationExternalId)} is already ${holder}.`,
      );
    }
  }
}

/** How another organization already answers to `reference` ("the slug of another organization"), or undefined. */
async function otherHolder(store: OrganizationsStore, organization: Organization, reference: string): Promise<string | undefined> {
  const other = (await store.findOrganizationsByReference(reference)).find((candidate) => candidate.organizationId !== organization.organizationId);
  if (other === undefined) return undefined;
  const what = other.organizationId === reference ? 'the id' : other.organizationSlug === reference ? 'the slug' : 'the external id';
  return `${what} of another organization`;
}

/** A concurrent writer may take the slug between our check and our write; the index decides then. */
async function insertOrExplain(write: () => Promise<void>): Promise<void> {
  try {
    await write();
  } catch (error) {
    if (error instanceof UniqueConstraintError) {
      throw organizationError(error.field === 'organization_external_id' ? 'organization_external_id_already_used' : 'organization_slug_already_used');
    }
    throw error;
  }
}

function emptyToNull(value: string | undefined, check: (value: string) => string): string | null {
  return value === undefined || value === '' ? null : check(value);
}

/** "Acme Corp!" -> "acme-corp"; padded when too short. Collisions surface as organization_slug_already_used. */
function slugFromName(name: string): string {
  const slug = name
    .toLowerCase()
    .replace(/[^a-z0-9\-._~]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 128);
  return slug.length >= 2 ? slug : `${slug}org`.slice(0, 128);
}

function changedFields(input: UpdateOrganizationInput): string[] {
  return Object.entries(input)
    .filter(([, value]) => value !== undefined)
    .map(([key]) => key.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`));
}
