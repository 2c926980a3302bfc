import type { B2BClient, Member } from 'stytch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/platform/clock.js';
import {
  ACCESS_GRANTS,
  asMember,
  createGrant,
  createGrantRaw,
  expectOnlyRefusalsWritten,
  grantAction,
  grantActionRaw,
  listGrants,
  listGrantsRaw,
  setPolicy,
} from '../../support/access-grants.js';
import {
  addMember,
  auditEvents,
  createImpersonationCast,
  expectErrorResponse,
  expectRefusalAudited,
  type ImpersonationCast,
  mintBody,
  mintRaw,
  mintToken,
  type WireAuditEvent,
} from '../../support/impersonation.js';
import { type StartedSession, startMemberSession } from '../../support/member-session-cast.js';
import { expectStytchRejection } from '../../support/openapi.js';
import { STORES } from '../../support/stores.js';
import { startTestServer, type TestServer } from '../../support/test-server.js';

/**
 * Access windows as a customer and the vendor's support live them (docs/impersonation.md, "Access
 * windows"): an organization in `by_grant` mode lets support impersonate only while a grant its own
 * admin opened (through the customer's app, with their member session) covers the member; support
 * may ask for one, which the admin approves or denies; revoking a grant, or its end, stops what was
 * started under it. Support mints over HTTP and the SDK redeems, as in production.
 */
const NOT_GRANTED = { status: 403, errorType: 'impersonation_access_not_granted' } as const;
const SESSION_NOT_FOUND = { status: 404, errorType: 'session_not_found' } as const;
const MINUTE = 60_000;

for (const store of STORES) {
  describe(`access grants (${store.name})`, () => {
    let server: TestServer;
    let client: B2BClient;
    let clock: ManualClock;
    let cast: ImpersonationCast;
    /** The organization's admin (stytch_admin: every understudy.support-access action), signed in to the customer's app. */
    let admin: StartedSession;
    /** A plain member of the organization, signed in: no support-access action. */
    let plain: StartedSession;
    /** Another member, never covered by the grants below unless named. */
    let other: Member;

    beforeAll(async () => {
      clock = new ManualClock(new Date());
      server = await startTestServer({ store: store.name, clock });
      client = server.client;
      cast = await createImpersonationCast(client);
      other = await addMember(client, cast.organization);
      admin = await startMemberSession(server, cast.admin);
      plain = await startMemberSession(server, cast.member);
      await setPolicy(server, cast.organization.organization_id, { access_mode: 'by_grant' });
    });
    afterAll(async () => server?.stop());

    const organizationId = () => cast.organization.organization_id;
    const mintFor = (member: Member) => mintRaw(server, mintBody({ organizationId: member.organization_id, memberId: member.member_id }));
    /** The audit events one request wrote, in order. */
    const eventsOf = async (requestId: string): Promise<WireAuditEvent[]> =>
      (await auditEvents(server, { organization_id: organizationId() })).filter((event) => event.request_id === requestId);

    it('in by_grant mode with no grant, a mint is refused (impersonation_access_not_granted, 403), audited, and writes nothing else', async () => {
      let requestId = '';
      await expectOnlyRefusalsWritten(server, 1, async () => {
        const response = await mintFor(cast.member);
        expectErrorResponse(response, NOT_GRANTED.status, NOT_GRANTED.errorType);
        requestId = response.body.request_id as string;
      });
      const event = await expectRefusalAudited(server, requestId, { type: 'impersonation.mint_refused', errorType: NOT_GRANTED.errorType });
      expect(event).toMatchObject({ organization_id: organizationId(), member_id: cast.member.member_id });
    });

    it("the admin opens a grant with their member session: open at once for its duration; support mints for a covered member, not for another; the SDK redeems, and the session ends with the grant", async () => {
      const now = clock.now();
      const grant = await createGrant(
        server,
        { organization_id: cast.organization.organization_slug, member_ids: [cast.member.email_address], duration_minutes: 30, reason: 'Ticket 4711: invoices' },
        asMember(admin),
      );
      expect(grant).toMatchObject({
        organization_id: organizationId(),
        status: 'open',
        member_ids: [cast.member.member_id],
        duration_minutes: 30,
        reason: 'Ticket 4711: invoices',
        requested_by: { type: 'member', member_id: cast.admin.member_id, member_session_id: admin.memberSessionId },
        opened_by: { type: 'member', member_id: cast.admin.member_id, member_session_id: admin.memberSessionId },
        expires_at: new Date(Math.floor(now.getTime() / 1000) * 1000 + 30 * MINUTE).toISOString().replace('.000Z', 'Z'),
        closed_by: null,
        closed_at: null,
      });
      expect(grant.grant_id).toMatch(/^access-grant-test-[0-9a-f-]{36}$/);
      expect(await eventsOf(grant.request_id)).toEqual([
        expect.objectContaining({
          type: 'impersonation.access_granted',
          actor: expect.objectContaining({ type: 'member_session', memberId: cast.admin.member_id }),
          details: expect.objectContaining({ grant_id: grant.grant_id, status: 'open', member_ids: [cast.member.member_id], duration_minutes: 30, expires_at: grant.expires_at }),
        }),
      ]);

      const refused = await mintFor(other);
      expectErrorResponse(refused, NOT_GRANTED.status, NOT_GRANTED.errorType);

      const minted = await mintToken(server, { organizationId: organizationId(), memberId: cast.member.member_id });
      const [mintedEvent] = await eventsOf(minted.request_id);
      expect(mintedEvent?.details).toMatchObject({ token_id: minted.token_id, kind: 'support', grant_id: grant.grant_id });
      const redeemed = await client.impersonation.authenticate({ impersonation_token: minted.impersonation_token });
      expect(redeemed.member_id).toBe(cast.member.member_id);
      // 30 minutes of grant left, less than the impersonated session's hour: the session ends with the grant.
      expect(redeemed.member_session?.expires_at).toBe(grant.expires_at);
      expect((await client.sessions.authenticate({ session_token: redeemed.session_token })).member_session.expires_at).toBe(grant.expires_at);

      // Listing: the admin's own organization, and the project's view by status.
      expect((await listGrants(server, {}, asMember(admin))).map((listed) => listed.grant_id)).toContain(grant.grant_id);
      expect((await listGrants(server, { organization_id: organizationId(), status: 'open' })).map((listed) => listed.grant_id)).toEqual([grant.grant_id]);

      await grantAction(server, grant.grant_id, 'revoke', asMember(admin));
    });

    it('revoking the grant (the admin) ends the live impersonated session at once and revokes the unredeemed token minted under it, audited with why grant_revoked', async () => {
      const grant = await createGrant(server, { organization_id: organizationId(), duration_minutes: 60, reason: 'Ticket 4712' }, asMember(admin));
      expect(grant.member_ids).toBeNull();
      const live = await client.impersonation.authenticate({ impersonation_token: (await mintToken(server, { organizationId: organizationId(), memberId: other.member_id })).impersonation_token });
      const pending = await mintToken(server, { organizationId: organizationId(), memberId: cast.member.member_id });

      const revoked = await grantAction(server, grant.grant_id, 'revoke', asMember(admin));
      expect(revoked).toMatchObject({ status: 'revoked', closed_by: { type: 'member', member_id: cast.admin.member_id }, closed_at: expect.any(String) });
      await expectStytchRejection(client.sessions.authenticate({ session_token: live.session_token }), SESSION_NOT_FOUND);
      const refusal = await expectStytchRejection(client.impersonation.authenticate({ impersonation_token: pending.impersonation_token }), NOT_GRANTED);
      await expectRefusalAudited(server, refusal.request_id as string, { type: 'impersonation.redemption_refused', errorType: NOT_GRANTED.errorType, why: 'grant_revoked' });

      const events = await eventsOf(revoked.request_id);
      expect(events.map((event) => event.type)).toEqual(expect.arrayContaining(['impersonation.access_revoked', 'impersonation.token_revoked', 'impersonation.session_revoked']));
      expect(events.find((event) => event.type === 'impersonation.token_revoked')?.details).toMatchObject({ token_id: pending.token_id, why: 'grant_revoked' });
      expect(events.find((event) => event.type === 'impersonation.session_revoked')?.details).toMatchObject({ member_session_id: live.member_session?.member_session_id, why: 'grant_revoked' });

      // Revoked once: a second revocation finds nothing open.
      expectErrorResponse(await grantActionRaw(server, grant.grant_id, 'revoke', asMember(admin)), 400, 'access_grant_not_pending');
      expectErrorResponse(await mintFor(cast.member), NOT_GRANTED.status, NOT_GRANTED.errorType);
    });

    it("a grant's end (the clock) refuses new mints, the redemption of a token minted before it (why grant_expired) and the session started under it", async () => {
      const grant = await createGrant(server, { organization_id: organizationId(), member_ids: [cast.member.member_id], duration_minutes: 10, reason: 'Ticket 4713' }, asMember(admin));
      const session = await client.impersonation.authenticate({ impersonation_token: (await mintToken(server, { organizationId: organizationId(), memberId: cast.member.member_id })).impersonation_token });
      clock.advance(8 * MINUTE);
      const late = await mintToken(server, { organizationId: organizationId(), memberId: cast.member.member_id });
      clock.advance(3 * MINUTE);
      expectErrorResponse(await mintFor(cast.member), NOT_GRANTED.status, NOT_GRANTED.errorType);
      const refusal = await expectStytchRejection(client.impersonation.authenticate({ impersonation_token: late.impersonation_token }), NOT_GRANTED);
      await expectRefusalAudited(server, refusal.request_id as string, { type: 'impersonation.redemption_refused', errorType: NOT_GRANTED.errorType, why: 'grant_expired' });
      await expectStytchRejection(client.sessions.authenticate({ session_token: session.session_token }), SESSION_NOT_FOUND);
      expect((await listGrants(server, { organization_id: organizationId(), status: 'expired' })).map((listed) => listed.grant_id)).toContain(grant.grant_id);
      expect((await listGrants(server, { organization_id: organizationId(), status: 'open' })).map((listed) => listed.grant_id)).not.toContain(grant.grant_id);
      // An expired grant is no longer open: nothing to revoke.
      expectErrorResponse(await grantActionRaw(server, grant.grant_id, 'revoke'), 400, 'access_grant_not_pending');
    });

    it('support requests access with the project credentials; the admin approves it and the window starts at approval', async () => {
      const requested = await createGrant(server, { organization_id: organizationId(), member_ids: [cast.member.member_id], duration_minutes: 20, reason: 'Ticket 4714: please let us look' });
      expect(requested).toMatchObject({ status: 'requested', requested_by: { type: 'project' }, opened_by: null, opened_at: null, expires_at: null });
      expect((await eventsOf(requested.request_id)).map((event) => event.type)).toEqual(['impersonation.access_requested']);
      expectErrorResponse(await mintFor(cast.member), NOT_GRANTED.status, NOT_GRANTED.errorType);
      // Support cannot approve its own request.
      expectErrorResponse(await grantActionRaw(server, requested.grant_id, 'approve'), 403, 'session_authorization_error');
      // Nor can a member without the grant action.
      expectErrorResponse(await grantActionRaw(server, requested.grant_id, 'approve', asMember(plain)), 403, 'session_authorization_error');

      clock.advance(5 * MINUTE);
      const approvedAt = clock.now();
      const approved = await grantAction(server, requested.grant_id, 'approve', asMember(admin));
      expect(approved.status).toBe('open');
      expect(Date.parse(approved.opened_at as string)).toBe(Math.floor(approvedAt.getTime() / 1000) * 1000);
      expect(Date.parse(approved.expires_at as string) - Date.parse(approved.opened_at as string)).toBe(20 * MINUTE);
      expect(approved.opened_by).toMatchObject({ type: 'member', member_id: cast.admin.member_id });
      expect((await eventsOf(approved.request_id)).map((event) => event.type)).toEqual(['impersonation.access_granted']);
      await mintToken(server, { organizationId: organizationId(), memberId: cast.member.member_id });
      // Approved once: approving or denying again is refused.
      expectErrorResponse(await grantActionRaw(server, requested.grant_id, 'approve', asMember(admin)), 400, 'access_grant_not_pending');
      expectErrorResponse(await grantActionRaw(server, requested.grant_id, 'deny', asMember(admin)), 400, 'access_grant_not_pending');
      // The vendor may end it too.
      expect((await grantAction(server, requested.grant_id, 'revoke')).closed_by).toEqual({ type: 'project' });
    });

    it('the admin denies a request: it never opens, and cannot be approved afterwards', async () => {
      const requested = await createGrant(server, { organization_id: organizationId(), duration_minutes: 15, reason: 'Ticket 4715' });
      const denied = await grantAction(server, requested.grant_id, 'deny', asMember(admin));
      expect(denied).toMatchObject({ status: 'denied', opened_at: null, expires_at: null, closed_by: { type: 'member', member_id: cast.admin.member_id } });
      expect((await eventsOf(denied.request_id)).map((event) => event.type)).toEqual(['impersonation.access_denied']);
      expectErrorResponse(await grantActionRaw(server, requested.grant_id, 'approve', asMember(admin)), 400, 'access_grant_not_pending');
      expectErrorResponse(await mintFor(cast.member), NOT_GRANTED.status, NOT_GRANTED.errorType);
      expect((await listGrants(server, { status: 'denied' }, asMember(admin))).map((listed) => listed.grant_id)).toContain(requested.grant_id);
    });

    it("another organization's admin is told the grant does not exist (access_grant_not_found), and cannot open one for this organization", async () => {
      const requested = await createGrant(server, { organization_id: organizationId(), duration_minutes: 15, reason: 'Ticket 4716' });
      const otherCast = await createImpersonationCast(client);
      const otherAdmin = await startMemberSession(server, otherCast.admin);
      for (const action of ['approve', 'deny', 'revoke'] as const) {
        expectErrorResponse(await grantActionRaw(server, requested.grant_id, action, asMember(otherAdmin)), 404, 'access_grant_not_found');
      }
      expectErrorResponse(await grantActionRaw(server, 'access-grant-test-00000000-0000-4000-8000-000000000000', 'revoke'), 404, 'access_grant_not_found');
      expectErrorResponse(
        await createGrantRaw(server, { organization_id: organizationId(), duration_minutes: 15, reason: 'Not mine' }, asMember(otherAdmin)),
        403,
        'session_authorization_tenancy_error',
      );
      expectErrorResponse(await listGrantsRaw(server, { organization_id: organizationId() }, asMember(otherAdmin)), 403, 'session_authorization_tenancy_error');
      expect(await listGrants(server, {}, asMember(otherAdmin))).toEqual([]);
      // Still requested, untouched.
      expect((await listGrants(server, { organization_id: organizationId(), status: 'requested' })).map((listed) => listed.grant_id)).toContain(requested.grant_id);
    });

    it('a plain member without the support-access actions is refused (session_authorization_error) and nothing is written', async () => {
      const before = await listGrants(server, { organization_id: organizationId() });
      expectErrorResponse(await createGrantRaw(server, { organization_id: organizationId(), duration_minutes: 15, reason: 'Me' }, asMember(plain)), 403, 'session_authorization_error');
      expectErrorResponse(await listGrantsRaw(server, {}, asMember(plain)), 403, 'session_authorization_error');
      expect(await listGrants(server, { organization_id: organizationId() })).toEqual(before);
    });

    it('an impersonated session of the admin cannot open a grant or change the policy: support must not consent for the customer', async () => {
      // Support, allowed in under a grant, impersonates the admin and tries to give itself more.
      const grant = await createGrant(server, { organization_id: organizationId(), member_ids: [cast.admin.member_id], duration_minutes: 30, reason: 'Ticket 4717' }, asMember(admin));
      const impersonated = await client.impersonation.authenticate({
        impersonation_token: (await mintToken(server, { organizationId: organizationId(), memberId: cast.admin.member_id })).impersonation_token,
      });
      const asImpersonated = { 'X-Stytch-Member-Session': impersonated.session_token };
      const before = await listGrants(server, { organization_id: organizationId() });
      const opened = await createGrantRaw(server, { organization_id: organizationId(), duration_minutes: 60, reason: 'Let me in' }, asImpersonated);
      expectErrorResponse(opened, 403, 'session_authorization_error');
      const requested = await createGrant(server, { organization_id: organizationId(), duration_minutes: 60, reason: 'Ticket 4718' });
      expectErrorResponse(await grantActionRaw(server, requested.grant_id, 'approve', asImpersonated), 403, 'session_authorization_error');
      expectErrorResponse(
        await server.fetch(`/v1/b2b/impersonation/policies/${organizationId()}`, { method: 'PUT', json: { access_mode: 'open' }, headers: asImpersonated }),
        403,
        'session_authorization_error',
      );
      expect((await listGrants(server, { organization_id: organizationId() })).filter((listed) => listed.grant_id !== requested.grant_id)).toEqual(before);
      expect((await server.fetch(`/v1/b2b/impersonation/policies/${organizationId()}`)).body.access_mode).toBe('by_grant');
      // Each attempt is on the impersonation trail, refused.
      const acted = await eventsOf(opened.body.request_id as string);
      expect(acted).toEqual([
        expect.objectContaining({ type: 'impersonation.session_acted', details: expect.objectContaining({ operation: 'impersonation.accessGrants.create', outcome: 'refused', error_type: 'session_authorization_error' }) }),
      ]);
      await grantAction(server, grant.grant_id, 'revoke', asMember(admin));
      await grantAction(server, requested.grant_id, 'deny', asMember(admin));
    });

    it('refuses a bad grant with invalid_access_grant (400), naming what is wrong, and writes nothing', async () => {
      const valid = { organization_id: organizationId(), duration_minutes: 15, reason: 'Ticket 4719' };
      const bad: [Record<string, unknown>, RegExp][] = [
        [{ ...valid, reason: '' }, /reason/],
        [{ ...valid, reason: undefined }, /reason/],
        [{ ...valid, reason: 'x'.repeat(1025) }, /reason/],
        [{ ...valid, reason: 'Ticket \u001b[2J' }, /control/],
        [{ ...valid, duration_minutes: 0 }, /duration_minutes/],
        [{ ...valid, duration_minutes: 72 * 60 + 1 }, /4320/],
        [{ ...valid, duration_minutes: 1.5 }, /duration_minutes/],
        [{ ...valid, duration_minutes: '15' }, /duration_minutes/],
        [{ ...valid, reason: 5 }, /reason/],
        [{ ...valid, duration_minutes: null }, /duration_minutes/],
        [{ ...valid, member_ids: [] }, /member_ids/],
        [{ ...valid, member_ids: [42] }, /member_ids/],
        [{ ...valid, member_ids: { ann: true } }, /member_ids/],
        [{ ...valid, member_ids: 'ann@example.org' }, /member_ids/],
        [{ ...valid, member_ids: Array.from({ length: 101 }, () => cast.member.member_id) }, /member_ids/],
        [{ ...valid, member_ids: [cast.member.member_id, 'nobody@example.org'] }, /"nobody@example\.org" is not a member/],
      ];
      const before = await listGrants(server, { organization_id: organizationId() });
      for (const [body, message] of bad) {
        for (const headers of [{}, asMember(admin)]) {
          const response = await createGrantRaw(server, body, headers);
          expectErrorResponse(response, 400, 'invalid_access_grant');
          expect(response.body.error_message).toMatch(message);
        }
      }
      // A member of another organization is not a member of this one.
      const outsider = (await createImpersonationCast(client)).member;
      expectErrorResponse(await createGrantRaw(server, { ...valid, member_ids: [outsider.member_id] }), 400, 'invalid_access_grant');
      expect(await listGrants(server, { organization_id: organizationId() })).toEqual(before);
      expectErrorResponse(await listGrantsRaw(server, { status: 'pending' }), 400, 'bad_request');
      expectErrorResponse(await createGrantRaw(server, { ...valid, organization_id: 'no-such-organization' }), 404, 'organization_not_found');
    });

    it(`answers the grant at ${ACCESS_GRANTS} with external ids resolved, duplicates once`, async () => {
      const grant = await createGrant(
        server,
        { organization_id: organizationId(), member_ids: [cast.member.external_id, cast.member.member_id, cast.member.email_address.toUpperCase()], duration_minutes: 5, reason: 'Ticket 4720' },
        asMember(admin),
      );
      expect(grant.member_ids).toEqual([cast.member.member_id]);
      await grantAction(server, grant.grant_id, 'revoke');
    });
  });
}
