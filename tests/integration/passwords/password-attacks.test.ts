import { createHash } from 'node:crypto';
import type { B2BClient } from 'stytch';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DEFAULT_PASSWORD_SETTINGS } from '../../../src/domain/passwords/password-settings.js';
import { expectStytchRejection } from '../../support/openapi.js';
import { STORES } from '../../support/stores.js';
import { startTestServer, type TestServer } from '../../support/test-server.js';
import { auditOfRequest, createEmailOrganization, createMember, type EmailOrganization, sessionsOf } from '../../conformance/stytch-sdk/email-sign-in-fixtures.js';
import { givePassword, NEW_PASSWORD, PASSWORD, WRONG_CREDENTIALS, WRONG_PASSWORD } from '../../conformance/stytch-sdk/passwords-sign-in-fixtures.js';
import { startSession } from '../../conformance/stytch-sdk/session-fixtures.js';

const THRESHOLD = 3;
const AUTHENTICATE_PATH = '/v1/b2b/passwords/authenticate';

/**
 * Attacks on password sign-in that a customer's security team would try: bursts of concurrent
 * guesses against the lock, an administrator giving someone else's address a known password, and
 * telling migrated members apart by timing.
 */
for (const store of STORES) {
  describe(`password sign-in under attack (${store.name})`, () => {
    let server: TestServer;
    let client: B2BClient;
    let acme: EmailOrganization;

    beforeAll(async () => {
      server = await startTestServer({ store: store.name, config: { passwords: { ...DEFAULT_PASSWORD_SETTINGS, userLockThreshold: THRESHOLD } } });
      client = server.client;
      acme = await createEmailOrganization(client);
    });
    afterAll(async () => server?.stop());

    const raw = (email: string, password: string) =>
      server.fetch(AUTHENTICATE_PATH, { method: 'POST', json: { organization_id: acme.organization.organization_id, email_address: email, password } });

    it('checks at most the threshold of a burst of concurrent guesses, right one included, and answers the rest 429', async () => {
      const email = acme.address('burst');
      await givePassword(client, acme.organization, email);
      const guesses = [...Array.from({ length: 11 }, (_, index) => `${WRONG_PASSWORD}-${index}`), PASSWORD];
      const answers = await Promise.all(guesses.map(async (password) => ({ password, status: (await raw(email, password)).status })));
      const checked = answers.filter((answer) => answer.status !== 429);
      expect(checked.length).toBeLessThanOrEqual(THRESHOLD);
      expect(answers.every((answer) => [200, 401, 429].includes(answer.status))).toBe(true);
      // The right password is answered 200 when it was among those checked, else 429 like the wrong ones:
      // never the one 429 among 401s that would give it away.
      const right = answers.find((answer) => answer.password === PASSWORD);
      expect(right?.status === 200 || right?.status === 429).toBe(true);
    });

    it('counts every concurrent guess at an unknown address, as at a member: the next attempt is locked either way', async () => {
      const member = acme.address('counted-member');
      await givePassword(client, acme.organization, member);
      const stranger = acme.address('counted-stranger');
      for (const email of [member, stranger]) {
        await Promise.all(Array.from({ length: THRESHOLD }, () => raw(email, WRONG_PASSWORD)));
        expect((await raw(email, WRONG_PASSWORD)).status).toBe(429);
      }
    });

    it("deletes a member's password when their address changes, so nobody can give someone else's address a known password", async () => {
      const email = acme.address('renamed');
      const { member } = await givePassword(client, acme.organization, email);
      const victim = acme.address('victim');
      const updated = await client.organizations.members.update({ organization_id: acme.organization.organization_id, member_id: member.member_id, email_address: victim });
      expect(updated.member.member_password_id).toBe('');
      await expectStytchRejection(
        client.passwords.authenticate({ organization_id: acme.organization.organization_id, email_address: victim, password: PASSWORD }),
        WRONG_CREDENTIALS,
      );
    });

    it('spends at least one argon2id verification on a migrated hash, as on an unknown address', async () => {
      const email = acme.address('md5');
      await client.passwords.migrate({
        organization_id: acme.organization.organization_id,
        email_address: email,
        hash_type: 'md_5',
        hash: createHash('md5').update(PASSWORD).digest('hex'),
      });
      const decoy = vi.spyOn(server.server.app.services.passwordHashing, 'verifyNothing');
      try {
        expect((await raw(email, WRONG_PASSWORD)).status).toBe(401);
        expect(decoy).toHaveBeenCalledTimes(1);
      } finally {
        decoy.mockRestore();
      }
    });

    it('does not count a right password refused for another reason (a weak new one) toward the lock', async () => {
      const email = acme.address('weak-tries');
      await givePassword(client, acme.organization, email);
      const organizationId = acme.organization.organization_id;
      for (let attempt = 0; attempt <= THRESHOLD; attempt += 1) {
        await expectStytchRejection(
          client.passwords.existingPassword.reset({ organization_id: organizationId, email_address: email, existing_password: PASSWORD, new_password: 'password' }),
          { status: 400, errorType: 'weak_password' },
        );
      }
      expect((await client.passwords.authenticate({ organization_id: organizationId, email_address: email, password: PASSWORD })).member_authenticated).toBe(true);
    });

    it('records the password deleted by an address change', async () => {
      const email = acme.address('audited-change');
      const { member } = await givePassword(client, acme.organization, email);
      const updated = await server.fetch(`/v1/b2b/organizations/${acme.organization.organization_id}/members/${member.member_id}`, {
        method: 'PUT',
        json: { email_address: acme.address('audited-new') },
      });
      expect(updated.status).toBe(200);
      const events = await auditOfRequest(server, String(updated.body.request_id));
      expect(events.map((event) => [event.type, event.details.how])).toContainEqual(['member.password_deleted', 'email_changed']);
    });

    it('answers member_not_found for requireReset with an unknown member_id alone', async () => {
      await expectStytchRejection(
        client.passwords.email.requireReset({ email_address: acme.address('nobody'), member_id: 'member-test-00000000-0000-4000-8000-000000000000' }),
        { status: 404, errorType: 'member_not_found' },
      );
    });
  });

  describe(`cross-organization password changes (${store.name})`, () => {
    let server: TestServer;
    let client: B2BClient;

    beforeAll(async () => {
      server = await startTestServer({ store: store.name, config: { passwords: { ...DEFAULT_PASSWORD_SETTINGS, crossOrgPasswordsEnabled: true } } });
      client = server.client;
    });
    afterAll(async () => server?.stop());

    it("ends the address's sessions in the other organizations, whose password changed too", async () => {
      const acme = await createEmailOrganization(client);
      const globex = await createEmailOrganization(client);
      const email = acme.address('sessions');
      const inGlobex = await createMember(client, globex.organization, email);
      await givePassword(client, acme.organization, email);
      await startSession(server, inGlobex);
      expect(await sessionsOf(client, inGlobex)).toHaveLength(1);
      await client.passwords.existingPassword.reset({ organization_id: acme.organization.organization_id, email_address: email, existing_password: PASSWORD, new_password: NEW_PASSWORD });
      expect(await sessionsOf(client, inGlobex)).toEqual([]);
    });

    it('lets two changes of one address from two organizations at once both finish, never a 500', async () => {
      const acme = await createEmailOrganization(client);
      const globex = await createEmailOrganization(client);
      const email = acme.address('race');
      await createMember(client, globex.organization, email);
      await givePassword(client, acme.organization, email);
      const statuses = await Promise.all(
        [acme, globex].map(async (organization, index) => {
          const response = await server.fetch('/v1/b2b/passwords/existing_password/reset', {
            method: 'POST',
            json: { organization_id: organization.organization.organization_id, email_address: email, existing_password: PASSWORD, new_password: `${NEW_PASSWORD}-${index}` },
          });
          return response.status;
        }),
      );
      // The first to commit changes the password; the other then finds its existing password wrong.
      expect(statuses.sort()).toEqual([200, 401]);
    });
  });

  describe(`a flood of right passwords past the hashing pool (${store.name})`, () => {
    let server: TestServer;

    beforeAll(async () => {
      // One hash at a time, one waiting: a burst of sign-ins overflows it at once.
      server = await startTestServer({
        store: store.name,
        config: { passwords: { ...DEFAULT_PASSWORD_SETTINGS, userLockThreshold: THRESHOLD }, passwordHashConcurrency: 1, passwordHashQueueLength: 1 },
      });
    });
    afterAll(async () => server?.stop());

    it('refuses what the pool cannot take with 429 and Retry-After, never counting it: the member is never locked out', async () => {
      const organization = await createEmailOrganization(server.client);
      const email = organization.address('flooded');
      await givePassword(server.client, organization.organization, email);
      const signIn = () =>
        server.fetch(AUTHENTICATE_PATH, { method: 'POST', json: { organization_id: organization.organization.organization_id, email_address: email, password: PASSWORD } });
      const answers = await Promise.all(Array.from({ length: 8 * THRESHOLD }, signIn));
      const outcomes = answers.map((answer) => (answer.status === 200 ? 200 : `${answer.status} ${String(answer.body.error_type)}`));
      // Every refusal is the pool's (too_many_requests, with Retry-After), never the user lock.
      expect(outcomes.filter((outcome) => outcome !== 200 && outcome !== '429 too_many_requests')).toEqual([]);
      expect(outcomes).toContain(200);
      expect(answers.filter((answer) => answer.status === 429).every((answer) => Number(answer.headers.get('retry-after')) >= 1)).toBe(true);
      // And the member signs in right after, as after any burst of their own right passwords.
      expect((await signIn()).status).toBe(200);
    });
  });
}
