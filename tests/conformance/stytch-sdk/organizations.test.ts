import type { B2BClient, B2BOrganizationsCreateRequest, Organization } from 'stytch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectStytchRejection, expectToMatchResponseSchema } from '../../support/openapi.js';
import { startSdkTarget, TRANSPORTS, type SdkTarget } from '../../support/sdk-targets.js';
import { STORES } from '../../support/stores.js';
import { expectTimestamp, idPattern, uniqueSuffix } from '../../support/wire-formats.js';

/** `client.organizations.*` of the official SDK against Understudy, every response judged by the OpenAPI document. */
const ORGANIZATIONS = '/v1/b2b/organizations';
const ORGANIZATION = '/v1/b2b/organizations/{organization_id}';
const SEARCH = '/v1/b2b/organizations/search';
const METRICS = '/v1/b2b/organizations/{organization_id}/metrics';
const EXTERNAL_ID = '/v1/b2b/organizations/{organization_id}/external_id';

for (const store of STORES) {
  for (const transport of TRANSPORTS) {
    describe(`client.organizations (${store.name}, ${transport})`, () => {
      let target: SdkTarget;
      let client: B2BClient;

      beforeAll(async () => {
        target = await startSdkTarget(store.name, transport);
        client = target.client;
      });
      afterAll(async () => target?.stop());

      async function createOrganization(request: Partial<B2BOrganizationsCreateRequest> = {}): Promise<Organization> {
        const suffix = uniqueSuffix();
        const response = await client.organizations.create({ organization_name: `Acme ${suffix}`, organization_slug: `acme-${suffix}`, ...request });
        expectToMatchResponseSchema('post', ORGANIZATIONS, response);
        return response.organization;
      }

      it(`the server and the SDK really talk ${transport}`, () => {
        expect(new URL(target.server.baseUrl).protocol).toBe(`${transport}:`);
      });

      it('create answers 200 with a new organization-test id, timestamps and the documented defaults', async () => {
        const suffix = uniqueSuffix();
        const response = await client.organizations.create({ organization_name: `Acme ${suffix}`, organization_slug: `acme-${suffix}` });
        expectToMatchResponseSchema('post', ORGANIZATIONS, response);
        expect(response.status_code).toBe(200);
        expect(response.request_id).toMatch(idPattern('request-id'));
        const organization = response.organization;
        expect(organization.organization_id).toMatch(idPattern('organization'));
        expect(organization).toMatchObject({
          organization_name: `Acme ${suffix}`,
          organization_slug: `acme-${suffix}`,
          organization_logo_url: '',
          organization_external_id: '',
          trusted_metadata: {},
          // No auth settings sent, so email_invites defaults to ALL_ALLOWED, as Stytch documents.
          email_invites: 'ALL_ALLOWED',
          sso_jit_provisioning: 'ALL_ALLOWED',
          email_jit_provisioning: 'NOT_ALLOWED',
          auth_methods: 'ALL_ALLOWED',
          allowed_auth_methods: [],
          mfa_policy: 'OPTIONAL',
          mfa_methods: 'ALL_ALLOWED',
          oauth_tenant_jit_provisioning: 'NOT_ALLOWED',
          email_allowed_domains: [],
          sso_active_connections: [],
          custom_roles: [],
          sso_default_connection_id: null,
          scim_active_connection: null,
          allowed_oauth_tenants: {},
        });
        expect(expectTimestamp(organization.created_at)).toBe(expectTimestamp(organization.updated_at));
      });

      it('create with auth settings keeps them, lower-cases domains and defaults email_invites to NOT_ALLOWED', async () => {
        const organization = await createOrganization({
          email_allowed_domains: ['Example.COM'],
          email_jit_provisioning: 'RESTRICTED',
          auth_methods: 'RESTRICTED',
          allowed_auth_methods: ['magic_link', 'password'],
          mfa_policy: 'REQUIRED_FOR_ALL',
          rbac_email_implicit_role_assignments: [{ domain: 'example.com', role_id: 'stytch_admin' }],
          trusted_metadata: { plan: 'enterprise', seats: 10 },
          organization_logo_url: 'https://example.com/logo.png',
        });
        expect(organization).toMatchObject({
          email_allowed_domains: ['example.com'],
          email_jit_provisioning: 'RESTRICTED',
          email_invites: 'NOT_ALLOWED',
          auth_methods: 'RESTRICTED',
          allowed_auth_methods: ['magic_link', 'password'],
          mfa_policy: 'REQUIRED_FOR_ALL',
          rbac_email_implicit_role_assignments: [{ domain: 'example.com', role_id: 'stytch_admin' }],
          trusted_metadata: { plan: 'enterprise', seats: 10 },
          organization_logo_url: 'https://example.com/logo.png',
        });
      });

      it('get accepts the organization id, the slug and the external id', async () => {
        const externalId = `ext-${uniqueSuffix()}`;
        const created = await createOrganization({ organization_external_id: externalId });
        expect(created.organization_external_id).toBe(externalId);
        for (const reference of [created.organization_id, created.organization_slug, externalId]) {
          const response = await client.organizations.get({ organization_id: reference });
          expectToMatchResponseSchema('get', ORGANIZATION, response);
          expect(response.organization).toEqual(created);
        }
      });

      it('update changes only the fields sent, through the slug, and moves updated_at forward', async () => {
        const created = await createOrganization({ trusted_metadata: { tier: 'free' } });
        const newSlug = `renamed-${uniqueSuffix()}`;
        const response = await client.organizations.update({
          organization_id: created.organization_slug,
          organization_name: 'Renamed Inc',
          organization_slug: newSlug,
          trusted_metadata: { tier: 'pro' },
          mfa_methods: 'RESTRICTED',
          allowed_mfa_methods: ['totp'],
        });
        expectToMatchResponseSchema('put', ORGANIZATION, response);
        expect(response.organization).toMatchObject({
          organization_id: created.organization_id,
          organization_name: 'Renamed Inc',
          organization_slug: newSlug,
          trusted_metadata: { tier: 'pro' },
          mfa_methods: 'RESTRICTED',
          allowed_mfa_methods: ['totp'],
          email_invites: created.email_invites,
          created_at: created.created_at,
        });
        expect(expectTimestamp(response.organization.updated_at)).toBeGreaterThanOrEqual(expectTimestamp(created.updated_at));
        const reread = await client.organizations.get({ organization_id: newSlug });
        expect(reread.organization).toEqual(response.organization);
        await expectStytchRejection(client.organizations.get({ organization_id: created.organization_slug }), { status: 404, errorType: 'organization_not_found' });
      });

      it('update sets an external id that get then accepts, and deleteExternalId clears it', async () => {
        const created = await createOrganization();
        const externalId = `crm|${uniqueSuffix()}`;
        const updated = await client.organizations.update({ organization_id: created.organization_id, organization_external_id: externalId });
        expect(updated.organization.organization_external_id).toBe(externalId);
        const cleared = await client.organizations.deleteExternalId({ organization_id: externalId });
        expectToMatchResponseSchema('delete', EXTERNAL_ID, cleared);
        expect(cleared.organization.organization_id).toBe(created.organization_id);
        expect(cleared.organization.organization_external_id).toBe('');
        await expectStytchRejection(client.organizations.get({ organization_id: externalId }), { status: 404, errorType: 'organization_not_found' });
      });

      it('metrics counts live members only', async () => {
        const organization = await createOrganization();
        const empty = await client.organizations.metrics({ organization_id: organization.organization_id });
        expectToMatchResponseSchema('get', METRICS, empty);
        expect(empty.member_count).toBe(0);
        const members = [];
        for (const name of ['ada', 'grace', 'edsger']) {
          members.push(await client.organizations.members.create({ organization_id: organization.organization_id, email_address: `${name}@example.org` }));
        }
        await client.organizations.members.delete({ organization_id: organization.organization_id, member_id: members[0]?.member_id ?? '' });
        const counted = await client.organizations.metrics({ organization_id: organization.organization_slug });
        expectToMatchResponseSchema('get', METRICS, counted);
        expect(counted.member_count).toBe(2);
      });

      it('delete answers the organization id, after which the organization and its members are gone', async () => {
        const organization = await createOrganization();
        const member = await client.organizations.members.create({ organization_id: organization.organization_id, email_address: 'gone@example.org' });
        const response = await client.organizations.delete({ organization_id: organization.organization_slug });
        expectToMatchResponseSchema('delete', ORGANIZATION, response);
        expect(response.organization_id).toBe(organization.organization_id);
        await expectStytchRejection(client.organizations.get({ organization_id: organization.organization_id }), { status: 404, errorType: 'organization_not_found' });
        await expectStytchRejection(client.organizations.members.dangerouslyGet({ member_id: member.member_id, include_deleted: true }), {
          status: 404,
          errorType: 'member_not_found',
        });
        await expectStytchRejection(client.organizations.delete({ organization_id: organization.organization_id }), { status: 404, errorType: 'organization_not_found' });
      });

      it('search filters by slug and pages with next_cursor until null, each organization exactly once', async () => {
        const token = uniqueSuffix();
        const created = [];
        for (let index = 0; index < 5; index += 1) created.push(await createOrganization({ organization_slug: `page-${token}-${index}` }));
        const query = { operator: 'AND' as const, operands: [{ filter_name: 'organization_slug_fuzzy', filter_value: `page-${token}` }] };
        const seen: string[] = [];
        let cursor: string | undefined;
        for (let page = 0; page < 10; page += 1) {
          const response = await client.organizations.search({ query, limit: 2, ...(cursor !== undefined && { cursor }) });
          expectToMatchResponseSchema('post', SEARCH, response);
          expect(response.results_metadata.total).toBe(5);
          expect(response.organizations.length).toBeLessThanOrEqual(2);
          seen.push(...response.organizations.map((organization) => organization.organization_id));
          if (response.results_metadata.next_cursor === null) break;
          cursor = response.results_metadata.next_cursor;
        }
        expect(seen).toHaveLength(5);
        expect(new Set(seen)).toEqual(new Set(created.map((organization) => organization.organization_id)));
        const bySlugs = await client.organizations.search({
          query: { operator: 'AND', operands: [{ filter_name: 'organization_slugs', filter_value: [`page-${token}-1`, `page-${token}-3`] }] },
        });
        expectToMatchResponseSchema('post', SEARCH, bySlugs);
        expect(bySlugs.organizations.map((organization) => organization.organization_slug).sort()).toEqual([`page-${token}-1`, `page-${token}-3`]);
        expect(bySlugs.results_metadata).toEqual({ total: 2, next_cursor: null });
      });

      it('search without a query walks every organization once and total matches', async () => {
        for (let index = 0; index < 4; index += 1) await createOrganization();
        const first = await client.organizations.search({ limit: 3 });
        expectToMatchResponseSchema('post', SEARCH, first);
        const total = first.results_metadata.total;
        expect(total).toBeGreaterThan(3);
        const seen = new Set(first.organizations.map((organization) => organization.organization_id));
        let cursor = first.results_metadata.next_cursor;
        while (cursor !== null) {
          const response = await client.organizations.search({ limit: 3, cursor });
          expectToMatchResponseSchema('post', SEARCH, response);
          for (const organization of response.organizations) {
            expect(seen.has(organization.organization_id), `${organization.organization_id} seen twice`).toBe(false);
            seen.add(organization.organization_id);
          }
          cursor = response.results_metadata.next_cursor;
        }
        expect(seen.size).toBe(total);
      });

      it('refuses a taken slug with organization_slug_already_used on create and update', async () => {
        const taken = await createOrganization();
        await expectStytchRejection(client.organizations.create({ organization_name: 'Copycat', organization_slug: taken.organization_slug }), {
          status: 400,
          errorType: 'organization_slug_already_used',
        });
        const other = await createOrganization();
        await expectStytchRejection(client.organizations.update({ organization_id: other.organization_id, organization_slug: taken.organization_slug }), {
          status: 400,
          errorType: 'organization_slug_already_used',
        });
      });

      it('create without a slug derives one from the name, suffixing it with the end of the new id when it is taken', async () => {
        const suffix = uniqueSuffix();
        const first = await client.organizations.create({ organization_name: `Derived ${suffix}` });
        expectToMatchResponseSchema('post', ORGANIZATIONS, first);
        expect(first.organization.organization_slug).toBe(`derived-${suffix}`);
        const second = await client.organizations.create({ organization_name: `DERIVED ${suffix}` });
        expectToMatchResponseSchema('post', ORGANIZATIONS, second);
        const id = second.organization.organization_id;
        expect(second.organization.organization_slug).toBe(`derived-${suffix}-${id.slice(-8)}`);
        const reread = await client.organizations.get({ organization_id: second.organization.organization_slug });
        expect(reread.organization.organization_id).toBe(id);
        await expectStytchRejection(client.organizations.create({ organization_name: `Derived ${suffix}`, organization_slug: `derived-${suffix}` }), {
          status: 400,
          errorType: 'organization_slug_already_used',
        });
      });

      it('refuses a taken external id with organization_external_id_already_used', async () => {
        const externalId = `ext-${uniqueSuffix()}`;
        await createOrganization({ organization_external_id: externalId });
        await expectStytchRejection(client.organizations.create({ organization_name: 'Twin', organization_external_id: externalId }), {
          status: 400,
          errorType: 'organization_external_id_already_used',
        });
        const other = await createOrganization();
        await expectStytchRejection(client.organizations.update({ organization_id: other.organization_id, organization_external_id: externalId }), {
          status: 400,
          errorType: 'organization_external_id_already_used',
        });
      });

      it("refuses a slug or external id that is another organization's id, slug or external id, so references keep naming the first", async () => {
        const tenant = `tenant-${uniqueSuffix()}`;
        const first = await createOrganization({ organization_external_id: tenant });
        const slugTaken = { status: 400, errorType: 'organization_slug_already_used' };
        const externalIdTaken = { status: 400, errorType: 'organization_external_id_already_used' };
        await expectStytchRejection(client.organizations.create({ organization_name: 'Squatter', organization_slug: tenant }), slugTaken);
        await expectStytchRejection(client.organizations.create({ organization_name: 'Squatter', organization_slug: first.organization_id }), slugTaken);
        await expectStytchRejection(client.organizations.create({ organization_name: 'Squatter', organization_external_id: first.organization_slug }), externalIdTaken);
        await expectStytchRejection(client.organizations.create({ organization_name: 'Squatter', organization_external_id: first.organization_id }), externalIdTaken);
        const other = await createOrganization();
        await expectStytchRejection(client.organizations.update({ organization_id: other.organization_id, organization_slug: tenant }), slugTaken);
        await expectStytchRejection(client.organizations.update({ organization_id: other.organization_id, organization_external_id: first.organization_slug }), externalIdTaken);
        // A slug and an external id may name the same organization twice.
        const own = await client.organizations.update({ organization_id: other.organization_id, organization_external_id: other.organization_slug });
        expectToMatchResponseSchema('put', ORGANIZATION, own);
        for (const reference of [tenant, first.organization_slug, first.organization_id]) {
          expect((await client.organizations.get({ organization_id: reference })).organization.organization_id).toBe(first.organization_id);
        }
        const member = await client.organizations.members.create({ organization_id: tenant, email_address: `owner@${uniqueSuffix()}.example` });
        expect(member.member.organization_id).toBe(first.organization_id);
        const found = await client.organizations.search({ query: { operator: 'AND', operands: [{ filter_name: 'organization_slug_fuzzy', filter_value: 'squatter' }] } });
        expect(found.organizations).toEqual([]);
      });

      it('answers organization_not_found for an unknown organization on every method', async () => {
        const unknown = 'organization-test-00000000-0000-4000-8000-000000000000';
        const expected = { status: 404, errorType: 'organization_not_found' };
        await expectStytchRejection(client.organizations.get({ organization_id: unknown }), expected);
        await expectStytchRejection(client.organizations.update({ organization_id: unknown, organization_name: 'x' }), expected);
        await expectStytchRejection(client.organizations.delete({ organization_id: unknown }), expected);
        await expectStytchRejection(client.organizations.metrics({ organization_id: unknown }), expected);
        await expectStytchRejection(client.organizations.deleteExternalId({ organization_id: unknown }), expected);
      });

      it('refuses an invalid slug and a wrong secret', async () => {
        await expectStytchRejection(client.organizations.create({ organization_name: 'Bad', organization_slug: 'has space' }), {
          status: 400,
          errorType: 'invalid_organization_slug',
        });
        const intruder = target.clientWith({ projectId: target.server.projectId, secret: 'secret-test-not-the-right-one' });
        await expectStytchRejection(intruder.organizations.search({}), { status: 401, errorType: 'unauthorized_credentials' });
        await expectStytchRejection(intruder.organizations.create({ organization_name: 'Nope' }), { status: 401, errorType: 'unauthorized_credentials' });
      });
    });
  }
}
