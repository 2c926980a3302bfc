import type { B2BClient } from 'stytch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../../src/domain/audit/audit-event.js';
import { expectStytchRejection, expectToMatchResponseSchema } from '../../support/openapi.js';
import { localCode } from '../../support/sdk-client-errors.js';
import { startSdkTarget, type SdkTarget } from '../../support/sdk-targets.js';
import { STORES } from '../../support/stores.js';
import { TEST_PROJECT_ID, TEST_PROJECT_SECRET } from '../../support/test-server.js';
import { idPattern, uniqueSuffix } from '../../support/wire-formats.js';
import { AUTHENTICATE, type Cast, createCast, RBAC_ORG_POLICY, startSession } from './session-fixtures.js';

/**
 * rbac.organizations.setOrgPolicy through the SDK: an organization's own roles, checked against the
 * project's policy (with a custom resource), replacing the whole list, assigned to members, granting
 * at sessions.authenticate and in the SDK's local check alike, never removed while assigned.
 */
const CLI = { requestId: 'request-id-test-00000000-0000-4000-8000-0000000000c1', actor: { type: 'cli' as const } };
const PROJECT_POLICY = {
  resources: [{ resource_id: 'documents', description: 'Shared documents', actions: ['read', 'write', 'delete'] }],
  roles: [{ role_id: 'editor', description: 'Edits documents', permissions: [{ resource_id: 'documents', actions: ['read', 'write'] }] }],
  scopes: [],
};
const READER = { role_id: 'doc-reader', description: 'Reads documents', permissions: [{ resource_id: 'documents', actions: ['read'] }] };
const SEARCHER = { role_id: 'member-searcher', description: 'Finds colleagues', permissions: [{ resource_id: 'stytch.member', actions: ['search'] }] };
const DENIED = { status: 403, errorType: 'session_authorization_error' };
const ROLE_IN_USE = { status: 400, errorType: 'rbac_role_in_use' };
const UPDATED = 'organization.rbac_policy_updated';

for (const store of STORES) {
  describe(`rbac.organizations.setOrgPolicy (${store.name})`, () => {
    let target: SdkTarget;
    let client: B2BClient;
    let cast: Cast;
    let elsewhere: Cast;

    beforeAll(async () => {
      target = await startSdkTarget(store.name, 'http');
      client = target.client;
      await target.server.server.app.services.rbacPolicy.apply(CLI, PROJECT_POLICY, { source: 'cli' });
      cast = await createCast(client);
      elsewhere = await createCast(client);
    });
    afterAll(async () => target?.stop());

    const check = (organizationId: string, resourceId: string, action: string) => ({ organization_id: organizationId, resource_id: resourceId, action });
    const setRoles = (organizationId: string, roles: unknown[]) =>
      client.rbac.organizations.setOrgPolicy({ organization_id: organizationId, org_policy: { roles: roles as typeof READER[] } });
    const rolesOf = async (organizationId: string) => (await client.rbac.organizations.getOrgPolicy({ organization_id: organizationId })).org_policy.roles;
    const auditedChanges = async (organizationId: string): Promise<AuditEvent[]> =>
      (await target.server.server.store.audit.listEvents({ organizationId, limit: 500 })).filter((event) => event.type === UPDATED);
    /** A client of its own: the SDK caches both policies for five minutes per client. */
    const freshClient = () => target.clientWith({ projectId: TEST_PROJECT_ID, secret: TEST_PROJECT_SECRET });

    it('sets the roles and answers them, and getOrgPolicy answers them by id and by slug; other organizations keep theirs', async () => {
      const { organization } = await client.organizations.create({ organization_name: 'Org policy set', organization_slug: `org-policy-set-${uniqueSuffix()}` });
      const response = await setRoles(organization.organization_id, [READER, SEARCHER]);
      expectToMatchResponseSchema('put', RBAC_ORG_POLICY, response);
      expect(response.request_id).toMatch(idPattern('request-id'));
      expect(response.status_code).toBe(200);
      expect(response.org_policy).toEqual({ roles: [READER, SEARCHER] });
      for (const reference of [organization.organization_id, organization.organization_slug]) {
        const got = await client.rbac.organizations.getOrgPolicy({ organization_id: reference });
        expectToMatchResponseSchema('get', RBAC_ORG_POLICY, got);
        expect(got.org_policy).toEqual({ roles: [READER, SEARCHER] });
      }
      // organizations.get shows them as the organization's custom_roles.
      expect((await client.organizations.get({ organization_id: organization.organization_id })).organization.custom_roles).toEqual([READER, SEARCHER]);
      expect(await rolesOf(elsewhere.organization.organization_id)).toEqual([]);

      // The list given is the whole list (Stytch replaces it): the searcher is gone, the reader changed.
      const widened = { ...READER, description: 'Reads and writes documents', permissions: [{ resource_id: 'documents', actions: ['read', 'write'] }] };
      const replaced = await setRoles(organization.organization_slug, [widened]);
      expect(replaced.org_policy.roles).toEqual([widened]);
      expect(await rolesOf(organization.organization_id)).toEqual([widened]);
      // And an empty list removes every role.
      expect((await setRoles(organization.organization_id, [])).org_policy.roles).toEqual([]);
      expect(await rolesOf(organization.organization_id)).toEqual([]);
    });

    it('refuses invalid roles listing every problem, changing nothing; an unknown organization is organization_not_found', async () => {
      await setRoles(cast.organization.organization_id, [READER]);
      const invalid = [
        { role_id: 'wild', description: 'Wildcard and more', permissions: [{ resource_id: 'documents', actions: ['*', 'read'] }] },
        { role_id: 'ghost-reader', description: 'Unknown resource', permissions: [{ resource_id: 'ghosts', actions: ['read'] }] },
        { role_id: 'typo', description: 'Unknown action', permissions: [{ resource_id: 'documents', actions: ['raed'] }] },
        // The project's roles and Stytch's are not the organization's to define.
        { role_id: 'editor', description: 'Clashes with a project role', permissions: [] },
        { role_id: 'stytch_admin', description: 'Reserved', permissions: [] },
        { role_id: 'twice', description: 'First', permissions: [] },
        { role_id: 'twice', description: 'Second', permissions: [] },
      ];
      const error = await expectStytchRejection(setRoles(cast.organization.organization_id, invalid), { status: 400, errorType: 'cannot_specify_wildcard_with_other_actions' });
      for (const expected of ['roles[0].permissions[0].actions', 'roles[1].permissions[0].resource_id', '"ghosts"', '"raed"', 'roles[3].role_id', '"editor"', 'roles[4].role_id', 'roles[6].role_id', '"twice"']) {
        expect(error.error_message).toContain(expected);
      }
      // A single problem is answered with its own code.
      await expectStytchRejection(setRoles(cast.organization.organization_id, [invalid[1]]), { status: 400, errorType: 'invalid_rbac_policy' });
      expect(await rolesOf(cast.organization.organization_id)).toEqual([READER]);
      await expectStytchRejection(setRoles('organization-test-00000000-0000-4000-8000-000000000000', [READER]), { status: 404, errorType: 'organization_not_found' });
      await expectStytchRejection(setRoles(cast.organization.organization_id, [{ role_id: 'no-description', permissions: [] }]), { status: 400, errorType: 'bad_request' });
    });

    it('a custom role assigned by members.update grants at sessions.authenticate and in the SDK\'s local check; another organization cannot assign it', async () => {
      const organizationId = cast.organization.organization_id;
      await setRoles(organizationId, [READER]);
      const updated = await client.organizations.members.update({ organization_id: organizationId, member_id: cast.member.member_id, roles: [READER.role_id] });
      expect(updated.member.roles).toContainEqual({ role_id: READER.role_id, sources: [{ type: 'direct_assignment', details: {} }] });
      await expectStytchRejection(
        client.organizations.members.update({ organization_id: elsewhere.organization.organization_id, member_id: elsewhere.member.member_id, roles: [READER.role_id] }),
        { status: 400, errorType: 'invalid_rbac_role_id' },
      );

      const started = await startSession(target.server, cast.member);
      const allowed = await client.sessions.authenticate({ session_token: started.sessionToken, authorization_check: check(organizationId, 'documents', 'read') });
      expectToMatchResponseSchema('post', AUTHENTICATE, allowed);
      expect(allowed.verdict).toEqual({ authorized: true, granting_roles: [READER.role_id] });
      expect(allowed.member_session.roles).toEqual(['stytch_member', READER.role_id]);
      await expectStytchRejection(client.sessions.authenticate({ session_token: started.sessionToken, authorization_check: check(organizationId, 'documents', 'write') }), DENIED);

      const local = freshClient();
      const passed = await local.sessions.authenticateJwtLocal({ session_jwt: started.sessionJwt, authorization_check: check(organizationId, 'documents', 'read') });
      expect(passed.member_session_id).toBe(started.memberSessionId);
      expect(passed.roles).toEqual(['stytch_member', READER.role_id]);
      expect(await localCode(local.sessions.authenticateJwtLocal({ session_jwt: started.sessionJwt, authorization_check: check(organizationId, 'documents', 'write') }))).toBe(
        'invalid_permissions',
      );
      expect(
        await localCode(local.sessions.authenticateJwtLocal({ session_jwt: started.sessionJwt, authorization_check: check(elsewhere.organization.organization_id, 'documents', 'read') })),
      ).toBe('tenancy_mismatch');
      // Without the role (unassigned), neither check grants it.
      await client.organizations.members.update({ organization_id: organizationId, member_id: cast.member.member_id, roles: [] });
      await expectStytchRejection(client.sessions.authenticate({ session_token: started.sessionToken, authorization_check: check(organizationId, 'documents', 'read') }), DENIED);
      const reissued = await client.sessions.authenticate({ session_token: started.sessionToken });
      expect(
        await localCode(freshClient().sessions.authenticateJwtLocal({ session_jwt: reissued.session_jwt, authorization_check: check(organizationId, 'documents', 'read') })),
      ).toBe('invalid_permissions');
    });

    it('refuses to remove a role still assigned directly or by an email-domain assignment (rbac_role_in_use), until it is not', async () => {
      const organizationId = cast.organization.organization_id;
      await setRoles(organizationId, [READER, SEARCHER]);
      await client.organizations.members.update({ organization_id: organizationId, member_id: cast.admin.member_id, roles: ['stytch_admin', READER.role_id] });
      const refused = await expectStytchRejection(setRoles(organizationId, [SEARCHER]), ROLE_IN_USE);
      expect(refused.error_message).toContain(`"${READER.role_id}"`);
      expect(refused.error_message).toContain('1 member(s)');
      expect(await rolesOf(organizationId)).toEqual([READER, SEARCHER]);
      // Another organization's assignments do not count: its own reader role is free to go.
      await setRoles(elsewhere.organization.organization_id, [READER]);
      expect((await setRoles(elsewhere.organization.organization_id, [])).org_policy.roles).toEqual([]);

      await client.organizations.members.update({ organization_id: organizationId, member_id: cast.admin.member_id, roles: ['stytch_admin'] });
      await client.organizations.update({ organization_id: organizationId, rbac_email_implicit_role_assignments: [{ domain: 'readers.example', role_id: READER.role_id }] });
      const implicit = await expectStytchRejection(setRoles(organizationId, [SEARCHER]), ROLE_IN_USE);
      expect(implicit.error_message).toContain('implicit role assignments');
      await client.organizations.update({ organization_id: organizationId, rbac_email_implicit_role_assignments: [] });
      expect((await setRoles(organizationId, [SEARCHER])).org_policy.roles).toEqual([SEARCHER]);
    });

    it('audits each change with the diff of the roles; setting the same roles again writes nothing', async () => {
      const { organization } = await client.organizations.create({ organization_name: 'Org policy audit', organization_slug: `org-policy-audit-${uniqueSuffix()}` });
      const organizationId = organization.organization_id;
      await setRoles(organizationId, [READER]);
      const widened = { ...READER, permissions: [{ resource_id: 'documents', actions: ['read', 'write'] }] };
      await setRoles(organizationId, [widened, SEARCHER]);
      const events = await auditedChanges(organizationId);
      expect(events).toHaveLength(2);
      const [second, first] = events;
      expect(first?.details).toEqual({ changes: { roles: { added: [READER], removed: [], changed: [] } } });
      expect(first?.actor).toEqual({ type: 'project', projectId: TEST_PROJECT_ID });
      expect(second?.details).toEqual({ changes: { roles: { added: [SEARCHER], removed: [], changed: [{ before: READER, after: widened }] } } });
      // The same roles (their actions in another order) are no change: nothing written, nothing audited.
      const before = await client.organizations.get({ organization_id: organizationId });
      const again = await setRoles(organizationId, [SEARCHER, { ...widened, permissions: [{ resource_id: 'documents', actions: ['write', 'read'] }] }]);
      expect(again.org_policy.roles).toEqual([widened, SEARCHER]);
      expect(await auditedChanges(organizationId)).toHaveLength(2);
      expect((await client.organizations.get({ organization_id: organizationId })).organization.updated_at).toBe(before.organization.updated_at);
      await setRoles(organizationId, []);
      const removed = (await auditedChanges(organizationId))[0];
      expect(removed?.details).toEqual({ changes: { roles: { added: [], removed: [widened, SEARCHER], changed: [] } } });
    });

    it('with member-session headers, needs stytch.custom-org-roles update in the session\'s own organization and grants only what the caller holds', async () => {
      const organizationId = cast.organization.organization_id;
      const path = (id: string) => `/v1/b2b/rbac/organizations/${encodeURIComponent(id)}`;
      const put = (id: string, sessionToken: string, roles: unknown[]) =>
        target.server.fetch(path(id), { method: 'PUT', headers: { 'x-stytch-member-session': sessionToken }, json: { org_policy: { roles } } });
      const admin = await startSession(target.server, cast.admin);
      const member = await startSession(target.server, cast.member);
      // Roles kept as they are grant nothing new; a new role may grant only what the caller holds:
      // stytch_admin holds stytch.member search, but not documents:write.
      const kept = await rolesOf(organizationId);
      const finder = { role_id: 'member-finder', description: 'Finds members', permissions: [{ resource_id: 'stytch.member', actions: ['search'] }] };
      const writer = { role_id: 'doc-writer', description: 'Writes documents', permissions: [{ resource_id: 'documents', actions: ['write'] }] };
      const beyondOwn = await put(organizationId, admin.sessionToken, [...kept, finder, writer]);
      expect([beyondOwn.status, beyondOwn.body.error_type]).toEqual([403, 'session_authorization_error']);
      const allowed = await put(organizationId, admin.sessionToken, [...kept, finder]);
      expect(allowed.status).toBe(200);
      expect(allowed.body.org_policy).toEqual({ roles: [...kept, finder] });
      const [event] = await auditedChanges(organizationId);
      expect(event?.actor).toMatchObject({ type: 'member_session', memberId: cast.admin.member_id, memberSessionId: admin.memberSessionId });

      const denied = await put(organizationId, member.sessionToken, kept);
      expect([denied.status, denied.body.error_type]).toEqual([403, 'session_authorization_error']);
      const otherTenant = await put(elsewhere.organization.organization_id, admin.sessionToken, []);
      expect([otherTenant.status, otherTenant.body.error_type]).toEqual([403, 'session_authorization_tenancy_error']);
      const unknown = await put('organization-test-00000000-0000-4000-8000-000000000000', admin.sessionToken, []);
      expect([unknown.status, unknown.body.error_type]).toEqual([403, 'session_authorization_tenancy_error']);
      expect(await rolesOf(organizationId)).toEqual([...kept, finder]);
      expect(await rolesOf(elsewhere.organization.organization_id)).toEqual([]);
    });
  });
}
