import type { B2BClient, Member, Organization } from 'stytch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isDomainError } from '../../../src/domain/common/domain-error.js';
import { PolicyProblemsError } from '../../../src/domain/rbac/errors.js';
import { expectStytchError, expectStytchRejection } from '../../support/openapi.js';
import { POSTGRES_SKIP_REASON, POSTGRES_URL } from '../../support/stores.js';
import { startTestServer, type TestServer } from '../../support/test-server.js';
import { uniqueSuffix } from '../../support/wire-formats.js';

/**
 * A change of the project's policy that removes a role, and writes that assign the role (a member's
 * roles, an organization's implicit assignment), made at the same moment on PostgreSQL, where they
 * run in parallel: never both commit, so no member or organization is left naming a role that does
 * not exist. And a process deciding on a role id reads the policy in its transaction, not its copy,
 * so a role another process removed a moment ago is refused at once.
 */
const CLI = { requestId: 'request-id-test-00000000-0000-4000-8000-0000000000f3', actor: { type: 'cli' as const } };
const ROUNDS = 20;
const INVALID_ROLE = { status: 400, errorType: 'invalid_rbac_role_id' } as const;

function policyWith(roleIds: readonly string[]) {
  return {
    resources: [{ resource_id: 'documents', description: 'Team documents', actions: ['read', 'write'] }],
    roles: roleIds.map((roleId) => ({ role_id: roleId, description: `Role ${roleId}`, permissions: [{ resource_id: 'documents', actions: ['read'] }] })),
    scopes: [],
  };
}

async function cast(client: B2BClient): Promise<{ organization: Organization; member: Member }> {
  const suffix = uniqueSuffix();
  const { organization } = await client.organizations.create({ organization_name: `Races ${suffix}`, organization_slug: `races-${suffix}` });
  const { member } = await client.organizations.members.create({ organization_id: organization.organization_id, email_address: `racer-${suffix}@example.org` });
  return { organization, member };
}

// Skipped without a PostgreSQL server: POSTGRES_SKIP_REASON says how to provide one. SQLite runs one
// write transaction at a time, so these races cannot happen there.
describe.skipIf(!POSTGRES_URL)(`RBAC policy changes racing role assignments on PostgreSQL (${POSTGRES_URL ? 'UNDERSTUDY_TEST_DATABASE_URL' : POSTGRES_SKIP_REASON})`, () => {
  let first: TestServer;
  let second: TestServer;

  beforeAll(async () => {
    first = await startTestServer({ store: 'postgres' });
    second = await startTestServer({ store: 'postgres', sharing: first });
  });
  afterAll(async () => {
    await second?.stop();
    await first?.stop();
  });

  it(`removing a role and assigning it (members.update, organizations.update) at once never both commit (${ROUNDS} rounds)`, async () => {
    const { client } = first;
    const { rbacPolicy } = first.server.app.services;
    // The member and the assignment in different organizations: each write races the removal on its own
    // (in one organization they would wait for each other on the organization's row).
    const { organization, member } = await cast(client);
    const { organization: assigning } = await cast(client);
    const roleId = 'racing';
    const assignment = { domain: 'race.example.com', role_id: roleId };
    for (let round = 0; round < ROUNDS; round += 1) {
      await rbacPolicy.apply(CLI, policyWith([roleId]), { source: 'cli' });
      // The removal starts a little later in some rounds: the SDK's calls need a moment to reach the server.
      const removal = new Promise((resolve) => setTimeout(resolve, round % 4)).then(() => rbacPolicy.apply(CLI, policyWith([]), { source: 'cli' }));
      const [removed, memberUpdate, organizationUpdate] = await Promise.allSettled([
        removal,
        client.organizations.members.update({ organization_id: organization.organization_id, member_id: member.member_id, roles: [roleId] }),
        client.organizations.update({ organization_id: assigning.organization_id, rbac_email_implicit_role_assignments: [assignment] }),
      ]);
      // Each lost only as it may: the removal to the role being in use, an assignment to the role being gone.
      if (removed.status === 'rejected') {
        expect(removed.reason).toBeInstanceOf(PolicyProblemsError);
        expect(isDomainError(removed.reason) && removed.reason.code).toBe('rbac_role_in_use');
      }
      for (const update of [memberUpdate, organizationUpdate]) if (update.status === 'rejected') expectStytchError(update.reason, INVALID_ROLE);

      const policy = (await first.server.store.rbac.latestPolicy())?.policy;
      const policyHasRole = policy?.roles.some((role) => role.roleId === roleId) === true;
      const memberHolds = (await client.organizations.members.get({ organization_id: organization.organization_id, member_id: member.member_id })).member.roles.some(
        (role) => role.role_id === roleId,
      );
      const organizationNames = (await client.organizations.get({ organization_id: assigning.organization_id })).organization.rbac_email_implicit_role_assignments.some(
        (entry) => entry.role_id === roleId,
      );
      // The rule: a role gone from the policy is held and named by nobody.
      if (!policyHasRole) expect({ round, memberHolds, organizationNames }).toEqual({ round, memberHolds: false, organizationNames: false });
      // Each outcome agrees with what was answered.
      expect(policyHasRole).toBe(removed.status === 'rejected');
      expect(memberHolds).toBe(memberUpdate.status === 'fulfilled');
      expect(organizationNames).toBe(organizationUpdate.status === 'fulfilled');

      // The next round starts from the role defined and unassigned.
      await client.organizations.members.update({ organization_id: organization.organization_id, member_id: member.member_id, roles: [] });
      await client.organizations.update({ organization_id: assigning.organization_id, rbac_email_implicit_role_assignments: [] });
    }
  }, 120_000);

  it('a role one server removes is refused by another server at once, though that server’s copy of the policy (under 5 seconds old) still has it', async () => {
    const { rbacPolicy } = first.server.app.services;
    await rbacPolicy.apply(CLI, policyWith(['temp']), { source: 'cli' });
    const { organization, member } = await cast(second.client);
    // The second server reads the policy (its copy now has `temp`) ...
    expect((await second.client.rbac.policy()).policy?.roles.map((role) => role.role_id)).toContain('temp');
    // ... and the first removes the role.
    await rbacPolicy.apply(CLI, policyWith([]), { source: 'cli' });

    await expectStytchRejection(second.client.organizations.members.update({ organization_id: organization.organization_id, member_id: member.member_id, roles: ['temp'] }), INVALID_ROLE);
    await expectStytchRejection(
      second.client.organizations.members.create({ organization_id: organization.organization_id, email_address: `temp-${uniqueSuffix()}@example.org`, roles: ['temp'] }),
      INVALID_ROLE,
    );
    await expectStytchRejection(
      second.client.organizations.update({ organization_id: organization.organization_id, rbac_email_implicit_role_assignments: [{ domain: 'temp.example.com', role_id: 'temp' }] }),
      INVALID_ROLE,
    );
    const roles = (await second.client.organizations.members.get({ organization_id: organization.organization_id, member_id: member.member_id })).member.roles;
    expect(roles.map((role) => role.role_id)).toEqual(['stytch_member']);
  });
});
