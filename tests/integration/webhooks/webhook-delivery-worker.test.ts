import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MAX_ATTEMPTS_IN_FLIGHT, MAX_ATTEMPTS_IN_FLIGHT_PER_ENDPOINT, WebhookDeliveries } from '../../../src/domain/webhooks/webhook-deliveries.js';
import { WebhookSecrets } from '../../../src/domain/webhooks/webhook-secrets.js';
import type { WebhookAnswer, WebhookRequest } from '../../../src/domain/webhooks/webhook-transport.js';
import type { WebhookDelivery } from '../../../src/domain/webhooks/webhook.js';
import { systemClock, toTimestamp } from '../../../src/platform/clock.js';
import { IdGenerator } from '../../../src/platform/ids.js';
import { cryptoRandom } from '../../../src/platform/random.js';
import type { Store } from '../../../src/storage/store.js';
import { STORES } from '../../support/stores.js';

/**
 * The delivery worker's attempt slots, against a transport that stands in for the network: some
 * endpoints accept the request and never answer (their attempts hang until released), the others
 * answer 200 at once.
 */
class FakeTransport {
  readonly attempted: WebhookRequest[] = [];
  readonly #hanging = new Set<string>();
  readonly #waiting: (() => void)[] = [];
  #inFlight = new Map<string, number>();
  maxInFlight = 0;
  maxInFlightPerUrl = 0;

  hang(url: string): void {
    this.#hanging.add(url);
  }

  /** Every hanging attempt answers 504 now, and later ones answer at once. */
  release(): void {
    this.#hanging.clear();
    for (const answer of this.#waiting.splice(0)) answer();
  }

  async send(request: WebhookRequest): Promise<WebhookAnswer> {
    this.attempted.push(request);
    const count = (this.#inFlight.get(request.url) ?? 0) + 1;
    this.#inFlight.set(request.url, count);
    this.maxInFlightPerUrl = Math.max(this.maxInFlightPerUrl, count);
    this.maxInFlight = Math.max(this.maxInFlight, [...this.#inFlight.values()].reduce((sum, value) => sum + value, 0));
    try {
      if (!this.#hanging.has(request.url)) return { status: 200, text: 'ok' };
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
      return { status: 504, text: 'gave up' };
    } finally {
      this.#inFlight.set(request.url, (this.#inFlight.get(request.url) ?? 1) - 1);
    }
  }
}

async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await condition())) {
    if (performance.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe.each(STORES)('the webhook delivery worker ($name)', (factory) => {
  let store: Store;
  let cleanup: () => Promise<void>;
  let transport: FakeTransport;
  let deliveries: WebhookDeliveries;
  const secrets = new WebhookSecrets({ masterKey: Buffer.alloc(32, 9), random: cryptoRandom });
  const ids = new IdGenerator(cryptoRandom, 'test');
  const problems: unknown[] = [];

  beforeEach(async () => {
    ({ store, cleanup } = await factory.open());
    transport = new FakeTransport();
    problems.length = 0;
    deliveries = new WebhookDeliveries({
      store,
      transport,
      secrets,
      clock: systemClock,
      random: cryptoRandom,
      ids,
      maxAttempts: 3,
      retryDelaysMs: [60_000],
      pollMs: 50,
      onProblem: (error) => problems.push(error),
    });
  });
  afterEach(async () => {
    transport.release();
    await deliveries.stop();
    await cleanup();
  });

  async function addEndpoint(name: string): Promise<string> {
    const endpointId = ids.next('webhook-endpoint');
    const url = `https://${name}.hooks.example/in`;
    await store.webhooks.insertEndpoint({ endpointId, organizationId: null, url, description: name, createdAt: toTimestamp(new Date()), disabledAt: null }, secrets.create(endpointId).sealed);
    return endpointId;
  }

  async function addDelivery(endpointId: string, dueAt: Date, overrides: Partial<WebhookDelivery> = {}): Promise<string> {
    const deliveryId = ids.nextTimeOrdered('webhook-delivery', new Date());
    const eventId = ids.nextTimeOrdered('audit-event', new Date());
    const at = toTimestamp(dueAt);
    const delivery: WebhookDelivery = {
      deliveryId,
      endpointId,
      eventId,
      eventType: 'impersonation.token_minted',
      organizationId: null,
      payload: JSON.stringify({ type: 'impersonation.token_minted', data: { event_id: eventId } }),
      status: 'pending',
      attempts: 0,
      nextAttemptAt: at,
      lastAttemptAt: null,
      lastStatusCode: null,
      lastError: null,
      createdAt: at,
      deliveredAt: null,
      ...overrides,
    };
    expect(await store.webhooks.insertDelivery(delivery)).toBe(true);
    return deliveryId;
  }

  it("attempts other endpoints' deliveries while ten endpoints hold their attempts open, never more than two per endpoint", async () => {
    // One organization's ten endpoints accept connections and never answer; each has ten deliveries
    // due, all older than anyone else's.
    const earlier = new Date(Date.now() - 60_000);
    for (let index = 0; index < 10; index += 1) {
      transport.hang(`https://stuck-${index}.hooks.example/in`);
      const endpointId = await addEndpoint(`stuck-${index}`);
      for (let delivery = 0; delivery < 10; delivery += 1) await addDelivery(endpointId, earlier);
    }
    const vendor = await addEndpoint('vendor');
    const first = await addDelivery(vendor, new Date());
    deliveries.start();

    await until(() => transport.attempted.some((request) => request.url === 'https://vendor.hooks.example/in'), "the vendor's delivery is attempted");
    await until(async () => (await store.webhooks.findDelivery(first))?.status === 'delivered', "the vendor's delivery is recorded");
    // A delivery recorded after the stuck attempts began is sent too, without waiting for them.
    const second = await addDelivery(vendor, new Date());
    deliveries.wake();
    await until(async () => (await store.webhooks.findDelivery(second))?.status === 'delivered', "the vendor's next delivery is recorded");

    // Twenty stuck attempts under way (two per endpoint), and no more: the other eighty wait their turn.
    const stuck = () => transport.attempted.filter((request) => request.url.startsWith('https://stuck-')).length;
    await until(() => stuck() === 20, 'two attempts per stuck endpoint are under way');
    deliveries.wake();
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(stuck()).toBe(20);
    expect(transport.maxInFlightPerUrl).toBe(MAX_ATTEMPTS_IN_FLIGHT_PER_ENDPOINT);
    expect(transport.maxInFlight).toBeLessThanOrEqual(MAX_ATTEMPTS_IN_FLIGHT);
    expect(problems).toEqual([]);
  });

  it('stops only when the attempts under way are recorded', async () => {
    transport.hang('https://slow.hooks.example/in');
    const delivery = await addDelivery(await addEndpoint('slow'), new Date());
    deliveries.start();
    await until(() => transport.attempted.length === 1, 'the attempt starts');
    let stopped = false;
    const stopping = deliveries.stop().then(() => {
      stopped = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(stopped).toBe(false);
    transport.release();
    await stopping;
    expect(await store.webhooks.findDelivery(delivery)).toMatchObject({ status: 'pending', attempts: 1, lastStatusCode: 504 });
  });

  it('runOnce attempts every due delivery, two at a time per endpoint, and resolves once they are recorded', async () => {
    const endpointId = await addEndpoint('busy');
    const due = [];
    for (let index = 0; index < 5; index += 1) due.push(await addDelivery(endpointId, new Date()));
    await deliveries.runOnce();
    for (const deliveryId of due) expect((await store.webhooks.findDelivery(deliveryId))?.status).toBe('delivered');
    expect(transport.attempted).toHaveLength(5);
    expect(transport.maxInFlightPerUrl).toBeLessThanOrEqual(MAX_ATTEMPTS_IN_FLIGHT_PER_ENDPOINT);
  });

  it('deletes delivered and failed deliveries created more than 30 days ago, and keeps the rest', async () => {
    const endpointId = await addEndpoint('history');
    const day = 86_400_000;
    const longAgo = new Date(Date.now() - 31 * day);
    const recently = new Date(Date.now() - 29 * day);
    const oldDelivered = await addDelivery(endpointId, longAgo, { status: 'delivered', nextAttemptAt: null, deliveredAt: toTimestamp(longAgo) });
    const oldFailed = await addDelivery(endpointId, longAgo, { status: 'failed', attempts: 3, nextAttemptAt: null });
    const oldPending = await addDelivery(endpointId, new Date(Date.now() + day), { createdAt: toTimestamp(longAgo) });
    const recent = await addDelivery(endpointId, recently, { status: 'delivered', nextAttemptAt: null, deliveredAt: toTimestamp(recently) });
    expect(await deliveries.deleteFinished()).toBe(2);
    expect(await store.webhooks.findDelivery(oldDelivered)).toBeUndefined();
    expect(await store.webhooks.findDelivery(oldFailed)).toBeUndefined();
    expect(await store.webhooks.findDelivery(oldPending)).toBeDefined();
    expect(await store.webhooks.findDelivery(recent)).toBeDefined();
  });
});
