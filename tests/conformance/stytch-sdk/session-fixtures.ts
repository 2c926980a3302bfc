import { decodeJwt, decodeProtectedHeader, type JWTPayload, type ProtectedHeaderParameters } from 'jose';
import type { B2BClient, Member, MemberSession, Organization } from 'stytch';
import { expect } from 'vitest';
import { expectToMatchResponseSchema } from '../../support/openapi.js';
import { startTestSession } from '../../support/sessions.js';
import type { TestServer } from '../../support/test-server.js';
import { expectTimestamp, uniqueSuffix } from '../../support/wire-formats.js';

/** Shared setup of the session, JWT and RBAC conformance suites. */
export const AUTHENTICATE = '/v1/b2b/sessions/authenticate';
export const SESSIONS = '/v1/b2b/sessions';
export const REVOKE = '/v1/b2b/sessions/revoke';
export const JWKS = '/v1/b2b/sessions/jwks/{project_id}';
export const RBAC_POLICY = '/v1/b2b/rbac/policy';
export const RBAC_ORG_POLICY = '/v1/b2b/rbac/organizations/{organization_id}';

export const SESSION_CLAIM = 'https://stytch.com/session';
export const ORGANIZATION_CLAIM = 'https://stytch.com/organization';
export const SESSION_NOT_FOUND = { status: 404, errorType: 'session_not_found' } as const;
export const UNPARSABLE_JWT = { status: 401, errorType: 'unable_to_parse_session_jwt' } as const;

export interface Cast {
  readonly organization: Organization;
  /** Holds stytch_admin by direct assignment. */
  readonly admin: Member;
  /** Holds only the implicit stytch_member. */
  readonly member: Member;
}

/** A fresh organization with one admin and one plain member, created through the SDK. */
export async function createCast(client: B2BClient): Promise<Cast> {
  const suffix = uniqueSuffix();
  const { organization } = await client.organizations.create({ organization_name: `Sessions ${suffix}`, organization_slug: `sessions-${suffix}` });
  const admin = await client.organizations.members.create({
    organization_id: organization.organization_id,
    email_address: `admin-${suffix}@example.org`,
    roles: ['stytch_admin'],
  });
  const member = await client.organizations.members.create({ organization_id: organization.organization_id, email_address: `member-${suffix}@example.org` });
  return { organization, admin: admin.member, member: member.member };
}

/** Starts a session for `member` (see tests/support/sessions.ts). */
export function startSession(
  server: TestServer,
  member: Member,
  options: Omit<Parameters<typeof startTestSession>[1], 'organizationId' | 'memberId'> = {},
): ReturnType<typeof startTestSession> {
  return startTestSession(server, { organizationId: member.organization_id, memberId: member.member_id, ...options });
}

/** Authenticates by token through the SDK and checks the answer against the OpenAPI document. */
export async function authenticateToken(client: B2BClient, sessionToken: string) {
  const response = await client.sessions.authenticate({ session_token: sessionToken });
  expectToMatchResponseSchema('post', AUTHENTICATE, response);
  return response;
}

/** The member's live sessions as sessions.get lists them, checked against the OpenAPI document. */
export async function liveSessions(client: B2BClient, member: Member): Promise<MemberSession[]> {
  const response = await client.sessions.get({ organization_id: member.organization_id, member_id: member.member_id });
  expectToMatchResponseSchema('get', SESSIONS, response);
  return response.member_sessions;
}

export function decodeSessionJwt(jwt: string): { header: ProtectedHeaderParameters; payload: JWTPayload & Record<string, unknown> } {
  return { header: decodeProtectedHeader(jwt), payload: decodeJwt(jwt) as JWTPayload & Record<string, unknown> };
}

/** `now + minutes` as the server writes it: RFC 3339 UTC, whole seconds. */
export function minutesFrom(now: Date, minutes: number): string {
  return new Date(now.getTime() + minutes * 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Asserts an RFC 3339 timestamp lies within `toleranceMs` of `expectedMs`. */
export function expectNear(value: unknown, expectedMs: number, toleranceMs = 5_000): void {
  expect(Math.abs(expectTimestamp(value) - expectedMs)).toBeLessThanOrEqual(toleranceMs);
}
