import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/platform/clock.js';
import { listEmails, settleEmails } from '../../support/outbox.js';
import { STORES } from '../../support/stores.js';
import { startTestServer, type TestServer } from '../../support/test-server.js';
import { auditOfRequest, createEmailOrganization, type EmailOrganization, membersOf } from '../../conformance/stytch-sdk/email-sign-in-fixtures.js';

/**
 * Sends per address (5 a minute by default), counted across magic links, codes and invitations:
 * the sixth in a minute gets 429 too_many_requests with Retry-After and writes nothing. The clock
 * stands still, so all of them fall in one window until the test moves it.
 */
for (const store of STORES) {
  describe(`email send rate limit (${store.name})`, () => {
    let server: TestServer;
    let clock: ManualClock;
    let acme: EmailOrganization;

    beforeAll(async () => {
      clock = new ManualClock(new Date(Math.floor(Date.now() / 60_000) * 60_000 + 5_000));
      server = await startTestServer({ store: store.name, clock, config: { rateLimitsEnabled: true } });
      acme = await createEmailOrganization(server.client);
    });
    afterAll(async () => server?.stop());

    it('the sixth send to one address in a minute is 429 with Retry-After, writes nothing, and sends nothing; the next minute it works', async () => {
      const email = acme.address('busy');
      const organization_id = acme.organization.organization_id;
      const sends: [string, Record<string, unknown>][] = [
        ['/v1/b2b/magic_links/email/login_or_signup', { organization_id, email_address: email }],
        ['/v1/b2b/otps/email/login_or_signup', { organization_id, email_address: email }],
        ['/v1/b2b/magic_links/email/invite', { organization_id, email_address: email }],
        ['/v1/b2b/magic_links/email/login_or_signup', { organization_id, email_address: email.toUpperCase() }],
        ['/v1/b2b/otps/email/login_or_signup', { organization_id, email_address: email }],
      ];
      for (const [path, json] of sends) {
        const response = await server.fetch(path, { method: 'POST', json });
        expect(response.status, JSON.stringify(response.body)).toBe(200);
      }
      await settleEmails(server);
      const before = { members: await membersOf(server.client, acme.organization), emails: await listEmails(server, email) };
      expect(before.emails).toHaveLength(5);

      const refused = await server.fetch('/v1/b2b/magic_links/email/invite', { method: 'POST', json: { organization_id, email_address: email, name: 'Changed' } });
      expect({ status: refused.status, error_type: refused.body.error_type }).toEqual({ status: 429, error_type: 'too_many_requests' });
      expect(Number(refused.headers.get('retry-after'))).toBe(55);
      await settleEmails(server);
      expect(await listEmails(server, email)).toEqual(before.emails);
      expect(await membersOf(server.client, acme.organization)).toEqual(before.members);
      expect(await auditOfRequest(server, refused.body.request_id as string)).toEqual([]);

      // Another address is not held up by this one.
      const other = await server.fetch('/v1/b2b/otps/email/login_or_signup', { method: 'POST', json: { organization_id, email_address: acme.address('calm') } });
      expect(other.status).toBe(200);

      clock.advance(60_000);
      const later = await server.fetch('/v1/b2b/otps/email/login_or_signup', { method: 'POST', json: { organization_id, email_address: email } });
      expect(later.status, JSON.stringify(later.body)).toBe(200);
    });
  });
}
