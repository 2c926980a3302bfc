import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createImpersonationCast, expectErrorResponse } from '../../support/impersonation.js';
import { STORES } from '../../support/stores.js';
import { startTestServer, type TestServer } from '../../support/test-server.js';

const ENDPOINTS = '/v1/b2b/impersonation/webhooks/endpoints';
/** A public address, written as an IP literal so adding it needs no DNS; no event is ever sent to it here. */
const PUBLIC = 'https://93.184.216.34';

describe.each(STORES)('webhook endpoint limits ($name)', ({ name: store }) => {
  let server: TestServer;

  beforeAll(async () => {
    // The production rule: hosts are resolved and checked when an endpoint is added.
    server = await startTestServer({ store, config: { webhookAllowPrivateAddresses: false } });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("refuses the project's eleventh endpoint however many are added at once", async () => {
    const answers = await Promise.all(
      Array.from({ length: 16 }, (_, index) => server.fetch(ENDPOINTS, { method: 'POST', json: { url: `${PUBLIC}/race-${index}` } })),
    );
    expect(answers.filter((answer) => answer.status === 200)).toHaveLength(10);
    for (const answer of answers.filter((entry) => entry.status !== 200)) expectErrorResponse(answer, 400, 'too_many_webhook_endpoints');
    const listed = await server.fetch(ENDPOINTS);
    expect((listed.body.endpoints as { organization_id: string | null; disabled_at: string | null }[]).filter((entry) => entry.organization_id === null && entry.disabled_at === null)).toHaveLength(10);
  });

  it('refuses an owner at its limit before resolving the new URL’s host', async () => {
    const cast = await createImpersonationCast(server.client);
    for (let index = 0; index < 10; index += 1) {
      const added = await server.fetch(ENDPOINTS, { method: 'POST', json: { url: `${PUBLIC}/hook-${index}`, organization_id: cast.organization.organization_id } });
      expect(added.status, JSON.stringify(added.body)).toBe(200);
    }
    // A host no name server knows: refused for the count, not for the name, so it was never looked up.
    const refused = await server.fetch(ENDPOINTS, { method: 'POST', json: { url: 'https://no-such-host.invalid/hook', organization_id: cast.organization.organization_id } });
    expectErrorResponse(refused, 400, 'too_many_webhook_endpoints');
  });
});
