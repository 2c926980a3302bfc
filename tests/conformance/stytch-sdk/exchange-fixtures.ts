import type { B2BClient, Member, Organization } from 'stytch';
import { expect } from 'vitest';
import type { AuditEvent } from '../../../src/domain/audit/audit-event.js';
import { emailIdOf } from '../../../src/domain/email-sign-in/email-factor.js';
import type { TestServer } from '../../support/test-server.js';
import { uniqueSuffix } from '../../support/wire-formats.js';

/** Routes as the contract names them (expectToMatchResponseSchema keys). */
export const EXCHANGE = '/v1/b2b/discovery/intermediate_sessions/exchange';
export const CREATE = '/v1/b2b/discovery/organizations/create';
export const SESSIONS_EXCHANGE = '/v1/b2b/sessions/exchange';
export const SESSIONS_AUTHENTICATE = '/v1/b2b/sessions/authenticate';

export const IST_NOT_FOUND = { status: 404, errorType: 'intermediate_session_not_found' } as const;
export const ORGANIZATION_NOT_FOUND = { status: 404, errorType: 'organization_not_found' } as const;

type OrganizationSettings = Omit<Parameters<B2BClient['organizations']['create']>[0], 'organization_name' | 'organization_slug'>;

/** A fresh organization (unique slug) with these settings. */
export async function createOrganization(client: B2BClient, name: string, settings: OrganizationSettings = {}): Promise<Organization> {
  const { organization } = await client.organizations.create({ organization_name: name, organization_slug: `exchange-${uniqueSuffix()}`, ...settings });
  return organization;
}

/** A fresh domain and an address there, so each test's people and organizations are its own. */
export function freshAddress(local = 'ada'): { domain: string; address: string } {
  const domain = `exchange-${uniqueSuffix()}.example.com`;
  return { domain, address: `${local}@${domain}` };
}

/** An organization the address's domain may join by email just in time. */
export function joinableBy(domain: string): OrganizationSettings {
  return { email_allowed_domains: [domain], email_jit_provisioning: 'RESTRICTED' };
}

export async function addMember(client: B2BClient, organization: Organization, emailAddress: string, extra: { create_member_as_pending?: boolean } = {}): Promise<Member> {
  const { member } = await client.organizations.members.create({ organization_id: organization.organization_id, email_address: emailAddress, ...extra });
  return member;
}

/** The live members of the organization with this address ([] or one). */
export async function membersWithAddress(client: B2BClient, organization: Organization, emailAddress: string): Promise<Member[]> {
  const { members } = await client.organizations.members.search({
    organization_ids: [organization.organization_id],
    query: { operator: 'AND', operands: [{ filter_name: 'member_emails', filter_value: [emailAddress] }] },
  });
  return members;
}

/** How many organizations exist (a refused create must leave it unchanged). */
export async function organizationCount(client: B2BClient): Promise<number> {
  const { results_metadata } = await client.organizations.search({ limit: 1 });
  return results_metadata.total;
}

/** The `email_factor` a proof of `emailAddress` carries in `member`'s session: the member's own email id, as their sign-ins report it. */
export function emailFactorOf(member: Pick<Member, 'member_id' | 'email_address'>) {
  return { email_id: emailIdOf('test', member.email_address, member.member_id), email_address: member.email_address };
}

/** Every audit event written by one request, oldest first, as (type, organization, member). */
export async function auditOf(server: TestServer, requestId: string): Promise<AuditEvent[]> {
  const events = await server.server.store.audit.searchEvents({}, { limit: 10_000, afterEventId: null });
  return events.filter((event) => event.requestId === requestId);
}

/** Settles every call and counts outcomes: how many answered, and the error types of the rest. */
export async function settleAll<T>(calls: readonly Promise<T>[]): Promise<{ fulfilled: T[]; errorTypes: string[] }> {
  const settled = await Promise.allSettled(calls);
  const fulfilled = settled.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  const errorTypes = settled.flatMap((result) => (result.status === 'rejected' ? [String((result.reason as { error_type?: string }).error_type ?? result.reason)] : []));
  return { fulfilled, errorTypes };
}

/** The SDK's answer has no `organization_id` field: the contract of the exchanges lists none. */
export function expectNoOrganizationIdField(response: object): void {
  expect(Object.keys(response)).not.toContain('organization_id');
}
