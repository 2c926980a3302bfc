import { sql, type Expression, type ExpressionBuilder, type Kysely, type Selectable, type SqlBool } from 'kysely';
import { storedSettings, type Organization, type OrganizationSettings } from '../../domain/organizations/organization.js';
import type { OrganizationsStore } from '../../domain/organizations/organizations-store.js';
import type { PageRequest } from '../../domain/common/pagination.js';
import type { ReadForUpdate } from '../../domain/common/read-for-update.js';
import type { SearchFilter, SearchQuery } from '../../domain/common/search.js';
import type { Database, OrganizationRow } from '../database.js';
import { fromJson, likePattern, toJson } from './json-column.js';
import { combineFilters } from './combine-filters.js';
import { translateUniqueViolation } from './unique-violation.js';

type OrganizationsBuilder = ExpressionBuilder<Database, 'organizations'>;

const UNIQUE_FIELDS = ['organization_slug', 'organization_external_id'] as const;

export class OrganizationsSqlStore implements OrganizationsStore {
  readonly #db: Kysely<Database>;
  readonly #dialect: 'sqlite' | 'postgres';

  constructor(db: Kysely<Database>, dialect: 'sqlite' | 'postgres') {
    this.#db = db;
    this.#dialect = dialect;
  }

  async insertOrganization(organization: Organization): Promise<void> {
    await translateUniqueViolation(UNIQUE_FIELDS, () => this.#db.insertInto('organizations').values(toRow(organization)).execute());
    await this.#writeDomains(organization);
  }

  async updateOrganization(organization: Organization): Promise<void> {
    const { organization_id: organizationId, ...row } = toRow(organization);
    const result = await translateUniqueViolation(UNIQUE_FIELDS, () =>
      this.#db.updateTable('organizations').set(row).where('organization_id', '=', organizationId).executeTakeFirst(),
    );
    // The port promises a no-op when the organization is absent; writing its domains would hit the foreign key.
    if (result.numUpdatedRows === 0n) return;
    await this.#db.deleteFrom('organization_domains').where('organization_id', '=', organizationId).execute();
    await this.#writeDomains(organization);
  }

  async findOrganization(reference: string, options: ReadForUpdate = {}): Promise<Organization | undefined> {
    const select = this.#db
      .selectFrom('organizations')
      .selectAll()
      .where((eb) =>
        eb.or([eb('organization_id', '=', reference), eb('organization_slug', '=', reference), eb('organization_external_id', '=', reference)]),
      )
      .limit(3);
    // Row locks only on PostgreSQL: a SQLite transaction holds the database's write lock from its start.
    const locked = this.#dialect !== 'postgres' ? select : options.forUpdate === true ? select.forUpdate() : options.forShare === true ? select.forShare() : select;
    const rows = await locked.execute();
    // An id beats a slug, which beats an external id, should one organization's slug be another's external id.
    const match =
      rows.find((row) => row.organization_id === reference) ??
      rows.find((row) => row.organization_slug === reference) ??
      rows.find((row) => row.organization_external_id === reference);
    return match === undefined ? undefined : fromRow(match);
  }

  async findOrganizationsByReference(reference: string): Promise<Organization[]> {
    const rows = await this.#db
      .selectFrom('organizations')
      .selectAll()
      .where((eb) =>
        eb.or([eb('organization_id', '=', reference), eb('organization_slug', '=', reference), eb('organization_external_id', '=', reference)]),
      )
      .limit(3)
      .execute();
    return rows.map(fromRow);
  }

  async lockReferences(): Promise<void> {
    // The unique indexes guard each column alone; a slug meeting another organization's external id
    // is only caught by the service's check, which two READ COMMITTED transactions could both pass.
    // SQLite needs nothing: every transaction takes the database's write lock when it begins (store.ts).
    if (this.#dialect === 'postgres') await sql`select pg_advisory_xact_lock(hashtext('understudy.organization_references'))`.execute(this.#db);
  }

  async findOrganizationsByIds(organizationIds: readonly string[]): Promise<Organization[]> {
    if (organizationIds.length === 0) return [];
    const rows = await this.#db.selectFrom('organizations').selectAll().where('organization_id', 'in', organizationIds).execute();
    return rows.map(fromRow);
  }

  async deleteOrganization(organizationId: string): Promise<void> {
    // Explicit deletes rather than relying on ON DELETE CASCADE, which SQLite honours only with a pragma.
    // Its sessions and intermediate sessions go with it: a deleted organization's tokens and JWTs must stop authenticating at once.
    await this.#db.deleteFrom('sessions').where('organization_id', '=', organizationId).execute();
    await this.#db.deleteFrom('intermediate_sessions').where('organization_id', '=', organizationId).execute();
    await this.#db.deleteFrom('members').where('organization_id', '=', organizationId).execute();
    await this.#db.deleteFrom('organization_domains').where('organization_id', '=', organizationId).execute();
    await this.#db.deleteFrom('organizations').where('organization_id', '=', organizationId).execute();
  }

  async searchOrganizations(query: SearchQuery, page: PageRequest): Promise<{ rows: Organization[]; total: number }> {
    const matches = (eb: OrganizationsBuilder): Expression<SqlBool> => combineFilters(eb, query, organizationFilter);
    let select = this.#db.selectFrom('organizations').selectAll().where(matches);
    if (page.after !== null) {
      const { createdAt, id } = page.after;
      select = select.where((eb) =>
        eb.or([eb('created_at', '>', createdAt), eb.and([eb('created_at', '=', createdAt), eb('organization_id', '>', id)])]),
      );
    }
    const [rows, count] = await Promise.all([
      select.orderBy('created_at').orderBy('organization_id').limit(page.limit + 1).execute(),
      this.#db.selectFrom('organizations').select((eb) => eb.fn.countAll<number | string>().as('total')).where(matches).executeTakeFirstOrThrow(),
    ]);
    return { rows: rows.map(fromRow), total: Number(count.total) };
  }

  async countMembers(organizationId: string): Promise<number> {
    const row = await this.#db
      .selectFrom('members')
      .select((eb) => eb.fn.countAll<number | string>().as('total'))
      .where('organization_id', '=', organizationId)
      .where('status', '<>', 'deleted')
      .executeTakeFirstOrThrow();
    return Number(row.total);
  }

  async findOrganizationsByAllowedDomain(domain: string): Promise<Organization[]> {
    // organization_domains_domain (kind, domain) serves it.
    const rows = await this.#db
      .selectFrom('organizations')
      .selectAll('organizations')
      .innerJoin('organization_domains', 'organization_domains.organization_id', 'organizations.organization_id')
      .where('organization_domains.kind', '=', 'allowed')
      .where('organization_domains.domain', '=', domain)
      .execute();
    return rows.map(fromRow);
  }

  async #writeDomains(organization: Organization): Promise<void> {
    const rows = [
      ...organization.settings.emailAllowedDomains.map((domain) => ({ organization_id: organization.organizationId, kind: 'allowed' as const, domain })),
      ...organization.settings.claimedEmailDomains.map((domain) => ({ organization_id: organization.organizationId, kind: 'claimed' as const, domain })),
    ];
    if (rows.length > 0) await this.#db.insertInto('organization_domains').values(rows).execute();
  }
}

function organizationFilter(eb: OrganizationsBuilder, filter: SearchFilter): Expression<SqlBool> {
  const list = filter.type === 'string[]' ? filter.value : [];
  const text = filter.type === 'string' ? filter.value : '';
  switch (filter.name) {
    case 'organization_ids':
      return eb('organization_id', 'in', list);
    case 'organization_slugs':
      return eb('organization_slug', 'in', list);
    case 'organization_external_ids':
      return eb('organization_external_id', 'in', list);
    case 'organization_name_fuzzy':
      return sql<SqlBool>`lower(organizations.organization_name) like ${likePattern(text)} escape '\\'`;
    case 'organization_slug_fuzzy':
      return sql<SqlBool>`lower(organizations.organization_slug) like ${likePattern(text)} escape '\\'`;
    case 'member_emails':
      return eb.exists(liveMembers(eb).where('members.email_address', 'in', list.map((email) => email.toLowerCase())));
    case 'member_email_fuzzy':
      return eb.exists(liveMembers(eb).where(sql<SqlBool>`members.email_address like ${likePattern(text)} escape '\\'`));
    case 'allowed_domains':
      return eb.exists(domains(eb, 'allowed').where('organization_domains.domain', 'in', list.map((domain) => domain.toLowerCase())));
    case 'allowed_domain_fuzzy':
      return eb.exists(domains(eb, 'allowed').where(sql<SqlBool>`organization_domains.domain like ${likePattern(text)} escape '\\'`));
    case 'claimed_email_domains':
      return eb.exists(domains(eb, 'claimed').where('organization_domains.domain', 'in', list.map((domain) => domain.toLowerCase())));
    // External connections count too: they are active while they exist (their source stays active).
    case 'has_active_sso_connection': {
      const active = eb.exists(ssoConnections(eb).where('sso_connections.status', '=', 'active'));
      return filter.value === false ? eb.not(active) : active;
    }
    case 'sso_connection_id':
      return eb.exists(ssoConnections(eb).where('sso_connections.connection_id', '=', text));
    default:
      throw new Error(`unhandled organization filter ${filter.name}`);
  }
}

function liveMembers(eb: OrganizationsBuilder) {
  return eb
    .selectFrom('members')
    .select(sql`1`.as('one'))
    .whereRef('members.organization_id', '=', 'organizations.organization_id')
    .where('members.status', '<>', 'deleted');
}

function ssoConnections(eb: OrganizationsBuilder) {
  return eb.selectFrom('sso_connections').select(sql`1`.as('one')).whereRef('sso_connections.organization_id', '=', 'organizations.organization_id');
}

function domains(eb: OrganizationsBuilder, kind: 'allowed' | 'claimed') {
  return eb
    .selectFrom('organization_domains')
    .select(sql`1`.as('one'))
    .whereRef('organization_domains.organization_id', '=', 'organizations.organization_id')
    .where('organization_domains.kind', '=', kind);
}

function toRow(organization: Organization): OrganizationRow {
  return {
    organization_id: organization.organizationId,
    organization_name: organization.organizationName,
    organization_slug: organization.organizationSlug,
    organization_logo_url: organization.organizationLogoUrl,
    organization_external_id: organization.organizationExternalId,
    trusted_metadata: toJson(organization.trustedMetadata),
    settings: toJson(organization.settings),
    created_at: organization.createdAt,
    updated_at: organization.updatedAt,
  };
}

function fromRow(row: Selectable<OrganizationRow>): Organization {
  return {
    organizationId: row.organization_id,
    organizationName: row.organization_name,
    organizationSlug: row.organization_slug,
    organizationLogoUrl: row.organization_logo_url,
    organizationExternalId: row.organization_external_id,
    trustedMetadata: fromJson<Record<string, unknown>>(row.trusted_metadata),
    settings: storedSettings(fromJson<Partial<OrganizationSettings>>(row.settings)),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export { fromRow as organizationFromRow };
