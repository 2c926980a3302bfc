import { StytchError } from 'stytch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORES } from '../../support/stores.js';
import { startTestServer, type TestServer } from '../../support/test-server.js';
import { uniqueSuffix } from '../../support/wire-formats.js';
import { auditOfRequest, DISCOVERY_REDIRECT_URLS, discoveryToken, sendDiscoveryCode, sendDiscoveryLink } from '../../conformance/stytch-sdk/discovery-fixtures.js';

/**
 * Single use under concurrency: one discovery link, or one discovery code, presented by 32
 * requests at once starts exactly one intermediate session; every other request is refused as
 * already used and audited as such, on both databases.
 */
const CONCURRENCY = 32;

for (const store of STORES) {
  describe(`discovery races (${store.name})`, () => {
    let server: TestServer;

    beforeAll(async () => {
      server = await startTestServer({ store: store.name, config: { redirectUrls: DISCOVERY_REDIRECT_URLS } });
    });
    afterAll(async () => server?.stop());

    async function expectExactlyOneWinner(attempts: Promise<{ request_id: string; intermediate_session_token: string }>[], refusal: { status: number; errorType: string }) {
      const settled = await Promise.allSettled(attempts);
      const won = settled.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
      const lost = settled.flatMap((result) => (result.status === 'rejected' ? [result.reason as unknown] : []));
      expect(won).toHaveLength(1);
      expect(won[0]?.intermediate_session_token).toMatch(/^[A-Za-z0-9_-]{44}$/);
      for (const error of lost) {
        expect(error).toBeInstanceOf(StytchError);
        expect({ status: (error as StytchError).status_code, errorType: (error as StytchError).error_type }).toEqual(refusal);
      }
      const started = (await auditOfRequest(server, won[0]?.request_id as string)).map((event) => event.type);
      expect(started).toEqual(['intermediate_session.started']);
      for (const error of lost) {
        const events = await auditOfRequest(server, (error as StytchError).request_id);
        expect(events.map((event) => [event.type, event.details.why])).toEqual([['member.sign_in_refused', 'already_used']]);
      }
    }

    it(`one discovery link redeemed by ${CONCURRENCY} concurrent requests starts exactly one intermediate session`, async () => {
      const token = discoveryToken(await sendDiscoveryLink(server, `racer-${uniqueSuffix()}@races.example.com`));
      const attempts = Array.from({ length: CONCURRENCY }, () => server.client.magicLinks.discovery.authenticate({ discovery_magic_links_token: token }));
      await expectExactlyOneWinner(attempts, { status: 401, errorType: 'unable_to_auth_magic_link' });
    });

    it('20 concurrent wrong discovery codes: exactly 5 are compared and counted, the rest find no code', async () => {
      const email = `guesser-${uniqueSuffix()}@races.example.com`;
      const code = await sendDiscoveryCode(server, email);
      const wrong = String((Number(code) + 1) % 1_000_000).padStart(6, '0');
      const settled = await Promise.allSettled(Array.from({ length: 20 }, () => server.client.otps.email.discovery.authenticate({ email_address: email, code: wrong })));
      const errors = settled.map((result) => (result.status === 'rejected' ? (result.reason as StytchError).error_type : 'signed in'));
      expect(errors.filter((type) => type === 'unable_to_auth_otp_code')).toHaveLength(5);
      expect(errors.filter((type) => type === 'otp_code_not_found')).toHaveLength(15);
      await expect(server.client.otps.email.discovery.authenticate({ email_address: email, code })).rejects.toMatchObject({ error_type: 'otp_code_not_found' });
    });

    it(`one discovery code presented by ${CONCURRENCY} concurrent requests starts exactly one intermediate session`, async () => {
      const email = `racer-${uniqueSuffix()}@races.example.com`;
      const code = await sendDiscoveryCode(server, email);
      const attempts = Array.from({ length: CONCURRENCY }, () => server.client.otps.email.discovery.authenticate({ email_address: email, code }));
      // The losers either found the code already spent while checking it, or lost the race to spend it.
      const settled = await Promise.allSettled(attempts);
      const won = settled.filter((result) => result.status === 'fulfilled');
      expect(won).toHaveLength(1);
      for (const result of settled) {
        if (result.status === 'fulfilled') continue;
        const error = result.reason as StytchError;
        expect(['otp_code_not_found', 'unable_to_auth_otp_code']).toContain(error.error_type);
        const events = await auditOfRequest(server, error.request_id);
        expect(events.map((event) => event.type)).toEqual(['member.sign_in_refused']);
      }
    });
  });
}
