import type { B2BClient, Member, Organization } from 'stytch';
import { expect } from 'vitest';
import type { AuditEvent } from '../../../src/domain/audit/audit-event.js';
import type { RedirectUrl } from '../../../src/domain/redirect-urls/redirect-url.js';
import { listEmails, settleEmails } from '../../support/outbox.js';
import type { TestServer } from '../../support/test-server.js';
import { uniqueSuffix } from '../../support/wire-formats.js';

/** Routes as the contract names them (expectToMatchResponseSchema keys). */
export const MAGIC_LINK_SEND = '/v1/b2b/magic_links/email/login_or_signup';
export const MAGIC_LINK_INVITE = '/v1/b2b/magic_links/email/invite';
export const MAGIC_LINK_AUTHENTICATE = '/v1/b2b/magic_links/authenticate';
export const OTP_SEND = '/v1/b2b/otps/email/login_or_signup';
export const OTP_AUTHENTICATE = '/v1/b2b/otps/email/authenticate';

/** Redirect URLs the email sign-in suites configure: each type its own default, plus one more login URL. */
export const LOGIN_URL = 'https://app.example.com/login';
export const OTHER_LOGIN_URL = 'https://app.example.com/login?next=%2Fbilling';
export const SIGNUP_URL = 'https://app.example.com/signup';
export const INVITE_URL = 'https://app.example.com/invite';
export const REDIRECT_URLS: readonly RedirectUrl[] = [
  { url: LOGIN_URL, types: [{ type: 'login', isDefault: true }] },
  { url: OTHER_LOGIN_URL, types: [{ type: 'login', isDefault: false }] },
  { url: SIGNUP_URL, types: [{ type: 'signup', isDefault: true }] },
  { url: INVITE_URL, types: [{ type: 'invite', isDefault: true }] },
];

/** A PKCE pair: the verifier the browser keeps and base64url(SHA-256(verifier)) sent with the link. */
export const PKCE = {
  verifier: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  challenge: 'zTcvuFFIcA-ogJXjSS0_n1vrQ-VV5f8m2V9aatw2-OY',
} as const;

export interface EmailOrganization {
  readonly organization: Organization;
  /** The organization's allowed email domain: addresses there may join just in time. */
  readonly domain: string;
  /** A fresh address in `domain`. */
  address(local?: string): string;
}

type OrganizationSettings = Omit<Parameters<B2BClient['organizations']['create']>[0], 'organization_name'>;

/**
 * A fresh organization whose members may sign in by email, and whose own domain may join just in
 * time and be invited, unless `settings` says otherwise.
 */
export async function createEmailOrganization(client: B2BClient, settings: OrganizationSettings = {}): Promise<EmailOrganization> {
  const suffix = uniqueSuffix();
  const domain = `acme-${suffix}.example.com`;
  const { organization } = await client.organizations.create({
    organization_name: `Acme ${suffix}`,
    organization_slug: `acme-${suffix}`,
    email_allowed_domains: [domain],
    email_jit_provisioning: 'RESTRICTED',
    email_invites: 'ALL_ALLOWED',
    ...settings,
  });
  let count = 0;
  return {
    organization,
    domain,
    address: (local = 'ada') => `${local}-${suffix}-${++count}@${domain}`,
  };
}

/** An active member created through the SDK (members.create). */
export async function createMember(client: B2BClient, organization: Organization, emailAddress: string, extra: { create_member_as_pending?: boolean; is_breakglass?: boolean; name?: string } = {}): Promise<Member> {
  const { member } = await client.organizations.members.create({ organization_id: organization.organization_id, email_address: emailAddress, ...extra });
  return member;
}

/** Every member of the organization (deleted ones included), as members.search lists them. */
export async function membersOf(client: B2BClient, organization: Organization): Promise<Member[]> {
  const { members } = await client.organizations.members.search({ organization_ids: [organization.organization_id], limit: 1000 });
  return members;
}

/** Every audit event written by one request (its `request_id`), oldest first. */
export async function auditOfRequest(server: TestServer, requestId: string): Promise<AuditEvent[]> {
  const events = await server.server.store.audit.searchEvents({}, { limit: 10_000, afterEventId: null });
  return events.filter((event) => event.requestId === requestId);
}

/** The refusal's audit: exactly one event of that request, `member.sign_in_refused`, naming the error and, when given, why. */
export async function expectSignInRefusalAudited(server: TestServer, requestId: string, expected: { errorType: string; why?: string; memberId?: string | null }): Promise<void> {
  const events = await auditOfRequest(server, requestId);
  expect(events.map((event) => event.type)).toEqual(['member.sign_in_refused']);
  const [event] = events;
  expect(event?.details.error_type).toBe(expected.errorType);
  if (expected.why !== undefined) expect(event?.details.why).toBe(expected.why);
  if (expected.memberId !== undefined) expect(event?.memberId).toBe(expected.memberId);
}

/** Once delivery settled: no message went to `to`, and the request wrote no audit event. */
export async function expectNothingSent(server: TestServer, to: string, requestId: string): Promise<void> {
  await settleEmails(server);
  expect(await listEmails(server, to)).toEqual([]);
  expect(await auditOfRequest(server, requestId)).toEqual([]);
}

/** The member sessions of a member, as sessions.get lists them. */
export async function sessionsOf(client: B2BClient, member: { organization_id: string; member_id: string }) {
  const { member_sessions } = await client.sessions.get({ organization_id: member.organization_id, member_id: member.member_id });
  return member_sessions;
}
