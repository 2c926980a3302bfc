import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STYTCH_RESOURCES } from '../../../src/domain/rbac/policy.js';
import { POLICY_CACHE_MS } from '../../../src/domain/rbac/policy-service.js';
import { ManualClock } from '../../../src/platform/clock.js';
import { STORES } from '../../support/stores.js';
import { startTestServer, type TestServer } from '../../support/test-server.js';

/**
 * A stored policy version holds a copy of Stytch's resources as the release that wrote it defined
 * them. A later release may give one of them another action: rbac.policy serves the current
 * definition (the official SDK reads it), and the policy in force, applied again as served, is
 * accepted as unchanged.
 */
const CLI = { requestId: 'request-id-test-00000000-0000-4000-8000-0000000000f2', actor: { type: 'cli' as const } };
const POLICY = {
  resources: [{ resource_id: 'documents', description: 'Team documents', actions: ['read', 'write'] }],
  roles: [{ role_id: 'editor', description: 'Edits documents', permissions: [{ resource_id: 'documents', actions: ['read', 'write'] }] }],
  scopes: [],
};
/** Actions an older release's copy of stytch.member did not list. */
const NEWER_ACTIONS = ['search', 'revoke.connected-app'];

for (const factory of STORES) {
  describe(`stored policy versions and Stytch’s resources (${factory.name})`, () => {
    let server: TestServer;
    const clock = new ManualClock(new Date());

    beforeAll(async () => {
      server = await startTestServer({ store: factory.name, clock });
    });
    afterAll(async () => server?.stop());

    it('a version whose copy of stytch.member lacks actions is served with today’s actions, and applying it as served changes nothing', async () => {
      const { rbacPolicy } = server.server.app.services;
      const { store } = server.server;
      await rbacPolicy.apply(CLI, POLICY, { source: 'cli' });
      const latest = await store.rbac.latestPolicy();
      if (latest === undefined) throw new Error('the apply stored no version');
      // As an older release would have written it: stytch.member without the newer actions.
      const older = {
        ...latest.policy,
        resources: latest.policy.resources.map((resource) =>
          resource.resourceId === 'stytch.member' ? { ...resource, actions: resource.actions.filter((action) => !NEWER_ACTIONS.includes(action)) } : resource,
        ),
      };
      expect(await store.rbac.appendPolicy({ version: latest.version + 1, policy: older, source: 'file', createdAt: latest.createdAt })).toBe(true);
      // Past this process's copy of the policy, so the next read finds the version written directly.
      clock.advance(POLICY_CACHE_MS + 1);

      const served = (await server.client.rbac.policy()).policy;
      if (served === undefined) throw new Error('rbac.policy answered no policy');
      const member = served.resources.find((resource) => resource.resource_id === 'stytch.member');
      const builtIn = STYTCH_RESOURCES.find((resource) => resource.resourceId === 'stytch.member');
      expect(member?.actions).toEqual(builtIn?.actions);
      for (const action of NEWER_ACTIONS) expect(member?.actions).toContain(action);
      expect(served.resources.filter((resource) => resource.resource_id.startsWith('stytch.')).map((resource) => resource.resource_id)).toEqual(
        STYTCH_RESOURCES.map((resource) => resource.resourceId),
      );
      // The project's own parts are served as stored.
      expect(served.resources).toContainEqual(POLICY.resources[0]);
      expect(served.roles).toContainEqual(POLICY.roles[0]);

      const again = await rbacPolicy.apply(CLI, served, { source: 'cli' });
      expect(again.changed).toBe(false);
      expect(again.version.version).toBe(latest.version + 1);
      expect((await rbacPolicy.history(10)).map((version) => version.version)).toEqual([latest.version + 1, latest.version]);
    });
  });
}
