import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

/**
 * Slow and stalled clients (docs/reliability.md, "Slow clients"): a slowloris crowd that trickles
 * headers, a client that stalls halfway through a body, and idle connections are all cut off after
 * the configured timeouts, while a normal client is served promptly throughout. The server here
 * runs with timeouts of about a second (UNDERSTUDY_HEADERS_TIMEOUT_MS and friends) to keep it fast.
 */
const HEADERS_TIMEOUT_MS = 1_000;
const REQUEST_TIMEOUT_MS = 1_500;
const KEEP_ALIVE_TIMEOUT_MS = 800;
/** Node checks timeouts periodically (a quarter of the headers timeout here), so allow for that and a loaded machine. */
const SLACK_MS = 1_500;

interface TrackedSocket {
  readonly socket: Socket;
  readonly received: Buffer[];
  readonly openedAt: number;
  closedAt: number | undefined;
}

function open(port: number): Promise<TrackedSocket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    const tracked: TrackedSocket = { socket, received: [], openedAt: Date.now(), closedAt: undefined };
    socket.on('data', (chunk) => tracked.received.push(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      tracked.closedAt = Date.now();
    });
    socket.once('connect', () => resolve(tracked));
    socket.once('error', reject);
  });
}

/** Writes `text` one byte every `intervalMs` until the socket closes; returns how many bytes went out. */
function trickle(tracked: TrackedSocket, text: string, intervalMs: number): Promise<number> {
  return new Promise((resolve) => {
    let sent = 0;
    const timer = setInterval(() => {
      if (tracked.closedAt !== undefined || tracked.socket.destroyed || sent >= text.length) {
        clearInterval(timer);
        resolve(sent);
        return;
      }
      tracked.socket.write(text[sent] as string);
      sent += 1;
    }, intervalMs);
  });
}

async function waitUntilClosed(sockets: readonly TrackedSocket[], withinMs: number): Promise<void> {
  const deadline = Date.now() + withinMs;
  while (sockets.some((tracked) => tracked.closedAt === undefined) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
}

const statusLineOf = (tracked: TrackedSocket): string => Buffer.concat(tracked.received).toString('latin1').split('\r\n')[0] ?? '';

describe('slow clients', () => {
  let server: TestServer;
  let port: number;
  const opened: TrackedSocket[] = [];

  beforeAll(async () => {
    server = await startTestServer({ config: { headersTimeoutMs: HEADERS_TIMEOUT_MS, requestTimeoutMs: REQUEST_TIMEOUT_MS, keepAliveTimeoutMs: KEEP_ALIVE_TIMEOUT_MS } });
    port = Number(new URL(server.baseUrl).port);
  });
  afterAll(async () => {
    for (const tracked of opened) tracked.socket.destroy();
    await server?.stop();
  });

  it('serves a normal client promptly while 100 slowloris sockets trickle headers, and closes each of them after the headers timeout', async () => {
    const crowd = await Promise.all(Array.from({ length: 100 }, () => open(port)));
    opened.push(...crowd);
    const trickling = crowd.map((tracked) => trickle(tracked, `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ${'s'.repeat(200)}`, 100));

    const latencies: number[] = [];
    for (let round = 0; round < 5; round += 1) {
      const started = Date.now();
      const reply = await server.fetch('/v1/b2b/organizations/search', { method: 'POST', json: {} });
      expect(reply.status).toBe(200);
      latencies.push(Date.now() - started);
      await new Promise((resolve) => setTimeout(resolve, 150));
    }
    expect(Math.max(...latencies), `normal requests under slowloris load took ${latencies.join(', ')} ms`).toBeLessThan(500);

    await waitUntilClosed(crowd, HEADERS_TIMEOUT_MS + SLACK_MS);
    const sent = await Promise.all(trickling);
    for (const [index, tracked] of crowd.entries()) {
      expect(tracked.closedAt, `slowloris socket ${index} is still open`).toBeDefined();
      expect((tracked.closedAt as number) - tracked.openedAt).toBeLessThan(HEADERS_TIMEOUT_MS + SLACK_MS);
      // Cut off long before its 230 header bytes were done: the timeout counts from the connection, not from the last byte.
      expect(sent[index]).toBeLessThan(230);
      expect(['', 'HTTP/1.1 408 Request Timeout']).toContain(statusLineOf(tracked));
    }
    const lifetimes = crowd.map((tracked) => (tracked.closedAt as number) - tracked.openedAt);
    console.info(`[slow clients] normal requests: ${latencies.join(', ')} ms; slowloris sockets closed after ${Math.min(...lifetimes)}–${Math.max(...lifetimes)} ms`);
  }, 20_000);

  it('cuts off a client that stalls halfway through its body after the request timeout, and keeps serving others', async () => {
    const stalled = await open(port);
    opened.push(stalled);
    const body = JSON.stringify({ organization_name: 'Stalled Org', organization_slug: 'stalled-org' });
    const authorization = `Basic ${Buffer.from(`${server.projectId}:${server.secret}`).toString('base64')}`;
    stalled.socket.write(
      `POST /v1/b2b/organizations HTTP/1.1\r\nHost: x\r\nAuthorization: ${authorization}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 20)}`,
    );

    const reply = await server.fetch('/healthz');
    expect(reply.status).toBe(200);

    await waitUntilClosed([stalled], REQUEST_TIMEOUT_MS + SLACK_MS);
    expect(stalled.closedAt, 'the stalled upload is still open').toBeDefined();
    expect((stalled.closedAt as number) - stalled.openedAt).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_MS - 100);
    expect(['', 'HTTP/1.1 408 Request Timeout']).toContain(statusLineOf(stalled));
    console.info(`[slow clients] stalled upload closed after ${(stalled.closedAt as number) - stalled.openedAt} ms: "${statusLineOf(stalled)}"`);
    // Half an organization is no organization.
    const search = await server.fetch('/v1/b2b/organizations/search', { method: 'POST', json: { query: { operator: 'AND', operands: [{ filter_name: 'organization_slugs', filter_value: ['stalled-org'] }] } } });
    expect(search.body.organizations).toEqual([]);
  }, 10_000);

  it('closes a connection that never sends a byte after the headers timeout', async () => {
    const idle = await open(port);
    opened.push(idle);
    await waitUntilClosed([idle], HEADERS_TIMEOUT_MS + SLACK_MS);
    expect(idle.closedAt, 'the silent connection is still open').toBeDefined();
  }, 10_000);

  it('closes an idle keep-alive connection after the keep-alive timeout', async () => {
    const kept = await open(port);
    opened.push(kept);
    kept.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(statusLineOf(kept)).toBe('HTTP/1.1 200 OK');
    await waitUntilClosed([kept], KEEP_ALIVE_TIMEOUT_MS + SLACK_MS);
    expect(kept.closedAt, 'the idle keep-alive connection is still open').toBeDefined();
    expect((kept.closedAt as number) - kept.openedAt).toBeGreaterThanOrEqual(KEEP_ALIVE_TIMEOUT_MS);
  }, 10_000);
});

describe('timeout configuration', () => {
  it('defaults to a 10 s headers timeout, a 30 s request timeout and a 72 s keep-alive timeout', () => {
    expect(loadConfig({ env: {} })).toMatchObject({ headersTimeoutMs: 10_000, requestTimeoutMs: 30_000, keepAliveTimeoutMs: 72_000 });
  });

  it('refuses a headers timeout longer than the request timeout, and values that are not milliseconds', () => {
    expect(() => loadConfig({ env: { UNDERSTUDY_HEADERS_TIMEOUT_MS: '40000', UNDERSTUDY_REQUEST_TIMEOUT_MS: '30000' } })).toThrow(/UNDERSTUDY_HEADERS_TIMEOUT_MS must not be longer than UNDERSTUDY_REQUEST_TIMEOUT_MS/);
    expect(() => loadConfig({ env: { UNDERSTUDY_REQUEST_TIMEOUT_MS: '0' } })).toThrow(/UNDERSTUDY_REQUEST_TIMEOUT_MS/);
    expect(() => loadConfig({ env: { UNDERSTUDY_KEEP_ALIVE_TIMEOUT_MS: '5s' } })).toThrow(/UNDERSTUDY_KEEP_ALIVE_TIMEOUT_MS/);
  });

  it('applies the configured timeouts to the listening Node server', async () => {
    const server = await startTestServer({ config: { headersTimeoutMs: 4_000, requestTimeoutMs: 9_000, keepAliveTimeoutMs: 6_000 } });
    try {
      const node = server.server.app.http.server;
      expect({ headers: node.headersTimeout, request: node.requestTimeout, keepAlive: node.keepAliveTimeout }).toEqual({ headers: 4_000, request: 9_000, keepAlive: 6_000 });
    } finally {
      await server.stop();
    }
  });
});
