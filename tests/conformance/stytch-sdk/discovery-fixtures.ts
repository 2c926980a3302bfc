import type { B2BClient, Member, Organization } from 'stytch';
import { expect } from 'vitest';
import type { AuditEvent } from '../../../src/domain/audit/audit-event.js';
import type { RedirectUrl } from '../../../src/domain/redirect-urls/redirect-url.js';
import { expectToMatchResponseSchema } from '../../support/openapi.js';
import { linkToken, listEmails, waitForEmail, type OutboxEmail } from '../../support/outbox.js';
import type { TestServer } from '../../support/test-server.js';
import { uniqueSuffix } from '../../support/wire-formats.js';

/** Routes as the contract names them (expectToMatchResponseSchema keys). */
export const DISCOVERY_LINK_SEND = '/v1/b2b/magic_links/email/discovery/send';
export const DISCOVERY_LINK_AUTHENTICATE = '/v1/b2b/magic_links/discovery/authenticate';
export const DISCOVERY_CODE_SEND = '/v1/b2b/otps/email/discovery/send';
export const DISCOVERY_CODE_AUTHENTICATE = '/v1/b2b/otps/email/discovery/authenticate';
export const DISCOVERY_LIST = '/v1/b2b/discovery/organizations';

/** The discovery redirect URL the suites configure (the default for discovery), and one more allowed for it. */
export const DISCOVERY_URL = 'https://app.example.com/discover';
export const OTHER_DISCOVERY_URL = 'https://app.example.com/discover?from=banner';
export const DISCOVERY_REDIRECT_URLS: readonly RedirectUrl[] = [
  {
    url: DISCOVERY_URL,
    types: [
      { type: 'discovery', isDefault: true },
      { type: 'login', isDefault: true },
      { type: 'signup', isDefault: true },
      { type: 'invite', isDefault: true },
    ],
  },
  { url: OTHER_DISCOVERY_URL, types: [{ type: 'discovery', isDefault: false }] },
];

/** A PKCE pair: the verifier the browser keeps and base64url(SHA-256(verifier)) sent with the link. */
export const PKCE = {
  verifier: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  challenge: 'zTcvuFFIcA-ogJXjSS0_n1vrQ-VV5f8m2V9aatw2-OY',
} as const;

type OrganizationSettings = Omit<Parameters<B2BClient['organizations']['create']>[0], 'organization_name' | 'organization_slug'>;

/** A fresh organization named `name` (plus a suffix keeping slugs unique). */
export async function createOrganization(client: B2BClient, name: string, settings: OrganizationSettings = {}): Promise<Organization> {
  const suffix = uniqueSuffix();
  const { organization } = await client.organizations.create({ organization_name: name, organization_slug: `org-${suffix}`, ...settings });
  return organization;
}

/** A member created through the SDK (members.create): active, or pending when asked. */
export async function createMember(client: B2BClient, organization: Organization, emailAddress: string, extra: { create_member_as_pending?: boolean } = {}): Promise<Member> {
  const { member } = await client.organizations.members.create({ organization_id: organization.organization_id, email_address: emailAddress, ...extra });
  return member;
}

/** The member signs in to the organization with an emailed code, which verifies their address; answers the sign-in. */
export async function signInByCode(server: TestServer, organization: Organization, emailAddress: string) {
  const { client } = server;
  const latest = await latestEmail(server, emailAddress);
  await client.otps.email.loginOrSignup({ organization_id: organization.organization_id, email_address: emailAddress });
  const message = await waitForEmail(server, emailAddress, latest && { after: latest });
  if (message.code === undefined) throw new Error(`no code in the ${message.template} message`);
  return client.otps.email.authenticate({ organization_id: organization.organization_id, email_address: emailAddress, code: message.code });
}

/** Sends a discovery magic link and answers the message it went out in. */
export async function sendDiscoveryLink(server: TestServer, emailAddress: string, extra: Record<string, unknown> = {}): Promise<OutboxEmail> {
  const latest = await latestEmail(server, emailAddress);
  const sent = await server.client.magicLinks.email.discovery.send({ email_address: emailAddress, ...extra });
  expectToMatchResponseSchema('post', DISCOVERY_LINK_SEND, sent);
  return waitForEmail(server, emailAddress, { template: 'discovery', ...(latest && { after: latest }) });
}

/** Sends a discovery code and answers it. */
export async function sendDiscoveryCode(server: TestServer, emailAddress: string, extra: Record<string, unknown> = {}): Promise<string> {
  const latest = await latestEmail(server, emailAddress);
  const sent = await server.client.otps.email.discovery.send({ email_address: emailAddress, ...extra });
  expectToMatchResponseSchema('post', DISCOVERY_CODE_SEND, sent);
  const message = await waitForEmail(server, emailAddress, { template: 'otp_discovery', ...(latest && { after: latest }) });
  expect(message.code).toMatch(/^\d{6}$/);
  return message.code as string;
}

/** The token of a discovery link, checked to be one. */
export function discoveryToken(message: OutboxEmail): string {
  expect(new URL(message.link as string).searchParams.get('stytch_token_type')).toBe('discovery');
  return linkToken(message.link as string);
}

/** A discovery intermediate session for the address, by magic link, checked against the schema. */
export async function discover(server: TestServer, emailAddress: string) {
  const message = await sendDiscoveryLink(server, emailAddress);
  const response = await server.client.magicLinks.discovery.authenticate({ discovery_magic_links_token: discoveryToken(message) });
  expectToMatchResponseSchema('post', DISCOVERY_LINK_AUTHENTICATE, response);
  return response;
}

/** The newest message to the address so far, so that a wait finds only the next one. */
async function latestEmail(server: TestServer, emailAddress: string): Promise<OutboxEmail | undefined> {
  const [latest] = await listEmails(server, emailAddress);
  return latest;
}

/** Every audit event written by one request (its `request_id`), oldest first. */
export async function auditOfRequest(server: TestServer, requestId: string): Promise<AuditEvent[]> {
  const events = await server.server.store.audit.searchEvents({}, { limit: 10_000, afterEventId: null });
  return events.filter((event) => event.requestId === requestId);
}

/**
 * The refusal wrote exactly one event, `member.sign_in_refused`, naming the error and why, and the
 * organization of the credential refused (null for a discovery proof or an unknown token).
 */
export async function expectRefusalAudited(server: TestServer, requestId: string, expected: { errorType: string; why: string; organizationId?: string | null }): Promise<void> {
  const events = await auditOfRequest(server, requestId);
  expect(events.map((event) => ({ type: event.type, organizationId: event.organizationId, error_type: event.details.error_type, why: event.details.why }))).toEqual([
    { type: 'member.sign_in_refused', organizationId: expected.organizationId ?? null, error_type: expected.errorType, why: expected.why },
  ]);
}
