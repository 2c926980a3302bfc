import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { linkToken, waitForEmail } from '../../support/outbox.js';
import { STORES } from '../../support/stores.js';
import { startTestServer, type TestServer } from '../../support/test-server.js';
import { createEmailOrganization, createMember, type EmailOrganization, membersOf, sessionsOf } from '../../conformance/stytch-sdk/email-sign-in-fixtures.js';

/**
 * Single use under concurrency, on both databases: one magic link, or one code, presented by 32
 * requests at once gives exactly one session; 16 sends racing to create the same new member make
 * one member.
 */
const CONCURRENCY = 32;

for (const store of STORES) {
  describe(`email sign-in races (${store.name})`, () => {
    let server: TestServer;
    let acme: EmailOrganization;

    beforeAll(async () => {
      server = await startTestServer({ store: store.name });
      acme = await createEmailOrganization(server.client);
    });
    afterAll(async () => server?.stop());

    /** Fires `count` identical POSTs at once (raw HTTP, so none waits for another client-side). */
    function burst(path: string, json: Record<string, unknown>, count = CONCURRENCY) {
      return Promise.all(Array.from({ length: count }, () => server.fetch(path, { method: 'POST', json })));
    }

    it(`one magic link redeemed by ${CONCURRENCY} concurrent requests gives exactly one session`, async () => {
      const email = acme.address('race');
      const sent = await server.client.magicLinks.email.loginOrSignup({ organization_id: acme.organization.organization_id, email_address: email });
      const token = linkToken((await waitForEmail(server, email)).link as string);
      const responses = await burst('/v1/b2b/magic_links/authenticate', { magic_links_token: token });
      const winners = responses.filter((response) => response.status === 200);
      expect(winners).toHaveLength(1);
      for (const response of responses.filter((candidate) => candidate.status !== 200)) {
        expect({ status: response.status, error_type: response.body.error_type }).toEqual({ status: 401, error_type: 'unable_to_auth_magic_link' });
      }
      const sessions = await sessionsOf(server.client, { organization_id: acme.organization.organization_id, member_id: sent.member_id });
      const won = winners[0]?.body.member_session as { member_session_id: string } | undefined;
      expect(sessions.map((session) => session.member_session_id)).toEqual([won?.member_session_id]);
    });

    it(`one code presented by ${CONCURRENCY} concurrent requests gives exactly one session`, async () => {
      const member = await createMember(server.client, acme.organization, acme.address('otp-race'));
      await server.client.otps.email.loginOrSignup({ organization_id: acme.organization.organization_id, email_address: member.email_address });
      const { code } = await waitForEmail(server, member.email_address);
      const responses = await burst('/v1/b2b/otps/email/authenticate', { organization_id: acme.organization.organization_id, email_address: member.email_address, code });
      expect(responses.filter((response) => response.status === 200)).toHaveLength(1);
      for (const response of responses.filter((candidate) => candidate.status !== 200)) {
        // Spent before its check (no unspent code left), or checked and then beaten to spending it.
        expect([
          { status: 404, error_type: 'otp_code_not_found' },
          { status: 401, error_type: 'unable_to_auth_otp_code' },
        ]).toContainEqual({ status: response.status, error_type: response.body.error_type });
      }
      expect(await sessionsOf(server.client, member)).toHaveLength(1);
    });

    it('20 concurrent wrong codes: exactly 5 are compared and counted, the rest find no code; the right code is dead after them', async () => {
      const member = await createMember(server.client, acme.organization, acme.address('otp-guess'));
      await server.client.otps.email.loginOrSignup({ organization_id: acme.organization.organization_id, email_address: member.email_address });
      const { code } = await waitForEmail(server, member.email_address);
      const wrong = String((Number(code) + 1) % 1_000_000).padStart(6, '0');
      const responses = await burst('/v1/b2b/otps/email/authenticate', { organization_id: acme.organization.organization_id, email_address: member.email_address, code: wrong }, 20);
      const answers = responses.map((response) => `${response.status} ${String(response.body.error_type)}`);
      expect(answers.filter((answer) => answer === '401 unable_to_auth_otp_code')).toHaveLength(5);
      expect(answers.filter((answer) => answer === '404 otp_code_not_found')).toHaveLength(15);
      const right = await server.fetch('/v1/b2b/otps/email/authenticate', { method: 'POST', json: { organization_id: acme.organization.organization_id, email_address: member.email_address, code } });
      expect({ status: right.status, error_type: right.body.error_type }).toEqual({ status: 404, error_type: 'otp_code_not_found' });
      expect(await sessionsOf(server.client, member)).toHaveLength(0);
    });

    it('8 concurrent sends of a code to one address leave exactly one live code', async () => {
      const member = await createMember(server.client, acme.organization, acme.address('otp-sends'));
      const organizationId = acme.organization.organization_id;
      await Promise.all(Array.from({ length: 8 }, () => server.client.otps.email.loginOrSignup({ organization_id: organizationId, email_address: member.email_address })));
      // Through the storage port: spending the newest live code leaves none (two racing sends could each have kept theirs).
      const { store } = server.server;
      const newest = await store.transaction((tx) => tx.emailCredentials.findLatestCode('email_otp', organizationId, member.email_address));
      expect(newest).toBeDefined();
      await store.transaction((tx) => tx.emailCredentials.consumeCredential(newest?.credential.credentialId ?? '', new Date().toISOString()));
      expect(await store.transaction((tx) => tx.emailCredentials.findLatestCode('email_otp', organizationId, member.email_address))).toBeUndefined();
    });

    it('a member deleted while their link is redeemed: one of the two wins, never a 500 (organization, member, then the link: one lock order)', async () => {
      for (let round = 0; round < 8; round += 1) {
        const member = await createMember(server.client, acme.organization, acme.address('deleted-race'));
        await server.client.magicLinks.email.loginOrSignup({ organization_id: acme.organization.organization_id, email_address: member.email_address });
        const token = linkToken((await waitForEmail(server, member.email_address)).link as string);
        const [redeemed, deleted] = await Promise.all([
          server.fetch('/v1/b2b/magic_links/authenticate', { method: 'POST', json: { magic_links_token: token } }),
          server.fetch(`/v1/b2b/organizations/${acme.organization.organization_id}/members/${member.member_id}`, { method: 'DELETE' }),
        ]);
        expect(deleted.status, JSON.stringify(deleted.body)).toBe(200);
        expect([200, 404], JSON.stringify(redeemed.body)).toContain(redeemed.status);
        // Whoever won, the member is deleted now, and a session the link opened ended with them.
        if (redeemed.status === 200) {
          const session = await server.fetch('/v1/b2b/sessions/authenticate', { method: 'POST', json: { session_token: redeemed.body.session_token } });
          expect(session.status).toBe(404);
        }
      }
    });

    it('a member deleted while their code is used: one of the two wins, never a 500', async () => {
      for (let round = 0; round < 8; round += 1) {
        const member = await createMember(server.client, acme.organization, acme.address('deleted-code-race'));
        await server.client.otps.email.loginOrSignup({ organization_id: acme.organization.organization_id, email_address: member.email_address });
        const { code } = await waitForEmail(server, member.email_address);
        const [used, deleted] = await Promise.all([
          server.fetch('/v1/b2b/otps/email/authenticate', { method: 'POST', json: { organization_id: acme.organization.organization_id, email_address: member.email_address, code } }),
          server.fetch(`/v1/b2b/organizations/${acme.organization.organization_id}/members/${member.member_id}`, { method: 'DELETE' }),
        ]);
        expect(deleted.status, JSON.stringify(deleted.body)).toBe(200);
        expect([200, 404], JSON.stringify(used.body)).toContain(used.status);
      }
    });

    it('16 concurrent sends to one new address create one member; exactly one answer says member_created', async () => {
      const email = acme.address('jit-race');
      const responses = await burst('/v1/b2b/magic_links/email/login_or_signup', { organization_id: acme.organization.organization_id, email_address: email }, 16);
      expect(responses.map((response) => response.status)).toEqual(Array(16).fill(200));
      expect(responses.filter((response) => response.body.member_created === true)).toHaveLength(1);
      expect(new Set(responses.map((response) => response.body.member_id)).size).toBe(1);
      expect((await membersOf(server.client, acme.organization)).filter((member) => member.email_address === email)).toHaveLength(1);
    });

    it('16 concurrent invitations of one new address create one invited member', async () => {
      const email = acme.address('invite-race');
      const responses = await burst('/v1/b2b/magic_links/email/invite', { organization_id: acme.organization.organization_id, email_address: email }, 16);
      expect(responses.map((response) => response.status)).toEqual(Array(16).fill(200));
      expect(new Set(responses.map((response) => response.body.member_id)).size).toBe(1);
      expect((await membersOf(server.client, acme.organization)).filter((member) => member.email_address === email)).toEqual([expect.objectContaining({ status: 'invited' })]);
    });
  });
}
