import type { StytchError } from 'stytch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_PASSWORD_SETTINGS } from '../../../src/domain/passwords/password-settings.js';
import type { RedirectUrl } from '../../../src/domain/redirect-urls/redirect-url.js';
import { linkToken, waitForEmail } from '../../support/outbox.js';
import { STORES } from '../../support/stores.js';
import { startTestServer, type TestServer } from '../../support/test-server.js';
import { createEmailOrganization, createMember, REDIRECT_URLS } from '../../conformance/stytch-sdk/email-sign-in-fixtures.js';
import { NEW_PASSWORD, PASSWORD } from '../../conformance/stytch-sdk/passwords-sign-in-fixtures.js';

const REDIRECTS: readonly RedirectUrl[] = [
  ...REDIRECT_URLS,
  { url: 'https://app.example.com/reset-password', types: [{ type: 'reset_password', isDefault: true }] },
  { url: 'https://app.example.com/discover', types: [{ type: 'discovery', isDefault: true }] },
];
const RACERS = 4;

/** Settles every call: the answers that succeeded and the error types of the others. */
async function race<T>(calls: Promise<T>[]): Promise<{ won: T[]; refused: string[] }> {
  const settled = await Promise.allSettled(calls);
  return {
    won: settled.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : [])),
    refused: settled.flatMap((result) => (result.status === 'rejected' ? [(result.reason as StytchError).error_type] : [])),
  };
}

/**
 * A reset token is single-use under concurrency: of several resets racing with one token (each
 * hashing its own password first), exactly one sets the password and signs in; the others are
 * refused as already used, and the password is the winner's.
 */
for (const store of STORES) {
  describe(`concurrent password resets (${store.name})`, () => {
    let server: TestServer;

    beforeAll(async () => {
      server = await startTestServer({ store: store.name, config: { redirectUrls: REDIRECTS, passwords: { ...DEFAULT_PASSWORD_SETTINGS, crossOrgPasswordsEnabled: true } } });
    });
    afterAll(async () => server?.stop());

    it("an organization's reset token: one reset wins", async () => {
      const { client } = server;
      const acme = await createEmailOrganization(client);
      const member = await createMember(client, acme.organization, acme.address('racer'));
      await client.passwords.email.resetStart({ organization_id: acme.organization.organization_id, email_address: member.email_address });
      const token = linkToken((await waitForEmail(server, member.email_address, { template: 'reset_password' })).link as string);
      const passwords = Array.from({ length: RACERS }, (_, index) => `${NEW_PASSWORD}-${index}`);
      const { won, refused } = await race(passwords.map((password) => client.passwords.email.reset({ password_reset_token: token, password })));
      expect(won).toHaveLength(1);
      expect(refused).toEqual(Array(RACERS - 1).fill('unable_to_auth_password_reset_token'));
      // Exactly one of the racing passwords is now the member's.
      const results = await race(passwords.map((password) => client.passwords.authenticate({ organization_id: acme.organization.organization_id, email_address: member.email_address, password })));
      expect(results.won).toHaveLength(1);
      expect(results.won[0]?.member_id).toBe(member.member_id);
      expect((await client.sessions.get({ organization_id: acme.organization.organization_id, member_id: member.member_id })).member_sessions).toHaveLength(2);
    });

    it('a discovery reset token: one reset wins', async () => {
      const { client } = server;
      const acme = await createEmailOrganization(client);
      const member = await createMember(client, acme.organization, acme.address('discoverer'));
      await client.passwords.discovery.email.resetStart({ email_address: member.email_address });
      const token = linkToken((await waitForEmail(server, member.email_address, { template: 'discovery_reset_password' })).link as string);
      const { won, refused } = await race(Array.from({ length: RACERS }, () => client.passwords.discovery.email.reset({ password_reset_token: token, password: PASSWORD })));
      expect(won).toHaveLength(1);
      expect(refused).toEqual(Array(RACERS - 1).fill('unable_to_auth_password_reset_token'));
    });
  });
}
