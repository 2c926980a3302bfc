import type { B2BClient, B2BOrganizationsCreateRequest, Organization } from 'stytch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectStytchRejection, expectToMatchResponseSchema } from '../../support/openapi.js';
import { startSdkTarget, TRANSPORTS, type SdkTarget } from '../../support/sdk-targets.js';
import { STORES } from '../../support/stores.js';
import { uniqueSuffix } from '../../support/wire-formats.js';

/** `client.organizations.*` of the official SDK refused with Stytch's specific error types (docs/errors.md). */
const ORGANIZATIONS = '/v1/b2b/organizations';

for (const store of STORES) {
  for (const transport of TRANSPORTS) {
    describe(`client.organizations errors (${store.name}, ${transport})`, () => {
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

      it('refuses a missing, empty or blank organization_name with organization_name_missing and a long one with invalid_organization_name', async () => {
        const missing = { status: 400, errorType: 'organization_name_missing' };
        await expectStytchRejection(client.organizations.create({ organization_slug: `nameless-${uniqueSuffix()}` } as B2BOrganizationsCreateRequest), missing);
        await expectStytchRejection(client.organizations.create({ organization_name: '' }), missing);
        await expectStytchRejection(client.organizations.create({ organization_name: '   ' }), missing);
        await expectStytchRejection(client.organizations.create({ organization_name: 'n'.repeat(129) }), { status: 400, errorType: 'invalid_organization_name' });
        const created = await createOrganization();
        await expectStytchRejection(client.organizations.update({ organization_id: created.organization_id, organization_name: ' ' }), missing);
        const reread = await client.organizations.get({ organization_id: created.organization_id });
        expect(reread.organization.organization_name).toBe(created.organization_name);
      });

      it('refuses unknown allowed methods and bad claimed or implicit-role domains with their own error types', async () => {
        const create = (request: Partial<B2BOrganizationsCreateRequest>) => client.organizations.create({ organization_name: `Bad ${uniqueSuffix()}`, ...request });
        await expectStytchRejection(create({ allowed_auth_methods: ['carrier_pigeon'] }), { status: 400, errorType: 'invalid_organization_allowed_auth_methods' });
        await expectStytchRejection(create({ allowed_mfa_methods: ['email_otp'] }), { status: 400, errorType: 'invalid_organization_allowed_mfa_methods' });
        await expectStytchRejection(create({ claimed_email_domains: ['gmail.com'] }), { status: 400, errorType: 'organization_settings_claimed_domain_too_common' });
        await expectStytchRejection(create({ claimed_email_domains: ['bad..example'] }), { status: 400, errorType: 'organization_settings_invalid_claimed_domain' });
        await expectStytchRejection(create({ email_allowed_domains: ['gmail.com'] }), { status: 400, errorType: 'organization_settings_domain_too_common' });
        await expectStytchRejection(create({ rbac_email_implicit_role_assignments: [{ domain: 'gmail.com', role_id: 'stytch_admin' }] }), {
          status: 400,
          errorType: 'rbac_domain_too_common',
        });
        await expectStytchRejection(create({ rbac_email_implicit_role_assignments: [{ domain: 'bad..example', role_id: 'stytch_admin' }] }), {
          status: 400,
          errorType: 'rbac_invalid_domain',
        });
      });

      it('search names a bad operand with organization_search_* error types', async () => {
        const search = (operand: Record<string, unknown>) =>
          client.organizations.search({ query: { operator: 'AND', operands: [operand as { filter_name: string; filter_value: string[] }] } });
        await expectStytchRejection(search({ filter_name: 'nope', filter_value: ['x'] }), { status: 400, errorType: 'organization_search_filter_name_not_recognized' });
        await expectStytchRejection(search({ filter_value: ['x'] }), { status: 400, errorType: 'organization_search_missing_filter_name' });
        await expectStytchRejection(search({ filter_name: 'organization_slugs' }), { status: 400, errorType: 'organization_search_missing_filter_value' });
        await expectStytchRejection(search({ filter_name: 'organization_slugs', filter_value: [] }), { status: 400, errorType: 'organization_search_expected_array_of_strings' });
        await expectStytchRejection(search({ filter_name: 'organization_name_fuzzy', filter_value: '' }), { status: 400, errorType: 'organization_search_expected_string' });
      });
    });
  }
}
