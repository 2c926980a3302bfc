import type { B2BClient, Member } from 'stytch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asMember, setPolicy } from '../../support/access-grants.js';
import { executeSql, sqlText } from '../../support/database-access.js';
import {
  addMember,
  auditEvents,
  createImpersonationCast,
  expectRefusalAudited,
  impersonate,
  type ImpersonationCast,
  mintToken,
  type MintedToken,
  REASON,
  type WireAuditEvent,
} from '../../support/impersonation.js';
import { type StartedSession, startMemberSession } from '../../support/member-session-cast.js';
import { expectStytchRejection } from '../../support/openapi.js';
import { STORES } from '../../support/stores.js';
import { startTestServer, type TestServer } from '../../support/test-server.js';

/**
 * The end of delegated impersonations (docs/impersonation.md, "Delegated impersonation"): what an
 * organization's admin started ends when they are removed (`why: impersonator_removed`) or when the
 * organization's `delegated_impersonation` no longer allows it (`why: delegation_disabled`), in the same
 * transaction as the change; and a delegated token redeems only while both still hold, however the
 * change was written.
 */
const SESSION_NOT_FOUND = { status: 404, errorType: 'session_not_found' } as const;
const UNABLE = { status: 401, errorType: 'unable_to_auth_impersonation_token' } as const;
const NOT_ALLOWED = { status: 403, errorType: 'delegated_impersonation_not_allowed' } as const;

for (const store of STORES) {
  describe(`delegated impersonations end with the delegation (${store.name})`, () => {
    let server: TestServer;
    let client: B2BClient;

    beforeAll(async () => {
      server = await startTestServer({ store: store.name });
      client = server.client;
    });
    afterAll(async () => server?.stop());

    /** A delegated mint by the member whose session this is. */
    function delegatedToken(caller: StartedSession, target: Member): Promise<MintedToken> {
      return mintToken(server, { organizationId: target.organization_id, memberId: target.member_id, reason: REASON, headers: asMember(caller) });
    }

    async function delegatedSession(caller: StartedSession, target: Member): Promise<string> {
      const minted = await delegatedToken(caller, target);
      return (await client.impersonation.authenticate({ impersonation_token: minted.impersonation_token })).session_token;
    }

    async function expectLive(sessionToken: string): Promise<void> {
      expect((await client.sessions.authenticate({ session_token: sessionToken })).member_session.member_session_id).toBeDefined();
    }

    async function endingsOf(cast: ImpersonationCast, why: string): Promise<WireAuditEvent[]> {
      return (await auditEvents(server, { organization_id: cast.organization.organization_id })).filter((event) => event.details.why === why);
    }

    /** The organization with a second admin, each admin's session, and another plain member. */
    async function stage() {
      const cast = await createImpersonationCast(client);
      const admin2 = (await client.organizations.members.create({ organization_id: cast.organization.organization_id, email_address: `admin2-${cast.suffix}@example.org`, roles: ['stytch_admin'] })).member;
      const other = await addMember(client, cast.organization);
      return { cast, admin2, other, adminSession: await startMemberSession(server, cast.admin), admin2Session: await startMemberSession(server, admin2) };
    }

    it("deleting an admin ends the impersonations they started (live sessions and unredeemed tokens, why impersonator_removed), in the same request; others' go on", async () => {
      const { cast, other, adminSession, admin2Session } = await stage();
      const theirs = await delegatedSession(adminSession, cast.member);
      const theirPending = await delegatedToken(adminSession, other);
      const colleagues = await delegatedSession(admin2Session, other);
      const { redeemed: supports } = await impersonate(server, cast.member);

      const deleted = await client.organizations.members.delete({ organization_id: cast.organization.organization_id, member_id: cast.admin.member_id });
      await expectStytchRejection(client.sessions.authenticate({ session_token: theirs }), SESSION_NOT_FOUND);
      const refusal = await expectStytchRejection(client.impersonation.authenticate({ impersonation_token: theirPending.impersonation_token }), UNABLE);
      await expectRefusalAudited(server, refusal.request_id as string, { type: 'impersonation.redemption_refused', errorType: UNABLE.errorType, why: 'impersonator_removed' });
      await expectLive(colleagues);
      await expectLive(supports.session_token);
      const ended = (await endingsOf(cast, 'impersonator_removed')).filter((event) => event.request_id === deleted.request_id);
      expect(ended.map((event) => [event.type, event.member_id, event.impersonator_id]).sort()).toEqual(
        [
          ['impersonation.session_revoked', cast.member.member_id, cast.admin.member_id],
          ['impersonation.token_revoked', other.member_id, cast.admin.member_id],
        ].sort(),
      );
    });

    it('a delegated token does not redeem once its impersonator is no longer a member, however that was written (why impersonator_removed)', async () => {
      const { cast, adminSession } = await stage();
      const pending = await delegatedToken(adminSession, cast.member);
      // Written around the API, as a deletion the endings never saw would leave it: only the redemption's own check stands.
      await executeSql(server, `update members set status = 'deleted' where member_id = ${sqlText(cast.admin.member_id)}`);
      const refusal = await expectStytchRejection(client.impersonation.authenticate({ impersonation_token: pending.impersonation_token }), UNABLE);
      await expectRefusalAudited(server, refusal.request_id as string, { type: 'impersonation.redemption_refused', errorType: UNABLE.errorType, why: 'impersonator_removed' });
      const { member_sessions } = await client.sessions.get({ organization_id: cast.organization.organization_id, member_id: cast.member.member_id });
      expect(member_sessions).toEqual([]);
    });

    it("switching delegated_impersonation off ends the delegated impersonations (why delegation_disabled) in the same request; support's go on", async () => {
      const { cast, other, adminSession } = await stage();
      const live = await delegatedSession(adminSession, cast.member);
      const pending = await delegatedToken(adminSession, other);
      const { redeemed: supports } = await impersonate(server, other);

      const switched = await setPolicy(server, cast.organization.organization_id, { delegated_impersonation: 'off' }, asMember(adminSession));
      await expectStytchRejection(client.sessions.authenticate({ session_token: live }), SESSION_NOT_FOUND);
      await expectStytchRejection(client.impersonation.authenticate({ impersonation_token: pending.impersonation_token }), NOT_ALLOWED);
      await expectLive(supports.session_token);
      const ended = (await endingsOf(cast, 'delegation_disabled')).filter((event) => event.request_id === switched.body.request_id);
      expect(ended.map((event) => [event.type, event.member_id]).sort()).toEqual(
        [
          ['impersonation.session_revoked', cast.member.member_id],
          ['impersonation.token_revoked', other.member_id],
        ].sort(),
      );
    });

    it('a delegated token does not redeem once delegated_impersonation is off, however that was written (why delegation_disabled)', async () => {
      const { cast, adminSession } = await stage();
      const pending = await delegatedToken(adminSession, cast.member);
      // Stored directly: the policy endpoint's own ending never runs, only the redemption's check stands.
      await server.server.store.impersonation.updatePolicy(cast.organization.organization_id, { delegated: 'off' }, new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'));
      const refusal = await expectStytchRejection(client.impersonation.authenticate({ impersonation_token: pending.impersonation_token }), NOT_ALLOWED);
      await expectRefusalAudited(server, refusal.request_id as string, { type: 'impersonation.redemption_refused', errorType: NOT_ALLOWED.errorType, why: 'delegation_disabled' });
    });

    it("narrowing delegated_impersonation to members ends the delegated impersonations of admins (why delegation_disabled); members' go on", async () => {
      const { cast, admin2, adminSession } = await stage();
      const organizationId = cast.organization.organization_id;
      await setPolicy(server, organizationId, { delegated_impersonation: 'members_and_admins' }, asMember(adminSession));
      const ofAdmin = await delegatedSession(adminSession, admin2);
      const pendingOfAdmin = await delegatedToken(adminSession, admin2);
      const ofMember = await delegatedSession(adminSession, cast.member);

      const narrowed = await setPolicy(server, organizationId, { delegated_impersonation: 'members' });
      await expectStytchRejection(client.sessions.authenticate({ session_token: ofAdmin }), SESSION_NOT_FOUND);
      await expectLive(ofMember);
      const ended = (await endingsOf(cast, 'delegation_disabled')).filter((event) => event.request_id === narrowed.body.request_id);
      expect(ended.map((event) => [event.type, event.member_id]).sort()).toEqual(
        [
          ['impersonation.session_revoked', admin2.member_id],
          ['impersonation.token_revoked', admin2.member_id],
        ].sort(),
      );
      const refusal = await expectStytchRejection(client.impersonation.authenticate({ impersonation_token: pendingOfAdmin.impersonation_token }), NOT_ALLOWED);
      await expectRefusalAudited(server, refusal.request_id as string, { type: 'impersonation.redemption_refused', errorType: NOT_ALLOWED.errorType, why: 'delegation_disabled' });
    });

    it('a delegated token of an admin does not redeem once delegated_impersonation is members, however that was written (why delegation_disabled)', async () => {
      const { cast, admin2, adminSession } = await stage();
      const organizationId = cast.organization.organization_id;
      await setPolicy(server, organizationId, { delegated_impersonation: 'members_and_admins' }, asMember(adminSession));
      const ofAdmin = await delegatedToken(adminSession, admin2);
      const ofMember = await delegatedToken(adminSession, cast.member);
      await server.server.store.impersonation.updatePolicy(organizationId, { delegated: 'members' }, new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'));
      const refusal = await expectStytchRejection(client.impersonation.authenticate({ impersonation_token: ofAdmin.impersonation_token }), NOT_ALLOWED);
      await expectRefusalAudited(server, refusal.request_id as string, { type: 'impersonation.redemption_refused', errorType: NOT_ALLOWED.errorType, why: 'delegation_disabled' });
      expect((await client.impersonation.authenticate({ impersonation_token: ofMember.impersonation_token })).member_id).toBe(cast.member.member_id);
    });
  });
}
