import type { B2BClient, Member } from 'stytch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/platform/clock.js';
import {
  activeImpersonations,
  addMember,
  auditEvents,
  createImpersonationCast,
  expectErrorResponse,
  type ImpersonationCast,
  impersonate,
  REVOKE_IMPERSONATIONS,
  type WireAuditEvent,
} from '../../support/impersonation.js';
import { expectStytchRejection } from '../../support/openapi.js';
import { startTestSession } from '../../support/sessions.js';
import { STORES } from '../../support/stores.js';
import { startTestServer, type TestServer } from '../../support/test-server.js';
import { uniqueSuffix } from '../../support/wire-formats.js';

/**
 * Ending impersonations (docs/impersonation.md, "Ending it"): the list of those going on now, the
 * revocation API by each selector, member deletion, and expiry, each end audited as it happens.
 */
const SESSION_NOT_FOUND = { status: 404, errorType: 'session_not_found' } as const;

function idsOf(sessions: readonly { member_session_id: string }[]): string[] {
  return sessions.map((session) => session.member_session_id).sort();
}

for (const store of STORES) {
  describe(`impersonated sessions: list and end (${store.name})`, () => {
    let server: TestServer;
    let client: B2BClient;
    let clock: ManualClock;
    let castA: ImpersonationCast;
    let castB: ImpersonationCast;

    beforeAll(async () => {
      clock = new ManualClock('2026-03-01T09:00:00Z');
      server = await startTestServer({ store: store.name, clock });
      client = server.client;
      [castA, castB] = [await createImpersonationCast(client), await createImpersonationCast(client)];
    });
    afterAll(async () => server?.stop());

    /** Impersonates `member` as `impersonatorId`; answers the session's id and token. */
    async function impersonated(member: Member, impersonatorId: string) {
      const { redeemed } = await impersonate(server, member, { impersonatorId });
      return { id: redeemed.member_session?.member_session_id as string, token: redeemed.session_token };
    }

    function revokedEvents(events: readonly WireAuditEvent[], requestId: string): string[] {
      return events.filter((event) => event.request_id === requestId && event.type === 'impersonation.session_revoked').map((event) => event.details.member_session_id as string);
    }

    it('GET /v1/b2b/impersonation/sessions filters by organization_id, member_id and impersonator_id, and never lists normal sessions', async () => {
      const [first, second] = [`support-${uniqueSuffix()}`, `support-${uniqueSuffix()}`];
      const [m1, m2, m3] = [await addMember(client, castA.organization), await addMember(client, castA.organization), await addMember(client, castB.organization)];
      const a = await impersonated(m1, first);
      const b = await impersonated(m2, second);
      const c = await impersonated(m3, first);
      await startTestSession(server, { organizationId: m1.organization_id, memberId: m1.member_id });
      const inA = idsOf(await activeImpersonations(server, { organization_id: castA.organization.organization_slug }));
      expect(inA).toEqual(expect.arrayContaining([a.id, b.id]));
      expect(inA).not.toContain(c.id);
      expect(idsOf(await activeImpersonations(server, { member_id: m1.member_id }))).toEqual([a.id]);
      expect(idsOf(await activeImpersonations(server, { organization_id: m1.organization_id, member_id: m1.external_id }))).toEqual([a.id]);
      expect(idsOf(await activeImpersonations(server, { impersonator_id: first }))).toEqual([a.id, c.id].sort());
      expect(idsOf(await activeImpersonations(server, { impersonator_id: first, organization_id: castB.organization.organization_id }))).toEqual([c.id]);
    });

    it('revoke by member_session_id ends that one at once (session_not_found), answers it, and audits session_revoked with the request id', async () => {
      const member = await addMember(client, castA.organization);
      const impersonator = `support-${uniqueSuffix()}`;
      const target = await impersonated(member, impersonator);
      const kept = await impersonated(member, impersonator);
      const response = await server.fetch(REVOKE_IMPERSONATIONS, { method: 'POST', json: { member_session_id: target.id } });
      expect(response.status, JSON.stringify(response.body)).toBe(200);
      expect(idsOf(response.body.revoked_sessions as { member_session_id: string }[])).toEqual([target.id]);
      await expectStytchRejection(client.sessions.authenticate({ session_token: target.token }), SESSION_NOT_FOUND);
      await client.sessions.authenticate({ session_token: kept.token });
      expect(idsOf(await activeImpersonations(server, { member_id: member.member_id }))).toEqual([kept.id]);
      const events = await auditEvents(server, { member_id: member.member_id });
      expect(revokedEvents(events, response.body.request_id as string)).toEqual([target.id]);
      expect(events.find((event) => event.type === 'impersonation.session_revoked')).toMatchObject({
        organization_id: member.organization_id,
        member_id: member.member_id,
        impersonator_id: impersonator,
      });
    });

    it("revoke by impersonator_id ends all of that impersonator's impersonations, in every organization, and no one else's", async () => {
      const [rogue, colleague] = [`support-${uniqueSuffix()}`, `support-${uniqueSuffix()}`];
      const [m1, m2] = [await addMember(client, castA.organization), await addMember(client, castB.organization)];
      const ended = [await impersonated(m1, rogue), await impersonated(m2, rogue)];
      const other = await impersonated(m1, colleague);
      const response = await server.fetch(REVOKE_IMPERSONATIONS, { method: 'POST', json: { impersonator_id: rogue } });
      expect(response.status, JSON.stringify(response.body)).toBe(200);
      expect(idsOf(response.body.revoked_sessions as { member_session_id: string }[])).toEqual(idsOf(ended.map(({ id }) => ({ member_session_id: id }))));
      for (const session of ended) await expectStytchRejection(client.sessions.authenticate({ session_token: session.token }), SESSION_NOT_FOUND);
      await client.sessions.authenticate({ session_token: other.token });
      expect(await activeImpersonations(server, { impersonator_id: rogue })).toEqual([]);
      expect(revokedEvents(await auditEvents(server, { impersonator_id: rogue }), response.body.request_id as string).sort()).toEqual(ended.map(({ id }) => id).sort());
    });

    it("revoke by organization_id ends every impersonation in it, leaving its members' normal sessions and other organizations alone", async () => {
      const { organization } = await createImpersonationCast(client);
      const [m1, m2] = [await addMember(client, organization), await addMember(client, organization)];
      const impersonator = `support-${uniqueSuffix()}`;
      const ended = [await impersonated(m1, impersonator), await impersonated(m2, impersonator)];
      const elsewhere = await impersonated(await addMember(client, castB.organization), impersonator);
      const normal = await startTestSession(server, { organizationId: m1.organization_id, memberId: m1.member_id });
      const response = await server.fetch(REVOKE_IMPERSONATIONS, { method: 'POST', json: { organization_id: organization.organization_external_id } });
      expect(response.status, JSON.stringify(response.body)).toBe(200);
      expect(idsOf(response.body.revoked_sessions as { member_session_id: string }[])).toEqual(ended.map(({ id }) => id).sort());
      for (const session of ended) await expectStytchRejection(client.sessions.authenticate({ session_token: session.token }), SESSION_NOT_FOUND);
      await client.sessions.authenticate({ session_token: normal.sessionToken });
      await client.sessions.authenticate({ session_token: elsewhere.token });
      expect(revokedEvents(await auditEvents(server, { organization_id: organization.organization_id }), response.body.request_id as string).sort()).toEqual(
        ended.map(({ id }) => id).sort(),
      );
    });

    it('revoke with no selector: no_impersonation_revoke_arguments (400); an unknown member_session_id: impersonation_session_not_found (404)', async () => {
      const live = await impersonated(await addMember(client, castA.organization), `support-${uniqueSuffix()}`);
      expectErrorResponse(await server.fetch(REVOKE_IMPERSONATIONS, { method: 'POST', json: {} }), 400, 'no_impersonation_revoke_arguments');
      const unknown = await server.fetch(REVOKE_IMPERSONATIONS, { method: 'POST', json: { member_session_id: 'session-test-00000000-0000-4000-8000-000000000000' } });
      expectErrorResponse(unknown, 404, 'impersonation_session_not_found');
      await client.sessions.authenticate({ session_token: live.token });
    });

    it('deleting the member ends its impersonation at once, audited as session_revoked by the delete request', async () => {
      const member = await addMember(client, castA.organization);
      const session = await impersonated(member, `support-${uniqueSuffix()}`);
      const deleted = await client.organizations.members.delete({ organization_id: member.organization_id, member_id: member.member_id });
      await expectStytchRejection(client.sessions.authenticate({ session_token: session.token }), SESSION_NOT_FOUND);
      const listed = await activeImpersonations(server, { organization_id: member.organization_id });
      expect(listed.map((entry) => entry.member_id)).not.toContain(member.member_id);
      const events = await auditEvents(server, { organization_id: member.organization_id });
      expect(revokedEvents(events, deleted.request_id)).toEqual([session.id]);
    });

    // Last: it moves the clock past every session's hour.
    it('past 60 minutes the sweep (recordExpiries) records impersonation.session_expired once, at the expiry time', async () => {
      const member = await addMember(client, castA.organization);
      const { redeemed } = await impersonate(server, member, { impersonatorId: `support-${uniqueSuffix()}` });
      const memberSessionId = redeemed.member_session?.member_session_id as string;
      const { app, store: serverStore } = server.server;
      clock.advance(60 * 60_000 - 1_000);
      await app.services.impersonationLedger.recordExpiries(serverStore);
      expect((await auditEvents(server, { member_id: member.member_id })).map((event) => event.type)).not.toContain('impersonation.session_expired');
      clock.advance(1_000 + 1_000);
      await app.services.impersonationLedger.recordExpiries(serverStore);
      await app.services.impersonationLedger.recordExpiries(serverStore);
      expect(await activeImpersonations(server, { member_id: member.member_id })).toEqual([]);
      await expectStytchRejection(client.sessions.authenticate({ session_token: redeemed.session_token }), SESSION_NOT_FOUND);
      const expired = (await auditEvents(server, { member_id: member.member_id })).filter((event) => event.type === 'impersonation.session_expired');
      expect(expired).toHaveLength(1);
      expect(expired[0]).toMatchObject({
        occurred_at: redeemed.member_session?.expires_at,
        member_id: member.member_id,
        organization_id: member.organization_id,
        details: { member_session_id: memberSessionId, reason: 'Ticket 4711: cannot see invoices' },
      });
    });
  });
}
