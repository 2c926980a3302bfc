import { StytchError } from 'stytch';
import { describe, expect, it } from 'vitest';
import { encodeMember } from '../../src/http/wire/members.js';
import { encodeOrganization } from '../../src/http/wire/organizations.js';
import { aMember } from '../support/builders/member-builder.js';
import { anOrganization } from '../support/builders/organization-builder.js';
import { expectStytchError, expectToMatchResponseSchema, responseSchemaErrors } from '../support/openapi.js';

/**
 * The conformance suites trust `expectToMatchResponseSchema`; these cases prove it can fail, so a
 * validator that silently accepts everything would be caught here.
 */
const REQUEST_ID = 'request-id-test-00000000-0000-4000-8000-000000000000';
const GET_ORGANIZATION = '/v1/b2b/organizations/{organization_id}';
const METRICS = '/v1/b2b/organizations/{organization_id}/metrics';
const GET_MEMBER = '/v1/b2b/organizations/{organization_id}/member';

function organizationBody(): Record<string, unknown> & { organization: Record<string, unknown> } {
  return { request_id: REQUEST_ID, organization: { ...encodeOrganization(anOrganization()) }, status_code: 200 };
}

describe('OpenAPI response validator', () => {
  it('accepts the encoder output for an organization and a member', () => {
    const organization = anOrganization({ organizationExternalId: 'ext-1' });
    const member = aMember({ organizationId: organization.organizationId, assignedRoles: ['stytch_admin'] });
    expectToMatchResponseSchema('get', GET_ORGANIZATION, { request_id: REQUEST_ID, organization: encodeOrganization(organization), status_code: 200 });
    expectToMatchResponseSchema('get', GET_MEMBER, {
      request_id: REQUEST_ID,
      member_id: member.memberId,
      member: encodeMember(member, organization),
      organization: encodeOrganization(organization),
      status_code: 200,
    });
  });

  it('rejects a body missing a required top-level field', () => {
    const errors = responseSchemaErrors('get', METRICS, { request_id: REQUEST_ID, status_code: 200 });
    expect(errors.join('\n')).toContain("must have required property 'member_count'");
  });

  it('rejects a body missing a required nested field', () => {
    const body = organizationBody();
    delete body.organization.organization_slug;
    expect(responseSchemaErrors('get', GET_ORGANIZATION, body).join('\n')).toContain("must have required property 'organization_slug'");
  });

  it('rejects a field of the wrong type', () => {
    expect(responseSchemaErrors('get', METRICS, { request_id: REQUEST_ID, member_count: '3', status_code: 200 }).join('\n')).toContain('/member_count');
    const body = organizationBody();
    body.organization.email_allowed_domains = 'example.com';
    expect(responseSchemaErrors('get', GET_ORGANIZATION, body).join('\n')).toContain('/organization/email_allowed_domains must be array');
  });

  it('enforces the int32 format and the documented minimum', () => {
    expect(responseSchemaErrors('get', METRICS, { request_id: REQUEST_ID, member_count: 1.5, status_code: 200 })).not.toEqual([]);
    expect(responseSchemaErrors('get', METRICS, { request_id: REQUEST_ID, member_count: -1, status_code: 200 })).not.toEqual([]);
  });

  it('accepts null for an optional field (the documented leniency)', () => {
    const body = organizationBody();
    body.organization.sso_default_connection_id = null;
    body.organization.scim_active_connection = null;
    expect(responseSchemaErrors('get', GET_ORGANIZATION, body)).toEqual([]);
  });

  it('rejects null for a required field', () => {
    const body = organizationBody();
    body.organization.organization_name = null;
    expect(responseSchemaErrors('get', GET_ORGANIZATION, body).join('\n')).toContain('/organization/organization_name must be string');
    expect(responseSchemaErrors('get', METRICS, { request_id: REQUEST_ID, member_count: null, status_code: 200 })).not.toEqual([]);
  });

  it('still checks the type of an optional field when it is not null', () => {
    const body = organizationBody();
    body.organization.sso_default_connection_id = 42;
    expect(responseSchemaErrors('get', GET_ORGANIZATION, body).join('\n')).toContain('/organization/sso_default_connection_id');
  });

  it('refuses an operation the document does not have', () => {
    expect(() => responseSchemaErrors('get', '/v1/b2b/no-such-route', {})).toThrow(/no operation GET/);
  });

  it('expectToMatchResponseSchema fails the test on a mismatch', () => {
    expect(() => expectToMatchResponseSchema('get', METRICS, { request_id: REQUEST_ID, status_code: 200 })).toThrow(/member_count/);
  });
});

describe('expectStytchError', () => {
  const envelope = {
    status_code: 404,
    request_id: REQUEST_ID,
    error_type: 'organization_not_found',
    error_message: 'Organization could not be found.',
    error_url: 'https://stytch.com/docs/api-reference/b2b/api/errors/404#organization_not_found',
    error_details: undefined,
  };

  it('accepts a complete envelope with the expected status and type', () => {
    expectStytchError(new StytchError(envelope), { status: 404, errorType: 'organization_not_found' });
  });

  it('rejects another status, another type, a malformed request id, an empty message and a non-SDK error', () => {
    const expected = { status: 404, errorType: 'organization_not_found' };
    expect(() => expectStytchError(new StytchError({ ...envelope, status_code: 400 }), expected)).toThrow();
    expect(() => expectStytchError(new StytchError(envelope), { ...expected, errorType: 'member_not_found' })).toThrow();
    expect(() => expectStytchError(new StytchError({ ...envelope, request_id: 'req-1' }), expected)).toThrow();
    expect(() => expectStytchError(new StytchError({ ...envelope, error_message: '' }), expected)).toThrow();
    expect(() => expectStytchError(new Error('boom'), expected)).toThrow();
  });
});
