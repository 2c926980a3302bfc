import type { B2BClient, B2BOrganizationsMembersUpdateRequest, Member } from 'stytch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditEvents, expectErrorResponse, impersonate } from '../../support/impersonation.js';
import {
  applyProjectRoles,
  authorizationOf,
  type AuthorizationForm,
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
import { givePassword } from './passwords-sign-in-fixtures.js';

/**
 * The admin endpoints the SDK lets a backend call on behalf of a member (`options.authorization`,
 * sent as X-Stytch-Member-Session / X-Stytch-Member-SessionJWT), each called by every kind of
 * caller: the project, an admin, a plain member, a member of another organization, members of
 * custom roles granting exactly the action or another one, and an impersonated admin. Every
 * refusal is proved to have written nothing (docs/compatibility.md, "Member-session headers").
 */
const DENIED = { status: 403, errorType: 'session_authorization_error' } as const;
const OTHER_TENANT = { status: 403, errorType: 'session_authorization_tenancy_error' } as const;
const SESSION_NOT_FOUND = { status: 404, errorType: 'session_not_found' } as const;
type Refusal = typeof DENIED | typeof OTHER_TENANT | typeof SESSION_NOT_FOUND;

const ORGANIZATION = 'stytch.organization';
const MEMBER = 'stytch.member';
const TOTP_SECRET = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';

interface World {
  readonly server: TestServer;
  readonly client: B2BClient;
  /** The organization the callers belong to. */
  readonly home: Stage;
  /** Another organization: its admin is the caller of another tenant. */
  readonly other: Stage;
  readonly roleFor: (grants: readonly Grant[]) => string;
  readonly probe: WriteProbe;
}

/** An SDK call made with (or, for the project, without) member-session authorization. */
type Call = (authorization: SessionAuthorization | undefined) => Promise<{ request_id: string; status_code: number }>;

function options(authorization: SessionAuthorization | undefined): { authorization: SessionAuthorization } | undefined {
  return authorization === undefined ? undefined : { authorization };
}

let phoneCounter = 0;
/** A fictional North American number, another one each time. */
function phoneNumber(): string {
  phoneCounter += 1;
  return `+1415555${String(1000 + phoneCounter).slice(-4)}`;
}

async function newMember(client: B2BClient, stage: Stage, extra: { external_id?: string; mfa_phone_number?: string } = {}): Promise<Member> {
  const { member } = await client.organizations.members.create({
    organization_id: stage.organization.organization_id,
    email_address: `target-${uniqueSuffix()}@example.org`,
    ...extra,
  });
  return member;
}

async function memberWithPassword(client: B2BClient, stage: Stage): Promise<Member> {
  return (await givePassword(client, stage.organization, `password-${uniqueSuffix()}@example.org`)).member;
}

async function memberWithTotp(client: B2BClient, stage: Stage): Promise<Member> {
  const member = await newMember(client, stage);
  await client.totps.migrate({ organization_id: member.organization_id, member_id: member.member_id, secret: TOTP_SECRET, recovery_codes: [] });
  return member;
}

/** One endpoint (and what part of it the row exercises) with what a custom role needs to be allowed it. */
interface Row {
  /** The SDK method, as the impersonation trail names the operation. */
  readonly operation: string;
  readonly what: string;
  /** Exactly what a custom role must grant for the call. */
  readonly grants: readonly Grant[];
  /** What a custom role that is refused grants instead. */
  readonly otherGrants: readonly Grant[];
  /** The audit event an allowed call writes (none for a search). */
  readonly writes?: string;
  /** The call deletes the organization: every caller gets a fresh one. */
  readonly ownStage?: boolean;
  /** Makes a throwaway target in `stage` as the project and answers the call on it. */
  prepare(world: World, stage: Stage): Promise<Call>;
}

const ROWS: readonly Row[] = [
  {
    operation: 'organizations.update',
    what: 'organization_name',
    grants: [[ORGANIZATION, 'update.info.name']],
    otherGrants: [[ORGANIZATION, 'update.info.slug']],
    writes: 'organization.updated',
    prepare: async ({ client }, stage) => (authorization) =>
      client.organizations.update({ organization_id: stage.organization.organization_id, organization_name: `Renamed ${uniqueSuffix()}` }, options(authorization)),
  },
  {
    operation: 'organizations.update',
    what: 'email_invites, the organization named by its slug',
    grants: [[ORGANIZATION, 'update.settings.email-invites']],
    otherGrants: [[ORGANIZATION, 'update.info.name']],
    writes: 'organization.updated',
    prepare: async ({ client }, stage) => (authorization) =>
      client.organizations.update({ organization_id: stage.organization.organization_slug, email_invites: 'ALL_ALLOWED' }, options(authorization)),
  },
  {
    operation: 'organizations.update',
    what: 'organization_logo_url and email_allowed_domains (each field its action)',
    grants: [
      [ORGANIZATION, 'update.info.logo-url'],
      [ORGANIZATION, 'update.settings.allowed-domains'],
    ],
    otherGrants: [[ORGANIZATION, 'update.info.logo-url']],
    writes: 'organization.updated',
    prepare: async ({ client }, stage) => (authorization) =>
      client.organizations.update(
        { organization_id: stage.organization.organization_id, organization_logo_url: `https://example.org/${uniqueSuffix()}.png`, email_allowed_domains: ['example.org'] },
        options(authorization),
      ),
  },
  {
    operation: 'organizations.update',
    what: 'organization_external_id (no action named: *)',
    grants: [[ORGANIZATION, '*']],
    otherGrants: [[ORGANIZATION, 'update.info.name']],
    writes: 'organization.updated',
    prepare: async ({ client }, stage) => (authorization) =>
      client.organizations.update({ organization_id: stage.organization.organization_id, organization_external_id: `org-ext-${uniqueSuffix()}` }, options(authorization)),
  },
  {
    operation: 'organizations.deleteExternalId',
    what: 'the organization’s external id (*)',
    grants: [[ORGANIZATION, '*']],
    otherGrants: [[ORGANIZATION, 'delete']],
    writes: 'organization.external_id_deleted',
    async prepare({ client }, stage) {
      await client.organizations.update({ organization_id: stage.organization.organization_id, organization_external_id: `org-ext-${uniqueSuffix()}` });
      return (authorization) => client.organizations.deleteExternalId({ organization_id: stage.organization.organization_id }, options(authorization));
    },
  },
  {
    operation: 'organizations.delete',
    what: 'the caller’s organization',
    grants: [[ORGANIZATION, 'delete']],
    otherGrants: [[ORGANIZATION, 'update.info.name']],
    writes: 'organization.deleted',
    ownStage: true,
    prepare: async ({ client }, stage) => (authorization) => client.organizations.delete({ organization_id: stage.organization.organization_id }, options(authorization)),
  },
  {
    operation: 'organizations.members.create',
    what: 'a member',
    grants: [[MEMBER, 'create']],
    otherGrants: [[MEMBER, 'delete']],
    writes: 'member.created',
    prepare: async ({ client }, stage) => (authorization) =>
      client.organizations.members.create({ organization_id: stage.organization.organization_id, email_address: `created-${uniqueSuffix()}@example.org`, name: 'Created' }, options(authorization)),
  },
  {
    operation: 'organizations.members.create',
    what: 'a member with roles (create and update.settings.roles)',
    grants: [
      [MEMBER, 'create'],
      [MEMBER, 'update.settings.roles'],
    ],
    otherGrants: [[MEMBER, 'create']],
    writes: 'member.created',
    prepare: async ({ client }, stage) => (authorization) =>
      client.organizations.members.create(
        { organization_id: stage.organization.organization_id, email_address: `created-${uniqueSuffix()}@example.org`, roles: ['stytch_admin'] },
        options(authorization),
      ),
  },
  {
    operation: 'magicLinks.email.invite',
    what: 'a new member',
    grants: [[MEMBER, 'create']],
    otherGrants: [[MEMBER, 'update.info.name']],
    writes: 'member.invited',
    prepare: async ({ client }, stage) => (authorization) =>
      client.magicLinks.email.invite({ organization_id: stage.organization.organization_id, email_address: `invited-${uniqueSuffix()}@example.org` }, options(authorization)),
  },
  {
    operation: 'organizations.members.reactivate',
    what: 'a deleted member (create)',
    grants: [[MEMBER, 'create']],
    otherGrants: [[MEMBER, 'delete']],
    writes: 'member.reactivated',
    async prepare({ client }, stage) {
      const member = await newMember(client, stage);
      await client.organizations.members.delete({ organization_id: member.organization_id, member_id: member.member_id });
      return (authorization) => client.organizations.members.reactivate({ organization_id: member.organization_id, member_id: member.member_id }, options(authorization));
    },
  },
  {
    operation: 'organizations.members.search',
    what: 'the caller’s organization',
    grants: [[MEMBER, 'search']],
    otherGrants: [[MEMBER, 'create']],
    prepare: async ({ client }, stage) => (authorization) => client.organizations.members.search({ organization_ids: [stage.organization.organization_id] }, options(authorization)),
  },
  {
    operation: 'organizations.members.update',
    what: 'another member’s name',
    grants: [[MEMBER, 'update.info.name']],
    otherGrants: [[MEMBER, 'update.info.email']],
    writes: 'member.updated',
    async prepare({ client }, stage) {
      const member = await newMember(client, stage);
      return (authorization) => client.organizations.members.update({ organization_id: member.organization_id, member_id: member.member_id, name: 'Renamed' }, options(authorization));
    },
  },
  {
    operation: 'organizations.members.update',
    what: 'another member’s roles',
    grants: [[MEMBER, 'update.settings.roles']],
    otherGrants: [[MEMBER, 'update.info.name']],
    writes: 'member.updated',
    async prepare({ client }, stage) {
      const member = await newMember(client, stage);
      return (authorization) =>
        client.organizations.members.update({ organization_id: member.organization_id, member_id: member.member_id, roles: ['stytch_admin'] }, options(authorization));
    },
  },
  {
    operation: 'organizations.members.update',
    what: 'another member’s untrusted_metadata and mfa_enrolled (each field its action)',
    grants: [
      [MEMBER, 'update.info.untrusted-metadata'],
      [MEMBER, 'update.settings.mfa-enrolled'],
    ],
    otherGrants: [[MEMBER, 'update.info.untrusted-metadata']],
    writes: 'member.updated',
    async prepare({ client }, stage) {
      const member = await newMember(client, stage);
      return (authorization) =>
        client.organizations.members.update(
          { organization_id: member.organization_id, member_id: member.member_id, untrusted_metadata: { team: 'blue' }, mfa_enrolled: true },
          options(authorization),
        );
    },
  },
  {
    operation: 'organizations.members.update',
    what: 'external_id, the member named by its external id (*)',
    grants: [[MEMBER, '*']],
    otherGrants: [[MEMBER, 'update.info.name']],
    writes: 'member.updated',
    async prepare({ client }, stage) {
      const externalId = `member-ext-${uniqueSuffix()}`;
      const member = await newMember(client, stage, { external_id: externalId });
      return (authorization) =>
        client.organizations.members.update(
          { organization_id: member.organization_id, member_id: externalId, external_id: `member-ext-${uniqueSuffix()}` },
          options(authorization),
        );
    },
  },
  {
    operation: 'organizations.members.delete',
    what: 'another member',
    grants: [[MEMBER, 'delete']],
    otherGrants: [[MEMBER, 'revoke-sessions']],
    writes: 'member.deleted',
    async prepare({ client }, stage) {
      const member = await newMember(client, stage);
      return (authorization) => client.organizations.members.delete({ organization_id: member.organization_id, member_id: member.member_id }, options(authorization));
    },
  },
  {
    operation: 'organizations.members.deletePassword',
    what: 'another member’s password',
    grants: [[MEMBER, 'update.info.delete.password']],
    otherGrants: [[MEMBER, 'update.info.delete.mfa-totp']],
    writes: 'member.password_deleted',
    async prepare({ client }, stage) {
      const member = await memberWithPassword(client, stage);
      return (authorization) =>
        client.organizations.members.deletePassword({ organization_id: member.organization_id, member_password_id: member.member_password_id }, options(authorization));
    },
  },
  {
    operation: 'organizations.members.deleteMFAPhoneNumber',
    what: 'another member’s phone number',
    grants: [[MEMBER, 'update.info.delete.mfa-phone']],
    otherGrants: [[MEMBER, 'update.info.mfa-phone']],
    writes: 'member.mfa_phone_number_deleted',
    async prepare({ client }, stage) {
      const member = await newMember(client, stage, { mfa_phone_number: phoneNumber() });
      return (authorization) => client.organizations.members.deleteMFAPhoneNumber({ organization_id: member.organization_id, member_id: member.member_id }, options(authorization));
    },
  },
  {
    operation: 'organizations.members.deleteTOTP',
    what: 'another member’s TOTP',
    grants: [[MEMBER, 'update.info.delete.mfa-totp']],
    otherGrants: [[MEMBER, 'update.info.delete.password']],
    writes: 'member.totp_deleted',
    async prepare({ client }, stage) {
      const member = await memberWithTotp(client, stage);
      return (authorization) => client.organizations.members.deleteTOTP({ organization_id: member.organization_id, member_id: member.member_id }, options(authorization));
    },
  },
  {
    operation: 'organizations.members.deleteExternalId',
    what: 'another member’s external id (*)',
    grants: [[MEMBER, '*']],
    otherGrants: [[MEMBER, 'delete']],
    writes: 'member.external_id_deleted',
    async prepare({ client }, stage) {
      const member = await newMember(client, stage, { external_id: `member-ext-${uniqueSuffix()}` });
      return (authorization) => client.organizations.members.deleteExternalId({ organization_id: member.organization_id, member_id: member.member_id }, options(authorization));
    },
  },
  {
    operation: 'passwords.email.requireReset',
    what: 'another member’s password (update.info.delete.password)',
    grants: [[MEMBER, 'update.info.delete.password']],
    otherGrants: [[MEMBER, 'delete']],
    writes: 'member.password_deleted',
    async prepare({ client }, stage) {
      const member = await memberWithPassword(client, stage);
      return (authorization) => client.passwords.email.requireReset({ email_address: member.email_address, organization_id: member.organization_id }, options(authorization));
    },
  },
  {
    operation: 'sessions.revoke',
    what: 'every session of another member (member_id)',
    grants: [[MEMBER, 'revoke-sessions']],
    otherGrants: [[MEMBER, 'delete']],
    writes: 'session.revoked',
    async prepare(world, stage) {
      const member = await newMember(world.client, stage);
      await startMemberSession(world.server, member);
      return (authorization) => world.client.sessions.revoke({ member_id: member.member_id }, options(authorization));
    },
  },
  {
    operation: 'sessions.revoke',
    what: 'another member’s session (member_session_id)',
    grants: [[MEMBER, 'revoke-sessions']],
    otherGrants: [[MEMBER, 'search']],
    writes: 'session.revoked',
    async prepare(world, stage) {
      const started = await startMemberSession(world.server, await newMember(world.client, stage));
      return (authorization) => world.client.sessions.revoke({ member_session_id: started.memberSessionId }, options(authorization));
    },
  },
  {
    operation: 'sessions.revoke',
    what: 'another member’s session (session_jwt)',
    grants: [[MEMBER, 'revoke-sessions']],
    otherGrants: [[MEMBER, 'update.info.name']],
    writes: 'session.revoked',
    async prepare(world, stage) {
      const started = await startMemberSession(world.server, await newMember(world.client, stage));
      return (authorization) => world.client.sessions.revoke({ session_jwt: started.sessionJwt }, options(authorization));
    },
  },
];

/** Who calls, and what they must get. */
interface Caller {
  readonly name: string;
  /** Absent: the call is allowed. */
  readonly refusal?: Refusal;
  readonly impersonated?: boolean;
  /** The session the caller presents (undefined: the project alone), roles set as the caller needs them. */
  session(world: World, stage: Stage, row: Row): Promise<StartedSession | undefined>;
}

async function giveRoles(world: World, member: Member, roles: string[]): Promise<void> {
  await world.client.organizations.members.update({ organization_id: member.organization_id, member_id: member.member_id, roles });
}

const CALLERS: readonly Caller[] = [
  { name: 'the project (no member-session header)', session: async () => undefined },
  { name: 'an admin (stytch_admin)', session: async (_world, stage) => stage.sessions.admin },
  { name: 'a plain member (stytch_member only)', refusal: DENIED, session: async (_world, stage) => stage.sessions.member },
  { name: 'an admin of another organization', refusal: OTHER_TENANT, session: async (world) => world.other.sessions.admin },
  {
    name: 'a custom role granting exactly what the call needs',
    async session(world, stage, row) {
      await giveRoles(world, stage.custom, [world.roleFor(row.grants)]);
      return stage.sessions.custom;
    },
  },
  {
    name: 'a custom role granting something else',
    refusal: DENIED,
    async session(world, stage, row) {
      await giveRoles(world, stage.custom, [world.roleFor(row.otherGrants)]);
      return stage.sessions.custom;
    },
  },
  { name: 'an impersonated admin', impersonated: true, session: async (_world, stage) => stage.sessions.impersonatedAdmin },
];

/** Every custom role the table needs: the exact grants of each row and the other ones. */
const GRANT_SETS = ROWS.flatMap((row) => [row.grants, row.otherGrants]);

/**
 * The impersonation trail names the operation, the impersonator and the member; the call's own
 * audit events carry the impersonator too.
 */
async function expectImpersonationRecorded(world: World, stage: Stage, requestId: string, expected: { operation: string; writes?: string | undefined }): Promise<void> {
  const trail = (await auditEvents(world.server, { impersonator_id: stage.impersonatorId })).filter(
    (event) => event.request_id === requestId && event.type === 'impersonation.session_acted',
  );
  expect(trail).toHaveLength(1);
  expect(trail[0]).toMatchObject({
    impersonator_id: stage.impersonatorId,
    organization_id: stage.organization.organization_id,
    member_id: stage.admin.member_id,
    details: { operation: expected.operation, outcome: 'completed', member_session_id: stage.sessions.impersonatedAdmin.memberSessionId },
  });
  const own = (await world.server.server.store.audit.searchEvents({ organizationId: stage.organization.organization_id }, { limit: 100_000, afterEventId: null })).filter(
    (event) => event.requestId === requestId && event.type !== 'impersonation.session_acted',
  );
  if (expected.writes === undefined) {
    expect(own).toEqual([]);
    return;
  }
  expect(own.map((event) => event.type)).toContain(expected.writes);
  for (const event of own) {
    expect(event.impersonatorId, event.type).toBe(stage.impersonatorId);
    expect(event.actor).toMatchObject({ type: 'member_session', memberId: stage.admin.member_id });
  }
}

for (const store of STORES) {
  describe(`admin endpoints with member-session headers (${store.name})`, () => {
    let world: World;

    beforeAll(async () => {
      const server = await startTestServer({ store: store.name });
      const roleFor = await applyProjectRoles(server, GRANT_SETS);
      world = {
        server,
        client: server.client,
        home: await createStage(server, 'home'),
        other: await createStage(server, 'other'),
        roleFor,
        probe: await openWriteProbe(server),
      };
    });
    afterAll(async () => {
      await world?.probe.close();
      await world?.server.stop();
    });

    ROWS.forEach((row, rowIndex) => {
      CALLERS.forEach((caller, callerIndex) => {
        // Both forms of options.authorization for every kind of caller, across the rows.
        const form: AuthorizationForm = (rowIndex + callerIndex) % 2 === 0 ? 'session_token' : 'session_jwt';
        const outcome = caller.refusal === undefined ? 'allowed' : `${caller.refusal.status} ${caller.refusal.errorType}`;
        it(`${row.operation} (${row.what}) by ${caller.name}${caller.name.startsWith('the project') ? '' : ` (${form})`}: ${outcome}`, async () => {
          const stage = row.ownStage === true ? await createStage(world.server, 'own') : world.home;
          const session = await caller.session(world, stage, row);
          const call = await row.prepare(world, stage);
          const authorization = session === undefined ? undefined : authorizationOf(session, form);
          const refusal = caller.refusal;
          if (refusal !== undefined) {
            await world.probe.expectNothingWritten(() => expectStytchRejection(call(authorization), refusal), { impersonated: caller.impersonated === true });
            return;
          }
          const response = await call(authorization);
          expect(response.status_code).toBe(200);
          if (caller.impersonated === true) await expectImpersonationRecorded(world, stage, response.request_id, row);
        });
      });
    });

    /** A plain member acting on their own member object: stytch.self grants only what it lists. */
    interface SelfCase {
      readonly what: string;
      readonly refusal?: Refusal;
      /** Makes the member (signed in) and answers the call they make on themselves. */
      prepare(): Promise<{ session: StartedSession; call: Call }>;
    }

    const signedIn = async (member: Member) => ({ member, session: await startMemberSession(world.server, member) });
    const plainMember = async () => signedIn(await newMember(world.client, world.home, { external_id: `self-ext-${uniqueSuffix()}`, mfa_phone_number: phoneNumber() }));
    const updateSelf = (fields: Omit<B2BOrganizationsMembersUpdateRequest, 'organization_id' | 'member_id'>, reference: (member: Member) => string = (member) => member.member_id) => async () => {
      const { member, session } = await plainMember();
      const call: Call = (authorization) =>
        world.client.organizations.members.update({ organization_id: member.organization_id, member_id: reference(member), ...fields }, options(authorization));
      return { session, call };
    };

    const SELF_CASES: readonly SelfCase[] = [
      { what: 'members.update of their own name', prepare: updateSelf({ name: 'Myself' }) },
      { what: 'members.update of their own name, naming themselves by external id', prepare: updateSelf({ name: 'Myself' }, (member) => member.external_id ?? '') },
      { what: 'members.update of their own untrusted_metadata, mfa_phone_number, mfa_enrolled and default_mfa_method', prepare: updateSelf({ untrusted_metadata: { theme: 'dark' }, mfa_phone_number: phoneNumber(), mfa_enrolled: true, default_mfa_method: 'sms_otp' }) },
      { what: 'members.update of their own email address (preserve_existing_sessions)', prepare: updateSelf({ email_address: `moved-${uniqueSuffix()}@example.org`, preserve_existing_sessions: true }) },
      { what: 'members.update with only preserve_existing_sessions (not a change)', prepare: updateSelf({ preserve_existing_sessions: true }) },
      { what: 'members.update of their own roles', refusal: DENIED, prepare: updateSelf({ roles: ['stytch_admin'] }) },
      { what: 'members.update of their own is_breakglass', refusal: DENIED, prepare: updateSelf({ is_breakglass: true }) },
      { what: 'members.update of their own external_id', refusal: DENIED, prepare: updateSelf({ external_id: `self-ext-${uniqueSuffix()}` }) },
      {
        what: 'members.update with only preserve_existing_sessions of another member (reads them: search)',
        refusal: DENIED,
        async prepare() {
          const { session } = await plainMember();
          const other = await newMember(world.client, world.home);
          return { session, call: (authorization) => world.client.organizations.members.update({ organization_id: other.organization_id, member_id: other.member_id, preserve_existing_sessions: true }, options(authorization)) };
        },
      },
      {
        what: 'members.delete of themselves',
        async prepare() {
          const { member, session } = await plainMember();
          return { session, call: (authorization) => world.client.organizations.members.delete({ organization_id: member.organization_id, member_id: member.member_id }, options(authorization)) };
        },
      },
      {
        what: 'members.deletePassword of their own password',
        async prepare() {
          const { member, session } = await signedIn(await memberWithPassword(world.client, world.home));
          return {
            session,
            call: (authorization) => world.client.organizations.members.deletePassword({ organization_id: member.organization_id, member_password_id: member.member_password_id }, options(authorization)),
          };
        },
      },
      {
        what: 'members.deleteMFAPhoneNumber of their own number',
        async prepare() {
          const { member, session } = await plainMember();
          return { session, call: (authorization) => world.client.organizations.members.deleteMFAPhoneNumber({ organization_id: member.organization_id, member_id: member.member_id }, options(authorization)) };
        },
      },
      {
        what: 'members.deleteTOTP of their own TOTP',
        async prepare() {
          const { member, session } = await signedIn(await memberWithTotp(world.client, world.home));
          return { session, call: (authorization) => world.client.organizations.members.deleteTOTP({ organization_id: member.organization_id, member_id: member.member_id }, options(authorization)) };
        },
      },
      {
        what: 'members.deleteExternalId of their own external id (*)',
        refusal: DENIED,
        async prepare() {
          const { member, session } = await plainMember();
          return { session, call: (authorization) => world.client.organizations.members.deleteExternalId({ organization_id: member.organization_id, member_id: member.member_id }, options(authorization)) };
        },
      },
      {
        what: 'passwords.email.requireReset of their own password',
        async prepare() {
          const { member, session } = await signedIn(await memberWithPassword(world.client, world.home));
          return { session, call: (authorization) => world.client.passwords.email.requireReset({ email_address: member.email_address, organization_id: member.organization_id }, options(authorization)) };
        },
      },
      {
        what: 'sessions.revoke of their own session (member_session_id)',
        async prepare() {
          const { session } = await plainMember();
          return { session, call: (authorization) => world.client.sessions.revoke({ member_session_id: session.memberSessionId }, options(authorization)) };
        },
      },
      {
        what: 'sessions.revoke of all their own sessions (member_id)',
        async prepare() {
          const { member, session } = await plainMember();
          return { session, call: (authorization) => world.client.sessions.revoke({ member_id: member.member_id }, options(authorization)) };
        },
      },
    ];

    SELF_CASES.forEach((selfCase, index) => {
      const form: AuthorizationForm = index % 2 === 0 ? 'session_token' : 'session_jwt';
      it(`a plain member: ${selfCase.what} (${form}): ${selfCase.refusal === undefined ? 'allowed' : `${selfCase.refusal.status} ${selfCase.refusal.errorType}`}`, async () => {
        const { session, call } = await selfCase.prepare();
        const refusal = selfCase.refusal;
        if (refusal !== undefined) {
          await world.probe.expectNothingWritten(() => expectStytchRejection(call(authorizationOf(session, form)), refusal));
          return;
        }
        expect((await call(authorizationOf(session, form))).status_code).toBe(200);
      });
    });

    it('refuses trusted_metadata even to an admin, on every endpoint that takes it, and writes nothing', async () => {
      const { home, client, probe } = world;
      const authorization = { session_token: home.sessions.admin.sessionToken };
      const organizationId = home.organization.organization_id;
      const target = await newMember(client, home);
      const calls = [
        () => client.organizations.update({ organization_id: organizationId, trusted_metadata: { plan: 'gold' } }, { authorization }),
        () => client.organizations.update({ organization_id: organizationId, organization_name: 'With metadata', trusted_metadata: { plan: 'gold' } }, { authorization }),
        () => client.organizations.members.update({ organization_id: organizationId, member_id: target.member_id, trusted_metadata: { plan: 'gold' } }, { authorization }),
        () => client.organizations.members.create({ organization_id: organizationId, email_address: `meta-${uniqueSuffix()}@example.org`, trusted_metadata: { plan: 'gold' } }, { authorization }),
        () => client.magicLinks.email.invite({ organization_id: organizationId, email_address: `meta-${uniqueSuffix()}@example.org`, trusted_metadata: { plan: 'gold' } }, { authorization }),
      ];
      for (const call of calls) await probe.expectNothingWritten(() => expectStytchRejection(call(), DENIED));
      // The same calls without the field are the admin's to make.
      await client.organizations.members.update({ organization_id: organizationId, member_id: target.member_id, untrusted_metadata: { plan: 'gold' } }, { authorization });
    });

    it('magicLinks.email.invite: a member session invites as itself, never in another member’s name', async () => {
      const { home, client, probe } = world;
      const authorization = { session_jwt: home.sessions.admin.sessionJwt };
      const invite = (invitedBy: string) =>
        client.magicLinks.email.invite(
          { organization_id: home.organization.organization_id, email_address: `invited-${uniqueSuffix()}@example.org`, invited_by_member_id: invitedBy },
          { authorization },
        );
      await probe.expectNothingWritten(() => expectStytchRejection(invite(home.member.member_id), DENIED));
      await probe.expectNothingWritten(() => expectStytchRejection(invite('member-test-00000000-0000-4000-8000-000000000000'), DENIED));
      expect((await invite(home.admin.member_id)).status_code).toBe(200);
    });

    it('answers session_authorization_tenancy_error for any organization but the caller’s, found or not', async () => {
      const { home, other, client, probe, server } = world;
      const authorization = { session_token: home.sessions.admin.sessionToken };
      const unknown = 'organization-test-00000000-0000-4000-8000-000000000000';
      const otherSession = await startMemberSession(server, await newMember(client, other));
      const calls = [
        () => client.organizations.update({ organization_id: unknown, organization_name: 'Nobody' }, { authorization }),
        () => client.organizations.update({ organization_id: other.organization.organization_slug, organization_name: 'Theirs' }, { authorization }),
        () => client.organizations.members.search({ organization_ids: [home.organization.organization_id, other.organization.organization_id] }, { authorization }),
        () => client.organizations.members.search({ organization_ids: [unknown] }, { authorization }),
        () => client.organizations.members.delete({ organization_id: other.organization.organization_id, member_id: other.member.member_id }, { authorization }),
        // Neither organization_id nor member_id: the address in every organization.
        () => client.passwords.email.requireReset({ email_address: other.member.email_address }, { authorization }),
        () => client.passwords.email.requireReset({ email_address: other.member.email_address, member_id: other.member.member_id }, { authorization }),
        () => client.sessions.revoke({ member_session_id: otherSession.memberSessionId }, { authorization }),
        () => client.sessions.revoke({ member_session_id: 'member-session-test-00000000-0000-4000-8000-000000000000' }, { authorization }),
        () => client.sessions.revoke({ member_id: other.member.member_id }, { authorization }),
      ];
      for (const call of calls) await probe.expectNothingWritten(() => expectStytchRejection(call(), OTHER_TENANT));
    });

    it('answers 403 unauthorized_action to member-session headers on an endpoint that takes none (organizations.get), and writes nothing', async () => {
      const { home, server, probe } = world;
      await probe.expectNothingWritten(async () => {
        const response = await server.fetch(`/v1/b2b/organizations/${home.organization.organization_id}`, { headers: { 'X-Stytch-Member-Session': home.sessions.admin.sessionToken } });
        expectErrorResponse(response, 403, 'unauthorized_action');
      });
    });

    it('answers 404 session_not_found to a bogus session token or a JWT of no session, and writes nothing', async () => {
      const { home, client, probe } = world;
      const target = await newMember(client, home);
      const update = (authorization: SessionAuthorization) =>
        client.organizations.members.update({ organization_id: target.organization_id, member_id: target.member_id, name: 'Bogus' }, { authorization });
      await probe.expectNothingWritten(() => expectStytchRejection(update({ session_token: 'bogus-session-token-that-names-no-session-at-all' }), SESSION_NOT_FOUND));
      // A revoked session is no session either.
      const revoked = await startMemberSession(world.server, home.admin);
      await client.sessions.revoke({ member_session_id: revoked.memberSessionId });
      await probe.expectNothingWritten(() => expectStytchRejection(update({ session_token: revoked.sessionToken }), SESSION_NOT_FOUND));
      await probe.expectNothingWritten(() => expectStytchRejection(update({ session_jwt: revoked.sessionJwt }), SESSION_NOT_FOUND));
    });

    it('refuses a session token and a JWT that name different sessions, and takes them when they name the same one', async () => {
      const { home, client, probe } = world;
      const target = await newMember(client, home);
      const update = (authorization: SessionAuthorization) =>
        client.organizations.members.update({ organization_id: target.organization_id, member_id: target.member_id, name: 'Both' }, { authorization });
      // An admin's token with a plain member's JWT, and the other way round: neither lends its rights to the other.
      await probe.expectNothingWritten(() =>
        expectStytchRejection(update({ session_token: home.sessions.admin.sessionToken, session_jwt: home.sessions.member.sessionJwt }), SESSION_NOT_FOUND),
      );
      await probe.expectNothingWritten(() =>
        expectStytchRejection(update({ session_token: home.sessions.member.sessionToken, session_jwt: home.sessions.admin.sessionJwt }), SESSION_NOT_FOUND),
      );
      const admin2 = await startMemberSession(world.server, home.admin);
      await probe.expectNothingWritten(() => expectStytchRejection(update({ session_token: home.sessions.admin.sessionToken, session_jwt: admin2.sessionJwt }), SESSION_NOT_FOUND));
      expect((await update({ session_token: home.sessions.admin.sessionToken, session_jwt: home.sessions.admin.sessionJwt })).member.name).toBe('Both');
    });

    it('reads roles afresh: a member whose admin role was removed a moment ago is refused at once, and allowed again when it is given back', async () => {
      const { home, client, probe, server } = world;
      const admin = await newMember(client, home);
      await giveRoles(world, admin, ['stytch_admin']);
      const session = await startMemberSession(server, admin);
      const target = await newMember(client, home);
      const rename = (name: string) =>
        client.organizations.members.update({ organization_id: target.organization_id, member_id: target.member_id, name }, { authorization: { session_jwt: session.sessionJwt } });
      expect((await rename('First')).member.name).toBe('First');
      await giveRoles(world, admin, []);
      await probe.expectNothingWritten(() => expectStytchRejection(rename('Second'), DENIED));
      await giveRoles(world, admin, ['stytch_admin']);
      expect((await rename('Third')).member.name).toBe('Third');
    });

    it('an impersonated plain member is refused as the member would be; the trail records the refusal and nothing else is written', async () => {
      const { home, client, probe, server } = world;
      const impersonatorId = `support-refused-${uniqueSuffix()}`;
      const { redeemed } = await impersonate(server, home.member, { impersonatorId });
      const target = await newMember(client, home);
      await probe.expectNothingWritten(
        () =>
          expectStytchRejection(
            client.organizations.members.delete({ organization_id: target.organization_id, member_id: target.member_id }, { authorization: { session_token: redeemed.session_token } }),
            DENIED,
          ),
        { impersonated: true },
      );
      const trail = (await auditEvents(server, { impersonator_id: impersonatorId })).filter((event) => event.type === 'impersonation.session_acted');
      expect(trail).toHaveLength(1);
      expect(trail[0]).toMatchObject({
        impersonator_id: impersonatorId,
        member_id: home.member.member_id,
        details: { operation: 'organizations.members.delete', outcome: 'refused', error_type: 'session_authorization_error' },
      });
    });
  });
}
