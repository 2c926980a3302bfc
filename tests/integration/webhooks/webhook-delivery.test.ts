import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createImpersonationCast, expectErrorResponse, impersonate } from '../../support/impersonation.js';
import { STORES } from '../../support/stores.js';
import { startTestServer, type TestServer } from '../../support/test-server.js';
import { startWebhookReceiver, type ReceivedWebhook, type ReceiverScript, type WebhookReceiver } from '../../support/webhook-receiver.js';

const ENDPOINTS = '/v1/b2b/impersonation/webhooks/endpoints';
const DELIVERIES = '/v1/b2b/impersonation/webhooks/deliveries';

interface WireEndpoint {
  readonly endpoint_id: string;
  readonly organization_id: string | null;
  readonly url: string;
}

interface WireDelivery {
  readonly delivery_id: string;
  readonly endpoint_id: string;
  readonly event_id: string;
  readonly event_type: string;
  readonly status: string;
  readonly attempts: number;
  readonly last_status_code: number | null;
  readonly last_error: string | null;
  readonly delivered_at: string | null;
}

async function addEndpoint(server: TestServer, body: Record<string, unknown>): Promise<{ endpoint: WireEndpoint; secret: string }> {
  const response = await server.fetch(ENDPOINTS, { method: 'POST', json: body });
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  return response.body as unknown as { endpoint: WireEndpoint; secret: string };
}

async function deliveries(server: TestServer, query: string): Promise<WireDelivery[]> {
  const response = await server.fetch(`${DELIVERIES}?${query}`);
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  return response.body.deliveries as WireDelivery[];
}

/** Polls the delivery log until `done` holds for it. */
async function waitForDeliveries(server: TestServer, query: string, done: (log: WireDelivery[]) => boolean, timeoutMs = 15_000): Promise<WireDelivery[]> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const log = await deliveries(server, query);
    if (done(log)) return log;
    if (performance.now() > deadline) throw new Error(`the delivery log did not settle: ${JSON.stringify(log)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const ofType = (type: string) => (request: ReceivedWebhook) => request.body.type === type;

describe.each(STORES)('webhook deliveries ($name)', ({ name: store }) => {
  let server: TestServer;
  const receivers: WebhookReceiver[] = [];

  beforeAll(async () => {
    server = await startTestServer({ store, config: { webhookMaxAttempts: 3 }, webhookRetryDelaysMs: [10, 10, 10] });
  });
  afterAll(async () => {
    await server?.stop();
  });
  afterEach(async () => {
    // Each test's endpoints stop receiving, so the next test's events reach only its own.
    const listed = await server.fetch(ENDPOINTS);
    for (const endpoint of listed.body.endpoints as (WireEndpoint & { disabled_at: string | null })[]) {
      if (endpoint.disabled_at === null) await server.fetch(`${ENDPOINTS}/${endpoint.endpoint_id}/disable`, { method: 'POST' });
    }
    for (const receiver of receivers.splice(0)) await receiver.close();
  });

  async function receiver(script?: ReceiverScript): Promise<WebhookReceiver> {
    const started = await startWebhookReceiver({ script });
    receivers.push(started);
    return started;
  }

  it("signs every impersonation event to the project's endpoint and the organization's own, and sends none to another organization's", async () => {
    const cast = await createImpersonationCast(server.client);
    const other = await createImpersonationCast(server.client);
    const [vendor, customer, stranger] = [await receiver(), await receiver(), await receiver()];
    const project = await addEndpoint(server, { url: vendor.url, description: 'vendor' });
    const own = await addEndpoint(server, { url: customer.url, organization_id: cast.organization.organization_slug });
    const elsewhere = await addEndpoint(server, { url: stranger.url, organization_id: other.organization.organization_id });
    expect(project.endpoint.organization_id).toBeNull();
    expect(own.endpoint.organization_id).toBe(cast.organization.organization_id);
    expect(project.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);

    const { minted, redeemed } = await impersonate(server, cast.member);

    for (const [target, secret] of [
      [vendor, project.secret],
      [customer, own.secret],
    ] as const) {
      const [mint] = await target.waitFor(ofType('impersonation.token_minted'));
      const [redemption] = await target.waitFor(ofType('impersonation.token_redeemed'));
      for (const request of [mint, redemption]) {
        if (request === undefined) throw new Error('no request');
        expect(request.headers['content-type']).toBe('application/json');
        expect(request.headers['webhook-id']).toBe(request.body.data.event_id);
        expect(request.headers['webhook-signature']).toMatch(/^v1,/);
        expect(target.verify(request, secret)).toEqual(request.body);
        // Another endpoint's secret does not verify it.
        expect(() => target.verify(request, stranger === target ? project.secret : elsewhere.secret)).toThrow();
      }
      expect(mint?.body).toMatchObject({
        type: 'impersonation.token_minted',
        data: {
          type: 'impersonation.token_minted',
          organization_id: cast.organization.organization_id,
          member_id: cast.member.member_id,
          impersonator_id: 'support-17',
          actor: { type: 'project' },
          details: { token_id: minted.token_id, kind: 'support' },
        },
      });
      expect(mint?.body.timestamp).toBe(mint?.body.data.occurred_at);
      expect(redemption?.body.data.details).toMatchObject({ member_session_id: redeemed.member_session?.member_session_id });
      // The token itself is never sent.
      expect(mint?.raw).not.toContain(minted.impersonation_token);
    }

    const log = await waitForDeliveries(server, `endpoint_id=${own.endpoint.endpoint_id}`, (entries) => entries.length >= 2 && entries.every((entry) => entry.status === 'delivered'));
    expect(log.map((entry) => entry.event_type)).toEqual(expect.arrayContaining(['impersonation.token_minted', 'impersonation.token_redeemed']));
    expect(log[0]).toMatchObject({ attempts: 1, last_status_code: 200, last_error: null });
    expect(await deliveries(server, `endpoint_id=${elsewhere.endpoint.endpoint_id}`)).toEqual([]);
    expect(stranger.requests).toEqual([]);
  });

  it('retries a failing endpoint with the same webhook-id until it answers 2xx', async () => {
    const cast = await createImpersonationCast(server.client);
    // Each event fails twice, counted per webhook-id: the mint's and the redemption's deliveries
    // interleave in any order, so a count shared between them would not say which one failed.
    const seen = new Map<string, number>();
    const flaky = await receiver((_attempt, request) => {
      const id = String(request.headers['webhook-id']);
      const tries = (seen.get(id) ?? 0) + 1;
      seen.set(id, tries);
      return tries <= 2 ? 500 : 200;
    });
    const { endpoint, secret } = await addEndpoint(server, { url: flaky.url, organization_id: cast.organization.organization_id });
    await impersonate(server, cast.member);

    const [delivered] = await waitForDeliveries(
      server,
      `endpoint_id=${endpoint.endpoint_id}&status=delivered`,
      (entries) => entries.some((entry) => entry.event_type === 'impersonation.token_minted'),
    ).then((entries) => entries.filter((entry) => entry.event_type === 'impersonation.token_minted'));
    expect(delivered).toMatchObject({ status: 'delivered', attempts: 3, last_status_code: 200, last_error: null });
    const attempts = flaky.requests.filter((request) => request.body.data.event_id === delivered?.event_id);
    expect(attempts.map((request) => request.status)).toEqual([500, 500, 200]);
    expect(new Set(attempts.map((request) => request.headers['webhook-id']))).toEqual(new Set([delivered?.event_id]));
    // The same bytes every time, each signed anew.
    expect(new Set(attempts.map((request) => request.raw)).size).toBe(1);
    for (const attempt of attempts) expect(flaky.verify(attempt, secret)).toBeTruthy();
  });

  it('fails a delivery whose endpoint keeps failing, after the configured number of attempts', async () => {
    const cast = await createImpersonationCast(server.client);
    const broken = await receiver(() => 500);
    const { endpoint } = await addEndpoint(server, { url: broken.url, organization_id: cast.organization.organization_id });
    await impersonate(server, cast.member);

    const log = await waitForDeliveries(server, `endpoint_id=${endpoint.endpoint_id}`, (entries) => entries.length >= 2 && entries.every((entry) => entry.status === 'failed'));
    for (const entry of log) expect(entry).toMatchObject({ status: 'failed', attempts: 3, last_status_code: 500, last_error: 'HTTP 500: receiver says 500', delivered_at: null });
    expect(await deliveries(server, `endpoint_id=${endpoint.endpoint_id}&status=failed`)).toHaveLength(log.length);
    expect(await deliveries(server, `endpoint_id=${endpoint.endpoint_id}&status=delivered`)).toEqual([]);
  });

  it('sends nothing more to a disabled endpoint, and refuses bad endpoints', async () => {
    const cast = await createImpersonationCast(server.client);
    const target = await receiver();
    const { endpoint } = await addEndpoint(server, { url: target.url, organization_id: cast.organization.organization_id });
    const disabled = await server.fetch(`${ENDPOINTS}/${endpoint.endpoint_id}/disable`, { method: 'POST' });
    expect(disabled.status).toBe(200);
    expect((disabled.body.endpoint as { disabled_at: string | null }).disabled_at).not.toBeNull();
    await impersonate(server, cast.member);
    // Another endpoint of the project gets the events, so a round has run.
    const witness = await receiver();
    await addEndpoint(server, { url: witness.url });
    await impersonate(server, cast.member);
    await witness.waitFor(ofType('impersonation.token_redeemed'));
    expect(target.requests).toEqual([]);

    expectErrorResponse(await server.fetch(`${ENDPOINTS}/webhook-endpoint-test-00000000-0000-4000-8000-000000000000/disable`, { method: 'POST' }), 404, 'webhook_endpoint_not_found');
    for (const url of ['ftp://example.com/hook', 'https://user:pass@example.com/hook', 'http://example.com/hook', 'not a url']) {
      expectErrorResponse(await server.fetch(ENDPOINTS, { method: 'POST', json: { url } }), 400, 'invalid_webhook_endpoint');
    }
    expectErrorResponse(await server.fetch(ENDPOINTS, { method: 'POST', json: { url: target.url, description: 'x'.repeat(201) } }), 400, 'invalid_webhook_endpoint');
    expectErrorResponse(await server.fetch(ENDPOINTS, { method: 'POST', json: { url: target.url, organization_id: 'no-such-organization' } }), 404, 'organization_not_found');
  });

  it('allows at most ten enabled endpoints per owner', async () => {
    const cast = await createImpersonationCast(server.client);
    const target = await receiver();
    const added: WireEndpoint[] = [];
    for (let index = 0; index < 10; index += 1) added.push((await addEndpoint(server, { url: `${target.url}/${index}`, organization_id: cast.organization.organization_id })).endpoint);
    expectErrorResponse(await server.fetch(ENDPOINTS, { method: 'POST', json: { url: target.url, organization_id: cast.organization.organization_id } }), 400, 'too_many_webhook_endpoints');
    await server.fetch(`${ENDPOINTS}/${added[0]?.endpoint_id}/disable`, { method: 'POST' });
    await addEndpoint(server, { url: target.url, organization_id: cast.organization.organization_id });
  });
});

describe.each(STORES)('webhook endpoints and internal addresses ($name)', ({ name: store }) => {
  let permissive: TestServer;
  let strict: TestServer;
  let target: WebhookReceiver;

  beforeAll(async () => {
    permissive = await startTestServer({ store });
    // The same database, served with the production rule: no internal addresses.
    strict = await startTestServer({ sharing: permissive, config: { webhookAllowPrivateAddresses: false, webhookMaxAttempts: 2 }, webhookRetryDelaysMs: [10] });
    target = await startWebhookReceiver();
  });
  afterAll(async () => {
    await strict?.stop();
    await permissive?.stop();
    await target?.close();
  });

  it('refuses endpoints on loopback, private and link-local addresses, whatever their spelling', async () => {
    const port = new URL(target.url).port;
    for (const url of [
      target.url,
      `https://127.0.0.1:${port}/hooks`,
      'https://localhost/hooks',
      'https://[::1]/hooks',
      'https://[::ffff:127.0.0.1]/hooks',
      'https://10.1.2.3/hooks',
      'https://169.254.169.254/latest/meta-data',
      'https://[fd12:3456::1]/hooks',
      'https://0.0.0.0/hooks',
    ]) {
      const response = await strict.fetch(ENDPOINTS, { method: 'POST', json: { url } });
      expectErrorResponse(response, 400, 'invalid_webhook_endpoint');
    }
    expect((await strict.fetch(ENDPOINTS)).body.endpoints).toEqual([]);
  });

  it('checks the address again at delivery and never connects to an internal one', async () => {
    // Added where internal addresses were allowed; the strict server delivers.
    await permissive.server.app.services.webhookDeliveries.stop();
    const { endpoint } = await addEndpoint(permissive, { url: target.url });
    const cast = await createImpersonationCast(strict.client);
    await impersonate(strict, cast.member);

    const log = await waitForDeliveries(strict, `endpoint_id=${endpoint.endpoint_id}`, (entries) => entries.length >= 2 && entries.every((entry) => entry.status === 'failed'));
    for (const entry of log) {
      expect(entry.last_status_code).toBeNull();
      expect(entry.last_error).toBe('not sent: the host 127.0.0.1 is a loopback, private, link-local or otherwise internal address');
    }
    expect(target.requests).toEqual([]);
  });
});
