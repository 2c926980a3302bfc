import type { B2BClient, Member } from 'stytch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/platform/clock.js';
import { impersonate } from '../../support/impersonation.js';
import { expectStytchRejection } from '../../support/openapi.js';
import { localCode } from '../../support/sdk-client-errors.js';
import { STORES } from '../../support/stores.js';
import { startTestServer, type TestServer } from '../../support/test-server.js';
import { uniqueSuffix } from '../../support/wire-formats.js';
import { type Cast, createCast, decodeSessionJwt, liveSessions, minutesFrom, SESSION_CLAIM, startSession } from './session-fixtures.js';

/**
 * What `authorization_check` on sessions.authenticate guarantees beyond its decision: a refusal
 * writes nothing, an impersonated session is checked with the impersonated member's roles, roles
 * are read fresh on the server while the SDK's local check reads the JWT's roles claim, and a role
 * held but defined nowhere grants nothing.
 */
const DENIED = { status: 403, errorType: 'session_authorization_error' };
const OTHER_TENANT = { status: 403, errorType: 'session_authorization_tenancy_error' };
const CLI = { requestId: 'request-id-test-00000000-0000-4000-8000-0000000000a6', actor: { type: 'cli' as const } };

/** A custom resource and two roles on it, added to Stytch's defaults. */
const POLICY = {
  resources: [{ resource_id: 'invoice', description: 'Invoices', actions: ['read', 'pay'] }],
  roles: [
    { role_id: 'billing-viewer', description: 'Reads invoices', permissions: [{ resource_id: 'invoice', actions: ['read'] }] },
    { role_id: 'billing-admin', description: 'Everything on invoices', permissions: [{ resource_id: 'invoice', actions: ['*'] }] },
  ],
  scopes: [],
};

const check = (organizationId: string, resourceId: string, action: string) => ({ organization_id: organizationId, resource_id: resourceId, action });

for (const store of STORES) {
  describe(`authorization_check: a refusal writes nothing (${store.name})`, () => {
    let server: TestServer;
    let client: B2BClient;
    let clock: ManualClock;
    let cast: Cast;
    let elsewhere: Cast;

    beforeAll(async () => {
      clock = new ManualClock(new Date());
      server = await startTestServer({ store: store.name, clock });
      client = server.client;
      cast = await createCast(client);
      elsewhere = await createCast(client);
    });
    afterAll(async () => server?.stop());

    it('a refused check (denied or another organization) neither extends the session, changes its claims nor touches it', async () => {
      const started = await startSession(server, cast.member, { durationMinutes: 60, customClaims: { tier: 'gold' } });
      const before = (await liveSessions(client, cast.member)).find((session) => session.member_session_id === started.memberSessionId);
      expect(before?.custom_claims).toEqual({ tier: 'gold' });
      // Past the once-a-minute touch: a call that got through would write last_accessed_at.
      clock.advance(2 * 60_000);
      const refusals = [
        { authorization_check: check(cast.organization.organization_id, 'stytch.member', 'delete'), expected: DENIED },
        { authorization_check: check(elsewhere.organization.organization_id, 'stytch.self', 'update.info.name'), expected: OTHER_TENANT },
      ];
      for (const { authorization_check, expected } of refusals) {
        for (const credential of [{ session_token: started.sessionToken }, { session_jwt: started.sessionJwt }]) {
          await expectStytchRejection(
            client.sessions.authenticate({ ...credential, session_duration_minutes: 600, session_custom_claims: { tier: 'platinum', added: true }, authorization_check }),
            expected,
          );
        }
      }
      const after = (await liveSessions(client, cast.member)).find((session) => session.member_session_id === started.memberSessionId);
      expect(after).toEqual(before);
      // Read back through authentication too (which itself may touch the session, but sets nothing else).
      const plain = await client.sessions.authenticate({ session_token: started.sessionToken });
      expect(plain.member_session.expires_at).toBe(before?.expires_at);
      expect(plain.member_session.custom_claims).toEqual({ tier: 'gold' });
      expect(decodeSessionJwt(plain.session_jwt).payload.tier).toBe('gold');
      expect(decodeSessionJwt(plain.session_jwt).payload.added).toBeUndefined();
      // The same call with a check that passes does apply both, so the refusals above were what kept them out.
      const allowed = await client.sessions.authenticate({
        session_token: started.sessionToken,
        session_duration_minutes: 600,
        session_custom_claims: { tier: 'platinum' },
        authorization_check: check(cast.organization.organization_id, 'stytch.self', 'update.info.name'),
      });
      expect(allowed.verdict).toEqual({ authorized: true, granting_roles: ['stytch_member'] });
      expect(allowed.member_session.expires_at).toBe(minutesFrom(clock.now(), 600));
      expect(allowed.member_session.custom_claims).toEqual({ tier: 'platinum' });
    });

  });

  describe(`authorization_check: whose roles, read when (${store.name})`, () => {
    let server: TestServer;
    let client: B2BClient;
    let cast: Cast;
    let elsewhere: Cast;

    beforeAll(async () => {
      server = await startTestServer({ store: store.name });
      client = server.client;
      await server.server.app.services.rbacPolicy.apply(CLI, POLICY, { source: 'cli' });
      cast = await createCast(client);
      elsewhere = await createCast(client);
    });
    afterAll(async () => server?.stop());

    const local = (sessionJwt: string, authorizationCheck: ReturnType<typeof check>) =>
      client.sessions.authenticateJwtLocal({ session_jwt: sessionJwt, authorization_check: authorizationCheck });

    async function memberWith(roles: string[]): Promise<Member> {
      const { member } = await client.organizations.members.create({
        organization_id: cast.organization.organization_id,
        email_address: `checked-${uniqueSuffix()}@example.org`,
        roles,
      });
      return member;
    }

    it("an impersonated session's check uses the impersonated member's roles, on the server and locally", async () => {
      const viewer = await memberWith(['billing-viewer']);
      const { redeemed } = await impersonate(server, viewer);
      const organizationId = cast.organization.organization_id;
      const allowed = await client.sessions.authenticate({ session_token: redeemed.session_token, authorization_check: check(organizationId, 'invoice', 'read') });
      expect(allowed.verdict).toEqual({ authorized: true, granting_roles: ['billing-viewer'] });
      await local(redeemed.session_jwt, check(organizationId, 'invoice', 'read'));
      // Neither the impersonator (who is no member) nor anyone else lends the session more rights.
      for (const [resourceId, action] of [
        ['invoice', 'pay'],
        ['stytch.member', 'delete'],
        ['stytch.organization', 'update.info.name'],
      ] as const) {
        await expectStytchRejection(client.sessions.authenticate({ session_jwt: redeemed.session_jwt, authorization_check: check(organizationId, resourceId, action) }), DENIED);
        expect(await localCode(local(redeemed.session_jwt, check(organizationId, resourceId, action)))).toBe('invalid_permissions');
      }
      await expectStytchRejection(
        client.sessions.authenticate({ session_token: redeemed.session_token, authorization_check: check(elsewhere.organization.organization_id, 'invoice', 'read') }),
        OTHER_TENANT,
      );
      // Impersonating an admin checks with the admin's roles.
      const { redeemed: asAdmin } = await impersonate(server, cast.admin);
      const admin = await client.sessions.authenticate({ session_jwt: asAdmin.session_jwt, authorization_check: check(organizationId, 'stytch.member', 'delete') });
      expect(admin.verdict).toEqual({ authorized: true, granting_roles: ['stytch_admin'] });
      await expectStytchRejection(client.sessions.authenticate({ session_jwt: asAdmin.session_jwt, authorization_check: check(organizationId, 'invoice', 'read') }), DENIED);
      // The impersonated member's roles as they are now, not as they were when the impersonation began.
      await client.organizations.members.update({ organization_id: organizationId, member_id: viewer.member_id, roles: ['billing-admin'] });
      const paid = await client.sessions.authenticate({ session_token: redeemed.session_token, authorization_check: check(organizationId, 'invoice', 'pay') });
      expect(paid.verdict).toEqual({ authorized: true, granting_roles: ['billing-admin'] });
    });

    it('the server reads roles fresh: a removed role is refused at once; the local check follows the JWT it is given until that JWT is refreshed', async () => {
      const member = await memberWith(['stytch_admin']);
      const started = await startSession(server, member);
      const organizationId = cast.organization.organization_id;
      const deleteMembers = check(organizationId, 'stytch.member', 'delete');
      const oldJwt = started.sessionJwt;
      await local(oldJwt, deleteMembers);

      await client.organizations.members.update({ organization_id: organizationId, member_id: member.member_id, roles: [] });
      // The server: at once, by token and by the JWT that still names stytch_admin.
      await expectStytchRejection(client.sessions.authenticate({ session_token: started.sessionToken, authorization_check: deleteMembers }), DENIED);
      await expectStytchRejection(client.sessions.authenticate({ session_jwt: oldJwt, authorization_check: deleteMembers }), DENIED);
      // The SDK's local check trusts the roles claim of the JWT it is given, as with Stytch.
      expect(decodeSessionJwt(oldJwt).payload[SESSION_CLAIM]).toMatchObject({ roles: ['stytch_member', 'stytch_admin'] });
      const stale = await local(oldJwt, deleteMembers);
      expect(stale.roles).toEqual(['stytch_member', 'stytch_admin']);
      // authenticateJwt answers from the local check while it passes.
      const preferLocal = await client.sessions.authenticateJwt({ session_jwt: oldJwt, authorization_check: deleteMembers });
      expect(preferLocal.session_jwt).toBe(oldJwt);

      // A refreshed JWT names the current roles, and the local check refuses it.
      const refreshed = await client.sessions.authenticate({ session_token: started.sessionToken });
      expect(refreshed.member_session.roles).toEqual(['stytch_member']);
      expect(decodeSessionJwt(refreshed.session_jwt).payload[SESSION_CLAIM]).toMatchObject({ roles: ['stytch_member'] });
      expect(await localCode(local(refreshed.session_jwt, deleteMembers))).toBe('invalid_permissions');

      // A role granted: the server allows at once; the old JWT is refused locally, and authenticateJwt then asks the server.
      await client.organizations.members.update({ organization_id: organizationId, member_id: member.member_id, roles: ['billing-viewer'] });
      const readInvoices = check(organizationId, 'invoice', 'read');
      expect(await localCode(local(refreshed.session_jwt, readInvoices))).toBe('invalid_permissions');
      const fallback = await client.sessions.authenticateJwt({ session_jwt: refreshed.session_jwt, authorization_check: readInvoices });
      expect(fallback.member_session.roles).toEqual(['stytch_member', 'billing-viewer']);
      expect(fallback.session_jwt).not.toBe(refreshed.session_jwt);
      await local(fallback.session_jwt, readInvoices);
    });

    it("organization_id, resource_id and action are compared exactly: the organization's slug or external id is another organization", async () => {
      const externalId = `exact-${uniqueSuffix()}`;
      const { organization } = await client.organizations.create({ organization_name: 'Exact', organization_slug: `exact-${uniqueSuffix()}`, organization_external_id: externalId });
      const { member } = await client.organizations.members.create({ organization_id: organization.organization_id, email_address: `exact-${uniqueSuffix()}@example.org`, roles: ['stytch_admin'] });
      const started = await startSession(server, member);
      for (const reference of [organization.organization_slug, externalId, organization.organization_id.toUpperCase()]) {
        await expectStytchRejection(client.sessions.authenticate({ session_token: started.sessionToken, authorization_check: check(reference, 'stytch.member', 'delete') }), OTHER_TENANT);
        expect(await localCode(local(started.sessionJwt, check(reference, 'stytch.member', 'delete')))).toBe('tenancy_mismatch');
      }
      for (const [resourceId, action] of [
        ['STYTCH.MEMBER', 'delete'],
        ['stytch.member ', 'delete'],
        ['stytch.members', 'delete'],
      ] as const) {
        await expectStytchRejection(client.sessions.authenticate({ session_token: started.sessionToken, authorization_check: check(organization.organization_id, resourceId, action) }), DENIED);
        expect(await localCode(local(started.sessionJwt, check(organization.organization_id, resourceId, action)))).toBe('invalid_permissions');
      }
      // "*" grants any action name on its resource, listed or not, on both sides.
      const anyName = await client.sessions.authenticate({ session_token: started.sessionToken, authorization_check: check(organization.organization_id, 'stytch.member', 'DELETE') });
      expect(anyName.verdict).toEqual({ authorized: true, granting_roles: ['stytch_admin'] });
      await local(started.sessionJwt, check(organization.organization_id, 'stytch.member', 'DELETE'));
    });

    it('a role held but defined nowhere, or only by another organization, grants nothing, on the server and locally', async () => {
      // Another organization's custom role of the same name grants every action on stytch.member there.
      await client.rbac.organizations.setOrgPolicy({
        organization_id: elsewhere.organization.organization_id,
        org_policy: { roles: [{ role_id: 'member-manager', description: 'Manages members', permissions: [{ resource_id: 'stytch.member', actions: ['*'] }] }] },
      });
      const member = await memberWith([]);
      // The API refuses to assign either role here; data imported or written by an older version may hold such roles.
      const stored = await server.server.store.members.findMember(member.organization_id, member.member_id);
      if (stored === undefined) throw new Error('the member was just created');
      await server.server.store.members.updateMember({ ...stored, assignedRoles: ['ghost-role', 'member-manager'] });
      const started = await startSession(server, member);
      const authenticated = await client.sessions.authenticate({ session_token: started.sessionToken });
      expect([...authenticated.member_session.roles].sort()).toEqual(['ghost-role', 'member-manager', 'stytch_member']);
      const organizationId = cast.organization.organization_id;
      for (const [resourceId, action] of [
        ['stytch.member', 'delete'],
        ['stytch.member', '*'],
        ['ghost-role', 'read'],
        ['invoice', 'read'],
      ] as const) {
        await expectStytchRejection(client.sessions.authenticate({ session_token: started.sessionToken, authorization_check: check(organizationId, resourceId, action) }), DENIED);
        expect(await localCode(local(authenticated.session_jwt, check(organizationId, resourceId, action)))).toBe('invalid_permissions');
      }
      // Only the defined role the member holds is named as granting.
      const self = await client.sessions.authenticate({ session_jwt: authenticated.session_jwt, authorization_check: check(organizationId, 'stytch.self', 'delete') });
      expect(self.verdict).toEqual({ authorized: true, granting_roles: ['stytch_member'] });
      await local(authenticated.session_jwt, check(organizationId, 'stytch.self', 'delete'));
    });
  });
}
