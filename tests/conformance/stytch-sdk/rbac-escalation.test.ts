import type { B2BClient, Member, Organization } from 'stytch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../../src/domain/audit/audit-event.js';
import { policyDocument } from '../../../src/domain/rbac/policy-rules.js';
import { auditEvents, expectErrorResponse, policyPath, type RawResponse } from '../../support/impersonation.js';
import {
  applyProjectRoles,
  createStage,
  type Grant,
  openWriteProbe,
  type SessionAuthorization,
  type Stage,
  type StartedSession,
  startMemberSession,
  type WriteProbe,
} from '../../support/member-session-cast.js';
import { expectStytchRejection } from '../../support/openapi.js';
import { STORES } from '../../support/stores.js';
import { startTestServer, type TestServer } from '../../support/test-server.js';
import { uniqueSuffix } from '../../support/wire-formats.js';

/**
 * Ways a member session could reach further than its roles allow, each refused before anything is
 * written: an address change that brings a role by an implicit assignment, an organization role
 * editor writing a role with more than they hold, a reactivation that brings back an admin or a
 * break-glass member, roles that come back after the policy dropped them, an impersonated session
 * hiding behind another session's JWT, and the impersonation policy read with roles since taken away.
 */
const DENIED = { status: 403, errorType: 'session_authorization_error' } as const;
const SESSION_NOT_FOUND = { status: 404, errorType: 'session_not_found' } as const;
const UNPARSABLE_JWT = { status: 401, errorType: 'unable_to_parse_session_jwt' } as const;

const MEMBER = 'stytch.member';
const CLI = { requestId: 'request-id-test-00000000-0000-4000-8000-0000000000e1', actor: { type: 'cli' as const } };

/** What a custom project role grants: only the address (update.info.email), or that and roles too. */
const EMAIL_ONLY: readonly Grant[] = [[MEMBER, 'update.info.email']];
const EMAIL_AND_ROLES: readonly Grant[] = [
  [MEMBER, 'update.info.email'],
  [MEMBER, 'update.settings.roles'],
];
/** Reactivation: create alone, with roles, and with roles and break-glass. */
const CREATE_ONLY: readonly Grant[] = [[MEMBER, 'create']];
const CREATE_AND_ROLES: readonly Grant[] = [
  [MEMBER, 'create'],
  [MEMBER, 'update.settings.roles'],
];
const CREATE_ROLES_BREAKGLASS: readonly Grant[] = [
  [MEMBER, 'create'],
  [MEMBER, 'update.settings.roles'],
  [MEMBER, 'update.settings.is-breakglass'],
];

/** Implicit role assignments: editing them alone, and with the right to give roles. */
const IMPLICIT_ONLY: readonly Grant[] = [['stytch.organization', 'update.settings.implicit-roles']];
const IMPLICIT_AND_ROLES: readonly Grant[] = [
  ['stytch.organization', 'update.settings.implicit-roles'],
  [MEMBER, 'update.settings.roles'],
];

/** The domain whose implicit assignment gives stytch_admin. */
const BOSS_DOMAIN = 'boss.example.com';

function roleIds(member: Member): string[] {
  return member.roles.map((role) => role.role_id).sort();
}

for (const store of STORES) {
  describe(`member sessions cannot escalate their roles (${store.name})`, () => {
    let server: TestServer;
    let client: B2BClient;
    let stage: Stage;
    let probe: WriteProbe;
    let roleFor: (grants: readonly Grant[]) => string;

    beforeAll(async () => {
      server = await startTestServer({ store: store.name });
      client = server.client;
      roleFor = await applyProjectRoles(server, [EMAIL_ONLY, EMAIL_AND_ROLES, CREATE_ONLY, CREATE_AND_ROLES, CREATE_ROLES_BREAKGLASS, IMPLICIT_ONLY, IMPLICIT_AND_ROLES]);
      stage = await createStage(server, 'escalation');
      probe = await openWriteProbe(server);
    });
    afterAll(async () => {
      await probe?.close();
      await server?.stop();
    });

    const organizationId = () => stage.organization.organization_id;

    /** A new member of the stage's organization with these direct roles (set by the project). */
    async function addMember(roles: string[] = [], extra: { is_breakglass?: boolean } = {}): Promise<Member> {
      const { member } = await client.organizations.members.create({ organization_id: organizationId(), email_address: `m-${uniqueSuffix()}@example.org`, roles, ...extra });
      return member;
    }

    async function signedIn(roles: string[] = []): Promise<{ member: Member; session: StartedSession }> {
      const member = await addMember(roles);
      return { member, session: await startMemberSession(server, member) };
    }

    const byToken = (session: StartedSession): { authorization: SessionAuthorization } => ({ authorization: { session_token: session.sessionToken } });
    const byJwt = (session: StartedSession): { authorization: SessionAuthorization } => ({ authorization: { session_jwt: session.sessionJwt } });

    async function memberNow(member: Member): Promise<Member> {
      return (await client.organizations.members.get({ organization_id: member.organization_id, member_id: member.member_id })).member;
    }

    /** Edits the project's roles in-process (as the CLI would), keeping everything else of the policy in force. */
    async function editProjectRoles(edit: (roles: ReturnType<typeof policyDocument>['roles']) => ReturnType<typeof policyDocument>['roles']): Promise<void> {
      const services = server.server.app.services;
      const document = policyDocument((await services.rbacPolicy.current()).policy);
      await services.rbacPolicy.apply(CLI, { ...document, roles: edit(document.roles) }, { source: 'cli' });
    }

    async function auditOf(organization: string, type: string): Promise<AuditEvent[]> {
      return (await server.server.store.audit.searchEvents({ organizationId: organization }, { limit: 100_000, afterEventId: null })).filter((event) => event.type === type);
    }

    describe('organizations.update adding an implicit role assignment', () => {
      it('needs the right to give roles: an assignment editor cannot give their own domain stytch_admin, but may remove assignments', async () => {
        const current = async () => (await client.organizations.get({ organization_id: organizationId() })).organization.rbac_email_implicit_role_assignments ?? [];
        const { member, session } = await signedIn([roleFor(IMPLICIT_ONLY)]);
        const ownDomain = member.email_address.slice(member.email_address.indexOf('@') + 1);
        const before = await current();
        const withOwn = [...before, { domain: ownDomain, role_id: 'stytch_admin' }];
        const setAssignments = (assignments: typeof before, caller: StartedSession) =>
          client.organizations.update({ organization_id: organizationId(), rbac_email_implicit_role_assignments: assignments }, byToken(caller));
        await probe.expectNothingWritten(() => expectStytchRejection(setAssignments(withOwn, session), DENIED));
        expect(roleIds(await memberNow(member))).not.toContain('stytch_admin');
        // Sending the assignments as they are adds none: allowed.
        await setAssignments(before, session);

        const { session: giver } = await signedIn([roleFor(IMPLICIT_AND_ROLES)]);
        const probeDomain = `gift-${uniqueSuffix()}.example.net`;
        const given = await setAssignments([...before, { domain: probeDomain, role_id: 'stytch_admin' }], giver);
        expect(given.organization.rbac_email_implicit_role_assignments).toContainEqual({ domain: probeDomain, role_id: 'stytch_admin' });
        // Taking an assignment away gives nothing: the editor alone may.
        const removed = await setAssignments(before, session);
        expect(removed.organization.rbac_email_implicit_role_assignments).toEqual(before);
      });
    });

    describe('members.update of an address whose domain the organization gives a role to', () => {
      beforeAll(async () => {
        await client.organizations.update({ organization_id: organizationId(), rbac_email_implicit_role_assignments: [{ domain: BOSS_DOMAIN, role_id: 'stytch_admin' }] });
      });

      it('a plain member moving their own address there (keeping their sessions) is refused and nothing is written; an admin may move them', async () => {
        const { member, session } = await signedIn();
        const moveTo = (emailAddress: string, caller: StartedSession) =>
          client.organizations.members.update(
            { organization_id: member.organization_id, member_id: member.member_id, email_address: emailAddress, preserve_existing_sessions: true },
            byToken(caller),
          );
        // An address at a domain that gives no role is theirs to set (stytch.self update.info.email).
        const elsewhere = `moved-${uniqueSuffix()}@plain.example.net`;
        expect((await moveTo(elsewhere, session)).member.email_address).toBe(elsewhere);
        for (const address of [`me-${uniqueSuffix()}@${BOSS_DOMAIN}`, `ME-${uniqueSuffix()}@Boss.Example.COM`]) {
          await probe.expectNothingWritten(() => expectStytchRejection(moveTo(address, session), DENIED));
        }
        // The JWT form of the same session is refused alike.
        await probe.expectNothingWritten(() =>
          expectStytchRejection(
            client.organizations.members.update(
              { organization_id: member.organization_id, member_id: member.member_id, email_address: `jwt-${uniqueSuffix()}@${BOSS_DOMAIN}`, preserve_existing_sessions: true },
              byJwt(session),
            ),
            DENIED,
          ),
        );
        const unchanged = await memberNow(member);
        expect(unchanged.email_address).toBe(elsewhere);
        expect(roleIds(unchanged)).toEqual(['stytch_member']);

        const promoted = `boss-${uniqueSuffix()}@${BOSS_DOMAIN}`;
        const response = await moveTo(promoted, stage.sessions.admin);
        expect(response.status_code).toBe(200);
        expect(response.member.email_address).toBe(promoted);
        expect(response.member.roles).toContainEqual({ role_id: 'stytch_admin', sources: [{ type: 'email_assignment', details: { email_domain: BOSS_DOMAIN } }] });
      });

      it('another member’s address there needs update.settings.roles besides update.info.email, unless they hold the role already', async () => {
        const { session: emailOnly } = await signedIn([roleFor(EMAIL_ONLY)]);
        const { session: emailAndRoles } = await signedIn([roleFor(EMAIL_AND_ROLES)]);
        const target = await addMember();
        const move = (who: Member, emailAddress: string, caller: StartedSession) =>
          client.organizations.members.update({ organization_id: who.organization_id, member_id: who.member_id, email_address: emailAddress }, byToken(caller));

        await probe.expectNothingWritten(() => expectStytchRejection(move(target, `target-${uniqueSuffix()}@${BOSS_DOMAIN}`, emailOnly), DENIED));
        expect(roleIds(await memberNow(target))).toEqual(['stytch_member']);
        // update.info.email alone is enough where the domain gives nothing, or gives a role already held.
        expect((await move(target, `target-${uniqueSuffix()}@plain.example.net`, emailOnly)).status_code).toBe(200);
        const admin = await addMember(['stytch_admin']);
        expect((await move(admin, `admin-${uniqueSuffix()}@${BOSS_DOMAIN}`, emailOnly)).status_code).toBe(200);

        const moved = await move(target, `target-${uniqueSuffix()}@${BOSS_DOMAIN}`, emailAndRoles);
        expect(roleIds(moved.member)).toEqual(['stytch_admin', 'stytch_member']);
      });
    });

    describe('rbac.organizations.setOrgPolicy with member-session headers (raw HTTP: the SDK sends none)', () => {
      const OPS = { role_id: 'ops', description: 'Edits the organization’s roles', permissions: [{ resource_id: 'stytch.custom-org-roles', actions: ['update'] }] };
      const WIDE = {
        role_id: 'wide',
        description: 'Runs the organization',
        permissions: [
          { resource_id: 'stytch.organization', actions: ['*'] },
          { resource_id: 'stytch.member', actions: ['search', 'delete'] },
        ],
      };
      let organization: Organization;
      let ops: StartedSession;

      beforeAll(async () => {
        organization = (await client.organizations.create({ organization_name: `Org roles ${uniqueSuffix()}`, organization_slug: `org-roles-${uniqueSuffix()}` })).organization;
        await client.rbac.organizations.setOrgPolicy({ organization_id: organization.organization_id, org_policy: { roles: [OPS, WIDE] } });
        const { member } = await client.organizations.members.create({ organization_id: organization.organization_id, email_address: `ops-${uniqueSuffix()}@example.org`, roles: ['ops'] });
        ops = await startMemberSession(server, member);
      });

      const put = (roles: unknown[], headers: Record<string, string>): Promise<RawResponse> =>
        server.fetch(`/v1/b2b/rbac/organizations/${organization.organization_id}`, { method: 'PUT', json: { org_policy: { roles } }, headers });
      const orgRoles = async () => (await client.rbac.organizations.getOrgPolicy({ organization_id: organization.organization_id })).org_policy.roles;

      it('refuses a role editor granting what they do not hold (their own role widened, a new role, another role widened), writing nothing', async () => {
        const attempts: unknown[][] = [
          [{ ...OPS, permissions: [...OPS.permissions, { resource_id: 'stytch.organization', actions: ['*'] }] }, WIDE],
          [OPS, WIDE, { role_id: 'boss', description: 'Everything', permissions: [{ resource_id: 'stytch.organization', actions: ['*'] }] }],
          [OPS, { ...WIDE, permissions: [WIDE.permissions[0], { resource_id: 'stytch.member', actions: ['search', 'delete', 'update.settings.roles'] }] }],
        ];
        for (const [index, roles] of attempts.entries()) {
          const headers: Record<string, string> = index % 2 === 0 ? { 'X-Stytch-Member-Session': ops.sessionToken } : { 'X-Stytch-Member-SessionJWT': ops.sessionJwt };
          await probe.expectNothingWritten(async () => expectErrorResponse(await put(roles, headers), DENIED.status, DENIED.errorType));
        }
        expect(await orgRoles()).toEqual([OPS, WIDE]);
      });

      it('lets them add a role granting only what they hold, and narrow a role granting more than they hold', async () => {
        const helper = { role_id: 'helper', description: 'Also edits roles', permissions: [{ resource_id: 'stytch.custom-org-roles', actions: ['update'] }] };
        const added = await put([OPS, WIDE, helper], { 'X-Stytch-Member-Session': ops.sessionToken });
        expect(added.status, JSON.stringify(added.body)).toBe(200);
        const narrowed = { ...WIDE, permissions: [{ resource_id: 'stytch.organization', actions: ['update.info.name'] }] };
        const response = await put([OPS, narrowed, helper], { 'X-Stytch-Member-SessionJWT': ops.sessionJwt });
        expect(response.status, JSON.stringify(response.body)).toBe(200);
        expect(await orgRoles()).toEqual([OPS, narrowed, helper]);
      });
    });

    describe('organizations.members.reactivate brings back what the member had', () => {
      async function deleted(roles: string[], extra: { is_breakglass?: boolean } = {}): Promise<Member> {
        const member = await addMember(roles, extra);
        await client.organizations.members.delete({ organization_id: member.organization_id, member_id: member.member_id });
        return member;
      }
      const reactivate = (member: Member, caller: StartedSession) =>
        client.organizations.members.reactivate({ organization_id: member.organization_id, member_id: member.member_id }, byToken(caller));

      it('create alone reactivates a plain member, but not an admin or a break-glass member (403, nothing written)', async () => {
        const { session } = await signedIn([roleFor(CREATE_ONLY)]);
        const admin = await deleted(['stytch_admin']);
        const breakglass = await deleted([], { is_breakglass: true });
        await probe.expectNothingWritten(() => expectStytchRejection(reactivate(admin, session), DENIED));
        await probe.expectNothingWritten(() => expectStytchRejection(reactivate(breakglass, session), DENIED));
        expect((await reactivate(await deleted([]), session)).member.status).toBe('active');
      });

      it('create with update.settings.roles reactivates the admin; break-glass needs update.settings.is-breakglass too', async () => {
        const { session: withRoles } = await signedIn([roleFor(CREATE_AND_ROLES)]);
        const { session: withAll } = await signedIn([roleFor(CREATE_ROLES_BREAKGLASS)]);
        const admin = await deleted(['stytch_admin']);
        const breakglass = await deleted([], { is_breakglass: true });
        await probe.expectNothingWritten(() => expectStytchRejection(reactivate(breakglass, withRoles), DENIED));
        const reactivatedAdmin = await reactivate(admin, withRoles);
        expect(roleIds(reactivatedAdmin.member)).toEqual(['stytch_admin', 'stytch_member']);
        const reactivatedBreakglass = await reactivate(breakglass, withAll);
        expect(reactivatedBreakglass.member).toMatchObject({ status: 'active', is_breakglass: true });
      });
    });

    describe('roles removed from the policies while a member was deleted', () => {
      async function expectDropped(member: Member, reactivatedRoles: string[], dropped: string[]): Promise<void> {
        const response = await client.organizations.members.reactivate({ organization_id: member.organization_id, member_id: member.member_id });
        expect(roleIds(response.member)).toEqual(reactivatedRoles);
        const events = (await auditOf(member.organization_id, 'member.reactivated')).filter((event) => event.memberId === member.member_id);
        expect(events).toHaveLength(1);
        expect(events[0]?.details).toMatchObject({ dropped_roles: dropped });
      }

      it('a project role removed meanwhile does not come back on reactivation, nor when a role of that id is defined again', async () => {
        const retired = `retired-${uniqueSuffix()}`;
        const role = { role_id: retired, description: 'Searches members', permissions: [{ resource_id: MEMBER, actions: ['search'] }] };
        await editProjectRoles((roles) => [...roles, role]);
        const member = await addMember([retired, 'stytch_admin']);
        await client.organizations.members.delete({ organization_id: member.organization_id, member_id: member.member_id });
        // A deleted member holds nothing that blocks the removal.
        await editProjectRoles((roles) => roles.filter((candidate) => candidate.role_id !== retired));
        await expectDropped(member, ['stytch_admin', 'stytch_member'], [retired]);

        await editProjectRoles((roles) => [...roles, role]);
        expect(roleIds(await memberNow(member))).toEqual(['stytch_admin', 'stytch_member']);
        // The session a sign-in starts now holds it neither.
        const session = await startMemberSession(server, member);
        expect((await client.sessions.authenticate({ session_token: session.sessionToken })).member_session.roles.sort()).toEqual(['stytch_admin', 'stytch_member']);
      });

      it('an organization role removed meanwhile does not come back on reactivation, nor when it is defined again', async () => {
        const { organization } = await client.organizations.create({ organization_name: `Dropped roles ${uniqueSuffix()}`, organization_slug: `dropped-${uniqueSuffix()}` });
        const auditor = { role_id: 'auditor', description: 'Searches members', permissions: [{ resource_id: MEMBER, actions: ['search'] }] };
        await client.rbac.organizations.setOrgPolicy({ organization_id: organization.organization_id, org_policy: { roles: [auditor] } });
        const { member } = await client.organizations.members.create({
          organization_id: organization.organization_id,
          email_address: `auditor-${uniqueSuffix()}@example.org`,
          roles: ['auditor', 'stytch_admin'],
        });
        await client.organizations.members.delete({ organization_id: member.organization_id, member_id: member.member_id });
        await client.rbac.organizations.setOrgPolicy({ organization_id: organization.organization_id, org_policy: { roles: [] } });
        await expectDropped(member, ['stytch_admin', 'stytch_member'], ['auditor']);

        await client.rbac.organizations.setOrgPolicy({ organization_id: organization.organization_id, org_policy: { roles: [auditor] } });
        expect(roleIds(await memberNow(member))).toEqual(['stytch_admin', 'stytch_member']);
      });

      it('a reactivation that drops nothing says nothing of dropped roles', async () => {
        const member = await addMember(['stytch_admin']);
        await client.organizations.members.delete({ organization_id: member.organization_id, member_id: member.member_id });
        await client.organizations.members.reactivate({ organization_id: member.organization_id, member_id: member.member_id });
        const events = (await auditOf(member.organization_id, 'member.reactivated')).filter((event) => event.memberId === member.member_id);
        expect(events).toHaveLength(1);
        expect(events[0]?.details).not.toHaveProperty('dropped_roles');
      });
    });

    describe('an impersonated session’s headers are recorded on the impersonation trail whatever becomes of the call', () => {
      /** The trail's records of the request: the impersonation of the stage's admin, refused. */
      async function expectRefusalRecorded(requestId: string, operation: string, errorType: string): Promise<void> {
        const trail = (await auditEvents(server, { impersonator_id: stage.impersonatorId })).filter(
          (event) => event.request_id === requestId && event.type === 'impersonation.session_acted',
        );
        expect(trail).toHaveLength(1);
        expect(trail[0]).toMatchObject({
          member_id: stage.admin.member_id,
          details: { operation, outcome: 'refused', error_type: errorType, member_session_id: stage.sessions.impersonatedAdmin.memberSessionId },
        });
      }

      it('an impersonated session’s token with another session’s JWT (or the other way round) is session_not_found, and is on the trail', async () => {
        const target = await addMember();
        const impersonated = stage.sessions.impersonatedAdmin;
        const other = stage.sessions.member;
        const pairs: SessionAuthorization[] = [
          { session_token: impersonated.sessionToken, session_jwt: other.sessionJwt },
          { session_token: other.sessionToken, session_jwt: impersonated.sessionJwt },
        ];
        for (const authorization of pairs) {
          let requestId = '';
          await probe.expectNothingWritten(
            async () => {
              const error = await expectStytchRejection(
                client.organizations.members.update({ organization_id: target.organization_id, member_id: target.member_id, name: 'Hidden' }, { authorization }),
                SESSION_NOT_FOUND,
              );
              requestId = error.request_id ?? '';
            },
            { impersonated: true },
          );
          await expectRefusalRecorded(requestId, 'organizations.members.update', 'session_not_found');
        }
      });

      it('on an endpoint that takes no member session (organizations.get): unauthorized_action, on the trail, with headers that agree or not', async () => {
        const impersonated = stage.sessions.impersonatedAdmin;
        const headerSets: Record<string, string>[] = [
          { 'X-Stytch-Member-Session': impersonated.sessionToken },
          { 'X-Stytch-Member-SessionJWT': impersonated.sessionJwt },
          { 'X-Stytch-Member-Session': impersonated.sessionToken, 'X-Stytch-Member-SessionJWT': stage.sessions.member.sessionJwt },
        ];
        for (const headers of headerSets) {
          let response: RawResponse | undefined;
          await probe.expectNothingWritten(
            async () => {
              response = await server.fetch(`/v1/b2b/organizations/${organizationId()}`, { headers });
              expectErrorResponse(response, 403, 'unauthorized_action');
            },
            { impersonated: true },
          );
          await expectRefusalRecorded(String(response?.body.request_id), 'organizations.get', 'unauthorized_action');
        }
      });

      it('a malformed X-Stytch-Member-SessionJWT is the JWT’s own 401, never a 500; beside an impersonated token it is on the trail', async () => {
        const target = await addMember();
        const update = (authorization: SessionAuthorization) =>
          client.organizations.members.update({ organization_id: target.organization_id, member_id: target.member_id, name: 'Malformed' }, { authorization });
        const malformed = [
          'not-a-jwt',
          'a.b.c',
          'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.',
          `${stage.sessions.admin.sessionJwt.slice(0, -4)}AAAA`,
          `${stage.sessions.admin.sessionJwt.split('.').slice(0, 2).join('.')}.`,
          `eyJ${'A'.repeat(4000)}.e30.AA`,
        ];
        for (const jwt of malformed) await probe.expectNothingWritten(() => expectStytchRejection(update({ session_jwt: jwt }), UNPARSABLE_JWT));

        let requestId = '';
        await probe.expectNothingWritten(
          async () => {
            const error = await expectStytchRejection(update({ session_token: stage.sessions.impersonatedAdmin.sessionToken, session_jwt: 'not-a-jwt' }), UNPARSABLE_JWT);
            requestId = error.request_id ?? '';
          },
          { impersonated: true },
        );
        await expectRefusalRecorded(requestId, 'organizations.members.update', 'unable_to_parse_session_jwt');

        // Where member sessions are not taken at all, the answer is that, whatever the JWT.
        const response = await server.fetch(`/v1/b2b/organizations/${organizationId()}`, { headers: { 'X-Stytch-Member-SessionJWT': 'not-a-jwt' } });
        expectErrorResponse(response, 403, 'unauthorized_action');
      });
    });

    describe('GET /v1/b2b/impersonation/policies/{organization_id} with member-session headers', () => {
      const read = (headers: Record<string, string>) => server.fetch(policyPath(organizationId()), { headers });

      it('judges the member’s roles now: an admin demoted a moment ago is refused with their old session (token or JWT), and allowed again once restored', async () => {
        const { member, session } = await signedIn(['stytch_admin']);
        const setRoles = (roles: string[]) => client.organizations.members.update({ organization_id: member.organization_id, member_id: member.member_id, roles });
        const asToken = { 'X-Stytch-Member-Session': session.sessionToken };
        const asJwt = { 'X-Stytch-Member-SessionJWT': session.sessionJwt };
        for (const headers of [asToken, asJwt]) expect((await read(headers)).status).toBe(200);
        await setRoles([]);
        for (const headers of [asToken, asJwt]) expectErrorResponse(await read(headers), DENIED.status, DENIED.errorType);
        await setRoles(['stytch_admin']);
        for (const headers of [asToken, asJwt]) expect((await read(headers)).status).toBe(200);
      });

      it('refuses headers naming two different sessions (session_not_found), whichever holds the admin role; the same session twice is read', async () => {
        const { admin, member } = stage.sessions;
        const mixed = [
          { 'X-Stytch-Member-Session': admin.sessionToken, 'X-Stytch-Member-SessionJWT': member.sessionJwt },
          { 'X-Stytch-Member-Session': member.sessionToken, 'X-Stytch-Member-SessionJWT': admin.sessionJwt },
        ];
        for (const headers of mixed) expectErrorResponse(await read(headers), SESSION_NOT_FOUND.status, SESSION_NOT_FOUND.errorType);
        const same = await read({ 'X-Stytch-Member-Session': admin.sessionToken, 'X-Stytch-Member-SessionJWT': admin.sessionJwt });
        expect(same.status, JSON.stringify(same.body)).toBe(200);
      });
    });
  });
}
