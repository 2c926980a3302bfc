import type { B2BClient } from 'stytch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectStytchRejection, expectToMatchResponseSchema } from '../../support/openapi.js';
import { clientErrorOf } from '../../support/sdk-client-errors.js';
import { startSdkTarget, type SdkTarget } from '../../support/sdk-targets.js';
import { STORES } from '../../support/stores.js';
import { idPattern } from '../../support/wire-formats.js';
import { AUTHENTICATE, authenticateToken, type Cast, createCast, RBAC_ORG_POLICY, RBAC_POLICY, startSession } from './session-fixtures.js';

/** `client.rbac.*` and `authorization_check` on sessions, remote (sessions.authenticate) and local (authenticateJwtLocal). */
const DENIED = { status: 403, errorType: 'session_authorization_error' };
const OTHER_TENANT = { status: 403, errorType: 'session_authorization_tenancy_error' };

for (const store of STORES) {
  describe(`client.rbac and authorization_check (${store.name})`, () => {
    let target: SdkTarget;
    let client: B2BClient;
    let cast: Cast;
    let elsewhere: Cast;

    beforeAll(async () => {
      target = await startSdkTarget(store.name, 'http');
      client = target.client;
      cast = await createCast(client);
      elsewhere = await createCast(client);
    });
    afterAll(async () => target?.stop());

    const check = (organizationId: string, resourceId: string, action: string) => ({ organization_id: organizationId, resource_id: resourceId, action });

    it("rbac.policy answers the default roles stytch_member and stytch_admin over the stytch.* resources and Understudy's understudy.* ones", async () => {
      const response = await client.rbac.policy();
      expectToMatchResponseSchema('get', RBAC_POLICY, response);
      expect(response.request_id).toMatch(idPattern('request-id'));
      const policy = response.policy;
      expect(policy?.resources.map((resource) => resource.resource_id).sort()).toEqual([
        'stytch.custom-org-roles',
        'stytch.member',
        'stytch.organization',
        'stytch.scim',
        'stytch.self',
        'stytch.sso',
        'understudy.impersonation',
        'understudy.support-access',
      ]);
      expect(policy?.resources.find((resource) => resource.resource_id === 'understudy.support-access')?.actions).toEqual(['grant', 'revoke', 'read', 'update.settings']);
      expect(policy?.resources.find((resource) => resource.resource_id === 'understudy.impersonation')?.actions).toEqual(['create', 'read-audit']);
      for (const resource of policy?.resources ?? []) expect(resource.actions.length).toBeGreaterThan(0);
      expect(policy?.resources.find((resource) => resource.resource_id === 'stytch.member')?.actions).toContain('delete');
      const roles = new Map(policy?.roles.map((role) => [role.role_id, role]));
      expect([...roles.keys()].sort()).toEqual(['stytch_admin', 'stytch_member']);
      expect(roles.get('stytch_member')?.permissions).toEqual([{ resource_id: 'stytch.self', actions: ['*'] }]);
      expect(roles.get('stytch_admin')?.permissions.map((permission) => permission.resource_id).sort()).toEqual([
        'stytch.custom-org-roles',
        'stytch.member',
        'stytch.organization',
        'stytch.scim',
        'stytch.sso',
        'understudy.impersonation',
        'understudy.support-access',
      ]);
      for (const resourceId of ['understudy.impersonation', 'understudy.support-access']) {
        expect(roles.get('stytch_admin')?.permissions.find((permission) => permission.resource_id === resourceId)?.actions).toEqual(['*']);
      }
      expect(policy?.scopes).toEqual([]);
    });

    it('rbac.organizations.getOrgPolicy answers an empty org policy by id and by slug, organization_not_found otherwise', async () => {
      for (const reference of [cast.organization.organization_id, cast.organization.organization_slug]) {
        const response = await client.rbac.organizations.getOrgPolicy({ organization_id: reference });
        expectToMatchResponseSchema('get', RBAC_ORG_POLICY, response);
        expect(response.org_policy).toEqual({ roles: [] });
        expect(response.status_code).toBe(200);
      }
      await expectStytchRejection(client.rbac.organizations.getOrgPolicy({ organization_id: 'organization-test-00000000-0000-4000-8000-000000000000' }), {
        status: 404,
        errorType: 'organization_not_found',
      });
    });

    it('sessions.authenticate with authorization_check allows an admin to delete members, naming stytch_admin as the granting role', async () => {
      const started = await startSession(target.server, cast.admin);
      for (const credential of [{ session_token: started.sessionToken }, { session_jwt: started.sessionJwt }]) {
        const response = await client.sessions.authenticate({
          ...credential,
          authorization_check: check(cast.organization.organization_id, 'stytch.member', 'delete'),
        });
        expectToMatchResponseSchema('post', AUTHENTICATE, response);
        expect(response.verdict).toEqual({ authorized: true, granting_roles: ['stytch_admin'] });
        expect(response.member_session.member_session_id).toBe(started.memberSessionId);
      }
      // Without a check there is no verdict.
      expect(await authenticateToken(client, started.sessionToken)).not.toHaveProperty('verdict');
    });

    it('every member may act on stytch.self through stytch_member', async () => {
      const started = await startSession(target.server, cast.member);
      const response = await client.sessions.authenticate({
        session_token: started.sessionToken,
        authorization_check: check(cast.organization.organization_id, 'stytch.self', 'update.info.name'),
      });
      expectToMatchResponseSchema('post', AUTHENTICATE, response);
      expect(response.verdict).toEqual({ authorized: true, granting_roles: ['stytch_member'] });
    });

    it('refuses a plain member with session_authorization_error and another organization with session_authorization_tenancy_error (403)', async () => {
      const member = await startSession(target.server, cast.member);
      const admin = await startSession(target.server, cast.admin);
      const before = await authenticateToken(client, member.sessionToken);
      for (const [resource, action] of [
        ['stytch.member', 'delete'],
        ['stytch.organization', 'update.info.name'],
        // A resource the policy does not define is granted by no role.
        ['stytch.unknown', 'delete'],
      ] as const) {
        await expectStytchRejection(
          client.sessions.authenticate({ session_token: member.sessionToken, authorization_check: check(cast.organization.organization_id, resource, action) }),
          DENIED,
        );
      }
      // `*` grants every action on its resource, even one the policy does not list, as the SDK's local check does.
      const wildcard = await client.sessions.authenticate({
        session_jwt: admin.sessionJwt,
        authorization_check: check(cast.organization.organization_id, 'stytch.member', 'fly'),
      });
      expect(wildcard.verdict).toEqual({ authorized: true, granting_roles: ['stytch_admin'] });
      for (const started of [member, admin]) {
        await expectStytchRejection(
          client.sessions.authenticate({
            session_token: started.sessionToken,
            session_duration_minutes: 600,
            authorization_check: check(elsewhere.organization.organization_id, 'stytch.self', 'update.info.name'),
          }),
          OTHER_TENANT,
        );
      }
      // A refused check changes nothing, even when it came with a new duration.
      const after = await authenticateToken(client, member.sessionToken);
      expect(after.member_session.expires_at).toBe(before.member_session.expires_at);
    });

    it('authenticateJwtLocal with authorization_check fetches the policies itself and allows or refuses the same way', async () => {
      const admin = await startSession(target.server, cast.admin);
      const member = await startSession(target.server, cast.member);
      const organizationId = cast.organization.organization_id;
      const allowed = await client.sessions.authenticateJwtLocal({ session_jwt: admin.sessionJwt, authorization_check: check(organizationId, 'stytch.member', 'delete') });
      expect(allowed.member_session_id).toBe(admin.memberSessionId);
      const self = await client.sessions.authenticateJwtLocal({ session_jwt: member.sessionJwt, authorization_check: check(organizationId, 'stytch.self', 'delete') });
      expect(self.member_session_id).toBe(member.memberSessionId);
      const denied = await clientErrorOf(
        client.sessions.authenticateJwtLocal({ session_jwt: member.sessionJwt, authorization_check: check(organizationId, 'stytch.member', 'delete') }),
      );
      expect(denied.code).toBe('invalid_permissions');
      const tenancy = await clientErrorOf(
        client.sessions.authenticateJwtLocal({
          session_jwt: admin.sessionJwt,
          authorization_check: check(elsewhere.organization.organization_id, 'stytch.member', 'delete'),
        }),
      );
      expect(tenancy.code).toBe('tenancy_mismatch');
      // authenticateJwt falls back to the server when the local check refuses, which refuses too.
      await expectStytchRejection(
        client.sessions.authenticateJwt({ session_jwt: member.sessionJwt, authorization_check: check(organizationId, 'stytch.member', 'delete') }),
        DENIED,
      );
    });
  });
}
