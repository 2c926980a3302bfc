import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { B2BClient } from 'stytch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_PASSWORD_SETTINGS } from '../../../src/domain/passwords/password-settings.js';
import { expectStytchRejection } from '../../support/openapi.js';
import { STORES } from '../../support/stores.js';
import { startTestServer, type TestServer } from '../../support/test-server.js';
import { createEmailOrganization, createMember } from '../../conformance/stytch-sdk/email-sign-in-fixtures.js';
import { givePassword, NEW_PASSWORD, PASSWORD, WRONG_CREDENTIALS, WRONG_PASSWORD } from '../../conformance/stytch-sdk/passwords-sign-in-fixtures.js';

const LOCKED = { status: 429, errorType: 'user_lock_limit_reached' } as const;

/**
 * With cross-organization passwords, an address has one password and one lock across the project's
 * organizations: a password set in one organization signs in to the others, and wrong passwords
 * tried in several organizations count toward one threshold, not one per organization.
 */
for (const store of STORES) {
  describe(`cross-organization passwords (${store.name})`, () => {
    let server: TestServer;
    let client: B2BClient;

    beforeAll(async () => {
      server = await startTestServer({
        store: store.name,
        config: { passwords: { ...DEFAULT_PASSWORD_SETTINGS, crossOrgPasswordsEnabled: true, userLockThreshold: 4 } },
      });
      client = server.client;
    });
    afterAll(async () => server?.stop());

    it("sets a password for the address's members in every organization, and counts failures across them", async () => {
      const acme = await createEmailOrganization(client);
      const globex = await createEmailOrganization(client);
      const email = acme.address('cross');
      const inGlobex = await createMember(client, globex.organization, email);
      // Migrated in Acme (a migration concerns that organization's member only), then changed there.
      await givePassword(client, acme.organization, email);
      const signIn = (organizationId: string, password: string) => client.passwords.authenticate({ organization_id: organizationId, email_address: email, password });
      await expectStytchRejection(signIn(globex.organization.organization_id, PASSWORD), WRONG_CREDENTIALS);
      await client.passwords.existingPassword.reset({ organization_id: acme.organization.organization_id, email_address: email, existing_password: PASSWORD, new_password: NEW_PASSWORD });

      // Set in Acme, it signs in to Globex, whose member never had one.
      const globexSignIn = await signIn(globex.organization.organization_id, NEW_PASSWORD);
      expect(globexSignIn.member_id).toBe(inGlobex.member_id);
      expect(globexSignIn.member.member_password_id).not.toBe('');

      // Two wrong in each organization make four: the address is locked in both.
      for (const organization of [acme.organization, globex.organization, acme.organization, globex.organization]) {
        await expectStytchRejection(signIn(organization.organization_id, WRONG_PASSWORD), WRONG_CREDENTIALS);
      }
      await expectStytchRejection(signIn(acme.organization.organization_id, NEW_PASSWORD), LOCKED);
      await expectStytchRejection(signIn(globex.organization.organization_id, NEW_PASSWORD), LOCKED);
    });

    it('changes the password everywhere when it is changed in one organization', async () => {
      const acme = await createEmailOrganization(client);
      const globex = await createEmailOrganization(client);
      const email = acme.address('change');
      await createMember(client, globex.organization, email);
      await givePassword(client, acme.organization, email);
      await client.passwords.existingPassword.reset({
        organization_id: acme.organization.organization_id,
        email_address: email,
        existing_password: PASSWORD,
        new_password: NEW_PASSWORD,
      });
      await expectStytchRejection(
        client.passwords.authenticate({ organization_id: globex.organization.organization_id, email_address: email, password: PASSWORD }),
        WRONG_CREDENTIALS,
      );
      const signedIn = await client.passwords.authenticate({ organization_id: globex.organization.organization_id, email_address: email, password: NEW_PASSWORD });
      expect(signedIn.member_authenticated).toBe(true);
    });
  });
}

/**
 * Breach checks on authentication with a range API that cannot answer: the right password still
 * signs in (a source that is down must not lock every member out), while a new password is refused
 * with 503 rather than accepted unchecked.
 */
describe('a breach source that cannot answer', () => {
  let server: TestServer;
  let rangeApi: Server;

  beforeAll(async () => {
    // Answers every range request with 503, as an overloaded or unreachable API would.
    rangeApi = createServer((_request, response) => response.writeHead(503).end());
    await new Promise<void>((resolve) => rangeApi.listen(0, '127.0.0.1', resolve));
    const { port } = rangeApi.address() as AddressInfo;
    server = await startTestServer({
      config: {
        passwords: { ...DEFAULT_PASSWORD_SETTINGS, checkBreachOnAuthentication: true, checkBreachOnCreation: true },
        passwordBreachRangeApiUrl: `http://127.0.0.1:${port}/range/`,
      },
    });
  });
  afterAll(async () => {
    await server?.stop();
    await new Promise((resolve) => rangeApi?.close(resolve));
  });

  it('lets a right password sign in, refuses a new password with 503 server_unavailable', async () => {
    const { client } = server;
    const acme = await createEmailOrganization(client);
    const email = acme.address('breach-down');
    await givePassword(client, acme.organization, email);
    const signedIn = await client.passwords.authenticate({ organization_id: acme.organization.organization_id, email_address: email, password: PASSWORD });
    expect(signedIn.member_authenticated).toBe(true);
    await expectStytchRejection(
      client.passwords.existingPassword.reset({ organization_id: acme.organization.organization_id, email_address: email, existing_password: PASSWORD, new_password: NEW_PASSWORD }),
      { status: 503, errorType: 'server_unavailable' },
    );
    // Nothing changed: the old password still works.
    expect((await client.passwords.authenticate({ organization_id: acme.organization.organization_id, email_address: email, password: PASSWORD })).member_authenticated).toBe(true);
  });
});
