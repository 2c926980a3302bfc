import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTRACT_OPERATIONS } from '../../../src/api/generated/operations.js';
import { STYTCH_OPERATIONS } from '../../../src/api/operations.js';
import { STORES } from '../../support/stores.js';
import { startTestServer, type TestServer } from '../../support/test-server.js';

/**
 * Every members route against bad input: each case must answer its 4xx `error_type` and leave
 * the database exactly as it was (organizations, members and the audit log).
 */
interface Fixture {
  readonly alpha: string;
  readonly beta: string;
  /** Live members of alpha. */
  readonly ann: string;
  readonly bob: string;
  /** A deleted member of alpha (email dan@alpha.com, external id dan-ext). */
  readonly dan: string;
  /** A live member of beta. */
  readonly carl: string;
  /** A deleted member of alpha whose address (eve@alpha.com) a live member of alpha took afterwards. */
  readonly eve: string;
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

const UNKNOWN_ORGANIZATION = 'organization-test-00000000-0000-4000-8000-000000000000';
const UNKNOWN_MEMBER = 'member-test-00000000-0000-4000-8000-000000000000';
const ORGANIZATIONS = '/v1/b2b/organizations';
const malformed: Case = { name: 'malformed JSON', raw: '{"email_address": "half', errorType: 'invalid_json' };
const prototypeKey: Case = { name: 'a __proto__ key', raw: '{"__proto__": {"email_address": "x@alpha.com"}}', errorType: 'invalid_json' };
const plainText: Case = { name: 'a text/plain body', raw: '{}', contentType: 'text/plain', errorType: 'unsupported_content_type' };
const arrayBody: Case = { name: 'a JSON array body', json: [{ email_address: 'array@alpha.com' }], errorType: 'bad_request' };

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

/**
 * The same member route addressed wrongly: unknown organization, unknown member, a deleted member,
 * and a member of another organization. `suffix` follows the member id in the path.
 */
function unknownTargets(route: (organization: string, member: string) => string, json?: unknown): Case[] {
  const cases: [string, (fixture: Fixture) => string, string][] = [
    ['an unknown organization', (fixture) => route(UNKNOWN_ORGANIZATION, fixture.ann), 'organization_not_found'],
    ['an unknown member', (fixture) => route(fixture.alpha, UNKNOWN_MEMBER), 'member_not_found'],
    ['a deleted member', (fixture) => route(fixture.alpha, fixture.dan), 'member_not_found'],
    ["another organization's member", (fixture) => route(fixture.alpha, fixture.carl), 'member_not_found'],
  ];
  return cases.map(([name, path, errorType]) => ({ name, path, errorType, ...(json !== undefined && { json }) }));
}

/** Raw bodies, since JSON.stringify cannot write a number too large for a double: JSON.parse reads these as Infinity. */
function nonFiniteMetadata(base: Record<string, unknown>): Case[] {
  const prefix = JSON.stringify(base).slice(1, -1);
  const raw = (field: string, metadata: string): string => `{${prefix}${prefix === '' ? '' : ','}"${field}":${metadata}}`;
  return [
    { name: 'trusted_metadata holding 1e309', raw: raw('trusted_metadata', '{"n": 1e309}'), errorType: 'bad_request', field: 'trusted_metadata.n' },
    { name: 'untrusted_metadata holding -1e400 deep inside', raw: raw('untrusted_metadata', '{"a": [{"b": -1e400}]}'), errorType: 'bad_request', field: 'untrusted_metadata.a[0].b' },
  ];
}

/**
 * Addresses that would look like an existing member's in the console and the CLI: invisible
 * characters (zero-width space, soft hyphen, a control character) and non-ASCII look-alike letters
 * (dotless ı, İ, Cyrillic а, Greek ο).
 */
const LOOK_ALIKE_EMAILS = ['admın@alpha.com', 'a\u200bnn@alpha.com', '\u0130ann@alpha.com', 'an\u00adn@alpha.com', '\u0430nn@alpha.com', 'b\u03bfb@alpha.com', 'a\u0007nn@alpha.com'];

/** `count` operands of `size` member ids each: more values in all than a search may hold. */
function manyMemberIds(count: number, size: number, operator = 'AND'): Record<string, unknown> {
  const operand = (index: number) => ({ filter_name: 'member_ids', filter_value: Array.from({ length: size }, (_, value) => `${index}-${value}`) });
  return alphaSearch(Array.from({ length: count }, (_, index) => operand(index)), operator);
}

/** Member fields both create and update refuse. */
function memberFieldCases(base: Record<string, unknown>): Case[] {
  return [
    ...wrongTypes(base, {
      name: [5, null],
      trusted_metadata: ['text', [1]],
      untrusted_metadata: [7],
      is_breakglass: ['true', 1],
      mfa_phone_number: [12025550123],
      mfa_enrolled: ['false', 0],
      roles: ['stytch_admin', [5], [null]],
      external_id: [5, true],
    }),
    ...invalid(base, 'external_id', ['has space', 'slash/no', 'x'.repeat(129)], 'invalid_member_external_id'),
    ...invalid(base, 'name', ['n'.repeat(1025)], 'invalid_member_name'),
    ...invalid(base, 'mfa_phone_number', ['2025550123', '+1', 'abc', '+1 202 555 0123'], 'invalid_phone_number'),
    ...invalid(base, 'roles', [['ghost_role'], ['stytch_admin', 'ghost_role']], 'invalid_rbac_role_id'),
    ...invalid(base, 'roles', [['stytch_member'], ['stytch_admin', 'stytch_member']], 'cannot_assign_default_rbac_role_id'),
    ...invalid(base, 'trusted_metadata', [{ blob: 'x'.repeat(5000) }], 'metadata_too_large'),
    ...invalid(base, 'untrusted_metadata', [{ blob: 'x'.repeat(5000) }], 'metadata_too_large'),
  ];
}

const memberPath = (organization: string, member: string): string => `${ORGANIZATIONS}/${organization}/members/${member}`;
const createBase = { email_address: 'new@alpha.com' };
const query = (operands: unknown, operator: unknown = 'AND'): { query: unknown } => ({ query: { operator, operands } });
/** A members.search body over alpha with this query. */
const alphaSearch = (operands: unknown, operator: unknown = 'AND'): Record<string, unknown> => ({ organization_ids: ['alpha-org'], ...query(operands, operator) });

/** A password id no member has. */
const UNKNOWN_PASSWORD = 'member-password-test-00000000-0000-4000-8000-000000000000';

const ROUTES: Record<string, RouteTable> = {
  'POST /v1/b2b/organizations/:organization_id/members': {
    path: (fixture) => `${ORGANIZATIONS}/${fixture.alpha}/members`,
    cases: [
      { name: 'an unknown organization', path: () => `${ORGANIZATIONS}/${UNKNOWN_ORGANIZATION}/members`, json: createBase, errorType: 'organization_not_found' },
      malformed,
      prototypeKey,
      plainText,
      arrayBody,
      { name: 'no email_address', json: { name: 'No Email' }, errorType: 'bad_request', field: 'email_address' },
      ...wrongTypes(createBase, { email_address: [5, null, ['new@alpha.com']], create_member_as_pending: ['true'] }),
      ...memberFieldCases(createBase),
      ...invalid({}, 'email_address', ['not-an-email', '', 'two@@alpha.com', 'spaces in@alpha.com', 'a@b'], 'invalid_email'),
      ...invalid({}, 'email_address', ['ann@alpha.com', 'ANN@Alpha.com', ' ann@alpha.com '], 'duplicate_member_email'),
      ...invalid(createBase, 'external_id', ['ann-ext'], 'duplicate_member_external_id'),
      { name: "an external id that is another member's id", body: (fixture) => ({ ...createBase, external_id: fixture.ann }), errorType: 'duplicate_member_external_id' },
      ...invalid({}, 'email_address', LOOK_ALIKE_EMAILS, 'invalid_email'),
      // NFKC folds full-width forms into plain ASCII: these are ann's address, so the same member.
      ...invalid({}, 'email_address', ['ＡＮＮ@alpha.com', 'ann＠alpha.com', 'ａｎｎ@ａｌｐｈａ.ｃｏｍ'], 'duplicate_member_email'),
      ...nonFiniteMetadata(createBase),
    ],
  },
  'GET /v1/b2b/organizations/:organization_id/member': {
    path: (fixture) => `${ORGANIZATIONS}/${fixture.alpha}/member?member_id=${fixture.ann}`,
    cases: [
      { name: 'an unknown organization', path: (fixture) => `${ORGANIZATIONS}/${UNKNOWN_ORGANIZATION}/member?member_id=${fixture.ann}`, errorType: 'organization_not_found' },
      { name: 'no identifier', path: (fixture) => `${ORGANIZATIONS}/${fixture.alpha}/member`, errorType: 'invalid_member_get_fields' },
      { name: 'both identifiers', path: (fixture) => `${ORGANIZATIONS}/${fixture.alpha}/member?member_id=${fixture.ann}&email_address=ann@alpha.com`, errorType: 'invalid_member_get_fields' },
      { name: 'member_id twice', path: (fixture) => `${ORGANIZATIONS}/${fixture.alpha}/member?member_id=${fixture.ann}&member_id=${fixture.bob}`, errorType: 'bad_request', field: 'member_id' },
      { name: 'an unknown member_id', path: (fixture) => `${ORGANIZATIONS}/${fixture.alpha}/member?member_id=${UNKNOWN_MEMBER}`, errorType: 'member_not_found' },
      { name: 'an unknown email_address', path: (fixture) => `${ORGANIZATIONS}/${fixture.alpha}/member?email_address=nobody@alpha.com`, errorType: 'member_not_found' },
      { name: 'a deleted member by id', path: (fixture) => `${ORGANIZATIONS}/${fixture.alpha}/member?member_id=${fixture.dan}`, errorType: 'member_not_found' },
      { name: 'a deleted member by email', path: (fixture) => `${ORGANIZATIONS}/${fixture.alpha}/member?email_address=dan@alpha.com`, errorType: 'member_not_found' },
      { name: "another organization's member", path: (fixture) => `${ORGANIZATIONS}/${fixture.alpha}/member?member_id=${fixture.carl}`, errorType: 'member_not_found' },
      { name: 'an invalid email_address', path: (fixture) => `${ORGANIZATIONS}/${fixture.alpha}/member?email_address=not-an-email`, errorType: 'invalid_email' },
      { name: 'an email_address with a zero-width space', path: (fixture) => `${ORGANIZATIONS}/${fixture.alpha}/member?email_address=${encodeURIComponent('a\u200bnn@alpha.com')}`, errorType: 'invalid_email' },
    ],
  },
  'GET /v1/b2b/organizations/members/dangerously_get/:member_id': {
    path: (fixture) => `${ORGANIZATIONS}/members/dangerously_get/${fixture.ann}`,
    cases: [
      { name: 'an unknown member', path: () => `${ORGANIZATIONS}/members/dangerously_get/${UNKNOWN_MEMBER}`, errorType: 'member_not_found' },
      { name: 'a deleted member', path: (fixture) => `${ORGANIZATIONS}/members/dangerously_get/${fixture.dan}`, errorType: 'member_not_found' },
      { name: 'a deleted member, include_deleted=false', path: (fixture) => `${ORGANIZATIONS}/members/dangerously_get/${fixture.dan}?include_deleted=false`, errorType: 'member_not_found' },
      ...['yes', '1', 'True'].map((value) => ({ name: `include_deleted=${value}`, path: (fixture: Fixture) => `${ORGANIZATIONS}/members/dangerously_get/${fixture.dan}?include_deleted=${value}`, errorType: 'bad_request', field: 'include_deleted' })),
    ],
  },
  'POST /v1/b2b/organizations/members/search': {
    path: () => `${ORGANIZATIONS}/members/search`,
    cases: [
      malformed,
      plainText,
      arrayBody,
      { name: 'no organization_ids', json: {}, errorType: 'bad_request', field: 'organization_ids' },
      ...wrongTypes({}, { organization_ids: ['org', [5], { id: 'x' }] }),
      { name: 'empty organization_ids', json: { organization_ids: [] }, errorType: 'member_search_organization_ids_empty' },
      { name: 'an unknown organization', json: { organization_ids: [UNKNOWN_ORGANIZATION] }, errorType: 'organization_not_found' },
      { name: 'one unknown organization among known ones', json: { organization_ids: ['alpha-org', 'no-such-org'] }, errorType: 'organization_not_found' },
      ...invalid({ organization_ids: ['alpha-org'] }, 'limit', [0, '1001'], 'invalid_limit'),
      ...invalid({ organization_ids: ['alpha-org'] }, 'cursor', ['garbage!!'], 'invalid_cursor'),
      ...wrongTypes({ organization_ids: ['alpha-org'] }, { limit: [false], cursor: [1], query: ['x'] }),
      { name: 'operator NOT', json: { organization_ids: ['alpha-org'], ...query([], 'NOT') }, errorType: 'invalid_search_query' },
      { name: '1001 organization_ids', json: { organization_ids: Array.from({ length: 1001 }, () => 'alpha-org') }, errorType: 'bad_request', field: 'organization_ids' },
      { name: 'an operand that is not an object', json: alphaSearch(['statuses']), errorType: 'invalid_search_query' },
      { name: 'an operand without filter_name', json: alphaSearch([{ filter_value: ['active'] }]), errorType: 'member_search_missing_filter_name' },
      { name: 'a null filter_name', json: alphaSearch([{ filter_name: null, filter_value: ['active'] }]), errorType: 'member_search_missing_filter_name' },
      { name: 'a boolean filter_name', json: alphaSearch([{ filter_name: true, filter_value: ['active'] }]), errorType: 'member_search_filter_name_must_be_string' },
      { name: 'an unknown filter', json: alphaSearch([{ filter_name: 'nope', filter_value: 'x' }]), errorType: 'member_search_filter_name_not_recognized' },
      { name: 'an organization filter name', json: alphaSearch([{ filter_name: 'organization_slugs', filter_value: ['alpha-org'] }]), errorType: 'member_search_filter_name_not_recognized' },
      { name: 'an operand without filter_value', json: alphaSearch([{ filter_name: 'member_emails' }]), errorType: 'member_search_missing_filter_value' },
      { name: 'a null filter_value', json: alphaSearch([{ filter_name: 'member_is_breakglass', filter_value: null }]), errorType: 'member_search_missing_filter_value' },
      { name: 'statuses as a string', json: alphaSearch([{ filter_name: 'statuses', filter_value: 'active' }]), errorType: 'member_search_expected_array_of_strings' },
      { name: 'an empty member_ids list', json: alphaSearch([{ filter_name: 'member_ids', filter_value: [] }]), errorType: 'member_search_expected_array_of_strings' },
      { name: 'a number in member_emails', json: alphaSearch([{ filter_name: 'member_emails', filter_value: ['ann@alpha.com', 1] }]), errorType: 'member_search_expected_array_of_strings' },
      { name: '1001 member_ids', json: alphaSearch([{ filter_name: 'member_ids', filter_value: Array.from({ length: 1001 }, (_, index) => `m-${index}`) }]), errorType: 'member_search_expected_array_of_strings' },
      { name: 'an empty fuzzy filter', json: alphaSearch([{ filter_name: 'member_email_fuzzy', filter_value: '' }]), errorType: 'member_search_expected_string' },
      { name: 'a fuzzy filter given a number', json: alphaSearch([{ filter_name: 'member_phone_number_fuzzy', filter_value: 1202 }]), errorType: 'member_search_expected_string' },
      { name: 'member_is_breakglass given "true"', json: alphaSearch([{ filter_name: 'member_is_breakglass', filter_value: 'true' }]), errorType: 'member_search_expected_boolean' },
      { name: 'member_is_breakglass given [true]', json: alphaSearch([{ filter_name: 'member_is_breakglass', filter_value: [true] }]), errorType: 'member_search_expected_boolean' },
      { name: 'an unknown status', json: alphaSearch([{ filter_name: 'statuses', filter_value: ['active', 'suspended'] }]), errorType: 'search_invalid_status_filter' },
      { name: 'a status in upper case', json: alphaSearch([{ filter_name: 'statuses', filter_value: ['ACTIVE'] }]), errorType: 'search_invalid_status_filter' },
      // 70,000 values would exceed the bound parameters of one statement on SQLite (32,766) and PostgreSQL (65,535).
      { name: '70 operands of 1000 member_ids', json: manyMemberIds(70, 1000), errorType: 'invalid_search_query' },
      { name: '2 operands of 501 member_ids with OR', json: manyMemberIds(2, 501, 'OR'), errorType: 'invalid_search_query' },
      { name: 'an unknown status in an OR query', json: alphaSearch([{ filter_name: 'member_emails', filter_value: ['ann@alpha.com'] }, { filter_name: 'statuses', filter_value: [''] }], 'OR'), errorType: 'search_invalid_status_filter' },
    ],
  },
  'PUT /v1/b2b/organizations/:organization_id/members/:member_id': {
    path: (fixture) => memberPath(fixture.alpha, fixture.ann),
    cases: [
      ...unknownTargets(memberPath, { name: 'Renamed' }),
      malformed,
      prototypeKey,
      plainText,
      arrayBody,
      ...wrongTypes({}, { email_address: [false], default_mfa_method: [5], preserve_existing_sessions: ['true'], unlink_email: [1] }),
      ...memberFieldCases({}),
      ...invalid({}, 'email_address', ['nope', ''], 'invalid_email'),
      ...invalid({}, 'email_address', ['bob@alpha.com', 'BOB@ALPHA.COM'], 'duplicate_member_email'),
      ...invalid({}, 'external_id', ['bob-ext'], 'duplicate_member_external_id'),
      ...invalid({}, 'default_mfa_method', ['email_otp', 'SMS_OTP'], 'invalid_mfa_default_method'),
      { name: 'a valid rename with an invalid phone number', json: { name: 'Renamed', mfa_phone_number: 'abc' }, errorType: 'invalid_phone_number' },
      { name: "an external id that is another member's id", body: (fixture) => ({ external_id: fixture.bob }), errorType: 'duplicate_member_external_id' },
      ...invalid({}, 'email_address', ['ＢＯＢ@alpha.com', 'bob＠ALPHA.com'], 'duplicate_member_email'),
      ...invalid({}, 'email_address', LOOK_ALIKE_EMAILS, 'invalid_email'),
      ...nonFiniteMetadata({}),
      { name: 'a valid email change with a taken external id', json: { email_address: 'ann2@alpha.com', external_id: 'bob-ext' }, errorType: 'duplicate_member_external_id' },
    ],
  },
  'DELETE /v1/b2b/organizations/:organization_id/members/:member_id': {
    path: (fixture) => memberPath(fixture.alpha, fixture.ann),
    cases: [...unknownTargets(memberPath, {}), malformed, plainText],
  },
  'PUT /v1/b2b/organizations/:organization_id/members/:member_id/reactivate': {
    path: (fixture) => `${memberPath(fixture.alpha, fixture.dan)}/reactivate`,
    cases: [
      { name: 'an unknown organization', path: (fixture) => `${memberPath(UNKNOWN_ORGANIZATION, fixture.dan)}/reactivate`, json: {}, errorType: 'organization_not_found' },
      { name: 'an unknown member', path: (fixture) => `${memberPath(fixture.alpha, UNKNOWN_MEMBER)}/reactivate`, json: {}, errorType: 'member_not_found' },
      { name: 'the deleted member in another organization', path: (fixture) => `${memberPath(fixture.beta, fixture.dan)}/reactivate`, json: {}, errorType: 'member_not_found' },
      { name: 'the deleted member by external id', path: (fixture) => `${memberPath(fixture.alpha, 'dan-ext')}/reactivate`, json: {}, errorType: 'member_not_found' },
      { name: 'a live member', path: (fixture) => `${memberPath(fixture.alpha, fixture.ann)}/reactivate`, json: {}, errorType: 'no_deleted_member_found_for_reactivation' },
      { name: 'a deleted member whose email another member took', path: (fixture) => `${memberPath(fixture.alpha, fixture.eve)}/reactivate`, json: {}, errorType: 'reactivation_email_belongs_to_another_member' },
      malformed,
      plainText,
    ],
  },
  'DELETE /v1/b2b/organizations/:organization_id/members/:member_id/external_id': {
    path: (fixture) => `${memberPath(fixture.alpha, fixture.ann)}/external_id`,
    cases: [...unknownTargets((organization, member) => `${memberPath(organization, member)}/external_id`, {}), malformed, plainText],
  },
  'DELETE /v1/b2b/organizations/:organization_id/members/passwords/:member_password_id': {
    path: (fixture) => `${ORGANIZATIONS}/${fixture.alpha}/members/passwords/${UNKNOWN_PASSWORD}`,
    cases: [
      { name: 'an unknown organization', path: () => `${ORGANIZATIONS}/${UNKNOWN_ORGANIZATION}/members/passwords/${UNKNOWN_PASSWORD}`, errorType: 'organization_not_found' },
      { name: 'an unknown password', path: (fixture) => `${ORGANIZATIONS}/${fixture.alpha}/members/passwords/${UNKNOWN_PASSWORD}`, errorType: 'member_password_not_found' },
      { name: "a member's id instead of a password's", path: (fixture) => `${ORGANIZATIONS}/${fixture.alpha}/members/passwords/${fixture.ann}`, errorType: 'member_password_not_found' },
      { name: 'an encoded path', path: (fixture) => `${ORGANIZATIONS}/${fixture.alpha}/members/passwords/${encodeURIComponent('../../x')}`, errorType: 'member_password_not_found' },
      malformed,
      plainText,
    ],
  },
  'DELETE /v1/b2b/organizations/:organization_id/members/mfa_phone_numbers/:member_id': {
    path: (fixture) => `${ORGANIZATIONS}/${fixture.alpha}/members/mfa_phone_numbers/${fixture.ann}`,
    cases: [...unknownTargets((organization, member) => `${ORGANIZATIONS}/${organization}/members/mfa_phone_numbers/${member}`, {}), malformed, plainText],
  },
  'DELETE /v1/b2b/organizations/:organization_id/members/:member_id/totp': {
    path: (fixture) => `${ORGANIZATIONS}/${fixture.alpha}/members/${fixture.ann}/totp`,
    cases: [...unknownTargets((organization, member) => `${ORGANIZATIONS}/${organization}/members/${member}/totp`, {}), malformed, plainText],
  },
};

/** `METHOD path` of every implemented operation of an SDK namespace (`organizations.members`), from the operation table. */
function routesOf(namespace: string): string[] {
  const implemented = new Set(STYTCH_OPERATIONS.map((operation) => operation.operationId));
  const inNamespace = (sdkMethod: string): boolean => sdkMethod.replace(/\.[^.]+$/, '') === namespace;
  return CONTRACT_OPERATIONS.filter((contract) => implemented.has(contract.operationId) && inNamespace(contract.sdkMethod)).map((contract) => `${contract.method} ${contract.url}`);
}

/** The whole database as the API shows it, plus the number of audit events. */
async function snapshot(server: TestServer): Promise<unknown> {
  const organizations = await server.fetch(`${ORGANIZATIONS}/search`, { method: 'POST', json: { limit: 1000 } });
  const ids = (organizations.body.organizations as { organization_id: string }[]).map((organization) => organization.organization_id);
  const members = await server.fetch(`${ORGANIZATIONS}/members/search`, { method: 'POST', json: { organization_ids: ids, limit: 1000 } });
  const events = await server.server.store.audit.listEvents({ organizationId: null, limit: 100_000 });
  return { organizations: organizations.body.organizations, members: members.body.members, total: members.body.results_metadata, events: events.length };
}

it('has a bad-input table for every organizations.members operation', () => {
  expect(Object.keys(ROUTES).sort()).toEqual(routesOf('organizations.members').sort());
});

describe.each(STORES)('members bad input ($name)', ({ name: store }) => {
  let server: TestServer;
  let fixture: Fixture;

  beforeAll(async () => {
    server = await startTestServer({ store });
    const post = async (path: string, json: Record<string, unknown>): Promise<Record<string, unknown>> => {
      const reply = await server.fetch(path, { method: 'POST', json });
      expect(reply.status).toBe(200);
      return reply.body;
    };
    const organization = async (slug: string): Promise<string> =>
      ((await post(ORGANIZATIONS, { organization_name: slug, organization_slug: slug })).organization as { organization_id: string }).organization_id;
    const member = async (organizationId: string, email: string, externalId: string): Promise<string> =>
      (await post(`${ORGANIZATIONS}/${organizationId}/members`, { email_address: email, external_id: externalId, mfa_phone_number: '+12025550123' })).member_id as string;
    const alpha = await organization('alpha-org');
    const beta = await organization('beta-org');
    fixture = {
      alpha,
      beta,
      ann: await member(alpha, 'ann@alpha.com', 'ann-ext'),
      bob: await member(alpha, 'bob@alpha.com', 'bob-ext'),
      dan: await member(alpha, 'dan@alpha.com', 'dan-ext'),
      carl: await member(beta, 'carl@beta.com', 'carl-ext'),
      eve: await member(alpha, 'eve@alpha.com', 'eve-ext'),
    };
    expect((await server.fetch(memberPath(alpha, fixture.dan), { method: 'DELETE', json: {} })).status).toBe(200);
    expect((await server.fetch(memberPath(alpha, fixture.eve), { method: 'DELETE', json: {} })).status).toBe(200);
    await member(alpha, 'EVE@alpha.com', 'eve-new-ext');
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
      const status = { organization_not_found: 404, member_not_found: 404, member_password_not_found: 404, unsupported_content_type: 415 }[errorType as string] ?? 400;
      expect({ status: reply.status, status_code: reply.body.status_code, error_type: reply.body.error_type }).toEqual({ status, status_code: status, error_type: errorType });
      if (entry.field !== undefined) expect(reply.body.error_message).toContain(entry.field);
      expect(await snapshot(server)).toEqual(before);
    });
  });
});
