import type { B2BClient, Member, Organization } from 'stytch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditEventOf, auditEvents, expectErrorResponse, impersonate, mintRaw, REASON, type RawResponse } from '../../support/impersonation.js';
import { type StartedSession, startMemberSession } from '../../support/member-session-cast.js';
import { expectStytchRejection } from '../../support/openapi.js';
import { STORES } from '../../support/stores.js';
import { startTestServer, type TestServer } from '../../support/test-server.js';
import { uniqueSuffix } from '../../support/wire-formats.js';
import { openRecordProbe, type RecordProbe } from '../../support/write-probe.js';

/**
 * Delegated impersonation (docs/impersonation.md): a mint sent with a member's session headers is that
 * member impersonating someone of their own organization. The table says who may impersonate whom;
 * every refusal answers its error and writes nothing but its `impersonation.mint_refused` record, and
 * every allowed mint redeems through the SDK into a session whose impersonator is the calling member.
 */
const CLI = { requestId: 'request-id-test-00000000-0000-4000-8000-0000000000d1', actor: { type: 'cli' as const } };

/** The project's policy: an app resource, a role that may impersonate (and search members), and roles over the app's resource. */
const POLICY = {
  resources: [{ resource_id: 'invoices', description: 'Invoices', actions: ['read', 'write'] }],
  roles: [
    {
      role_id: 'helpdesk',
      description: 'Impersonates members',
      permissions: [
        { resource_id: 'understudy.impersonation', actions: ['create'] },
        { resource_id: 'stytch.member', actions: ['search'] },
      ],
    },
    {
      // The reading actions a read_only mask leaves of a plain member's (stytch.self:get.connected-apps), as stytch.member ones.
      role_id: 'reader',
      description: 'Impersonates members to look',
      permissions: [
        { resource_id: 'understudy.impersonation', actions: ['create'] },
        { resource_id: 'stytch.member', actions: ['search', 'get.connected-apps'] },
      ],
    },
    { role_id: 'billing', description: 'Reads and writes invoices', permissions: [{ resource_id: 'invoices', actions: ['read', 'write'] }] },
  ],
  scopes: [],
};

type Refusal = { readonly status: number; readonly errorType: string };
const NOT_ALLOWED: Refusal = { status: 403, errorType: 'delegated_impersonation_not_allowed' };
const DENIED: Refusal = { status: 403, errorType: 'session_authorization_error' };
const OTHER_TENANT: Refusal = { status: 403, errorType: 'session_authorization_tenancy_error' };
const NO_CHAINS: Refusal = { status: 403, errorType: 'member_impersonation_not_allowed' };

interface Cast {
  readonly organization: Organization;
  readonly members: Record<string, Member>;
  readonly sessions: Record<string, StartedSession>;
}

interface World {
  readonly server: TestServer;
  readonly client: B2BClient;
  /** Default policy (`delegated_impersonation: members`). */
  readonly home: Cast;
  /** Another organization. */
  readonly other: Cast;
  /** `delegated_impersonation: members_and_admins`. */
  readonly admins: Cast;
  /** `delegated_impersonation: off`. */
  readonly delegatedOff: Cast;
  /** `access_mode: off`. */
  readonly closed: Cast;
  readonly probe: RecordProbe;
}

async function createCast(server: TestServer, label: string, roles: Record<string, string[]>): Promise<Cast> {
  const suffix = uniqueSuffix();
  const { organization } = await server.client.organizations.create({ organization_name: `Delegated ${label} ${suffix}`, organization_slug: `delegated-${label}-${suffix}` });
  const members: Record<string, Member> = {};
  const sessions: Record<string, StartedSession> = {};
  for (const [name, given] of Object.entries(roles)) {
    const { member } = await server.client.organizations.members.create({ organization_id: organization.organization_id, email_address: `${name}-${suffix}@example.org`, roles: given });
    members[name] = member;
    sessions[name] = await startMemberSession(server, member);
  }
  return { organization, members, sessions };
}

/** Sets the organization's policy as stored (the policy API's own tests cover setting it over HTTP). */
async function setPolicy(server: TestServer, organization: Organization, change: { delegated?: 'off' | 'members' | 'members_and_admins'; accessMode?: 'open' | 'off' }): Promise<void> {
  await server.server.store.impersonation.updatePolicy(organization.organization_id, change, new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'));
}

function headersOf(session: StartedSession, form: 'token' | 'jwt'): Record<string, string> {
  return form === 'token' ? { 'X-Stytch-Member-Session': session.sessionToken } : { 'X-Stytch-Member-SessionJWT': session.sessionJwt };
}

/** A delegated mint: no impersonator fields, the caller's session in the headers. */
function delegatedMint(server: TestServer, target: Member, session: StartedSession, form: 'token' | 'jwt' = 'token', body: Record<string, unknown> = {}): Promise<RawResponse> {
  return mintRaw(server, { organization_id: target.organization_id, member_id: target.member_id, reason: REASON, ...body }, headersOf(session, form));
}

interface Row {
  readonly who: string;
  /** Answers the caller (a member, or undefined for an impersonated session), their session and the target. */
  readonly cast: (world: World) => { caller: Member | undefined; session: StartedSession; target: Member };
  readonly form?: 'token' | 'jwt';
  /** Undefined: the mint is allowed. */
  readonly refusal?: Refusal;
  readonly body?: Record<string, unknown>;
}

const ROWS: readonly Row[] = [
  { who: 'an admin, a plain member (session token)', cast: ({ home }) => ({ caller: home.members.admin, session: must(home.sessions.admin), target: must(home.members.plain) }) },
  { who: 'an admin, a plain member (session JWT)', form: 'jwt', cast: ({ home }) => ({ caller: home.members.admin, session: must(home.sessions.admin), target: must(home.members.plain2) }) },
  {
    who: 'an admin, another admin, while the policy says members',
    refusal: NOT_ALLOWED,
    cast: ({ home }) => ({ caller: home.members.admin, session: must(home.sessions.admin), target: must(home.members.admin2) }),
  },
  {
    who: 'an admin, another admin, where the policy says members_and_admins',
    cast: ({ admins }) => ({ caller: admins.members.admin, session: must(admins.sessions.admin), target: must(admins.members.admin2) }),
  },
  {
    who: 'an admin, themselves (members_and_admins)',
    refusal: NOT_ALLOWED,
    cast: ({ admins }) => ({ caller: admins.members.admin, session: must(admins.sessions.admin), target: must(admins.members.admin) }),
  },
  {
    who: 'a plain member (no understudy.impersonation:create), another plain member',
    refusal: DENIED,
    cast: ({ home }) => ({ caller: home.members.plain, session: must(home.sessions.plain), target: must(home.members.plain2) }),
  },
  {
    who: 'an admin of one organization, a member of another',
    refusal: OTHER_TENANT,
    cast: ({ home, other }) => ({ caller: home.members.admin, session: must(home.sessions.admin), target: must(other.members.plain) }),
  },
  {
    who: 'an admin, a member whose role grants what stytch_admin does not (invoices)',
    refusal: NOT_ALLOWED,
    cast: ({ home }) => ({ caller: home.members.admin, session: must(home.sessions.admin), target: must(home.members.billing) }),
  },
  {
    who: 'a custom role allowed to create, a member whose roles grant more than it',
    refusal: NOT_ALLOWED,
    cast: ({ home }) => ({ caller: home.members.helpdesk, session: must(home.sessions.helpdesk), target: must(home.members.billing) }),
  },
  {
    // A plain member may change their own email, password and MFA and delete themselves (stytch.self): holding
    // their session, the caller could do that to them, which needs those stytch.member actions of the caller.
    who: 'a custom role allowed to create (and search), a plain member: the member\'s stytch.self actions count as stytch.member ones',
    refusal: NOT_ALLOWED,
    cast: ({ home }) => ({ caller: home.members.helpdesk, session: must(home.sessions.helpdesk), target: must(home.members.plain) }),
  },
  {
    who: 'a custom role allowed to create (and search), a plain member, read_only: it lacks stytch.member:get.connected-apps',
    refusal: NOT_ALLOWED,
    body: { permissions: 'read_only' },
    cast: ({ home }) => ({ caller: home.members.helpdesk, session: must(home.sessions.helpdesk), target: must(home.members.plain) }),
  },
  {
    who: 'a reader (create, stytch.member search and get.connected-apps), a plain member, unmasked',
    refusal: NOT_ALLOWED,
    cast: ({ home }) => ({ caller: home.members.reader, session: must(home.sessions.reader), target: must(home.members.plain) }),
  },
  {
    who: 'a reader, a plain member, read_only: the mask leaves only reading actions, which the reader holds over members',
    body: { permissions: 'read_only' },
    cast: ({ home }) => ({ caller: home.members.reader, session: must(home.sessions.reader), target: must(home.members.plain) }),
  },
  {
    who: 'a reader, a member holding invoices, read_only: invoices:read is left and the reader lacks it',
    refusal: NOT_ALLOWED,
    body: { permissions: 'read_only' },
    cast: ({ home }) => ({ caller: home.members.reader, session: must(home.sessions.reader), target: must(home.members.billing) }),
  },
  {
    who: 'an impersonated session, anyone (no chains)',
    refusal: NO_CHAINS,
    cast: ({ home }) => ({ caller: undefined, session: must(home.sessions.impersonatedAdmin), target: must(home.members.plain) }),
  },
  {
    who: "an admin, where the organization's delegated_impersonation is off",
    refusal: NOT_ALLOWED,
    cast: ({ delegatedOff }) => ({ caller: delegatedOff.members.admin, session: must(delegatedOff.sessions.admin), target: must(delegatedOff.members.plain) }),
  },
  {
    who: "an admin, where the organization's access_mode is off",
    refusal: NO_CHAINS,
    cast: ({ closed }) => ({ caller: closed.members.admin, session: must(closed.sessions.admin), target: must(closed.members.plain) }),
  },
  {
    who: 'an admin, a plain member, without a reason',
    refusal: { status: 400, errorType: 'invalid_impersonation_reason' },
    body: { reason: undefined },
    cast: ({ home }) => ({ caller: home.members.admin, session: must(home.sessions.admin), target: must(home.members.plain) }),
  },
];

/** The member session an audit event's actor names (the trail's actor, in either spelling it has been answered in). */
function actingMember(actor: Record<string, unknown>): { member_id: unknown; member_session_id: unknown } {
  return { member_id: actor.member_id ?? actor.memberId, member_session_id: actor.member_session_id ?? actor.memberSessionId };
}

function must<T>(value: T | undefined): T {
  if (value === undefined) throw new Error('the cast has no such member');
  return value;
}

for (const store of STORES) {
  describe(`delegated impersonation: who may impersonate whom (${store.name})`, () => {
    let world: World;

    beforeAll(async () => {
      const server = await startTestServer({ store: store.name });
      await server.server.app.services.rbacPolicy.apply(CLI, POLICY, { source: 'cli' });
      const home = await createCast(server, 'home', { admin: ['stytch_admin'], admin2: ['stytch_admin'], plain: [], plain2: [], helpdesk: ['helpdesk'], reader: ['reader'], billing: ['billing'] });
      const { redeemed } = await impersonate(server, must(home.members.admin));
      if (redeemed.member_session === undefined) throw new Error('no impersonated session');
      home.sessions.impersonatedAdmin = { sessionToken: redeemed.session_token, sessionJwt: redeemed.session_jwt, memberSessionId: redeemed.member_session.member_session_id };
      const other = await createCast(server, 'other', { plain: [] });
      const admins = await createCast(server, 'admins', { admin: ['stytch_admin'], admin2: ['stytch_admin'] });
      await setPolicy(server, admins.organization, { delegated: 'members_and_admins' });
      const delegatedOff = await createCast(server, 'off', { admin: ['stytch_admin'], plain: [] });
      await setPolicy(server, delegatedOff.organization, { delegated: 'off' });
      const closed = await createCast(server, 'closed', { admin: ['stytch_admin'], plain: [] });
      await setPolicy(server, closed.organization, { accessMode: 'off' });
      world = { server, client: server.client, home, other, admins, delegatedOff, closed, probe: await openRecordProbe(server) };
    });
    afterAll(async () => {
      await world?.probe.close();
      await world?.server.stop();
    });

    for (const row of ROWS) {
      it(`${row.who}: ${row.refusal === undefined ? 'allowed' : row.refusal.errorType}`, async () => {
        const { server, client } = world;
        const { caller, session, target } = row.cast(world);
        if (row.refusal !== undefined) {
          const refusal = row.refusal;
          const response = await world.probe.expectOnlyRecords(['impersonation.mint_refused'], () => delegatedMint(server, target, session, row.form, row.body));
          expectErrorResponse(response, refusal.status, refusal.errorType);
          const event = await auditEventOf(server, response.body.request_id as string);
          expect(event.type).toBe('impersonation.mint_refused');
          expect(event.details.error_type).toBe(refusal.errorType);
          if (caller !== undefined) {
            // The calling member's refusal, on their organization's trail, naming the target only when it is of that organization.
            expect({ actor: actingMember(event.actor), organization_id: event.organization_id, impersonator_id: event.impersonator_id }).toEqual({
              actor: { member_id: caller.member_id, member_session_id: session.memberSessionId },
              organization_id: caller.organization_id,
              impersonator_id: caller.member_id,
            });
            expect(event.member_id).toBe(target.organization_id === caller.organization_id ? target.member_id : null);
            expect(event.details.impersonator_email_address).toBe(caller.email_address);
          }
          return;
        }
        const minter = must(caller);
        const response = await delegatedMint(server, target, session, row.form, { ...row.body, impersonator_id: 'ignored-staff-id', impersonator_email_address: 'ignored@support.example' });
        expect(response.status, JSON.stringify(response.body)).toBe(200);
        const minted = await auditEventOf(server, response.body.request_id as string);
        expect(minted.type).toBe('impersonation.token_minted');
        expect({ actor: actingMember(minted.actor), impersonator_id: minted.impersonator_id, kind: minted.details.kind, email: minted.details.impersonator_email_address }).toEqual({
          actor: { member_id: minter.member_id, member_session_id: session.memberSessionId },
          impersonator_id: minter.member_id,
          kind: 'delegated',
          email: minter.email_address,
        });
        const redeemed = await client.impersonation.authenticate({ impersonation_token: response.body.impersonation_token as string });
        expect(redeemed.member_id).toBe(target.member_id);
        const factor = redeemed.member_session?.authentication_factors[0] as unknown as Record<string, unknown>;
        expect(factor.type).toBe('impersonated');
        expect(factor.impersonated_factor).toEqual({ impersonator_id: minter.member_id, impersonator_email_address: minter.email_address });
        const local = await client.sessions.authenticateJwtLocal({ session_jwt: redeemed.session_jwt });
        expect(local.custom_claims?.act).toEqual({ sub: minter.member_id, email: minter.email_address });
        expect(local.custom_claims?.act_permissions).toEqual(row.body?.permissions);
      });
    }

    /**
     * The takeover a subset rule blind to stytch.self allowed: a role with only understudy.impersonation:create
     * (and search) impersonates a plain member, then changes their email address with the impersonated session
     * (members.update on the member themselves needs only stytch.self:update.info.email, which every member holds).
     */
    async function attemptEmailTakeover(caller: StartedSession, target: Member): Promise<{ mint: RawResponse; emailAfter: string }> {
      const { server, client } = world;
      const mint = await delegatedMint(server, target, caller);
      if (mint.status === 200) {
        const redeemed = await client.impersonation.authenticate({ impersonation_token: mint.body.impersonation_token as string });
        await client.organizations.members
          .update({ organization_id: target.organization_id, member_id: target.member_id, email_address: `taken-${uniqueSuffix()}@attacker.example` }, { authorization: { session_token: redeemed.session_token } })
          .catch(() => undefined);
      }
      const { member } = await client.organizations.members.get({ organization_id: target.organization_id, member_id: target.member_id });
      return { mint, emailAfter: member.email_address };
    }

    it('a role allowed only to create cannot take a plain member over: no token, so no impersonated session to change their email with', async () => {
      const { client, home } = world;
      const victim = (await client.organizations.members.create({ organization_id: home.organization.organization_id, email_address: `victim-${uniqueSuffix()}@example.org` })).member;
      const { mint, emailAfter } = await attemptEmailTakeover(must(home.sessions.helpdesk), victim);
      expect(emailAfter).toBe(victim.email_address);
      expectErrorResponse(mint, NOT_ALLOWED.status, NOT_ALLOWED.errorType);
      expect(mint.body.error_message).toContain('stytch.member:update.info.email');
      // The member's own rights over their record are not the helpdesk's: its member session cannot change the email either.
      await expectStytchRejection(
        client.organizations.members.update(
          { organization_id: victim.organization_id, member_id: victim.member_id, email_address: `direct-${uniqueSuffix()}@attacker.example` },
          { authorization: { session_token: must(home.sessions.helpdesk).sessionToken } },
        ),
        DENIED,
      );
    });

    it("an admin's read_only impersonation of a plain member cannot change their email either (the mask leaves only reading)", async () => {
      const { client, home } = world;
      const victim = (await client.organizations.members.create({ organization_id: home.organization.organization_id, email_address: `masked-${uniqueSuffix()}@example.org` })).member;
      const mint = await delegatedMint(world.server, victim, must(home.sessions.admin), 'token', { permissions: 'read_only' });
      expect(mint.status, JSON.stringify(mint.body)).toBe(200);
      const redeemed = await client.impersonation.authenticate({ impersonation_token: mint.body.impersonation_token as string });
      await expectStytchRejection(
        client.organizations.members.update(
          { organization_id: victim.organization_id, member_id: victim.member_id, email_address: `masked-taken-${uniqueSuffix()}@attacker.example` },
          { authorization: { session_token: redeemed.session_token } },
        ),
        DENIED,
      );
      expect((await client.organizations.members.get({ organization_id: victim.organization_id, member_id: victim.member_id })).member.email_address).toBe(victim.email_address);
    });

    it("a malformed mint with an admin's member-session headers naming another organization is filed under the caller's organization, never in the other's trail", async () => {
      const { server, home, other } = world;
      const admin = must(home.members.admin);
      const target = must(other.members.plain);
      const otherTrail = async () => (await auditEvents(server, { organization_id: other.organization.organization_id })).map((event) => event.event_id);
      const before = await otherTrail();
      const response = await world.probe.expectOnlyRecords(['impersonation.mint_refused'], () =>
        mintRaw(
          server,
          { organization_id: other.organization.organization_id, member_id: target.member_id, impersonator_id: 'forged-staff', impersonator_email_address: 'forged@support.example', reason: 42 },
          headersOf(must(home.sessions.admin), 'token'),
        ),
      );
      expectErrorResponse(response, 400, 'bad_request');
      expect(await otherTrail()).toEqual(before);
      const event = await auditEventOf(server, response.body.request_id as string);
      expect({ actor: actingMember(event.actor), organization_id: event.organization_id, member_id: event.member_id, impersonator_id: event.impersonator_id, email: event.details.impersonator_email_address }).toEqual({
        actor: { member_id: admin.member_id, member_session_id: must(home.sessions.admin).memberSessionId },
        organization_id: home.organization.organization_id,
        member_id: null,
        impersonator_id: admin.member_id,
        email: admin.email_address,
      });
    });

    it("a refused mint's target member stays as it was: no session, no token to redeem", async () => {
      const { server, client, home } = world;
      const billing = must(home.members.billing);
      expectErrorResponse(await delegatedMint(server, billing, must(home.sessions.admin)), NOT_ALLOWED.status, NOT_ALLOWED.errorType);
      const { member_sessions } = await client.sessions.get({ organization_id: billing.organization_id, member_id: billing.member_id });
      expect(member_sessions.map((session) => session.member_session_id)).toEqual([must(home.sessions.billing).memberSessionId]);
    });

    it('a role taken away since the session started counts at the mint: the caller is judged on their roles now', async () => {
      const { server, client } = world;
      const cast = await createCast(server, 'demoted', { admin: ['stytch_admin'], plain: [] });
      const admin = must(cast.members.admin);
      await client.organizations.members.update({ organization_id: admin.organization_id, member_id: admin.member_id, roles: [] });
      const response = await world.probe.expectOnlyRecords(['impersonation.mint_refused'], () => delegatedMint(server, must(cast.members.plain), must(cast.sessions.admin)));
      expectErrorResponse(response, DENIED.status, DENIED.errorType);
    });
  });
}
