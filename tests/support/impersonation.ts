import type { B2BClient, Member, Organization } from 'stytch';
import { expect } from 'vitest';
import type { TestServer } from './test-server.js';
import { uniqueSuffix } from './wire-formats.js';

/**
 * Shared setup of the impersonation suites: raw HTTP calls to our minting, policy, sessions and
 * audit extensions (docs/impersonation.md), which the official SDK does not know.
 */
export const MINT = '/v1/b2b/impersonation';
export const REDEEM = '/v1/b2b/impersonation/authenticate';
export const IMPERSONATED_SESSIONS = '/v1/b2b/impersonation/sessions';
export const REVOKE_IMPERSONATIONS = '/v1/b2b/impersonation/sessions/revoke';
export const AUDIT = '/v1/b2b/impersonation/audit';

export function policyPath(organization: string): string {
  return `/v1/b2b/impersonation/policies/${encodeURIComponent(organization)}`;
}

/** The impersonator every suite uses unless a test says otherwise. */
export const IMPERSONATOR = { id: 'support-17', emailAddress: 'sam@support.example' } as const;
export const REASON = 'Ticket 4711: cannot see invoices';

/** 44 URL-safe base64 characters, as Stytch's tokens. */
export const OPAQUE_TOKEN = /^[A-Za-z0-9_-]{44}$/;

export type RawResponse = Awaited<ReturnType<TestServer['fetch']>>;

export interface MintedToken {
  readonly request_id: string;
  /** The token's id (never the token): what the audit trail and token revocation name it by. */
  readonly token_id: string;
  readonly impersonation_token: string;
  readonly expires_at: string;
  readonly impersonation_url: string | null;
  readonly member_id: string;
  readonly organization_id: string;
  readonly status_code: number;
}

export interface MintOptions {
  readonly organizationId: string;
  /** A member id, external id or email address; `member_id` on the wire. */
  readonly memberId?: string;
  /** Sent as `email_address` instead of `member_id`. */
  readonly emailAddress?: string;
  readonly impersonatorId?: string;
  readonly impersonatorEmailAddress?: string;
  readonly reason?: string;
  readonly expirationMinutes?: number;
  readonly headers?: Record<string, string>;
}

/** The mint request body with the default impersonator and reason; `undefined` fields are left out. */
export function mintBody(options: MintOptions): Record<string, unknown> {
  const body: Record<string, unknown> = {
    organization_id: options.organizationId,
    member_id: options.memberId,
    email_address: options.emailAddress,
    impersonator_id: options.impersonatorId ?? IMPERSONATOR.id,
    impersonator_email_address: options.impersonatorEmailAddress ?? IMPERSONATOR.emailAddress,
    reason: options.reason ?? REASON,
    expiration_minutes: options.expirationMinutes,
  };
  return Object.fromEntries(Object.entries(body).filter(([, value]) => value !== undefined));
}

/** POST /v1/b2b/impersonation with any body, for refusals. */
export function mintRaw(server: TestServer, body: Record<string, unknown>, headers: Record<string, string> = {}): Promise<RawResponse> {
  return server.fetch(MINT, { method: 'POST', json: body, headers });
}

/** Mints a token over raw HTTP and expects it to succeed. */
export async function mintToken(server: TestServer, options: MintOptions): Promise<MintedToken> {
  const response = await mintRaw(server, mintBody(options), options.headers);
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  return response.body as unknown as MintedToken;
}

/** Mints a token for `member` and redeems it through the SDK, as a support engineer's browser would. */
export async function impersonate(server: TestServer, member: Member, options: Omit<MintOptions, 'organizationId' | 'memberId'> = {}) {
  const minted = await mintToken(server, { organizationId: member.organization_id, memberId: member.member_id, ...options });
  const redeemed = await server.client.impersonation.authenticate({ impersonation_token: minted.impersonation_token });
  return { minted, redeemed };
}

/** Checks a raw error answer is Stytch's envelope with this status and error_type. */
export function expectErrorResponse(response: RawResponse, status: number, errorType: string): void {
  expect({ status: response.status, error_type: response.body.error_type }, JSON.stringify(response.body)).toEqual({ status, error_type: errorType });
  expect(response.body.status_code).toBe(status);
  expect(response.body.request_id).toMatch(/^request-id-test-[0-9a-f-]{36}$/);
}

export interface WireImpersonatedSession {
  readonly member_session_id: string;
  readonly organization_id: string;
  readonly member_id: string;
  readonly impersonator_id: string;
  readonly impersonator_email_address: string;
  readonly reason: string;
  readonly started_at: string;
  readonly expires_at: string;
}

export interface WireAuditEvent {
  readonly event_id: string;
  readonly type: string;
  readonly occurred_at: string;
  readonly request_id: string;
  readonly actor: Record<string, unknown>;
  readonly organization_id: string | null;
  readonly member_id: string | null;
  readonly impersonator_id: string | null;
  readonly client_ip: string | null;
  readonly user_agent: string | null;
  readonly details: Record<string, unknown>;
}

function queryString(query: Record<string, string | undefined>): string {
  const params = new URLSearchParams(Object.entries(query).filter((entry): entry is [string, string] => entry[1] !== undefined));
  const text = params.toString();
  return text === '' ? '' : `?${text}`;
}

/** GET /v1/b2b/impersonation/sessions, expecting 200. */
export async function activeImpersonations(server: TestServer, query: Record<string, string | undefined>): Promise<WireImpersonatedSession[]> {
  const response = await server.fetch(`${IMPERSONATED_SESSIONS}${queryString(query)}`);
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  return response.body.impersonated_sessions as WireImpersonatedSession[];
}

/** One page of GET /v1/b2b/impersonation/audit (JSON). */
export function auditPage(server: TestServer, query: Record<string, string | undefined>): Promise<RawResponse> {
  return server.fetch(`${AUDIT}${queryString(query)}`);
}

/** Every matching audit event, walking `next_cursor` to the end. */
export async function auditEvents(server: TestServer, query: Record<string, string | undefined> = {}): Promise<WireAuditEvent[]> {
  const events: WireAuditEvent[] = [];
  let cursor: string | undefined;
  do {
    const response = await auditPage(server, { ...query, cursor });
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    events.push(...(response.body.events as WireAuditEvent[]));
    cursor = (response.body.next_cursor as string | null) ?? undefined;
  } while (cursor !== undefined);
  return events;
}

/** The one audit event written by the request `requestId`, failing unless there is exactly one. */
export async function auditEventOf(server: TestServer, requestId: string, query: Record<string, string | undefined> = {}): Promise<WireAuditEvent> {
  const matching = (await auditEvents(server, query)).filter((event) => event.request_id === requestId);
  expect(matching, `audit events of ${requestId}`).toHaveLength(1);
  return matching[0] as WireAuditEvent;
}

export interface ImpersonationCast {
  readonly organization: Organization;
  /** Holds stytch_admin. */
  readonly admin: Member;
  /** A plain member with an external id, the one being impersonated. */
  readonly member: Member;
  readonly suffix: string;
}

/** A fresh organization (with slug and external id), an admin and a member, through the SDK. */
export async function createImpersonationCast(client: B2BClient): Promise<ImpersonationCast> {
  const suffix = uniqueSuffix();
  const { organization } = await client.organizations.create({
    organization_name: `Impersonation ${suffix}`,
    organization_slug: `imp-${suffix}`,
    organization_external_id: `org-ext-${suffix}`,
  });
  const admin = await client.organizations.members.create({
    organization_id: organization.organization_id,
    email_address: `admin-${suffix}@example.org`,
    roles: ['stytch_admin'],
  });
  const member = await addMember(client, organization);
  return { organization, admin: admin.member, member, suffix };
}

/** Another plain member of `organization`, with an external id. */
export async function addMember(client: B2BClient, organization: Organization): Promise<Member> {
  const suffix = uniqueSuffix();
  const { member } = await client.organizations.members.create({
    organization_id: organization.organization_id,
    email_address: `ann-${suffix}@example.org`,
    external_id: `member-ext-${suffix}`,
  });
  return member;
}

/** The refusal's audit record: exactly one event written by that request, of `type`, saying why. */
export async function expectRefusalAudited(
  server: TestServer,
  requestId: string,
  expected: { type: 'impersonation.mint_refused' | 'impersonation.redemption_refused'; errorType: string; why?: string },
): Promise<WireAuditEvent> {
  const event = await auditEventOf(server, requestId);
  expect(event.type).toBe(expected.type);
  expect(event.details.error_type).toBe(expected.errorType);
  if (expected.why !== undefined) expect(event.details.why).toBe(expected.why);
  return event;
}

/** Neither sessions.get nor the impersonation ledger shows a session of `member` (which must still exist). */
export async function expectNoSessionOf(server: TestServer, member: Member): Promise<void> {
  const { member_sessions } = await server.client.sessions.get({ organization_id: member.organization_id, member_id: member.member_id });
  expect(member_sessions).toEqual([]);
  expect(await activeImpersonations(server, { organization_id: member.organization_id, member_id: member.member_id })).toEqual([]);
}
