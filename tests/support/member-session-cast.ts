import type { Member, Organization } from 'stytch';
import { expect } from 'vitest';
import { changedTables, openDatabaseProbe, type DatabaseProbe } from '../reliability/support/table-snapshot.js';
import { impersonate } from './impersonation.js';
import { startTestSession } from './sessions.js';
import type { TestServer } from './test-server.js';
import { uniqueSuffix } from './wire-formats.js';

/**
 * Setup of the member-session suites (admin endpoints called with `options.authorization`): an
 * organization with the members who call, their sessions, custom project roles, and a probe that
 * proves a refused call wrote nothing.
 */

export interface StartedSession {
  readonly sessionToken: string;
  readonly sessionJwt: string;
  readonly memberSessionId: string;
}

/** The SDK's `options.authorization` in one of its two forms (or both, which sends both headers). */
export type SessionAuthorization = { session_token: string } | { session_jwt: string } | { session_token: string; session_jwt: string };

export type AuthorizationForm = 'session_token' | 'session_jwt';

export function authorizationOf(session: StartedSession, form: AuthorizationForm): SessionAuthorization {
  return form === 'session_token' ? { session_token: session.sessionToken } : { session_jwt: session.sessionJwt };
}

export interface Stage {
  readonly organization: Organization;
  /** Holds stytch_admin. */
  readonly admin: Member;
  /** Holds only the implicit stytch_member. */
  readonly member: Member;
  /** Holds whatever custom role a test gives it (project calls change its roles). */
  readonly custom: Member;
  readonly sessions: {
    readonly admin: StartedSession;
    readonly member: StartedSession;
    readonly custom: StartedSession;
    /** The admin, impersonated by `impersonatorId`. */
    readonly impersonatedAdmin: StartedSession;
  };
  /** Unique to this stage, so its impersonation trail can be read alone. */
  readonly impersonatorId: string;
}

/** A fresh organization with an admin, a plain member and a member for custom roles, each signed in, and the admin impersonated. */
export async function createStage(server: TestServer, label: string): Promise<Stage> {
  const { client } = server;
  const suffix = uniqueSuffix();
  const { organization } = await client.organizations.create({ organization_name: `RBAC ${label} ${suffix}`, organization_slug: `rbac-${label}-${suffix}` });
  const add = async (local: string, roles: string[] = []) =>
    (await client.organizations.members.create({ organization_id: organization.organization_id, email_address: `${local}-${suffix}@example.org`, roles })).member;
  const admin = await add('admin', ['stytch_admin']);
  const member = await add('member');
  const custom = await add('custom');
  const impersonatorId = `support-${suffix}`;
  const { redeemed } = await impersonate(server, admin, { impersonatorId });
  if (redeemed.member_session === undefined) throw new Error('the impersonation answered no member session');
  return {
    organization,
    admin,
    member,
    custom,
    sessions: {
      admin: await startMemberSession(server, admin),
      member: await startMemberSession(server, member),
      custom: await startMemberSession(server, custom),
      impersonatedAdmin: { sessionToken: redeemed.session_token, sessionJwt: redeemed.session_jwt, memberSessionId: redeemed.member_session.member_session_id },
    },
    impersonatorId,
  };
}

export function startMemberSession(server: TestServer, member: Member): Promise<StartedSession> {
  return startTestSession(server, { organizationId: member.organization_id, memberId: member.member_id });
}

/** One permission of a custom role: a resource and the actions it grants there. */
export type Grant = readonly [resourceId: string, action: string];

/**
 * Custom project roles, one per distinct set of grants, applied in-process as a policy file would
 * be (roles naming stytch.* resources must be project roles). Answers the role id of each set.
 */
export async function applyProjectRoles(server: TestServer, grantSets: readonly (readonly Grant[])[]): Promise<(grants: readonly Grant[]) => string> {
  const ids = new Map<string, string>();
  for (const grants of grantSets) {
    const key = grantsKey(grants);
    if (!ids.has(key)) ids.set(key, `rbac-custom-${ids.size + 1}`);
  }
  const roles = [...ids.entries()].map(([key, roleId]) => {
    const grants = grantSets.find((candidate) => grantsKey(candidate) === key) ?? [];
    const byResource = new Map<string, string[]>();
    for (const [resourceId, action] of grants) byResource.set(resourceId, [...(byResource.get(resourceId) ?? []), action]);
    return {
      role_id: roleId,
      description: `Grants ${key}`,
      permissions: [...byResource.entries()].map(([resource_id, actions]) => ({ resource_id, actions })),
    };
  });
  const context = { requestId: 'request-id-test-00000000-0000-4000-8000-0000000000aa', actor: { type: 'cli' as const } };
  await server.server.app.services.rbacPolicy.apply(context, { resources: [], roles, scopes: [] }, { source: 'cli' });
  return (grants) => {
    const roleId = ids.get(grantsKey(grants));
    if (roleId === undefined) throw new Error(`no custom role grants ${grantsKey(grants)}`);
    return roleId;
  };
}

function grantsKey(grants: readonly Grant[]): string {
  return grants
    .map(([resourceId, action]) => `${resourceId}:${action}`)
    .sort()
    .join(' ');
}

/** Audit events of this type are the impersonation trail's record of a call, written for refused calls too. */
const SESSION_ACTED = 'impersonation.session_acted';

/**
 * Reads the whole database around a refused call: nothing may change, except (for an impersonated
 * caller) the impersonation trail's record of the refused call itself.
 */
export interface WriteProbe {
  expectNothingWritten(call: () => Promise<unknown>, options?: { readonly impersonated?: boolean }): Promise<void>;
  close(): Promise<void>;
}

export async function openWriteProbe(server: TestServer): Promise<WriteProbe> {
  const probe: DatabaseProbe = await openDatabaseProbe(server);
  return {
    async expectNothingWritten(call, options = {}) {
      // Mail and SMS an earlier (allowed) call handed over are recorded in the background: let them
      // settle first, or their rows would change under the refused call and look like its writes.
      await server.server.app.services.mail.idle();
      await server.server.app.services.sms.idle();
      const before = await probe.snapshot();
      const typesBefore = await probe.values('audit_events', 'type');
      await call();
      const after = await probe.snapshot();
      const added = withoutEach(await probe.values('audit_events', 'type'), typesBefore);
      expect(added).toEqual(options.impersonated === true ? [SESSION_ACTED] : []);
      // Audit events are only ever added, so those listed above are all that changed there.
      expect(changedTables(before, after).filter((table) => table !== 'audit_events' || added.length === 0)).toEqual([]);
      expect(after.refusals).toBe(before.refusals);
    },
    close: () => probe.close(),
  };
}

/** `values` minus one occurrence of each of `removed`. */
function withoutEach(values: readonly string[], removed: readonly string[]): string[] {
  const left = [...values];
  for (const value of removed) {
    const index = left.indexOf(value);
    if (index >= 0) left.splice(index, 1);
  }
  return left;
}
