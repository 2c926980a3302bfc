import type { B2BClient, Member, Organization } from 'stytch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock, toTimestamp } from '../../../src/platform/clock.js';
import {
  AUDIT,
  auditEventOf,
  auditEvents,
  expectErrorResponse,
  IMPERSONATOR,
  impersonate,
  mintToken,
  REVOKE_IMPERSONATIONS,
  type RawResponse,
  type WireAuditEvent,
} from '../../support/impersonation.js';
import { type AuthorizationForm, openWriteProbe, type StartedSession, type WriteProbe } from '../../support/member-session-cast.js';
import { startTestSession } from '../../support/sessions.js';
import { changedTables, type DatabaseProbe, openDatabaseProbe } from '../../reliability/support/table-snapshot.js';
import { STORES } from '../../support/stores.js';
import { startTestServer, type TestServer } from '../../support/test-server.js';
import { uniqueSuffix } from '../../support/wire-formats.js';

/**
 * Member-visible history (docs/impersonation.md, "Member-visible history"), driven over HTTP as a
 * customer's backend calls it with the member's session: each member's own impersonations
 * (`GET /v1/b2b/impersonation/history`), and an organization admin's reading and export of their
 * organization's trail (`GET /v1/b2b/impersonation/audit` with member-session headers).
 */
const HISTORY = '/v1/b2b/impersonation/history';
const TOKENS_REVOKE = '/v1/b2b/impersonation/tokens/revoke';
const START = '2026-04-01T09:00:00Z';
const MINUTE = 60_000;

interface WireImpersonation {
  readonly token_id: string;
  readonly member_session_id: string | null;
  readonly kind: string;
  readonly impersonator_id: string;
  readonly impersonator_email_address: string;
  readonly reason: string;
  readonly grant_id: string | null;
  readonly permissions: string | string[] | null;
  readonly minted_at: string;
  readonly started_at: string | null;
  readonly expires_at: string;
  readonly ended_at: string | null;
  readonly end_reason: string | null;
}

/** The member-session header of one form, as the SDK's `options.authorization` sends it. */
function sessionHeaders(session: StartedSession, form: AuthorizationForm = 'session_token'): Record<string, string> {
  return form === 'session_token' ? { 'x-stytch-member-session': session.sessionToken } : { 'x-stytch-member-sessionjwt': session.sessionJwt };
}

/** Where recording one audit event writes: the event, its chain's head, the webhook outbox. */
const AUDIT_TABLES = ['audit_events', 'audit_chain_heads', 'webhook_outbox'];

/** A week: the suite moves its clock past an hour, and its members' sessions must outlast that. */
const SESSION_MINUTES = 7 * 24 * 60;

for (const store of STORES) {
  describe(`member-visible impersonation history (${store.name})`, () => {
    let server: TestServer;
    let client: B2BClient;
    let clock: ManualClock;
    let probe: WriteProbe;
    let database: DatabaseProbe;
    let acme: Organization;
    let globex: Organization;
    let admin: Member;
    let ann: Member;
    let bob: Member;
    let globexMember: Member;
    const sessions = {} as { admin: StartedSession; ann: StartedSession; bob: StartedSession };

    beforeAll(async () => {
      clock = new ManualClock(START);
      server = await startTestServer({ store: store.name, clock });
      client = server.client;
      const suffix = uniqueSuffix();
      acme = (await client.organizations.create({ organization_name: `Acme ${suffix}`, organization_slug: `acme-${suffix}` })).organization;
      globex = (await client.organizations.create({ organization_name: `Globex ${suffix}`, organization_slug: `globex-${suffix}` })).organization;
      const add = async (organization: Organization, local: string, roles: string[] = []) =>
        (await client.organizations.members.create({ organization_id: organization.organization_id, email_address: `${local}-${suffix}@example.org`, roles })).member;
      admin = await add(acme, 'admin', ['stytch_admin']);
      ann = await add(acme, 'ann');
      bob = await add(acme, 'bob');
      globexMember = await add(globex, 'gil');
      const signIn = (member: Member) => startTestSession(server, { organizationId: member.organization_id, memberId: member.member_id, durationMinutes: SESSION_MINUTES });
      sessions.admin = await signIn(admin);
      sessions.ann = await signIn(ann);
      sessions.bob = await signIn(bob);
      probe = await openWriteProbe(server);
      database = await openDatabaseProbe(server);
    });
    afterAll(async () => {
      await probe?.close();
      await database?.close();
      await server?.stop();
    });

    /**
     * The session with a JWT signed now: session JWTs last 5 minutes and the suite moves its clock.
     * Called before a write probe starts, as sessions.authenticate may note the session's use.
     */
    async function current(session: StartedSession): Promise<StartedSession> {
      const { session_jwt } = await client.sessions.authenticate({ session_token: session.sessionToken });
      return { ...session, sessionJwt: session_jwt };
    }

    /** A refused call of an impersonated session: its one record on the trail (impersonation.session_acted) is all it writes. */
    async function expectOnlyTheAttemptRecorded(call: () => Promise<unknown>): Promise<void> {
      const before = await database.snapshot();
      const typesBefore = await database.values('audit_events', 'type');
      await call();
      const after = await database.snapshot();
      const typesAfter = await database.values('audit_events', 'type');
      expect(typesAfter.length - typesBefore.length).toBe(1);
      expect(typesAfter.filter((type) => type === 'impersonation.session_acted').length).toBe(typesBefore.filter((type) => type === 'impersonation.session_acted').length + 1);
      expect(changedTables(before, after).filter((table) => !AUDIT_TABLES.includes(table))).toEqual([]);
    }

    function history(session: StartedSession | undefined, query = '', form: AuthorizationForm = 'session_token'): Promise<RawResponse> {
      return server.fetch(`${HISTORY}${query}`, { headers: session === undefined ? {} : sessionHeaders(session, form) });
    }

    async function historyOf(session: StartedSession, form: AuthorizationForm = 'session_token'): Promise<WireImpersonation[]> {
      const response = await history(form === 'session_jwt' ? await current(session) : session, '', form);
      expect(response.status, JSON.stringify(response.body)).toBe(200);
      return response.body.impersonations as WireImpersonation[];
    }

    function entryOf(entries: readonly WireImpersonation[], tokenId: string): WireImpersonation {
      const entry = entries.find((candidate) => candidate.token_id === tokenId);
      expect(entry, `history entry of ${tokenId}`).toBeDefined();
      return entry as WireImpersonation;
    }

    describe('GET /v1/b2b/impersonation/history', () => {
      let annTokens: string[];
      let bobToken: string;

      beforeAll(async () => {
        annTokens = [];
        for (const reason of ['Ticket 1: invoices', 'Ticket 2: exports']) {
          annTokens.push((await mintToken(server, { organizationId: acme.organization_id, memberId: ann.member_id, reason })).token_id);
          clock.advance(MINUTE);
        }
        bobToken = (await mintToken(server, { organizationId: acme.organization_id, memberId: bob.member_id, reason: 'Ticket 3: bob' })).token_id;
        clock.advance(MINUTE);
      });

      for (const form of ['session_token', 'session_jwt'] as const) {
        it(`a member sees their own impersonations only, newest first (${form} header)`, async () => {
          const annSees = await historyOf(sessions.ann, form);
          expect(annSees.map((entry) => entry.token_id)).toEqual([...annTokens].reverse());
          expect(annSees.map((entry) => entry.reason)).toEqual(['Ticket 2: exports', 'Ticket 1: invoices']);
          const bobSees = await historyOf(sessions.bob, form);
          expect(bobSees.map((entry) => entry.token_id)).toEqual([bobToken]);
          // The admin was never impersonated: an admin's history is their own too, not the organization's.
          expect(await historyOf(sessions.admin, form)).toEqual([]);
        });
      }

      it('answers an unredeemed token as minted, with every field, and never the token itself', async () => {
        const response = await history(sessions.bob);
        expect(Object.keys(response.body).sort()).toEqual(['impersonations', 'next_cursor', 'request_id', 'status_code']);
        expect(response.body.next_cursor).toBeNull();
        const [entry] = response.body.impersonations as WireImpersonation[];
        expect(entry).toEqual({
          token_id: bobToken,
          member_session_id: null,
          kind: 'support',
          impersonator_id: IMPERSONATOR.id,
          impersonator_email_address: IMPERSONATOR.emailAddress,
          reason: 'Ticket 3: bob',
          grant_id: null,
          permissions: null,
          minted_at: toTimestamp(new Date(Date.parse(START) + 2 * MINUTE)),
          started_at: null,
          expires_at: toTimestamp(new Date(Date.parse(START) + 7 * MINUTE)),
          ended_at: null,
          end_reason: null,
        });
        expect(JSON.stringify(response.body)).not.toMatch(/impersonation_token|token_digest|token_lookup/);
      });

      it('shows a redemption, then its revocation; a revoked token; a token and a session that ran out', async () => {
        const redeemed = await impersonate(server, ann, { reason: 'Ticket 4: redeemed' });
        const sessionId = redeemed.redeemed.member_session?.member_session_id as string;
        const startedAt = toTimestamp(clock.now());
        let entry = entryOf(await historyOf(sessions.ann), redeemed.minted.token_id);
        expect(entry).toMatchObject({
          member_session_id: sessionId,
          started_at: startedAt,
          expires_at: toTimestamp(new Date(clock.now().getTime() + 60 * MINUTE)),
          ended_at: null,
          end_reason: null,
        });

        clock.advance(MINUTE);
        const revoked = await server.fetch(REVOKE_IMPERSONATIONS, { method: 'POST', json: { member_session_id: sessionId } });
        expect(revoked.status, JSON.stringify(revoked.body)).toBe(200);
        entry = entryOf(await historyOf(sessions.ann), redeemed.minted.token_id);
        expect(entry).toMatchObject({ member_session_id: sessionId, started_at: startedAt, ended_at: toTimestamp(clock.now()), end_reason: 'revoked' });

        const unused = await mintToken(server, { organizationId: ann.organization_id, memberId: ann.member_id, reason: 'Ticket 5: revoked unused' });
        clock.advance(MINUTE);
        const tokenRevoked = await server.fetch(TOKENS_REVOKE, { method: 'POST', json: { token_id: unused.token_id } });
        expect(tokenRevoked.status, JSON.stringify(tokenRevoked.body)).toBe(200);
        entry = entryOf(await historyOf(sessions.ann), unused.token_id);
        expect(entry).toMatchObject({ member_session_id: null, started_at: null, ended_at: toTimestamp(clock.now()), end_reason: 'revoked' });

        const lapsing = await mintToken(server, { organizationId: ann.organization_id, memberId: ann.member_id, reason: 'Ticket 6: never used', expirationMinutes: 1 });
        const running = await impersonate(server, ann, { reason: 'Ticket 7: runs out' });
        expect(entryOf(await historyOf(sessions.ann), lapsing.token_id).end_reason).toBeNull();
        clock.advance(61 * MINUTE);
        const entries = await historyOf(sessions.ann);
        expect(entryOf(entries, lapsing.token_id)).toMatchObject({ started_at: null, ended_at: lapsing.expires_at, end_reason: 'expired' });
        const ranOut = entryOf(entries, running.minted.token_id);
        expect(ranOut).toMatchObject({ member_session_id: running.redeemed.member_session?.member_session_id, end_reason: 'expired' });
        expect(ranOut.ended_at).toBe(ranOut.expires_at);
        // Newest first, whatever happened to each since.
        expect(entries.map((candidate) => candidate.minted_at)).toEqual([...entries.map((candidate) => candidate.minted_at)].sort().reverse());
      });

      it('pages with limit and next_cursor, and refuses a limit outside 1-100 or a cursor it did not issue', async () => {
        const all = await historyOf(sessions.ann);
        expect(all.length).toBeGreaterThanOrEqual(5);
        const seen: string[] = [];
        let cursor: string | null = null;
        do {
          const response = await history(sessions.ann, `?limit=2${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`);
          expect(response.status, JSON.stringify(response.body)).toBe(200);
          const page = response.body.impersonations as WireImpersonation[];
          expect(page.length).toBeLessThanOrEqual(2);
          seen.push(...page.map((entry) => entry.token_id));
          cursor = response.body.next_cursor as string | null;
        } while (cursor !== null);
        expect(seen).toEqual(all.map((entry) => entry.token_id));

        for (const limit of ['0', '101']) expectErrorResponse(await history(sessions.ann, `?limit=${limit}`), 400, 'invalid_limit');
        expectErrorResponse(await history(sessions.ann, '?limit=ten'), 400, 'bad_request');
        expectErrorResponse(await history(sessions.ann, '?cursor=not-a-cursor'), 400, 'invalid_cursor');
      });

      it('refuses a call without member-session headers (400 no_session_arguments) and one naming no live session (404), writing nothing', async () => {
        await probe.expectNothingWritten(async () => {
          const response = await history(undefined);
          expectErrorResponse(response, 400, 'no_session_arguments');
          expect(response.body.error_message).toContain('X-Stytch-Member-Session');
          expectErrorResponse(await server.fetch(HISTORY, { headers: { 'x-stytch-member-session': 'bogus-session-token' } }), 404, 'session_not_found');
        });
      });

      it("refuses an impersonated session (member_impersonation_not_allowed) and puts the attempt on the member's trail", async () => {
        const { redeemed } = await impersonate(server, ann, { impersonatorId: `support-${uniqueSuffix()}`, reason: 'Ticket 8: curious' });
        const impersonated = { sessionToken: redeemed.session_token, sessionJwt: redeemed.session_jwt, memberSessionId: redeemed.member_session?.member_session_id as string };
        for (const form of ['session_token', 'session_jwt'] as const) {
          let response: RawResponse | undefined;
          await expectOnlyTheAttemptRecorded(async () => {
            response = await history(impersonated, '', form);
          });
          const refused = response as RawResponse;
          expectErrorResponse(refused, 403, 'member_impersonation_not_allowed');
          const event = await auditEventOf(server, String(refused.body.request_id), { organization_id: acme.organization_id });
          expect(event).toMatchObject({
            type: 'impersonation.session_acted',
            member_id: ann.member_id,
            details: { operation: 'impersonation.history', outcome: 'refused', error_type: 'member_impersonation_not_allowed', member_session_id: impersonated.memberSessionId },
          });
        }
      });

      it('is not recorded: reading one’s history writes nothing', async () => {
        await probe.expectNothingWritten(async () => {
          expect((await history(sessions.ann)).status).toBe(200);
        });
      });
    });

    describe('GET /v1/b2b/impersonation/audit with member-session headers', () => {
      beforeAll(async () => {
        // Another organization's trail, which acme's admins must never see.
        await impersonate(server, globexMember, { reason: 'Globex ticket' });
      });

      function audit(session: StartedSession, query = '', form: AuthorizationForm = 'session_token', headers: Record<string, string> = {}): Promise<RawResponse> {
        return server.fetch(`${AUDIT}${query}`, { headers: { ...sessionHeaders(session, form), ...headers } });
      }

      for (const form of ['session_token', 'session_jwt'] as const) {
        it(`an admin (stytch_admin) reads their organization's trail only, named or not (${form})`, async () => {
          const everything = await auditEvents(server);
          expect(everything.some((event) => event.organization_id === globex.organization_id)).toBe(true);
          const acmeEvents = everything.filter((event) => event.organization_id === acme.organization_id);
          for (const query of ['?limit=1000', `?limit=1000&organization_id=${acme.organization_id}`, `?limit=1000&organization_id=${acme.organization_slug}`]) {
            const response = await audit(await current(sessions.admin), query, form);
            expect(response.status, JSON.stringify(response.body)).toBe(200);
            const events = response.body.events as WireAuditEvent[];
            expect(events.map((event) => event.event_id)).toEqual(acmeEvents.map((event) => event.event_id));
          }
          // The member filter works within the organization; a member of another one is not found.
          const annOnly = await audit(await current(sessions.admin), `?limit=1000&member_id=${ann.member_id}`, form);
          const annEvents = annOnly.body.events as WireAuditEvent[];
          expect(annEvents.length).toBeGreaterThan(0);
          expect(annEvents.every((event) => event.member_id === ann.member_id)).toBe(true);
          expectErrorResponse(await audit(await current(sessions.admin), `?member_id=${globexMember.member_id}`, form), 404, 'member_not_found');
        });
      }

      it("refuses another organization's trail (session_authorization_tenancy_error) and writes nothing", async () => {
        await probe.expectNothingWritten(async () => {
          for (const organization of [globex.organization_id, globex.organization_slug, 'organization-test-00000000-0000-4000-8000-000000000000']) {
            expectErrorResponse(await audit(sessions.admin, `?organization_id=${organization}`), 403, 'session_authorization_tenancy_error');
            expectErrorResponse(await audit(sessions.admin, `?organization_id=${organization}&format=ndjson`), 403, 'session_authorization_tenancy_error');
          }
        });
      });

      it('refuses a plain member (session_authorization_error naming read-audit), JSON and NDJSON, and writes nothing', async () => {
        await probe.expectNothingWritten(async () => {
          for (const query of ['', '?format=ndjson']) {
            const response = await audit(sessions.ann, query);
            expectErrorResponse(response, 403, 'session_authorization_error');
            expect(response.body.error_message).toContain('understudy.impersonation:read-audit');
          }
        });
      });

      it('refuses an impersonated admin (member_impersonation_not_allowed), on the trail', async () => {
        const { redeemed } = await impersonate(server, admin, { reason: 'Ticket 9: admin' });
        const impersonated = { sessionToken: redeemed.session_token, sessionJwt: redeemed.session_jwt, memberSessionId: redeemed.member_session?.member_session_id as string };
        let response: RawResponse | undefined;
        await expectOnlyTheAttemptRecorded(async () => {
          response = await audit(impersonated, '?format=ndjson');
        });
        const refused = response as RawResponse;
        expectErrorResponse(refused, 403, 'member_impersonation_not_allowed');
        const event = await auditEventOf(server, String(refused.body.request_id), { organization_id: acme.organization_id });
        expect(event.details).toMatchObject({ operation: 'impersonation.audit', outcome: 'refused', error_type: 'member_impersonation_not_allowed' });
      });

      it('records an NDJSON export as impersonation.history_exported, and exports only the organization’s events', async () => {
        const before = await auditEvents(server, { organization_id: acme.organization_id });
        // Reading a JSON page is not recorded.
        expect((await audit(sessions.admin)).status).toBe(200);
        expect(await auditEvents(server, { organization_id: acme.organization_id })).toHaveLength(before.length);

        for (const [query, headers] of [
          [`?format=ndjson&impersonator_id=${IMPERSONATOR.id}`, {}],
          ['', { accept: 'application/x-ndjson' }],
        ] as const) {
          const response = await fetch(`${server.baseUrl}${AUDIT}${query}`, {
            headers: { authorization: `Basic ${Buffer.from(`${server.projectId}:${server.secret}`).toString('base64')}`, ...sessionHeaders(await current(sessions.admin), 'session_jwt'), ...headers },
          });
          expect(response.status).toBe(200);
          expect(response.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
          const lines = (await response.text()).split('\n').filter((line) => line !== '');
          const exported = lines.map((line) => JSON.parse(line) as WireAuditEvent);
          expect(exported.length).toBeGreaterThan(0);
          expect(exported.every((event) => event.organization_id === acme.organization_id)).toBe(true);
          const recorded = (await auditEvents(server, { organization_id: acme.organization_id })).filter((event) => event.type === 'impersonation.history_exported');
          const last = recorded[recorded.length - 1] as WireAuditEvent;
          // Whoever exported it, by member and session.
          expect(JSON.stringify(last.actor)).toContain(admin.member_id);
          expect(JSON.stringify(last.actor)).toContain(sessions.admin.memberSessionId);
          expect(last.member_id).toBeNull();
          expect(last.details).toEqual({
            format: 'ndjson',
            filters: query === '' ? { organization_id: acme.organization_id } : { organization_id: acme.organization_id, impersonator_id: IMPERSONATOR.id },
          });
        }
        // A HEAD sends no events, so it is no export.
        const head = await fetch(`${server.baseUrl}${AUDIT}?format=ndjson`, {
          method: 'HEAD',
          headers: { authorization: `Basic ${Buffer.from(`${server.projectId}:${server.secret}`).toString('base64')}`, ...sessionHeaders(sessions.admin) },
        });
        expect(head.status).toBe(200);
        expect((await auditEvents(server, { organization_id: acme.organization_id })).filter((event) => event.type === 'impersonation.history_exported')).toHaveLength(2);
      });

      it('leaves project-credential reads as they were: every organization, no export recorded', async () => {
        const everything = await auditEvents(server);
        expect(new Set(everything.map((event) => event.organization_id))).toEqual(new Set([acme.organization_id, globex.organization_id]));
        const exportsBefore = everything.filter((event) => event.type === 'impersonation.history_exported').length;
        const response = await fetch(`${server.baseUrl}${AUDIT}?format=ndjson&organization_id=${globex.organization_id}`, {
          headers: { authorization: `Basic ${Buffer.from(`${server.projectId}:${server.secret}`).toString('base64')}` },
        });
        expect(response.status).toBe(200);
        const lines = (await response.text()).split('\n').filter((line) => line !== '');
        expect(lines.length).toBeGreaterThan(0);
        expect((await auditEvents(server)).filter((event) => event.type === 'impersonation.history_exported')).toHaveLength(exportsBefore);
      });
    });
  });
}
