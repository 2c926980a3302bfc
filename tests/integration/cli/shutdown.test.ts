import { request } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, expect, it } from 'vitest';
import { killLeftoverProcesses, logLines, runCli, temporaryDirectory } from './cli-process.js';

const PROJECT_ID = 'project-test-11111111-2222-4333-8444-555555555555';
const SECRET = 'secret-test-shutdown-0123456789';
const dataDir = temporaryDirectory('shutdown');
afterAll(() => {
  killLeftoverProcesses();
  dataDir.remove();
});

async function eventually(condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let attempt = 0; attempt < 400; attempt += 1) {
    if (await condition()) return;
    await new Promise((wake) => setTimeout(wake, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

function acceptsConnections(port: number): Promise<boolean> {
  return new Promise((answer) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      answer(true);
    });
    socket.once('error', () => answer(false));
  });
}

it('on SIGTERM, finishes the request in flight, refuses new connections and exits 0', async () => {
  const cli = runCli(['serve'], {
    UNDERSTUDY_DATA_DIR: dataDir.path,
    UNDERSTUDY_PORT: '0',
    UNDERSTUDY_PROJECT_ID: PROJECT_ID,
    UNDERSTUDY_PROJECT_SECRET: SECRET,
    // "incoming request" is logged at trace (src/http/request-log.ts); it tells us the request has arrived.
    UNDERSTUDY_LOG_LEVEL: 'trace',
  });
  const url = new URL(await cli.listening());
  const body = JSON.stringify({ organization_name: 'Slow Co', organization_slug: 'slow-co' });

  // Send the headers and half the body, so the request is in flight when the signal arrives.
  const response = new Promise<{ status: number; text: string }>((resolveResponse, reject) => {
    const outgoing = request(
      {
        host: url.hostname,
        port: url.port,
        method: 'POST',
        path: '/v1/b2b/organizations',
        agent: false,
        headers: {
          authorization: `Basic ${Buffer.from(`${PROJECT_ID}:${SECRET}`).toString('base64')}`,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
        },
      },
      (incoming) => {
        let text = '';
        incoming.setEncoding('utf8').on('data', (chunk: string) => {
          text += chunk;
        });
        incoming.on('end', () => resolveResponse({ status: incoming.statusCode ?? 0, text }));
      },
    );
    outgoing.on('error', reject);
    outgoing.write(body.slice(0, 20));
    void (async () => {
      await eventually(() => logLines(cli.stdout()).some((line) => line.msg === 'incoming request'), 'the server to receive the request');
      cli.child.kill('SIGTERM');
      // While shutting down, the listener is closed: a new connection is refused.
      await eventually(async () => !(await acceptsConnections(Number(url.port))), 'the listener to close');
      outgoing.end(body.slice(20));
    })().catch(reject);
  });

  const answered = await response;
  expect(answered.status, answered.text).toBe(200);
  const organization = (JSON.parse(answered.text) as { organization: { organization_slug: string; organization_id: string } }).organization;
  expect(organization.organization_slug).toBe('slow-co');

  expect(await cli.exited).toEqual({ code: 0, signal: null });
  expect(cli.stderr()).toBe('');

  const db = new Database(join(dataDir.path, 'understudy.db'), { readonly: true });
  try {
    expect(db.prepare('SELECT organization_id FROM organizations').all()).toEqual([{ organization_id: organization.organization_id }]);
  } finally {
    db.close();
  }
});
