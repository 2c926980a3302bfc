import { randomUUID } from 'node:crypto';
import { B2BClient } from 'stytch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectStytchRejection, expectToMatchResponseSchema } from '../../support/openapi.js';
import { STORES } from '../../support/stores.js';
import { startTestServer, type TestServer } from '../../support/test-server.js';
import { idPattern, uniqueSuffix } from '../../support/wire-formats.js';

/**
 * A `project-live-…` project issues `-live-` ids, as Stytch derives the environment from the
 * project id. The SDK would send a live project to api.stytch.com, so `env` points
 * it at Understudy.
 */
const LIVE_PROJECT_ID = `project-live-${randomUUID()}`;
const LIVE_SECRET = 'secret-live-understudy-conformance-0123456789';

for (const store of STORES) {
  describe(`a live project (${store.name})`, () => {
    let server: TestServer;
    let client: B2BClient;

    beforeAll(async () => {
      server = await startTestServer({ store: store.name, config: { projectId: LIVE_PROJECT_ID, projectSecret: LIVE_SECRET } });
      client = server.client;
    });
    afterAll(async () => server?.stop());

    it('the test server really is configured with the live project', () => {
      expect(server.projectId).toBe(LIVE_PROJECT_ID);
      expect(server.server.bootstrap.project.projectId).toBe(LIVE_PROJECT_ID);
    });

    it('issues organization-live, member-live, email-live and request-id-live ids', async () => {
      const created = await client.organizations.create({ organization_name: 'Live Co', organization_slug: `live-${uniqueSuffix()}` });
      expectToMatchResponseSchema('post', '/v1/b2b/organizations', created);
      expect(created.request_id).toMatch(idPattern('request-id', 'live'));
      expect(created.organization.organization_id).toMatch(idPattern('organization', 'live'));

      const organizationId = created.organization.organization_id;
      const member = await client.organizations.members.create({ organization_id: organizationId, email_address: 'live@example.org' });
      expectToMatchResponseSchema('post', '/v1/b2b/organizations/{organization_id}/members', member);
      expect(member.request_id).toMatch(idPattern('request-id', 'live'));
      expect(member.member_id).toMatch(idPattern('member', 'live'));

      const moved = await client.organizations.members.update({ organization_id: organizationId, member_id: member.member_id, email_address: 'moved@example.org' });
      expectToMatchResponseSchema('put', '/v1/b2b/organizations/{organization_id}/members/{member_id}', moved);
      expect(moved.member.retired_email_addresses[0]?.email_id).toMatch(idPattern('email', 'live'));
    });

    it('errors carry request-id-live ids', async () => {
      await expectStytchRejection(client.organizations.get({ organization_id: 'no-such-organization' }), {
        status: 404,
        errorType: 'organization_not_found',
        environment: 'live',
      });
      const wrongSecret = new B2BClient({ project_id: LIVE_PROJECT_ID, secret: 'secret-live-wrong', env: `${server.baseUrl}/` });
      await expectStytchRejection(wrongSecret.organizations.search({}), { status: 401, errorType: 'unauthorized_credentials', environment: 'live' });
    });

    it('refuses the test project credentials', async () => {
      const testProject = new B2BClient({ project_id: `project-test-${randomUUID()}`, secret: LIVE_SECRET, env: `${server.baseUrl}/` });
      await expectStytchRejection(testProject.organizations.search({}), { status: 401, errorType: 'unauthorized_credentials', environment: 'live' });
    });
  });
}
