import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  auditEvents,
  createImpersonationCast,
  expectErrorResponse,
  expectRefusalAudited,
  type ImpersonationCast,
  type MintedToken,
  mintBody,
  mintRaw,
  mintToken,
  policyPath,
} from '../../support/impersonation.js';
import { executeSql, numbersUpTo, sqlText } from '../../support/database-access.js';
import { STORES } from '../../support/stores.js';
import { startTestServer, type TestServer } from '../../support/test-server.js';
import { uniqueSuffix } from '../../support/wire-formats.js';

/**
 * What a mint checks when it mints, over HTTP: the redirect URL in force obeys today's rule even
 * when it was stored before the rule, the URL handed out is the one of the policy the token was
 * minted under, a bogus member-session header is refused audited like every other refusal, and
 * filtering the audit trail by an address that was minted under any number of ids still works.
 */
const ROUNDS = 25;


for (const store of STORES) {
  describe(`mint checks (${store.name})`, () => {
    let server: TestServer;
    let cast: ImpersonationCast;

    beforeAll(async () => {
      server = await startTestServer({ store: store.name });
      cast = await createImpersonationCast(server.client);
    });
    afterAll(async () => server?.stop());

    it.each([
      ['an http:// URL', 'http://support.example/impersonate'],
      ['a user:password@ URL', 'https://admin:hunter2@support.example/impersonate'],
    ])('a redirect URL stored before the https-only rule (%s) refuses the mint: 400 invalid_impersonation_redirect_url, audited, no token', async (_, url) => {
      const other = await createImpersonationCast(server.client);
      const organizationId = other.organization.organization_id;
      await executeSql(
        server,
        `insert into impersonation_policies (organization_id, enabled, redirect_url, updated_at) values (${sqlText(organizationId)}, 1, ${sqlText(url)}, '2025-01-01T00:00:00Z')`,
      );
      const refused = await mintRaw(server, mintBody({ organizationId, memberId: other.member.member_id }));
      expectErrorResponse(refused, 400, 'invalid_impersonation_redirect_url');
      expect(refused.body.error_message).toMatch(/impersonation_redirect_url/);
      expect(JSON.stringify(refused.body)).not.toContain('hunter2');
      const event = await expectRefusalAudited(server, refused.body.request_id as string, { type: 'impersonation.mint_refused', errorType: 'invalid_impersonation_redirect_url' });
      expect(event).toMatchObject({ organization_id: organizationId, member_id: other.member.member_id });
      expect((await auditEvents(server, { organization_id: organizationId })).filter((found) => found.type === 'impersonation.token_minted')).toEqual([]);

      // Updating the URL through the API is the way out.
      const updated = await server.fetch(policyPath(organizationId), { method: 'PUT', json: { impersonation_redirect_url: 'https://support.example/impersonate' } });
      expect(updated.status, JSON.stringify(updated.body)).toBe(200);
      const minted = await mintToken(server, { organizationId, memberId: other.member.member_id });
      expect(minted.impersonation_url).toMatch(/^https:\/\/support\.example\/impersonate\?stytch_token_type=multi_tenant_impersonation&token=/);
    });

    it(`impersonation_url is built from the policy the token was minted under, also when the URL changes during the mint (${ROUNDS} rounds)`, async () => {
      const organizationId = cast.organization.organization_id;
      for (let round = 0; round < ROUNDS; round += 1) {
        const [before, after] = [`https://before-${round}.example/go`, `https://after-${round}.example/go`];
        expect((await server.fetch(policyPath(organizationId), { method: 'PUT', json: { impersonation_redirect_url: before } })).status).toBe(200);
        const responses = await Promise.all([
          mintRaw(server, mintBody({ organizationId, memberId: cast.member.member_id })),
          mintRaw(server, mintBody({ organizationId, memberId: cast.admin.member_id })),
          server.fetch(policyPath(organizationId), { method: 'PUT', json: { impersonation_redirect_url: after } }),
          mintRaw(server, mintBody({ organizationId, memberId: cast.member.member_id })),
        ]);
        for (const response of responses) expect(response.status, `round ${round}: ${JSON.stringify(response.body)}`).toBe(200);
        const change = responses[2]?.body.request_id;
        const trail = await auditEvents(server, { organization_id: organizationId });
        const changedAt = trail.findIndex((event) => event.request_id === change && event.type === 'impersonation.policy_updated');
        expect(changedAt, `round ${round}`).toBeGreaterThanOrEqual(0);
        for (const minted of [responses[0], responses[1], responses[3]].map((response) => response?.body as unknown as MintedToken)) {
          const mintedAt = trail.findIndex((event) => event.type === 'impersonation.token_minted' && event.details.token_id === minted.token_id);
          const expected = mintedAt > changedAt ? after : before;
          expect(minted.impersonation_url?.startsWith(`${expected}?`), `round ${round}: ${minted.impersonation_url} minted ${mintedAt > changedAt ? 'after' : 'before'} the change`).toBe(true);
        }
      }
      await server.fetch(policyPath(organizationId), { method: 'PUT', json: { impersonation_redirect_url: null } });
    });

    it.each([
      ['X-Stytch-Member-Session', 'bogus-session-token'],
      ['X-Stytch-Member-SessionJWT', 'not.a.jwt'],
    ])('a mint whose %s names no live session is refused with that error and audited', async (header, value) => {
      const refused = await mintRaw(server, mintBody({ organizationId: cast.organization.organization_id, memberId: cast.member.member_id }), { [header]: value });
      expect(refused.status, JSON.stringify(refused.body)).toBeGreaterThanOrEqual(400);
      expect(refused.status).toBeLessThan(500);
      const errorType = refused.body.error_type as string;
      expect(errorType).not.toBe('internal_server_error');
      const event = await expectRefusalAudited(server, refused.body.request_id as string, { type: 'impersonation.mint_refused', errorType });
      expect(event).toMatchObject({ organization_id: cast.organization.organization_id, member_id: cast.member.member_id });
    });

    it('a bogus X-Stytch-Member-Session on a mint is 404 session_not_found, as on every other route', async () => {
      const refused = await mintRaw(server, mintBody({ organizationId: cast.organization.organization_id, memberId: cast.member.member_id }), { 'X-Stytch-Member-Session': 'bogus-session-token' });
      expectErrorResponse(refused, 404, 'session_not_found');
    });

    it('filters the audit trail by an address minted under more ids than a statement may carry parameters', async () => {
      const address = `bulk-${uniqueSuffix()}@support.example`;
      const count = 66_000;
      const tokenColumns = `token_id, token_lookup_id, token_digest, organization_id, member_id, impersonator_id, impersonator_email_address, reason, created_at, expires_at, member_email_address`;
      const { prefix, from, i } = numbersUpTo(server, count);
      const values = `'imp-bulk-' || ${i}, 'bulk-' || ${sqlText(address)} || ${i}, 'x', ${sqlText(cast.organization.organization_id)}, ${sqlText(cast.member.member_id)}, 'legacy-' || ${i}, ${sqlText(address)}, 'bulk', '2025-01-01T00:00:00Z', '2025-01-01T00:05:00Z', ''`;
      await executeSql(server, `${prefix}insert into impersonation_tokens (${tokenColumns}) select ${values} ${from}`);
      const minted = await mintToken(server, { organizationId: cast.organization.organization_id, memberId: cast.member.member_id, impersonatorId: 'legacy-7', impersonatorEmailAddress: 'someone-else@support.example' });
      const response = await server.fetch(`/v1/b2b/impersonation/audit?impersonator_id=${encodeURIComponent(address)}&limit=100`);
      expect(response.status, JSON.stringify(response.body)).toBe(200);
      const events = response.body.events as { type: string; impersonator_id: string; details: { token_id?: string } }[];
      expect(events.map((event) => [event.type, event.impersonator_id, event.details.token_id])).toEqual([['impersonation.token_minted', 'legacy-7', minted.token_id]]);
    });
  });
}
