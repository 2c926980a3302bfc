import type { B2BClient } from 'stytch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  auditEventOf,
  createImpersonationCast,
  expectErrorResponse,
  type ImpersonationCast,
  mintToken,
  policyPath,
} from '../../support/impersonation.js';
import { startMemberSession } from '../../support/member-session-cast.js';
import { startTestSession } from '../../support/sessions.js';
import { STORES } from '../../support/stores.js';
import { startTestServer, type TestServer } from '../../support/test-server.js';
import { RFC3339_UTC } from '../../support/wire-formats.js';

/**
 * The per-organization impersonation policy (docs/impersonation.md, "Policy"): what GET shows, how
 * PUT changes it (audited), and who may read it with a member session. Listing and revoking
 * impersonations are in impersonation-sessions-api.test.ts, the audit trail in impersonation-audit.test.ts.
 */
const DEFAULT_POLICY = {
  impersonation_enabled: true,
  access_mode: 'open',
  delegated_impersonation: 'members',
  notify_member: false,
  notify_admins: false,
  chosen_by_organization: false,
  impersonation_redirect_url: null,
  updated_at: null,
  project_impersonation_enabled: true,
  effective_impersonation_enabled: true,
  disabled_by: null,
  effective_impersonation_redirect_url: null,
  status_code: 200,
};

for (const store of STORES) {
  describe(`GET/PUT /v1/b2b/impersonation/policies/{organization_id} (${store.name})`, () => {
    let server: TestServer;
    let client: B2BClient;
    let cast: ImpersonationCast;

    beforeAll(async () => {
      server = await startTestServer({ store: store.name });
      client = server.client;
      cast = await createImpersonationCast(client);
    });
    afterAll(async () => server?.stop());

    it('GET shows the defaults of an untouched organization, by id, slug or external id', async () => {
      const { organization } = cast;
      for (const reference of [organization.organization_id, organization.organization_slug, organization.organization_external_id as string]) {
        const response = await server.fetch(policyPath(reference));
        expect(response.status, JSON.stringify(response.body)).toBe(200);
        expect(response.body).toEqual({ request_id: expect.any(String), organization_id: organization.organization_id, ...DEFAULT_POLICY });
      }
    });

    it('PUT disables it and sets a redirect URL; GET then shows the change and disabled_by organization; the change is audited', async () => {
      const { organization } = await createImpersonationCast(client);
      const url = 'https://acme.example.com/impersonate?from=support';
      const put = await server.fetch(policyPath(organization.organization_id), {
        method: 'PUT',
        json: { impersonation_enabled: false, impersonation_redirect_url: url },
        headers: { 'user-agent': 'support-console/1.0' },
      });
      expect(put.status, JSON.stringify(put.body)).toBe(200);
      const expected = {
        organization_id: organization.organization_id,
        impersonation_enabled: false,
        impersonation_redirect_url: url,
        project_impersonation_enabled: true,
        effective_impersonation_enabled: false,
        disabled_by: 'organization',
        effective_impersonation_redirect_url: url,
      };
      expect(put.body).toMatchObject(expected);
      expect(put.body.updated_at).toMatch(RFC3339_UTC);
      const get = await server.fetch(policyPath(organization.organization_id));
      expect(get.body).toMatchObject({ ...expected, updated_at: put.body.updated_at });
      const event = await auditEventOf(server, put.body.request_id as string);
      expect(event).toMatchObject({
        type: 'impersonation.policy_updated',
        organization_id: organization.organization_id,
        user_agent: 'support-console/1.0',
        details: { enabled: false, redirect_url: url, previous_enabled: true },
      });
    });

    it('PUT with one field keeps the other; impersonation_redirect_url null clears the URL; re-enabling clears disabled_by and allows minting', async () => {
      const { organization, member, admin } = await createImpersonationCast(client);
      const path = policyPath(organization.organization_id);
      await server.fetch(path, { method: 'PUT', json: { impersonation_redirect_url: 'https://a.example.com/x' } });
      const disabled = await server.fetch(path, { method: 'PUT', json: { impersonation_enabled: false } });
      expect(disabled.body).toMatchObject({ impersonation_enabled: false, impersonation_redirect_url: 'https://a.example.com/x' });
      const cleared = await server.fetch(path, { method: 'PUT', json: { impersonation_redirect_url: null } });
      expect(cleared.body).toMatchObject({ impersonation_enabled: false, impersonation_redirect_url: null, effective_impersonation_redirect_url: null });
      // Reopening is the organization's own: its admin's member session (the project's credentials only tighten).
      const adminSession = await startMemberSession(server, admin);
      const enabled = await server.fetch(path, { method: 'PUT', json: { impersonation_enabled: true }, headers: { 'X-Stytch-Member-Session': adminSession.sessionToken } });
      expect(enabled.body).toMatchObject({ impersonation_enabled: true, effective_impersonation_enabled: true, disabled_by: null });
      const minted = await mintToken(server, { organizationId: organization.organization_id, memberId: member.member_id });
      expect(minted.impersonation_url).toBeNull();
    });

    const refusedUrls = [
      'not a url',
      'ftp://files.example.com/x',
      'javascript:alert(1)',
      '/relative/path',
      // The docs promise https://: plain http only for a developer's own machine.
      'http://app.example.com/impersonate',
      'https://user:pass@app.example.com/impersonate',
      'https://user@app.example.com/impersonate',
      'https://app.example.com/\u001b[2Jimpersonate',
    ];
    for (const url of refusedUrls) {
      it(`PUT impersonation_redirect_url ${JSON.stringify(url)}: invalid_impersonation_redirect_url (400), policy unchanged, nothing audited`, async () => {
        const { organization } = await createImpersonationCast(client);
        const response = await server.fetch(policyPath(organization.organization_id), { method: 'PUT', json: { impersonation_redirect_url: url, impersonation_enabled: false } });
        expectErrorResponse(response, 400, 'invalid_impersonation_redirect_url');
        const get = await server.fetch(policyPath(organization.organization_id));
        expect(get.body).toMatchObject({ impersonation_enabled: true, impersonation_redirect_url: null });
        const audit = await server.fetch(`/v1/b2b/impersonation/audit?organization_id=${organization.organization_id}`);
        expect(audit.body.events).toEqual([]);
      });
    }

    for (const url of ['http://localhost:3000/impersonate', 'http://127.0.0.1:3000/impersonate', 'http://[::1]/impersonate']) {
      it(`PUT impersonation_redirect_url ${url} is allowed for development, and links use it`, async () => {
        const { organization, member } = await createImpersonationCast(client);
        const response = await server.fetch(policyPath(organization.organization_id), { method: 'PUT', json: { impersonation_redirect_url: url } });
        expect(response.status, JSON.stringify(response.body)).toBe(200);
        const minted = await mintToken(server, { organizationId: organization.organization_id, memberId: member.member_id });
        expect(minted.impersonation_url?.startsWith(`${url}?stytch_token_type=multi_tenant_impersonation&token=`)).toBe(true);
      });
    }

    it('an unknown organization: organization_not_found (404) for GET and PUT', async () => {
      const path = policyPath('organization-test-00000000-0000-4000-8000-000000000000');
      expectErrorResponse(await server.fetch(path), 404, 'organization_not_found');
      expectErrorResponse(await server.fetch(path, { method: 'PUT', json: { impersonation_enabled: false } }), 404, 'organization_not_found');
    });

    it("the organization's stytch_admin (understudy.support-access:read) may GET it with X-Stytch-Member-Session (or its JWT) beside the project credentials", async () => {
      const session = await startTestSession(server, { organizationId: cast.admin.organization_id, memberId: cast.admin.member_id });
      const byToken = await server.fetch(policyPath(cast.organization.organization_id), { headers: { 'X-Stytch-Member-Session': session.sessionToken } });
      expect(byToken.status, JSON.stringify(byToken.body)).toBe(200);
      expect(byToken.body).toMatchObject({ organization_id: cast.organization.organization_id, effective_impersonation_enabled: true });
      const byJwt = await server.fetch(policyPath(cast.organization.organization_slug), { headers: { 'X-Stytch-Member-SessionJWT': session.sessionJwt } });
      expect(byJwt.status, JSON.stringify(byJwt.body)).toBe(200);
    });

    it('project credentials are still required alongside an admin session: without them, unauthorized_credentials (401)', async () => {
      const session = await startTestSession(server, { organizationId: cast.admin.organization_id, memberId: cast.admin.member_id });
      const response = await server.fetch(policyPath(cast.organization.organization_id), {
        headers: { authorization: 'Basic bm9ib2R5Om5vdGhpbmc=', 'X-Stytch-Member-Session': session.sessionToken },
      });
      expectErrorResponse(response, 401, 'unauthorized_credentials');
    });

    it("a plain member's session (no understudy.support-access:read): session_authorization_error (403)", async () => {
      const session = await startTestSession(server, { organizationId: cast.member.organization_id, memberId: cast.member.member_id });
      const response = await server.fetch(policyPath(cast.organization.organization_id), { headers: { 'X-Stytch-Member-Session': session.sessionToken } });
      expectErrorResponse(response, 403, 'session_authorization_error');
    });

    it("another organization's admin: session_authorization_tenancy_error (403)", async () => {
      const other = await createImpersonationCast(client);
      const session = await startTestSession(server, { organizationId: other.admin.organization_id, memberId: other.admin.member_id });
      const response = await server.fetch(policyPath(cast.organization.organization_id), { headers: { 'X-Stytch-Member-Session': session.sessionToken } });
      expectErrorResponse(response, 403, 'session_authorization_tenancy_error');
    });
  });
}
