import type { B2BClient } from 'stytch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asMember, createGrant, grantAction, setPolicy } from '../../support/access-grants.js';
import {
  addMember,
  auditEventOf,
  auditEvents,
  createImpersonationCast,
  expectErrorResponse,
  expectRefusalAudited,
  impersonate,
  mintBody,
  mintRaw,
  mintToken,
  policyPath,
} from '../../support/impersonation.js';
import { startMemberSession } from '../../support/member-session-cast.js';
import { expectStytchRejection } from '../../support/openapi.js';
import { STORES } from '../../support/stores.js';
import { startTestServer, type TestServer } from '../../support/test-server.js';

/**
 * An organization's access mode on the policy endpoints (docs/impersonation.md, "Policy" and
 * "Access windows"): open, by_grant or off, answered beside the older impersonation_enabled switch;
 * switching to by_grant ends what support started without a grant, in the same request; an
 * organization's own admin may read and change it with their member session, never from an
 * impersonated session and never the redirect URL.
 */
const NOT_GRANTED = { status: 403, errorType: 'impersonation_access_not_granted' } as const;
const SESSION_NOT_FOUND = { status: 404, errorType: 'session_not_found' } as const;

for (const store of STORES) {
  describe(`access modes (${store.name})`, () => {
    let server: TestServer;
    let client: B2BClient;

    beforeAll(async () => {
      server = await startTestServer({ store: store.name });
      client = server.client;
    });
    afterAll(async () => server?.stop());

    const put = (organizationId: string, json: Record<string, unknown>, headers: Record<string, string> = {}) =>
      server.fetch(policyPath(organizationId), { method: 'PUT', json, headers });

    it('PUT access_mode answers it with impersonation_enabled = (mode is not off); impersonation_enabled alone still works and keeps by_grant', async () => {
      const cast = await createImpersonationCast(client);
      const id = cast.organization.organization_id;
      // Reopening is the organization's: its admin's session (the project's credentials may only tighten).
      const organizations = asMember(await startMemberSession(server, cast.admin));
      expect((await put(id, { access_mode: 'by_grant' })).body).toMatchObject({ access_mode: 'by_grant', impersonation_enabled: true, effective_impersonation_enabled: true });
      expect((await put(id, { impersonation_enabled: true })).body).toMatchObject({ access_mode: 'by_grant', impersonation_enabled: true });
      expect((await put(id, { impersonation_enabled: false })).body).toMatchObject({ access_mode: 'off', impersonation_enabled: false, disabled_by: 'organization' });
      expect((await put(id, { impersonation_enabled: true }, organizations)).body).toMatchObject({ access_mode: 'open', impersonation_enabled: true });
      expect((await put(id, { access_mode: 'off', impersonation_enabled: false })).body).toMatchObject({ access_mode: 'off', impersonation_enabled: false });
      const all = await put(id, { access_mode: 'open', delegated_impersonation: 'members_and_admins', notify_member: true, notify_admins: true }, organizations);
      expect(all.body).toMatchObject({ access_mode: 'open', impersonation_enabled: true, delegated_impersonation: 'members_and_admins', notify_member: true, notify_admins: true });
      expect((await server.fetch(policyPath(id))).body).toMatchObject({ access_mode: 'open', delegated_impersonation: 'members_and_admins', notify_member: true, notify_admins: true });
      const event = await auditEventOf(server, all.body.request_id as string);
      expect(event).toMatchObject({
        type: 'impersonation.policy_updated',
        details: {
          access_mode: 'open',
          previous_access_mode: 'off',
          delegated_impersonation: 'members_and_admins',
          notify_member: true,
          notify_admins: true,
          changed_fields: ['access_mode', 'delegated_impersonation', 'notify_member', 'notify_admins'],
        },
      });
    });

    const refused: [string, Record<string, unknown>][] = [
      ['impersonation_enabled false with access_mode open', { access_mode: 'open', impersonation_enabled: false }],
      ['impersonation_enabled true with access_mode off', { access_mode: 'off', impersonation_enabled: true }],
      ['an unknown access_mode', { access_mode: 'closed' }],
      ['an unknown delegated_impersonation', { delegated_impersonation: 'everyone' }],
    ];
    for (const [what, body] of refused) {
      it(`PUT with ${what}: invalid_impersonation_policy (400), nothing changed or audited`, async () => {
        const { organization } = await createImpersonationCast(client);
        expectErrorResponse(await put(organization.organization_id, body), 400, 'invalid_impersonation_policy');
        expect((await server.fetch(policyPath(organization.organization_id))).body).toMatchObject({ access_mode: 'open', updated_at: null });
        expect(await auditEvents(server, { organization_id: organization.organization_id })).toEqual([]);
      });
    }

    it("switching to by_grant ends support's live sessions and unredeemed tokens minted without a grant (why access_mode_changed), in the same request; those under a grant go on", async () => {
      const cast = await createImpersonationCast(client);
      const id = cast.organization.organization_id;
      const other = await addMember(client, cast.organization);
      const admin = await startMemberSession(server, cast.admin);
      // A grant opened in by_grant mode, and a token minted under it.
      await setPolicy(server, id, { access_mode: 'by_grant' });
      const grant = await createGrant(server, { organization_id: id, member_ids: [other.member_id], duration_minutes: 60, reason: 'Ticket 4721' }, asMember(admin));
      const underGrant = await mintToken(server, { organizationId: id, memberId: other.member_id });
      // Back to open (the organization's admin): support mints without a grant.
      await setPolicy(server, id, { access_mode: 'open' }, asMember(admin));
      const { redeemed: live } = await impersonate(server, cast.member);
      const pending = await mintToken(server, { organizationId: id, memberId: cast.member.member_id });

      const switched = await setPolicy(server, id, { access_mode: 'by_grant' });
      await expectStytchRejection(client.sessions.authenticate({ session_token: live.session_token }), SESSION_NOT_FOUND);
      const refusal = await expectStytchRejection(client.impersonation.authenticate({ impersonation_token: pending.impersonation_token }), NOT_GRANTED);
      await expectRefusalAudited(server, refusal.request_id as string, { type: 'impersonation.redemption_refused', errorType: NOT_GRANTED.errorType, why: 'access_mode_changed' });
      const ended = (await auditEvents(server, { organization_id: id })).filter((event) => event.request_id === switched.body.request_id);
      expect(ended.map((event) => [event.type, event.details.why])).toEqual([
        ['impersonation.policy_updated', undefined],
        ['impersonation.token_revoked', 'access_mode_changed'],
        ['impersonation.session_revoked', 'access_mode_changed'],
      ]);
      expect(ended[1]?.details.token_id).toBe(pending.token_id);

      // The token minted under the grant still redeems: the organization consented to it.
      const redeemed = await client.impersonation.authenticate({ impersonation_token: underGrant.impersonation_token });
      expect(redeemed.member_id).toBe(other.member_id);
      await grantAction(server, grant.grant_id, 'revoke');
    });

    /** What the policy endpoint answers now, in the fields a loosening would change. */
    const consentOf = async (id: string) => {
      const { access_mode, notify_member, notify_admins } = (await server.fetch(policyPath(id))).body;
      return { access_mode, notify_member, notify_admins };
    };

    const loosenings: [string, Record<string, unknown>, Record<string, unknown>, string][] = [
      ['access_mode open from by_grant', { access_mode: 'by_grant' }, { access_mode: 'open' }, 'access_mode from by_grant to open'],
      ['impersonation_enabled true from off (which would reopen it)', { access_mode: 'off' }, { impersonation_enabled: true }, 'access_mode from off to open'],
      ['access_mode open from off', { access_mode: 'off' }, { access_mode: 'open' }, 'access_mode from off to open'],
      ['notify_member off', { notify_member: true }, { notify_member: false }, 'notify_member off'],
      ['notify_admins off, beside a change that tightens', { notify_admins: true }, { notify_admins: false, access_mode: 'by_grant' }, 'notify_admins off'],
    ];
    for (const [what, chosen, loosening, named] of loosenings) {
      it(`the project's credentials cannot loosen what the organization chose (${what}): session_authorization_error (403), nothing changed or audited; its admin can`, async () => {
        const cast = await createImpersonationCast(client);
        const id = cast.organization.organization_id;
        const organizations = asMember(await startMemberSession(server, cast.admin));
        // The project may loosen what only it set; once the organization's admin set the policy, only the organization may.
        expect((await server.fetch(policyPath(id))).body.chosen_by_organization).toBe(false);
        await setPolicy(server, id, chosen, organizations);
        expect((await server.fetch(policyPath(id))).body.chosen_by_organization).toBe(true);
        const before = await consentOf(id);
        const trail = (await auditEvents(server, { organization_id: id })).length;
        const refused = await put(id, loosening);
        expectErrorResponse(refused, 403, 'session_authorization_error');
        expect(refused.body.error_message).toContain(named);
        expect(await consentOf(id)).toEqual(before);
        expect(await auditEvents(server, { organization_id: id })).toHaveLength(trail);
        // The organization's own admin may.
        await setPolicy(server, id, loosening, organizations);
      });
    }

    it("support cannot get round a grant: with only the project's credentials, by_grant stays by_grant (directly or through off) and a mint without a grant is refused", async () => {
      const cast = await createImpersonationCast(client);
      const id = cast.organization.organization_id;
      await setPolicy(server, id, { access_mode: 'by_grant', notify_member: true }, asMember(await startMemberSession(server, cast.admin)));
      expectErrorResponse(await put(id, { access_mode: 'open' }), 403, 'session_authorization_error');
      // Tightening is the project's to do: off, and back from off to by_grant.
      await setPolicy(server, id, { access_mode: 'off' });
      expectErrorResponse(await put(id, { access_mode: 'open' }), 403, 'session_authorization_error');
      expectErrorResponse(await put(id, { impersonation_enabled: true }), 403, 'session_authorization_error');
      await setPolicy(server, id, { access_mode: 'by_grant', notify_admins: true, delegated_impersonation: 'off' });
      expect(await consentOf(id)).toEqual({ access_mode: 'by_grant', notify_member: true, notify_admins: true });
      const mint = await mintRaw(server, mintBody({ organizationId: id, memberId: cast.member.member_id }));
      expectErrorResponse(mint, NOT_GRANTED.status, NOT_GRANTED.errorType);
    });

    it('a delegated mint (an admin of the organization, member-session headers) needs no grant in by_grant mode; off refuses it', async () => {
      const cast = await createImpersonationCast(client);
      const id = cast.organization.organization_id;
      const admin = await startMemberSession(server, cast.admin);
      await setPolicy(server, id, { access_mode: 'by_grant' });
      const delegated = await mintRaw(server, mintBody({ organizationId: id, memberId: cast.member.member_id }), asMember(admin));
      expect(delegated.status, JSON.stringify(delegated.body)).toBe(200);
      expectErrorResponse(await mintRaw(server, mintBody({ organizationId: id, memberId: cast.member.member_id })), NOT_GRANTED.status, NOT_GRANTED.errorType);
      await setPolicy(server, id, { access_mode: 'off' });
      expectErrorResponse(await mintRaw(server, mintBody({ organizationId: id, memberId: cast.member.member_id }), asMember(admin)), 403, 'member_impersonation_not_allowed');
    });

    it("the organization's admin reads and changes the mode with their member session; a plain member, another organization's admin and the redirect URL are refused", async () => {
      const cast = await createImpersonationCast(client);
      const id = cast.organization.organization_id;
      const admin = await startMemberSession(server, cast.admin);
      const plain = await startMemberSession(server, cast.member);
      const changed = await put(cast.organization.organization_slug, { access_mode: 'by_grant', notify_member: true }, asMember(admin));
      expect(changed.status, JSON.stringify(changed.body)).toBe(200);
      expect(changed.body).toMatchObject({ organization_id: id, access_mode: 'by_grant', notify_member: true });
      expect((await auditEventOf(server, changed.body.request_id as string)).actor).toMatchObject({ type: 'member_session', memberId: cast.admin.member_id });
      expect((await server.fetch(policyPath(id), { headers: asMember(admin) })).body).toMatchObject({ access_mode: 'by_grant' });

      expectErrorResponse(await put(id, { access_mode: 'open' }, asMember(plain)), 403, 'session_authorization_error');
      expectErrorResponse(await server.fetch(policyPath(id), { headers: asMember(plain) }), 403, 'session_authorization_error');
      const forbidden = await put(id, { impersonation_redirect_url: 'https://evil.example/collect' }, asMember(admin));
      expectErrorResponse(forbidden, 403, 'session_authorization_error');
      expect(forbidden.body.error_message).toMatch(/impersonation_redirect_url/);
      const other = await createImpersonationCast(client);
      expectErrorResponse(await put(id, { access_mode: 'open' }, asMember(await startMemberSession(server, other.admin))), 403, 'session_authorization_tenancy_error');
      expect((await server.fetch(policyPath(id))).body).toMatchObject({ access_mode: 'by_grant', impersonation_redirect_url: null });
    });
  });
}
