import { connect } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../support/test-server.js';

/**
 * The metrics listener of its own (UNDERSTUDY_METRICS_ADDRESS) holds slow clients to the same
 * timeouts as the API port (docs/configuration.md): a client dripping its headers is cut off near
 * UNDERSTUDY_HEADERS_TIMEOUT_MS, not at Node's next check of its connections (every 30 s by
 * default), and cannot hold the server's shutdown that long either.
 */
const HEADERS_TIMEOUT_MS = 500;
/** Far below Node's 30 s default check, far above the timeout plus a quarter of it: no tight timing. */
const CUT_OFF_WITHIN_MS = 5_000;

interface Dripping {
  /** Resolves with the milliseconds the connection lived once the server closes it. */
  readonly closed: Promise<number>;
  stop(): void;
}

/** A connection to the metrics listener that sends a scrape's headers a byte every 100 ms, never finishing them. */
async function dripHeaders(metricsUrl: string): Promise<Dripping> {
  const { hostname, port } = new URL(metricsUrl);
  const socket = connect({ host: hostname, port: Number(port) });
  socket.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const openedAt = performance.now();
  const text = `GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: ${'s'.repeat(500)}`;
  let sent = 0;
  const timer = setInterval(() => {
    if (socket.destroyed || sent >= text.length) return clearInterval(timer);
    socket.write(text[sent] as string);
    sent += 1;
  }, 100);
  const closed = new Promise<number>((resolve) => socket.once('close', () => resolve(performance.now() - openedAt)));
  void closed.then(() => clearInterval(timer));
  return {
    closed,
    stop() {
      clearInterval(timer);
      socket.destroy();
    },
  };
}

/** What `promise` resolved with, or 'still waiting' after `ms`. */
function within<T>(promise: Promise<T>, ms: number): Promise<T | 'still waiting'> {
  return Promise.race([promise, new Promise<'still waiting'>((resolve) => setTimeout(() => resolve('still waiting'), ms).unref())]);
}

describe('the metrics listener and slow clients', () => {
  const started: TestServer[] = [];
  const dripping: Dripping[] = [];
  const stopping: Promise<void>[] = [];
  afterAll(async () => {
    for (const client of dripping) client.stop();
    await Promise.all([...stopping, ...started.map((server) => server.stop())]);
  });

  async function serverWithListener(): Promise<TestServer> {
    const server = await startTestServer({ config: { metricsAddress: { host: '127.0.0.1', port: 0 }, headersTimeoutMs: HEADERS_TIMEOUT_MS } });
    started.push(server);
    return server;
  }

  it('cuts off a client dripping its headers near the headers timeout', async () => {
    const server = await serverWithListener();
    const client = await dripHeaders(server.server.metricsUrl as string);
    dripping.push(client);
    const lived = await within(client.closed, CUT_OFF_WITHIN_MS);
    expect(lived, 'the dripping client is still connected').not.toBe('still waiting');
    expect(lived as number).toBeGreaterThanOrEqual(HEADERS_TIMEOUT_MS - 50);
    // Scrapes are still answered.
    expect((await fetch(server.server.metricsUrl as string)).status).toBe(200);
  }, 15_000);

  it('does not let a client dripping its headers hold the shutdown', async () => {
    const server = await startTestServer({ config: { metricsAddress: { host: '127.0.0.1', port: 0 }, headersTimeoutMs: HEADERS_TIMEOUT_MS } });
    const client = await dripHeaders(server.server.metricsUrl as string);
    dripping.push(client);
    const stopped = server.stop();
    // Awaited after the test too, should it fail: the client is dropped then, and the stop completes.
    stopping.push(stopped);
    expect(await within(stopped.then(() => 'stopped' as const), CUT_OFF_WITHIN_MS)).toBe('stopped');
  }, 15_000);
});
