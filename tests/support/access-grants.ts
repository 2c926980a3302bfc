import { expect } from 'vitest';
import { changedTables, openDatabaseProbe } from '../reliability/support/table-snapshot.js';
import { policyPath, type RawResponse } from './impersonation.js';
import type { TestServer } from './test-server.js';

/**
 * Raw HTTP calls to the access-grant extension and the access mode (docs/impersonation.md, "Access
 * windows"), which the official SDK does not know, with or without member-session headers.
 */
export const ACCESS_GRANTS = '/v1/b2b/impersonation/access_grants';

export type AccessMode = 'open' | 'by_grant' | 'off';
export type GrantAction = 'approve' | 'deny' | 'revoke';

export interface WireActor {
  readonly type: 'member' | 'project' | 'operator' | 'cli' | 'system';
  readonly member_id?: string;
  readonly member_session_id?: string;
  readonly operator_id?: string;
  readonly email_address?: string;
}

export interface WireAccessGrant {
  readonly grant_id: string;
  readonly organization_id: string;
  readonly status: 'requested' | 'open' | 'expired' | 'denied' | 'revoked';
  readonly member_ids: string[] | null;
  readonly duration_minutes: number;
  readonly reason: string;
  readonly requested_by: WireActor;
  readonly requested_at: string;
  readonly opened_by: WireActor | null;
  readonly opened_at: string | null;
  readonly expires_at: string | null;
  readonly closed_by: WireActor | null;
  readonly closed_at: string | null;
}

/** The member-session header naming a session (its token). */
export function asMember(session: { readonly sessionToken: string }): Record<string, string> {
  return { 'X-Stytch-Member-Session': session.sessionToken };
}

/** POST /v1/b2b/impersonation/access_grants with any body. */
export function createGrantRaw(server: TestServer, body: Record<string, unknown>, headers: Record<string, string> = {}): Promise<RawResponse> {
  return server.fetch(ACCESS_GRANTS, { method: 'POST', json: body, headers });
}

/** Creates a grant and expects it to succeed; answers the grant. */
export async function createGrant(server: TestServer, body: Record<string, unknown>, headers: Record<string, string> = {}): Promise<WireAccessGrant & { request_id: string }> {
  const response = await createGrantRaw(server, body, headers);
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  return { ...(response.body.access_grant as WireAccessGrant), request_id: response.body.request_id as string };
}

/** POST …/access_grants/{grant_id}/approve|deny|revoke. */
export function grantActionRaw(server: TestServer, grantId: string, action: GrantAction, headers: Record<string, string> = {}): Promise<RawResponse> {
  return server.fetch(`${ACCESS_GRANTS}/${encodeURIComponent(grantId)}/${action}`, { method: 'POST', headers });
}

export async function grantAction(server: TestServer, grantId: string, action: GrantAction, headers: Record<string, string> = {}): Promise<WireAccessGrant & { request_id: string }> {
  const response = await grantActionRaw(server, grantId, action, headers);
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  return { ...(response.body.access_grant as WireAccessGrant), request_id: response.body.request_id as string };
}

/** GET …/access_grants with the query given. */
export function listGrantsRaw(server: TestServer, query: Record<string, string>, headers: Record<string, string> = {}): Promise<RawResponse> {
  return server.fetch(`${ACCESS_GRANTS}?${new URLSearchParams(query).toString()}`, { headers });
}

export async function listGrants(server: TestServer, query: Record<string, string>, headers: Record<string, string> = {}): Promise<WireAccessGrant[]> {
  const response = await listGrantsRaw(server, query, headers);
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  return response.body.access_grants as WireAccessGrant[];
}

/** PUT the organization's policy with the project's credentials, expecting 200. */
export async function setPolicy(server: TestServer, organizationId: string, body: Record<string, unknown>, headers: Record<string, string> = {}): Promise<RawResponse> {
  const response = await server.fetch(policyPath(organizationId), { method: 'PUT', json: body, headers });
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  return response;
}

/**
 * Runs `call` and checks it wrote nothing but refusal audit records (impersonation.mint_refused,
 * impersonation.redemption_refused): `refusals` of them.
 */
export async function expectOnlyRefusalsWritten(server: TestServer, refusals: number, call: () => Promise<unknown>): Promise<void> {
  const probe = await openDatabaseProbe(server);
  try {
    const before = await probe.snapshot();
    await call();
    const after = await probe.snapshot();
    // The rows that follow an audit record (its chain's head, the webhook outbox) are left out of
    // every snapshot (table-snapshot.ts); audit_events is compared just below.
    expect(changedTables(before, after).filter((table) => table !== 'audit_events')).toEqual([]);
    // Audit events other than refusals are hashed: none may have been added.
    expect(after.tables.get('audit_events')).toEqual(before.tables.get('audit_events'));
    expect(after.refusals - before.refusals).toBe(refusals);
  } finally {
    await probe.close();
  }
}
