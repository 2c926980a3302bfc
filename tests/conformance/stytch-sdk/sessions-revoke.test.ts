import type { B2BClient } from 'stytch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectStytchRejection, expectToMatchResponseSchema } from '../../support/openapi.js';
import { startSdkTarget, type SdkTarget } from '../../support/sdk-targets.js';
import { STORES } from '../../support/stores.js';
import { idPattern, uniqueSuffix } from '../../support/wire-formats.js';
import { authenticateToken, type Cast, createCast, liveSessions, REVOKE, SESSION_NOT_FOUND, startSession } from './session-fixtures.js';

/** `client.sessions.revoke`, and the member and organization changes that end sessions at once. */
type Started = Awaited<ReturnType<typeof startSession>>;

for (const store of STORES) {
  describe(`client.sessions.revoke (${store.name})`, () => {
    let target: SdkTarget;
    let client: B2BClient;
    let cast: Cast;

    beforeAll(async () => {
      target = await startSdkTarget(store.name, 'http');
      client = target.client;
      cast = await createCast(client);
    });
    afterAll(async () => target?.stop());

    async function expectEnded(started: Started): Promise<void> {
      await expectStytchRejection(client.sessions.authenticate({ session_token: started.sessionToken }), SESSION_NOT_FOUND);
      await expectStytchRejection(client.sessions.authenticate({ session_jwt: started.sessionJwt }), SESSION_NOT_FOUND);
    }

    async function expectAlive(started: Started): Promise<void> {
      expect((await authenticateToken(client, started.sessionToken)).member_session.member_session_id).toBe(started.memberSessionId);
      expect((await client.sessions.authenticate({ session_jwt: started.sessionJwt })).member_session.member_session_id).toBe(started.memberSessionId);
    }

    it('revoking by member_session_id, by session_token and by session_jwt ends that session only', async () => {
      const bystander = await startSession(target.server, cast.member);
      const selectors: ((started: Started) => Parameters<B2BClient['sessions']['revoke']>[0])[] = [
        (started) => ({ member_session_id: started.memberSessionId }),
        (started) => ({ session_token: started.sessionToken }),
        (started) => ({ session_jwt: started.sessionJwt }),
      ];
      for (const select of selectors) {
        const started = await startSession(target.server, cast.member);
        await expectAlive(started);
        const response = await client.sessions.revoke(select(started));
        expectToMatchResponseSchema('post', REVOKE, response);
        expect(response.status_code).toBe(200);
        expect(response.request_id).toMatch(idPattern('request-id'));
        await expectEnded(started);
        expect((await liveSessions(client, cast.member)).map((session) => session.member_session_id)).not.toContain(started.memberSessionId);
        // Revoking it again finds nothing to revoke.
        await expectStytchRejection(client.sessions.revoke(select(started)), SESSION_NOT_FOUND);
      }
      await expectAlive(bystander);
    });

    it("revoking by member_id ends every session of that member and no one else's", async () => {
      const local = await createCast(client);
      const first = await startSession(target.server, local.member);
      const second = await startSession(target.server, local.member);
      const colleague = await startSession(target.server, local.admin);
      const response = await client.sessions.revoke({ member_id: local.member.member_id });
      expectToMatchResponseSchema('post', REVOKE, response);
      await expectEnded(first);
      await expectEnded(second);
      expect(await liveSessions(client, local.member)).toEqual([]);
      await expectAlive(colleague);
      // A member without live sessions is not an error: there is simply nothing left to revoke.
      expectToMatchResponseSchema('post', REVOKE, await client.sessions.revoke({ member_id: local.member.member_id }));
    });

    it('answers session_not_found for an unknown session id or token', async () => {
      await expectStytchRejection(client.sessions.revoke({ member_session_id: 'session-test-00000000-0000-4000-8000-000000000000' }), SESSION_NOT_FOUND);
      await expectStytchRejection(client.sessions.revoke({ session_token: 'A'.repeat(44) }), SESSION_NOT_FOUND);
    });

    it('wants exactly one selector: none is no_session_revoke_arguments, two are too_many_session_revoke_arguments', async () => {
      const started = await startSession(target.server, cast.member);
      await expectStytchRejection(client.sessions.revoke({}), { status: 400, errorType: 'no_session_revoke_arguments' });
      const tooMany = { status: 400, errorType: 'too_many_session_revoke_arguments' };
      await expectStytchRejection(client.sessions.revoke({ member_session_id: started.memberSessionId, session_token: started.sessionToken }), tooMany);
      await expectStytchRejection(client.sessions.revoke({ session_jwt: started.sessionJwt, member_id: cast.member.member_id }), tooMany);
      await expectAlive(started);
    });

    it('deleting a member revokes its sessions at once', async () => {
      const local = await createCast(client);
      const doomed = await startSession(target.server, local.member);
      const colleague = await startSession(target.server, local.admin);
      await client.organizations.members.delete({ organization_id: local.organization.organization_id, member_id: local.member.member_id });
      await expectEnded(doomed);
      await expectAlive(colleague);
    });

    it('deleting an organization revokes the sessions of all its members at once', async () => {
      const local = await createCast(client);
      const sessions = [await startSession(target.server, local.member), await startSession(target.server, local.admin)];
      const elsewhere = await startSession(target.server, cast.member);
      await client.organizations.delete({ organization_id: local.organization.organization_id });
      for (const started of sessions) await expectEnded(started);
      await expectStytchRejection(client.sessions.revoke({ member_session_id: sessions[0]?.memberSessionId ?? '' }), SESSION_NOT_FOUND);
      await expectAlive(elsewhere);
    });

    it("changing a member's email revokes its sessions unless preserve_existing_sessions is true", async () => {
      const local = await createCast(client);
      const organizationId = local.organization.organization_id;
      const kept = await startSession(target.server, local.member);
      await client.organizations.members.update({
        organization_id: organizationId,
        member_id: local.member.member_id,
        email_address: `kept-${uniqueSuffix()}@example.org`,
        preserve_existing_sessions: true,
      });
      await expectAlive(kept);
      // Other changes than the email never end sessions.
      await client.organizations.members.update({ organization_id: organizationId, member_id: local.member.member_id, name: 'Renamed' });
      await expectAlive(kept);
      await client.organizations.members.update({
        organization_id: organizationId,
        member_id: local.member.member_id,
        email_address: `moved-${uniqueSuffix()}@example.org`,
      });
      await expectEnded(kept);
      expect(await liveSessions(client, local.member)).toEqual([]);
    });
  });
}
