import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTRACT_OPERATIONS } from '../../../src/api/generated/operations.js';
import { STYTCH_OPERATIONS } from '../../../src/api/operations.js';
import { STORES } from '../../support/stores.js';
import { startTestServer, type TestServer } from '../../support/test-server.js';

/**
 * Every organizations route against bad input: each case must answer its 4xx `error_type` and
 * leave the database exactly as it was (organizations, members and the audit log).
 */
interface Fixture {
  readonly alpha: string;
  readonly beta: string;
}

interface Case {
  readonly name: string;
  readonly errorType: string;
  readonly json?: unknown;
  /** A JSON body that needs the fixture's ids (instead of `json`). */
  readonly body?: (fixture: Fixture) => unknown;
  /** A raw body sent as is (with `contentType`, JSON by default). */
  readonly raw?: string;
  readonly contentType?: string;
  readonly path?: (fixture: Fixture) => string;
  /** For `bad_request`: the field `error_message` must name. */
  readonly field?: string;
}

interface RouteTable {
  readonly path: (fixture: Fixture) => string;
  readonly cases: readonly Case[];
}

const UNKNOWN_ID = 'organization-test-00000000-0000-4000-8000-000000000000';
const unknownOrganization = (json?: unknown): Case => ({ name: 'an unknown organization', path: () => `/v1/b2b/organizations/${UNKNOWN_ID}`, json, errorType: 'organization_not_found' });
const malformed: Case = { name: 'malformed JSON', raw: '{"organization_name": "Half', errorType: 'invalid_json' };
const prototypeKey: Case = { name: 'a __proto__ key', raw: '{"__proto__": {"organization_name": "x"}}', errorType: 'invalid_json' };
const plainText: Case = { name: 'a text/plain body', raw: '{}', contentType: 'text/plain', errorType: 'unsupported_content_type' };
const arrayBody: Case = { name: 'a JSON array body', json: [{ organization_name: 'Array Org' }], errorType: 'bad_request' };

/** One `bad_request` case per value: the wrong JSON type for `field`, never coerced. */
function wrongTypes(base: Record<string, unknown>, fields: Record<string, readonly unknown[]>): Case[] {
  return Object.entries(fields).flatMap(([field, values]) =>
    values.map((value) => ({ name: `${field} = ${JSON.stringify(value)}`, json: { ...base, [field]: value }, errorType: 'bad_request', field })),
  );
}

/** One case per value of `field`, answered with `errorType`. */
function invalid(base: Record<string, unknown>, field: string, values: readonly unknown[], errorType: string): Case[] {
  return values.map((value) => ({ name: `${field} = ${JSON.stringify(value).slice(0, 40)}`, json: { ...base, [field]: value }, errorType }));
}

/** Raw bodies, since JSON.stringify cannot write a number too large for a double: JSON.parse reads these as Infinity. */
function nonFiniteMetadata(base: Record<string, unknown>): Case[] {
  const prefix = JSON.stringify(base).slice(1, -1);
  const raw = (metadata: string): string => `{${prefix}${prefix === '' ? '' : ','}"trusted_metadata":${metadata}}`;
  return [
    { name: 'trusted_metadata holding 1e309', raw: raw('{"n": 1e309}'), errorType: 'bad_request', field: 'trusted_metadata.n' },
    { name: 'trusted_metadata holding -1e400 deep inside', raw: raw('{"a": [1, {"b": -1e400}]}'), errorType: 'bad_request', field: 'trusted_metadata.a[1].b' },
  ];
}

/** `count` operands of `size` organization ids each: more values in all than a search may hold. */
function manyValues(count: number, size: number, operator = 'AND'): { query: unknown } {
  const operand = (index: number) => ({ filter_name: 'organization_ids', filter_value: Array.from({ length: size }, (_, value) => `${index}-${value}`) });
  return { query: { operator, operands: Array.from({ length: count }, (_, index) => operand(index)) } };
}

/** Values each setting must refuse; shared by create and update. */
function settingsCases(base: Record<string, unknown>): Case[] {
  return [
    ...wrongTypes(base, {
      organization_name: [42, true, ['Name']],
      organization_slug: [7, false],
      organization_external_id: [12],
      organization_logo_url: [{}],
      trusted_metadata: ['text', [1], 5],
      email_allowed_domains: ['gamma.com', [1]],
      claimed_email_domains: [{}],
      allowed_auth_methods: ['sso'],
      allowed_mfa_methods: [['totp', 2]],
      mfa_policy: [false],
      sso_jit_provisioning: [1],
      email_invites: [['ALL_ALLOWED']],
      sso_default_connection_id: [5],
      rbac_email_implicit_role_assignments: [{ domain: 'gamma.com', role_id: 'r' }, [{ domain: 'gamma.com' }], ['gamma.com']],
      allowed_oauth_tenants: [['slack'], { slack: 'T1' }],
    }),
    ...invalid(base, 'organization_name', ['', '   ', '\t\n'], 'organization_name_missing'),
    ...invalid(base, 'organization_name', ['n'.repeat(129)], 'invalid_organization_name'),
    ...invalid(base, 'organization_slug', ['g', 'gamma org', 'gamma/org', 'ümlaut', 's'.repeat(129)], 'invalid_organization_slug'),
    ...invalid(base, 'organization_external_id', ['gamma ext', 'gamma/ext', 'e'.repeat(129)], 'invalid_organization_external_id'),
    ...invalid(base, 'organization_logo_url', ['ftp://gamma.com/logo.png', 'not a url', 'javascript:alert(1)'], 'invalid_organization_logo_url'),
    ...invalid(base, 'mfa_policy', ['SOMETIMES', 'optional'], 'invalid_organization_mfa_policy'),
    ...invalid(base, 'auth_methods', ['NONE'], 'invalid_organization_auth_method_settings'),
    ...invalid(base, 'mfa_methods', ['ALL'], 'invalid_organization_auth_method_settings'),
    ...invalid(base, 'allowed_auth_methods', [['carrier_pigeon'], ['sso', 'SSO']], 'invalid_organization_allowed_auth_methods'),
    ...invalid(base, 'allowed_mfa_methods', [['email_otp'], ['totp', 'carrier_pigeon']], 'invalid_organization_allowed_mfa_methods'),
    ...invalid(base, 'auth_methods', ['RESTRICTED'], 'allowed_auth_methods_required_for_restricted'),
    { name: 'auth_methods RESTRICTED with none allowed', json: { ...base, auth_methods: 'RESTRICTED', allowed_auth_methods: [] }, errorType: 'allowed_auth_methods_required_for_restricted' },
    ...invalid(base, 'mfa_methods', ['RESTRICTED'], 'allowed_mfa_methods_required_for_restricted'),
    ...invalid(base, 'email_allowed_domains', [['gmail.com'], ['GMAIL.COM']], 'organization_settings_domain_too_common'),
    ...invalid(base, 'claimed_email_domains', [['yahoo.com'], ['gamma.com', 'Gmail.COM']], 'organization_settings_claimed_domain_too_common'),
    ...invalid(base, 'email_allowed_domains', [['not a domain'], ['-gamma.com'], ['nodot']], 'organization_settings_invalid_domain'),
    ...invalid(base, 'claimed_email_domains', [['gamma..com'], ['not a domain']], 'organization_settings_invalid_claimed_domain'),
    ...invalid(base, 'rbac_email_implicit_role_assignments', [[{ domain: 'gmail.com', role_id: 'stytch_admin' }]], 'rbac_domain_too_common'),
    ...invalid(base, 'rbac_email_implicit_role_assignments', [[{ domain: 'gamma..com', role_id: 'stytch_admin' }], [{ domain: 'nodot', role_id: 'stytch_admin' }]], 'rbac_invalid_domain'),
    ...invalid(base, 'rbac_email_implicit_role_assignments', [[{ domain: 'gamma.com', role_id: ' ' }]], 'invalid_organization_settings'),
    ...invalid(base, 'sso_jit_provisioning', ['SOMETIMES'], 'invalid_organization_settings'),
    ...invalid(base, 'email_jit_provisioning', ['ALL_ALLOWED'], 'invalid_organization_settings'),
    ...invalid(base, 'email_invites', ['MAYBE'], 'invalid_organization_settings'),
    ...invalid(base, 'oauth_tenant_jit_provisioning', ['ALL_ALLOWED'], 'invalid_organization_settings'),
    ...invalid(base, 'first_party_connected_apps_allowed_type', ['SOME'], 'invalid_organization_settings'),
    ...invalid(base, 'third_party_connected_apps_allowed_type', ['SOME'], 'invalid_organization_settings'),
    ...invalid(base, 'allowed_oauth_tenants', [{ myspace: ['T1'] }, { slack: [''] }], 'invalid_organization_settings'),
  ];
}

const base = { organization_name: 'Gamma Org' };
const cursorOf = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
const query = (operands: unknown, operator: unknown = 'AND'): { query: unknown } => ({ query: { operator, operands } });

const ROUTES: Record<string, RouteTable> = {
  'POST /v1/b2b/organizations': {
    path: () => '/v1/b2b/organizations',
    cases: [
      malformed,
      prototypeKey,
      plainText,
      arrayBody,
      { name: 'no organization_name', json: { organization_slug: 'gamma-org' }, errorType: 'organization_name_missing' },
      { name: 'an empty object', json: {}, errorType: 'organization_name_missing' },
      { name: 'organization_name null', json: { organization_name: null }, errorType: 'bad_request', field: 'organization_name' },
      ...settingsCases(base),
      ...invalid(base, 'organization_slug', ['alpha-org'], 'organization_slug_already_used'),
      { name: 'a taken slug sent with a name that derives a free one', json: { organization_name: 'Fresh Name', organization_slug: 'alpha-org' }, errorType: 'organization_slug_already_used' },
      ...invalid(base, 'organization_external_id', ['alpha-ext'], 'organization_external_id_already_used'),
      // Each of these would make references meant for alpha (its slug, external id or id) resolve to the new organization.
      ...invalid(base, 'organization_slug', ['alpha-ext'], 'organization_slug_already_used'),
      { name: "a slug that is another organization's id", body: (fixture) => ({ ...base, organization_slug: fixture.alpha }), errorType: 'organization_slug_already_used' },
      ...invalid(base, 'organization_external_id', ['alpha-org'], 'organization_external_id_already_used'),
      { name: "an external id that is another organization's id", body: (fixture) => ({ ...base, organization_external_id: fixture.alpha }), errorType: 'organization_external_id_already_used' },
      ...nonFiniteMetadata(base),
    ],
  },
  'POST /v1/b2b/organizations/search': {
    path: () => '/v1/b2b/organizations/search',
    cases: [
      malformed,
      arrayBody,
      ...invalid({}, 'limit', [0, 1001, -1, 'ten', '0'], 'invalid_limit'),
      ...wrongTypes({}, { limit: [1.5, true, null], cursor: [5], query: ['AND', [1]] }),
      ...invalid({}, 'cursor', ['garbage!!', cursorOf(['only-one']), cursorOf({ a: 1 })], 'invalid_cursor'),
      { name: 'operator XOR', json: query([], 'XOR'), errorType: 'invalid_search_query' },
      { name: 'no operator', json: { query: { operands: [] } }, errorType: 'invalid_search_query' },
      { name: 'operands not a list', json: query('organization_ids'), errorType: 'bad_request', field: 'operands' },
      { name: 'an operand that is not an object', json: query(['x']), errorType: 'invalid_search_query' },
      { name: 'an operand that is a list', json: query([['organization_ids', ['a']]]), errorType: 'invalid_search_query' },
      { name: 'an operand without filter_name', json: query([{ filter_value: ['a'] }]), errorType: 'organization_search_missing_filter_name' },
      { name: 'a null filter_name', json: query([{ filter_name: null, filter_value: ['a'] }]), errorType: 'organization_search_missing_filter_name' },
      { name: 'a numeric filter_name', json: query([{ filter_name: 7, filter_value: ['a'] }]), errorType: 'organization_search_filter_name_must_be_string' },
      { name: 'a list as filter_name', json: query([{ filter_name: ['organization_ids'], filter_value: ['a'] }]), errorType: 'organization_search_filter_name_must_be_string' },
      { name: 'an unknown filter', json: query([{ filter_name: 'nope', filter_value: ['a'] }]), errorType: 'organization_search_filter_name_not_recognized' },
      { name: 'a member filter name', json: query([{ filter_name: 'statuses', filter_value: ['active'] }]), errorType: 'organization_search_filter_name_not_recognized' },
      { name: 'an operand without filter_value', json: query([{ filter_name: 'organization_ids' }]), errorType: 'organization_search_missing_filter_value' },
      { name: 'a null filter_value', json: query([{ filter_name: 'organization_name_fuzzy', filter_value: null }]), errorType: 'organization_search_missing_filter_value' },
      { name: 'organization_ids as a string', json: query([{ filter_name: 'organization_ids', filter_value: 'a' }]), errorType: 'organization_search_expected_array_of_strings' },
      { name: 'an empty organization_slugs list', json: query([{ filter_name: 'organization_slugs', filter_value: [] }]), errorType: 'organization_search_expected_array_of_strings' },
      { name: 'a number in member_emails', json: query([{ filter_name: 'member_emails', filter_value: ['a@alpha.com', 5] }]), errorType: 'organization_search_expected_array_of_strings' },
      { name: '1001 organization_ids', json: query([{ filter_name: 'organization_ids', filter_value: Array.from({ length: 1001 }, (_, index) => `id-${index}`) }]), errorType: 'organization_search_expected_array_of_strings' },
      { name: 'an empty fuzzy filter', json: query([{ filter_name: 'organization_name_fuzzy', filter_value: '' }]), errorType: 'organization_search_expected_string' },
      { name: 'a fuzzy filter given a list', json: query([{ filter_name: 'organization_slug_fuzzy', filter_value: ['alpha'] }]), errorType: 'organization_search_expected_string' },
      { name: 'a fuzzy filter of 1025 characters', json: query([{ filter_name: 'member_email_fuzzy', filter_value: 'a'.repeat(1025) }]), errorType: 'organization_search_expected_string' },
      { name: 'a boolean filter given "true"', json: query([{ filter_name: 'has_active_sso_connection', filter_value: 'true' }]), errorType: 'invalid_search_query' },
      { name: 'a valid operand followed by a bad one', json: query([{ filter_name: 'organization_slugs', filter_value: ['alpha-org'] }, { filter_name: 'nope', filter_value: 'x' }], 'OR'), errorType: 'organization_search_filter_name_not_recognized' },
      // 70,000 values would exceed the bound parameters of one statement on SQLite (32,766) and PostgreSQL (65,535).
      { name: '70 operands of 1000 organization_ids', json: manyValues(70, 1000), errorType: 'invalid_search_query' },
      { name: '2 operands of 501 organization_ids with OR', json: manyValues(2, 501, 'OR'), errorType: 'invalid_search_query' },
      { name: '1000 organization_ids and one fuzzy filter', json: query([{ filter_name: 'organization_ids', filter_value: Array.from({ length: 1000 }, (_, index) => `id-${index}`) }, { filter_name: 'organization_name_fuzzy', filter_value: 'a' }]), errorType: 'invalid_search_query' },
    ],
  },
  'GET /v1/b2b/organizations/:organization_id': {
    path: (fixture) => `/v1/b2b/organizations/${fixture.alpha}`,
    cases: [unknownOrganization(), { name: 'an unknown slug', path: () => '/v1/b2b/organizations/no-such-slug', errorType: 'organization_not_found' }],
  },
  'PUT /v1/b2b/organizations/:organization_id': {
    path: (fixture) => `/v1/b2b/organizations/${fixture.alpha}`,
    cases: [
      unknownOrganization({ organization_name: 'Renamed' }),
      malformed,
      prototypeKey,
      plainText,
      arrayBody,
      ...settingsCases({}),
      ...invalid({}, 'organization_slug', ['beta-org'], 'organization_slug_already_used'),
      ...invalid({}, 'organization_external_id', ['beta-ext'], 'organization_external_id_already_used'),
      ...invalid({}, 'organization_slug', ['beta-ext'], 'organization_slug_already_used'),
      { name: "a slug that is another organization's id", body: (fixture) => ({ organization_slug: fixture.beta }), errorType: 'organization_slug_already_used' },
      ...invalid({}, 'organization_external_id', ['beta-org'], 'organization_external_id_already_used'),
      { name: "an external id that is another organization's id", body: (fixture) => ({ organization_external_id: fixture.beta }), errorType: 'organization_external_id_already_used' },
      ...nonFiniteMetadata({}),
      { name: 'a valid rename with an invalid slug', json: { organization_name: 'Renamed', organization_slug: 'x' }, errorType: 'invalid_organization_slug' },
    ],
  },
  'DELETE /v1/b2b/organizations/:organization_id': {
    path: (fixture) => `/v1/b2b/organizations/${fixture.alpha}`,
    cases: [unknownOrganization({}), malformed, plainText],
  },
  'GET /v1/b2b/organizations/:organization_id/metrics': {
    path: (fixture) => `/v1/b2b/organizations/${fixture.alpha}/metrics`,
    cases: [unknownOrganization(), { name: 'an unknown external id', path: () => '/v1/b2b/organizations/no-such-ext/metrics', errorType: 'organization_not_found' }],
  },
  'DELETE /v1/b2b/organizations/:organization_id/external_id': {
    path: (fixture) => `/v1/b2b/organizations/${fixture.alpha}/external_id`,
    cases: [{ ...unknownOrganization({}), path: () => `/v1/b2b/organizations/${UNKNOWN_ID}/external_id` }, malformed, plainText],
  },
};

/** The routes of the organizations.* operations Understudy implements (organizations.members.* have their own table). */
function organizationRoutes(): string[] {
  const implemented = new Set(STYTCH_OPERATIONS.map((operation) => operation.operationId));
  return CONTRACT_OPERATIONS.filter((operation) => implemented.has(operation.operationId) && /^organizations\.[^.]+$/.test(operation.sdkMethod)).map(
    (operation) => `${operation.method} ${operation.url}`,
  );
}

/** The whole database as the API shows it, plus the number of audit events. */
async function snapshot(server: TestServer): Promise<unknown> {
  const organizations = await server.fetch('/v1/b2b/organizations/search', { method: 'POST', json: { limit: 1000 } });
  const ids = (organizations.body.organizations as { organization_id: string }[]).map((organization) => organization.organization_id);
  const members = await server.fetch('/v1/b2b/organizations/members/search', { method: 'POST', json: { organization_ids: ids, limit: 1000 } });
  const events = await server.server.store.audit.listEvents({ organizationId: null, limit: 100_000 });
  return { organizations: organizations.body.organizations, total: organizations.body.results_metadata, members: members.body.members, events: events.length };
}

it('has a bad-input table for every route of the organizations.* operations', () => {
  expect(Object.keys(ROUTES).sort()).toEqual(organizationRoutes().sort());
});

describe.each(STORES)('organizations bad input ($name)', ({ name: store }) => {
  let server: TestServer;
  let fixture: Fixture;

  beforeAll(async () => {
    server = await startTestServer({ store });
    const create = async (json: Record<string, unknown>): Promise<string> => {
      const reply = await server.fetch('/v1/b2b/organizations', { method: 'POST', json });
      expect(reply.status).toBe(200);
      return (reply.body.organization as { organization_id: string }).organization_id;
    };
    fixture = {
      alpha: await create({ organization_name: 'Alpha Org', organization_slug: 'alpha-org', organization_external_id: 'alpha-ext', email_allowed_domains: ['alpha.com'] }),
      beta: await create({ organization_name: 'Beta Org', organization_slug: 'beta-org', organization_external_id: 'beta-ext' }),
    };
    const member = await server.fetch(`/v1/b2b/organizations/${fixture.alpha}/members`, { method: 'POST', json: { email_address: 'ann@alpha.com' } });
    expect(member.status).toBe(200);
  });
  afterAll(async () => server?.stop());

  describe.each(Object.entries(ROUTES))('%s', (route, table) => {
    const method = route.split(' ')[0] as string;
    it.each(table.cases.map((entry) => [entry.name, entry.errorType, entry] as const))('%s -> %s, nothing written', async (_name, errorType, entry) => {
      const before = await snapshot(server);
      const path = (entry.path ?? table.path)(fixture);
      const json = entry.body?.(fixture) ?? entry.json;
      const reply =
        entry.raw === undefined
          ? await server.fetch(path, { method, ...(json !== undefined && { json }) })
          : await server.fetch(path, { method, headers: { 'content-type': entry.contentType ?? 'application/json' }, body: entry.raw });
      const status = { organization_not_found: 404, unsupported_content_type: 415 }[errorType as string] ?? 400;
      expect({ status: reply.status, status_code: reply.body.status_code, error_type: reply.body.error_type }).toEqual({ status, status_code: status, error_type: errorType });
      if (entry.field !== undefined) expect(reply.body.error_message).toContain(entry.field);
      expect(await snapshot(server)).toEqual(before);
    });
  });
});
