import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/platform/logger.js';
import { startTestServer, type TestServer } from '../../support/test-server.js';

/**
 * What a request writes to the log, through HTTP: one "request completed" access line bound to
 * the request id (src/http/request-log.ts; its content is tested in
 * tests/integration/observability/access-log.test.ts), none at info with the access log off, and
 * the request id on every line a request writes, although the per-request logger is only made
 * when a line is written (src/http/lazy-request-logger.ts).
 */
let server: TestServer | undefined;

afterEach(async () => {
  await server?.stop();
  server = undefined;
});

async function serverLoggingAt(level: string, accessLog = true): Promise<{ server: TestServer; lines: () => Record<string, unknown>[] }> {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString('utf8'));
      done();
    },
  });
  server = await startTestServer({ logger: createLogger(level, destination), config: { accessLog } });
  const lines = () =>
    chunks
      .join('')
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { server, lines };
}

/** The "request completed" line is written once the response has gone out, so it may trail the response by a moment. */
async function linesOnceCompleted(lines: () => Record<string, unknown>[], before: number): Promise<Record<string, unknown>[]> {
  for (let attempt = 0; attempt < 50; attempt += 1) {
    const written = lines().slice(before);
    if (written.some((line) => line.msg === 'request completed')) return written;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return lines().slice(before);
}

describe('request logging', () => {
  it('writes no line for successful or refused requests at info with the access log off', async () => {
    const { server: running, lines } = await serverLoggingAt('info', false);
    const before = lines().length;
    const created = await running.fetch('/v1/b2b/organizations', { method: 'POST', json: { organization_name: 'Quiet Co' } });
    expect(created.status).toBe(200);
    const refused = await running.fetch('/v1/b2b/sessions/authenticate', { method: 'POST', json: { session_token: 'A'.repeat(44) } });
    expect(refused.status).toBe(404);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(lines().slice(before)).toEqual([]);
  });

  it('writes one "request completed" line per request at debug too, bound to the request id', async () => {
    const { server: running, lines } = await serverLoggingAt('debug');
    const before = lines().length;
    const created = await running.fetch('/v1/b2b/organizations', { method: 'POST', json: { organization_name: 'Chatty Co' } });
    const requestId = created.headers.get('x-request-id');
    expect(requestId).toMatch(/^request-id-test-/);
    const written = await linesOnceCompleted(lines, before);
    const completed = written.filter((line) => line.msg === 'request completed');
    expect(completed).toHaveLength(1);
    expect(completed[0]).toMatchObject({ reqId: requestId, level: 30, status: 200 });
    // The lazy child binds the id exactly once, as pino's own child would.
    expect(written.every((line) => line.reqId === requestId)).toBe(true);
  });

  it('binds the request id to the lines of a refused request', async () => {
    const { server: running, lines } = await serverLoggingAt('debug');
    const before = lines().length;
    const response = await running.fetch('/v1/b2b/sessions/authenticate', { method: 'POST', json: { session_token: 5 } });
    expect(response.status).toBe(400);
    const requestId = response.headers.get('x-request-id');
    const written = await linesOnceCompleted(lines, before);
    expect(written.map((line) => line.msg)).toContain('request completed');
    for (const line of written) expect(line.reqId).toBe(requestId);
  });
});
