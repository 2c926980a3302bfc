import type { B2BClient, Member } from 'stytch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock, toTimestamp } from '../../../src/platform/clock.js';
import {
  AUDIT,
  addMember,
  auditEvents,
  auditPage,
  createImpersonationCast,
  expectErrorResponse,
  type ImpersonationCast,
  impersonate,
  mintToken,
  REASON,
  REVOKE_IMPERSONATIONS,
  type WireAuditEvent,
} from '../../support/impersonation.js';
import { expectStytchRejection } from '../../support/openapi.js';
import { STORES } from '../../support/stores.js';
import { startTestServer, type TestServer } from '../../support/test-server.js';
import { uniqueSuffix } from '../../support/wire-formats.js';

/**
 * The impersonation audit trail (docs/impersonation.md, "The audit trail"): a scripted scenario read
 * back complete and in order, as JSON pages and as NDJSON, with its filters and cursor pagination.
 * One minute passes between the scenario's steps (ManualClock) so since/until can split it exactly.
 */
const START = '2026-03-01T09:00:00Z';
const CONSOLE = { 'user-agent': 'support-console/1.0' };
const SDK_USER_AGENT = /^Stytch Node v\d+\.\d+\.\d+/;

function at(minutes: number): string {
  return toTimestamp(new Date(Date.parse(START) + minutes * 60_000));
}

async function ndjson(server: TestServer, query: string, headers: Record<string, string> = {}) {
  const response = await fetch(`${server.baseUrl}${AUDIT}?${query}`, {
    headers: { authorization: `Basic ${Buffer.from(`${server.projectId}:${server.secret}`).toString('base64')}`, ...headers },
  });
  const text = await response.text();
  return { status: response.status, contentType: response.headers.get('content-type'), text };
}

for (const store of STORES) {
  describe(`GET /v1/b2b/impersonation/audit (${store.name})`, () => {
    let server: TestServer;
    let client: B2BClient;
    let clock: ManualClock;
    let cast: ImpersonationCast;
    let member: Member;
    const impersonator = `support-${uniqueSuffix()}`;
    /** The request id of each scenario step, in order. */
    const requestIds: string[] = [];
    let scenario: WireAuditEvent[];

    beforeAll(async () => {
      clock = new ManualClock(START);
      server = await startTestServer({ store: store.name, clock });
      client = server.client;
      cast = await createImpersonationCast(client);
      member = await addMember(client, cast.organization);
      await runScenario();
      scenario = await auditEvents(server, { organization_id: cast.organization.organization_id, impersonator_id: impersonator });
    });
    afterAll(async () => server?.stop());

    /** Mint, redeem, use, revoke, and a refused reuse, a minute apart; then unrelated traffic. */
    async function runScenario(): Promise<void> {
      const minted = await mintToken(server, { organizationId: member.organization_id, memberId: member.member_id, impersonatorId: impersonator, headers: CONSOLE });
      requestIds.push(minted.request_id);
      clock.advance(60_000);
      const redeemed = await client.impersonation.authenticate({ impersonation_token: minted.impersonation_token });
      requestIds.push(redeemed.request_id);
      await client.sessions.authenticate({ session_token: redeemed.session_token });
      clock.advance(60_000);
      const revoked = await server.fetch(REVOKE_IMPERSONATIONS, {
        method: 'POST',
        json: { member_session_id: redeemed.member_session?.member_session_id },
        headers: CONSOLE,
      });
      expect(revoked.status, JSON.stringify(revoked.body)).toBe(200);
      requestIds.push(revoked.body.request_id as string);
      clock.advance(60_000);
      const refused = await expectStytchRejection(client.impersonation.authenticate({ impersonation_token: minted.impersonation_token }), {
        status: 401,
        errorType: 'unable_to_auth_impersonation_token',
      });
      requestIds.push(refused.request_id as string);
      clock.advance(60_000);
      // The same impersonator elsewhere, and someone else on the same member: filters must tell them apart.
      const elsewhere = await createImpersonationCast(client);
      await impersonate(server, elsewhere.member, { impersonatorId: impersonator });
      await impersonate(server, member, { impersonatorId: `support-${uniqueSuffix()}` });
    }

    it('reads back the scenario complete and in order, each event with time, request id, who, where, client and reason', async () => {
      expect(scenario.map((event) => event.type)).toEqual([
        'impersonation.token_minted',
        'impersonation.token_redeemed',
        'impersonation.session_revoked',
        'impersonation.redemption_refused',
      ]);
      expect(scenario.map((event) => event.request_id)).toEqual(requestIds);
      expect(scenario.map((event) => event.occurred_at)).toEqual([at(0), at(1), at(2), at(3)]);
      for (const event of scenario) {
        expect(event).toMatchObject({
          impersonator_id: impersonator,
          organization_id: member.organization_id,
          member_id: member.member_id,
          client_ip: '127.0.0.1',
          details: expect.objectContaining({ reason: REASON }),
        });
      }
      const [minted, redeemed, revoked, refused] = scenario;
      expect(minted?.user_agent).toBe('support-console/1.0');
      expect(redeemed?.user_agent).toMatch(SDK_USER_AGENT);
      expect(revoked?.user_agent).toBe('support-console/1.0');
      expect(refused?.user_agent).toMatch(SDK_USER_AGENT);
      expect(refused?.details).toMatchObject({ error_type: 'unable_to_auth_impersonation_token', why: 'already_used' });
      expect(redeemed?.details.member_session_id).toBe(revoked?.details.member_session_id);
    });

    it('exports the same events as NDJSON with format=ndjson and with Accept: application/x-ndjson', async () => {
      const query = `organization_id=${member.organization_id}&impersonator_id=${impersonator}`;
      for (const exported of [await ndjson(server, `${query}&format=ndjson`), await ndjson(server, query, { accept: 'application/x-ndjson' })]) {
        expect(exported.status).toBe(200);
        expect(exported.contentType).toMatch(/^application\/x-ndjson/);
        expect(exported.text.endsWith('\n')).toBe(true);
        const lines = exported.text.trimEnd().split('\n');
        expect(lines).toHaveLength(scenario.length);
        expect(lines.map((line) => JSON.parse(line))).toEqual(scenario);
      }
      const everything = await ndjson(server, 'format=ndjson');
      expect(everything.text.trimEnd().split('\n').map((line) => JSON.parse(line))).toEqual(await auditEvents(server));
    });

    it('filters by organization_id, member_id and impersonator_id, alone and together', async () => {
      const byImpersonator = await auditEvents(server, { impersonator_id: impersonator });
      expect(byImpersonator.slice(0, 4)).toEqual(scenario);
      expect(byImpersonator.map((event) => event.type).slice(4)).toEqual(['impersonation.token_minted', 'impersonation.token_redeemed']);
      expect(new Set(byImpersonator.slice(4).map((event) => event.organization_id))).not.toContain(member.organization_id);
      const byMember = await auditEvents(server, { member_id: member.member_id });
      expect(byMember.slice(0, 4)).toEqual(scenario);
      expect(byMember.slice(4).map((event) => event.impersonator_id)).toEqual([expect.not.stringMatching(impersonator), expect.not.stringMatching(impersonator)]);
      const byOrganization = await auditEvents(server, { organization_id: cast.organization.organization_slug });
      for (const event of byOrganization) expect(event.organization_id).toBe(cast.organization.organization_id);
      expect(byOrganization).toEqual(byMember);
      expect(await auditEvents(server, { organization_id: member.organization_id, member_id: member.member_id, impersonator_id: impersonator })).toEqual(scenario);
    });

    it('since is inclusive and until exclusive: since minute 1, until minute 3 gives the redemption and the revocation', async () => {
      const window = await auditEvents(server, { impersonator_id: impersonator, organization_id: member.organization_id, since: at(1), until: at(3) });
      expect(window.map((event) => event.type)).toEqual(['impersonation.token_redeemed', 'impersonation.session_revoked']);
      expect(await auditEvents(server, { impersonator_id: impersonator, since: at(10) })).toEqual([]);
    });

    it('limit 2 pages through the trail by next_cursor until null, every event exactly once and in order', async () => {
      for (const filter of [{ impersonator_id: impersonator }, {}]) {
        const all = await auditEvents(server, filter);
        const seen: WireAuditEvent[] = [];
        let cursor: string | undefined;
        let pages = 0;
        do {
          const page = await auditPage(server, { ...filter, limit: '2', cursor });
          expect(page.status, JSON.stringify(page.body)).toBe(200);
          const events = page.body.events as WireAuditEvent[];
          expect(events.length).toBeLessThanOrEqual(2);
          seen.push(...events);
          cursor = (page.body.next_cursor as string | null) ?? undefined;
          pages += 1;
        } while (cursor !== undefined && pages < 100);
        expect(cursor).toBeUndefined();
        expect(seen).toEqual(all);
        expect(new Set(seen.map((event) => event.event_id)).size).toBe(all.length);
        expect(pages).toBe(Math.max(1, Math.ceil(all.length / 2)));
      }
      expect((await auditPage(server, { impersonator_id: impersonator, limit: '2' })).body.events).toEqual(scenario.slice(0, 2));
    });

    it('a bad cursor is invalid_cursor (400); a bad since or until is bad_request (400); limit 0 is invalid_limit (400)', async () => {
      expectErrorResponse(await auditPage(server, { cursor: 'not-a-cursor' }), 400, 'invalid_cursor');
      expectErrorResponse(await auditPage(server, { cursor: Buffer.from('audit-event-test-nope').toString('base64url') }), 400, 'invalid_cursor');
      expectErrorResponse(await auditPage(server, { since: 'yesterday' }), 400, 'bad_request');
      expectErrorResponse(await auditPage(server, { until: '2026-03-01' }), 400, 'bad_request');
      expectErrorResponse(await auditPage(server, { limit: '0' }), 400, 'invalid_limit');
    });
  });
}
