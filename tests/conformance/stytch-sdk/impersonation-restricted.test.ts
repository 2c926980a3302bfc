import type { B2BClient, Member, Organization } from 'stytch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditEvents, auditEventOf, expectErrorResponse, mintBody, mintRaw, REASON } from '../../support/impersonation.js';
import { type SessionAuthorization, type StartedSession, startMemberSession } from '../../support/member-session-cast.js';
import { expectStytchRejection } from '../../support/openapi.js';
import { STORES } from '../../support/stores.js';
import { startTestServer, type TestServer } from '../../support/test-server.js';
import { uniqueSuffix } from '../../support/wire-formats.js';
import { openRecordProbe, type RecordProbe } from '../../support/write-probe.js';

/**
 * Restricted impersonation (docs/impersonation.md): a mint's `permissions` ("read_only" or a list of
 * resource:action) limits what the impersonated session may do, on admin endpoints called with its
 * member-session headers and in `authorization_check`, beyond what the member's roles grant; the JWT
 * carries the mask as `act_permissions`. Every refusal is the one a missing permission gets and
 * writes nothing but the impersonation trail's record of the call.
 */
const CLI = { requestId: 'request-id-test-00000000-0000-4000-8000-0000000000d2', actor: { type: 'cli' as const } };
const DENIED = { status: 403, errorType: 'session_authorization_error' } as const;
const SESSION_ACTED = 'impersonation.session_acted';

const POLICY = {
  resources: [{ resource_id: 'invoices', description: 'Invoices', actions: ['read', 'write', 'list.overdue'] }],
  roles: [{ role_id: 'billing', description: 'Invoices', permissions: [{ resource_id: 'invoices', actions: ['*'] }] }],
  scopes: [],
};

interface Impersonation {
  readonly session: StartedSession;
  readonly jwt: string;
}

function check(organization: Organization, resource_id: string, action: string) {
  return { organization_id: organization.organization_id, resource_id, action };
}

for (const store of STORES) {
  describe(`restricted impersonation (${store.name})`, () => {
    let server: TestServer;
    let client: B2BClient;
    let probe: RecordProbe;
    let organization: Organization;
    /** stytch_admin and billing: every action on the organization, its members and invoices. */
    let admin: Member;
    let plain: Member;
    let other: Member;

    async function member(label: string, roles: string[]): Promise<Member> {
      return (await client.organizations.members.create({ organization_id: organization.organization_id, email_address: `${label}-${uniqueSuffix()}@example.org`, roles })).member;
    }

    /** Mints for `target` with `permissions` (as support, or as `delegatingSession`'s member) and redeems through the SDK. */
    async function impersonateWith(target: Member, permissions: unknown, delegatingSession?: StartedSession): Promise<Impersonation> {
      const body = delegatingSession === undefined ? mintBody({ organizationId: target.organization_id, memberId: target.member_id }) : { organization_id: target.organization_id, member_id: target.member_id, reason: REASON };
      const minted = await mintRaw(server, { ...body, permissions }, delegatingSession === undefined ? {} : { 'X-Stytch-Member-Session': delegatingSession.sessionToken });
      expect(minted.status, JSON.stringify(minted.body)).toBe(200);
      const redeemed = await client.impersonation.authenticate({ impersonation_token: minted.body.impersonation_token as string });
      if (redeemed.member_session === undefined) throw new Error('no impersonated session');
      return { session: { sessionToken: redeemed.session_token, sessionJwt: redeemed.session_jwt, memberSessionId: redeemed.member_session.member_session_id }, jwt: redeemed.session_jwt };
    }

    beforeAll(async () => {
      server = await startTestServer({ store: store.name });
      client = server.client;
      await server.server.app.services.rbacPolicy.apply(CLI, POLICY, { source: 'cli' });
      const suffix = uniqueSuffix();
      organization = (await client.organizations.create({ organization_name: `Restricted ${suffix}`, organization_slug: `restricted-${suffix}` })).organization;
      admin = await member('admin', ['stytch_admin', 'billing']);
      plain = await member('plain', []);
      other = await member('other', []);
      probe = await openRecordProbe(server);
    });
    afterAll(async () => {
      await probe?.close();
      await server?.stop();
    });

    describe('read_only', () => {
      let readOnly: Impersonation;
      beforeAll(async () => {
        readOnly = await impersonateWith(admin, 'read_only');
      });

      /** What the read-only admin may and may not do with its member-session headers, through the SDK's options.authorization. */
      const calls: { what: string; allowed: boolean; call: (authorization: SessionAuthorization) => Promise<unknown> }[] = [
        { what: 'members.search', allowed: true, call: (authorization) => client.organizations.members.search({ organization_ids: [organization.organization_id] }, { authorization }) },
        {
          what: 'members.update (name of another member)',
          allowed: false,
          call: (authorization) => client.organizations.members.update({ organization_id: organization.organization_id, member_id: other.member_id, name: 'Renamed' }, { authorization }),
        },
        {
          what: 'members.update (their own name: stytch.self too)',
          allowed: false,
          call: (authorization) => client.organizations.members.update({ organization_id: organization.organization_id, member_id: admin.member_id, name: 'Renamed' }, { authorization }),
        },
        { what: 'organizations.update', allowed: false, call: (authorization) => client.organizations.update({ organization_id: organization.organization_id, organization_name: 'Renamed' }, { authorization }) },
        { what: 'members.delete', allowed: false, call: (authorization) => client.organizations.members.delete({ organization_id: organization.organization_id, member_id: other.member_id }, { authorization }) },
      ];
      for (const { what, allowed, call } of calls) {
        for (const form of ['session_token', 'session_jwt'] as const) {
          it(`${what} with the ${form}: ${allowed ? 'allowed' : 'refused like a missing permission, writing nothing but its session_acted record'}`, async () => {
            const authorization = form === 'session_token' ? { session_token: readOnly.session.sessionToken } : { session_jwt: readOnly.jwt };
            if (allowed) {
              await probe.expectOnlyRecords([SESSION_ACTED], () => call(authorization));
              return;
            }
            const error = await probe.expectOnlyRecords([SESSION_ACTED], () => expectStytchRejection(call(authorization), DENIED));
            expect(error.error_message).toContain("impersonated session's permissions do not include");
            const acted = (await auditEvents(server, { organization_id: organization.organization_id })).filter((event) => event.type === SESSION_ACTED).at(-1);
            expect(acted?.details).toMatchObject({ outcome: 'refused', error_type: 'session_authorization_error', member_session_id: readOnly.session.memberSessionId });
          });
        }
      }

      it('sessions.authenticate with authorization_check: reading actions pass, others are refused as ungranted, writing nothing', async () => {
        for (const [resource, action] of [
          ['invoices', 'read'],
          ['invoices', 'list.overdue'],
          ['stytch.member', 'search'],
          ['understudy.impersonation', 'read-audit'],
        ] as const) {
          const answer = await client.sessions.authenticate({ session_token: readOnly.session.sessionToken, authorization_check: check(organization, resource, action) });
          expect(answer.verdict?.authorized, `${resource}:${action}`).toBe(true);
        }
        for (const [resource, action] of [
          ['invoices', 'write'],
          ['stytch.member', 'delete'],
          ['understudy.impersonation', 'create'],
        ] as const) {
          for (const credential of [{ session_token: readOnly.session.sessionToken }, { session_jwt: readOnly.jwt }]) {
            await probe.expectOnlyRecords([], () => expectStytchRejection(client.sessions.authenticate({ ...credential, authorization_check: check(organization, resource, action) }), DENIED));
          }
          // authenticateJwt asked to verify remotely reaches the same answer.
          await expectStytchRejection(client.sessions.authenticateJwt({ session_jwt: readOnly.jwt, max_token_age_seconds: 0, authorization_check: check(organization, resource, action) }), DENIED);
        }
        // Without the mask the same roles grant it: the refusal is the mask's.
        const own = await startMemberSession(server, admin);
        expect((await client.sessions.authenticate({ session_token: own.sessionToken, authorization_check: check(organization, 'invoices', 'write') })).verdict?.authorized).toBe(true);
      });

      it('the JWT carries act_permissions beside act; authenticateJwtLocal shows it among custom_claims; sessions.authenticate answers keep their shape', async () => {
        const local = await client.sessions.authenticateJwtLocal({ session_jwt: readOnly.jwt });
        expect(local.custom_claims?.act_permissions).toBe('read_only');
        expect(local.custom_claims?.act).toEqual({ sub: 'support-17', email: 'sam@support.example' });
        const answer = await client.sessions.authenticate({ session_token: readOnly.session.sessionToken });
        expect(answer.member_session.custom_claims).toEqual({});
        expect(Object.keys(answer).sort()).toEqual(Object.keys(await client.sessions.authenticate({ session_token: (await startMemberSession(server, plain)).sessionToken })).sort());
        // The JWT a sessions.authenticate answer carries is signed with the claim too.
        expect((await client.sessions.authenticateJwtLocal({ session_jwt: answer.session_jwt })).custom_claims?.act_permissions).toBe('read_only');
      });

      it('session_custom_claims cannot set act_permissions, on any session', async () => {
        for (const session_token of [readOnly.session.sessionToken, (await startMemberSession(server, plain)).sessionToken]) {
          await probe.expectOnlyRecords([], () =>
            expectStytchRejection(client.sessions.authenticate({ session_token, session_custom_claims: { act_permissions: ['invoices:write'] } }), { status: 400, errorType: 'reserved_claims_in_custom_claims' }),
          );
        }
      });
    });

    describe('a list of actions', () => {
      let listed: Impersonation;
      beforeAll(async () => {
        listed = await impersonateWith(admin, ['invoices:write', 'stytch.organization:update.info.name']);
      });

      it('allows the listed actions the roles grant, and nothing else', async () => {
        const name = `Renamed ${uniqueSuffix()}`;
        await client.organizations.update({ organization_id: organization.organization_id, organization_name: name }, { authorization: { session_token: listed.session.sessionToken } });
        expect((await client.organizations.get({ organization_id: organization.organization_id })).organization.organization_name).toBe(name);
        await probe.expectOnlyRecords([SESSION_ACTED], () =>
          expectStytchRejection(client.organizations.members.search({ organization_ids: [organization.organization_id] }, { authorization: { session_token: listed.session.sessionToken } }), DENIED),
        );
        await probe.expectOnlyRecords([SESSION_ACTED], () =>
          expectStytchRejection(
            client.organizations.update({ organization_id: organization.organization_id, organization_slug: `slug-${uniqueSuffix()}` }, { authorization: { session_token: listed.session.sessionToken } }),
            DENIED,
          ),
        );
        expect((await client.sessions.authenticate({ session_jwt: listed.jwt, authorization_check: check(organization, 'invoices', 'write') })).verdict?.granting_roles).toEqual(['billing']);
        await probe.expectOnlyRecords([], () => expectStytchRejection(client.sessions.authenticate({ session_jwt: listed.jwt, authorization_check: check(organization, 'invoices', 'read') }), DENIED));
        expect((await client.sessions.authenticateJwtLocal({ session_jwt: listed.jwt })).custom_claims?.act_permissions).toEqual(['invoices:write', 'stytch.organization:update.info.name']);
      });

      it('only takes away: a listed action the member\'s roles do not grant stays refused', async () => {
        const masked = await impersonateWith(plain, ['invoices:write']);
        await expectStytchRejection(client.sessions.authenticate({ session_token: masked.session.sessionToken, authorization_check: check(organization, 'invoices', 'write') }), DENIED);
      });
    });

    it('a delegated mint may carry a mask', async () => {
      const adminSession = await startMemberSession(server, admin);
      const masked = await impersonateWith(plain, 'read_only', adminSession);
      expect((await client.sessions.authenticateJwtLocal({ session_jwt: masked.jwt })).custom_claims).toMatchObject({ act: { sub: admin.member_id }, act_permissions: 'read_only' });
      await expectStytchRejection(
        client.organizations.members.update({ organization_id: organization.organization_id, member_id: plain.member_id, name: 'Self' }, { authorization: { session_token: masked.session.sessionToken } }),
        DENIED,
      );
    });

    it('an impersonation without permissions is not restricted and carries no act_permissions', async () => {
      const open = await impersonateWith(admin, undefined);
      expect((await client.sessions.authenticateJwtLocal({ session_jwt: open.jwt })).custom_claims).not.toHaveProperty('act_permissions');
      expect((await client.sessions.authenticate({ session_token: open.session.sessionToken, authorization_check: check(organization, 'invoices', 'write') })).verdict?.authorized).toBe(true);
    });

    it('refuses masks the project policy does not make (invalid_permission_mask), writing nothing but the mint_refused record', async () => {
      for (const permissions of ['write', 'READ_ONLY', [], ['invoices:print'], ['ghost:read'], ['invoices:*'], ['invoices:read', 'invoices:read'], [1], { read_only: true }]) {
        const response = await probe.expectOnlyRecords(['impersonation.mint_refused'], () => mintRaw(server, { ...mintBody({ organizationId: organization.organization_id, memberId: plain.member_id }), permissions }));
        expectErrorResponse(response, 400, permissions !== null && typeof permissions === 'object' && !Array.isArray(permissions) ? 'bad_request' : 'invalid_permission_mask');
        expect((await auditEventOf(server, response.body.request_id as string)).type).toBe('impersonation.mint_refused');
      }
    });

    it('records the mask on the mint', async () => {
      const minted = await mintRaw(server, { ...mintBody({ organizationId: organization.organization_id, memberId: plain.member_id }), permissions: ['invoices:read'] });
      expect((await auditEventOf(server, minted.body.request_id as string)).details).toMatchObject({ kind: 'support', permissions: ['invoices:read'] });
    });

    // Last: it changes the project's policy.
    it('a listed action is the resource and action it was read as at the mint: one a later policy spells the same way is not allowed', async () => {
      const seats = { resource_id: 'team:seat', description: 'Seats', actions: ['assign'] };
      await server.server.app.services.rbacPolicy.apply(
        CLI,
        { ...POLICY, resources: [...POLICY.resources, seats], roles: [...POLICY.roles, { role_id: 'seats', description: 'Seats', permissions: [{ resource_id: 'team:seat', actions: ['assign'] }] }] },
        { source: 'cli' },
      );
      const seated = await member('seated', ['seats']);
      const masked = await impersonateWith(seated, ['team:seat:assign']);
      // A resource "team" with the action "seat:assign" arrives later, and the member's role grants it.
      await server.server.app.services.rbacPolicy.apply(
        CLI,
        {
          ...POLICY,
          resources: [...POLICY.resources, seats, { resource_id: 'team', description: 'Teams', actions: ['seat:assign'] }],
          roles: [
            ...POLICY.roles,
            {
              role_id: 'seats',
              description: 'Seats',
              permissions: [
                { resource_id: 'team:seat', actions: ['assign'] },
                { resource_id: 'team', actions: ['seat:assign'] },
              ],
            },
          ],
        },
        { source: 'cli' },
      );
      const allowed = await client.sessions.authenticate({ session_token: masked.session.sessionToken, authorization_check: check(organization, 'team:seat', 'assign') });
      expect(allowed.verdict?.authorized).toBe(true);
      await expectStytchRejection(client.sessions.authenticate({ session_token: masked.session.sessionToken, authorization_check: check(organization, 'team', 'seat:assign') }), DENIED);
      // The claim still carries the text the mint was given.
      expect((await client.sessions.authenticateJwtLocal({ session_jwt: masked.jwt })).custom_claims?.act_permissions).toEqual(['team:seat:assign']);
    });
  });
}
