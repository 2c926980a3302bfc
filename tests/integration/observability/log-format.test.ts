import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger, type LogFormat } from '../../../src/platform/logger.js';
import { createThrowawayPostgresDatabase, POSTGRES_SKIP_REASON, POSTGRES_URL } from '../../support/stores.js';
import { TEST_MASTER_KEY } from '../../support/test-constants.js';
import { startTestServer } from '../../support/test-server.js';
import { killLeftoverProcesses, logLines, runCli, temporaryDirectory } from '../cli/cli-process.js';

/**
 * What `understudy serve` writes to standard output (docs/monitoring.md, "Logs"): JSON lines when
 * it is a pipe (a container, systemd), readable coloured lines on a terminal
 * (UNDERSTUDY_LOG_FORMAT=auto), either one when forced; the database it uses (never a password);
 * and that it is stopping and has stopped.
 */
const PROJECT_ID = 'project-test-10a0f0a7-2222-4333-8444-555555555555';
const SECRET = 'secret-test-log-format-0123456789abcdef';
const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');
const SCRIPT = ['/usr/bin/script', '/bin/script'].find((path) => existsSync(path));
/** A colour code, as a terminal reads it: ESC [ … m. */
const ANSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`);
/** A readable line: the time of day, the level, the message. */
const PRETTY_LINE = /^\[\d{2}:\d{2}:\d{2}\] (?:TRACE|DEBUG|INFO|WARN|ERROR|FATAL): \S/;

const dataDir = temporaryDirectory('log-format');
const terminals = new Set<ChildProcess>();
afterAll(() => {
  killLeftoverProcesses();
  for (const terminal of terminals) terminal.kill('SIGKILL');
  dataDir.remove();
});

const env = {
  UNDERSTUDY_DATA_DIR: dataDir.path,
  UNDERSTUDY_PORT: '0',
  UNDERSTUDY_PROJECT_ID: PROJECT_ID,
  UNDERSTUDY_PROJECT_SECRET: SECRET,
  UNDERSTUDY_MASTER_KEY: TEST_MASTER_KEY,
};

async function eventually<T>(find: () => T | undefined, what: string, output: () => string): Promise<T> {
  for (let attempt = 0; attempt < 800; attempt += 1) {
    const found = find();
    if (found !== undefined) return found;
    await new Promise((wake) => setTimeout(wake, 25));
  }
  throw new Error(`timed out waiting for ${what}:\n${output()}`);
}

/** The URL in a readable "understudy is listening" line. */
function listeningUrlIn(text: string): string | undefined {
  return /understudy is listening \{"url":"([^"]+)"/.exec(withoutColours(text))?.[1];
}

function withoutColours(text: string): string {
  return text.replace(new RegExp(ANSI.source, 'g'), '');
}

describe('understudy serve writes its log', () => {
  it('as JSON lines when standard output is a pipe (UNDERSTUDY_LOG_FORMAT=auto, the default): the database, each request, stopping and stopped', async () => {
    const cli = runCli(['serve'], env);
    const url = await cli.listening();
    const health = await fetch(`${url}/healthz`);
    expect(health.status).toBe(200);
    const requestId = health.headers.get('x-request-id');
    await eventually(() => logLines(cli.stdout()).find((line) => line.msg === 'request completed' && line.reqId === requestId), 'the access line', cli.stdout);
    expect(await cli.stop()).toEqual({ code: 0, signal: null });

    const output = cli.stdout();
    const lines = output.split('\n').slice(0, -1);
    // Every line is one JSON object: nothing readable-only slips in.
    for (const line of lines) expect(() => JSON.parse(line), line).not.toThrow();
    const parsed = logLines(output);
    expect(parsed.find((line) => line.msg === 'using the embedded SQLite database')).toMatchObject({ level: 30, database: join(dataDir.path, 'understudy.db') });
    expect(parsed.find((line) => line.msg === 'request completed')).toMatchObject({ level: 30, operation: 'health.healthz', method: 'GET', status: 200, reqId: requestId });
    expect(parsed.find((line) => line.msg === 'understudy is stopping')).toMatchObject({ level: 30, signal: 'SIGTERM' });
    expect(parsed.at(-1)).toMatchObject({ level: 30, msg: 'understudy stopped' });
    expect(output).not.toContain(SECRET);
  });

  it('as readable lines, without colours, when UNDERSTUDY_LOG_FORMAT=pretty and standard output is a pipe', async () => {
    const cli = runCli(['serve'], { ...env, UNDERSTUDY_LOG_FORMAT: 'pretty' });
    const url = await eventually(() => listeningUrlIn(cli.stdout()), '"understudy is listening"', () => `${cli.stdout()}${cli.stderr()}`);
    const health = await fetch(`${url}/healthz?token=not-for-the-log`);
    expect(health.status).toBe(200);
    const requestId = health.headers.get('x-request-id') as string;
    await eventually(() => (cli.stdout().includes(requestId) ? true : undefined), 'the access line', cli.stdout);
    expect(await cli.stop()).toEqual({ code: 0, signal: null });

    const output = cli.stdout();
    expect(output).not.toMatch(ANSI);
    const lines = output.split('\n').slice(0, -1);
    for (const line of lines) expect(line).toMatch(PRETTY_LINE);
    expect(lines.find((line) => line.includes('understudy is listening'))).toContain(`"url":"${url}"`);
    const access = lines.find((line) => line.includes(requestId));
    expect(access).toMatch(/ INFO: request completed \{/);
    expect(access).toContain('"operation":"health.healthz"');
    expect(access).toContain('"status":200');
    expect(output).not.toContain('not-for-the-log');
    expect(lines.at(-2)).toMatch(/ INFO: understudy is stopping \{"signal":"SIGTERM"\}$/);
    expect(lines.at(-1)).toMatch(/ INFO: understudy stopped$/);
  });

  it.skipIf(SCRIPT === undefined)(`as coloured readable lines on a terminal (UNDERSTUDY_LOG_FORMAT=auto; ${SCRIPT ?? 'no util-linux `script` here: skipped'}), and Ctrl+C stops it`, async () => {
    // `script` runs the server on a pseudo-terminal, and passes on what is typed: Ctrl+C is SIGINT, as at a real terminal.
    const command = `exec ${process.execPath} --import tsx ${join(ROOT, 'src/cli/main.ts')} serve`;
    const terminal = spawn(SCRIPT as string, ['-qfec', command, '/dev/null'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NODE_NO_WARNINGS: '1', TERM: 'xterm-256color', ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    terminals.add(terminal);
    let output = '';
    terminal.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
    });
    const exited = new Promise<number | null>((resolveExit) => terminal.once('exit', (code) => resolveExit(code)));
    await eventually(() => listeningUrlIn(output), '"understudy is listening"', () => output);
    terminal.stdin?.write('\x03');
    expect(await exited).toBe(0);
    terminals.delete(terminal);

    expect(output).toMatch(ANSI);
    const lines = withoutColours(output)
      .split(/\r?\n/)
      .map((line) => line.replace(/^\^C/, ''))
      .filter((line) => line !== '');
    for (const line of lines) expect(line).toMatch(PRETTY_LINE);
    expect(lines.some((line) => / INFO: understudy is listening \{/.test(line))).toBe(true);
    expect(lines.at(-2)).toMatch(/ INFO: understudy is stopping \{"signal":"SIGINT"\}$/);
    expect(lines.at(-1)).toMatch(/ INFO: understudy stopped$/);
  });
});

describe.each<LogFormat>(['json', 'pretty'])('the %s format', (format) => {
  it('censors secret fields, a line\'s own and one level down, and leaves the logged values unchanged', () => {
    const written: string[] = [];
    const logger = createLogger('info', { write: (line: string) => void written.push(line) }, format);
    const error = Object.assign(new TypeError('the store refused it'), { impersonation_token: 'imp-token-value-0123456789' });
    const fields = {
      session_jwt: 'jwt-value-0123456789',
      body: { email_address: 'kept@example.org', password: 'password-value-0123456789', session_token: 'token-value-0123456789' },
      err: error,
      account: Object.freeze({ secret: 'frozen-secret-value-0123456789' }),
      req: { method: 'POST', url: '/v1/b2b/sessions/authenticate?session_token=query-value-0123456789', headers: { authorization: 'Basic header-value-0123456789' } },
    };
    logger.warn(fields, 'a line holding secrets by mistake');
    const text = withoutColours(written.join(''));
    for (const value of ['jwt-value', 'password-value', 'token-value', 'imp-token-value', 'frozen-secret-value', 'query-value', 'header-value']) expect(text).not.toContain(value);
    expect(text.split('[redacted]').length - 1).toBeGreaterThanOrEqual(5);
    // What is not secret stays, the error's type and message included.
    for (const kept of ['kept@example.org', 'the store refused it', 'TypeError', '/v1/b2b/sessions/authenticate?[query redacted]', 'a line holding secrets by mistake']) expect(text).toContain(kept);
    expect(fields.body.password).toBe('password-value-0123456789');
    expect(error.impersonation_token).toBe('imp-token-value-0123456789');
    if (format === 'json') expect(JSON.parse(text)).toMatchObject({ session_jwt: '[redacted]', body: { password: '[redacted]', session_token: '[redacted]' }, err: { type: 'TypeError', impersonation_token: '[redacted]' } });
    else expect(text).toMatch(PRETTY_LINE);
  });
});

describe('a malformed request', () => {
  it("never puts its raw bytes (the Authorization header among them) in a line, even at trace", async () => {
    const written: string[] = [];
    const server = await startTestServer({ logger: createLogger('trace', { write: (line: string) => void written.push(line) }, 'json') });
    try {
      const { hostname, port } = new URL(server.server.url);
      const credentials = Buffer.from('project-test-raw:raw-packet-secret-0123456789').toString('base64');
      // An invalid header name: Node's parser refuses the request and Fastify logs the error it raised,
      // which carries the bytes received so far.
      const answer = await new Promise<string>((resolveAnswer, reject) => {
        const socket = connect(Number(port), hostname, () => socket.end(`POST /v1/b2b/organizations HTTP/1.1\r\nHost: x\r\nAuthorization: Basic ${credentials}\r\nBad Header: 1\r\n\r\n`));
        let received = '';
        socket.setEncoding('utf8').on('data', (chunk: string) => {
          received += chunk;
        });
        socket.on('close', () => resolveAnswer(received)).on('error', reject);
      });
      expect(answer).toMatch(/^HTTP\/1\.1 400/);
      const text = written.join('');
      expect(text).toContain('[redacted]');
      expect(text).not.toContain(credentials);
      expect(text).not.toContain('raw-packet-secret');
    } finally {
      await server.stop();
    }
  });
});

describe.skipIf(!POSTGRES_URL)(`on PostgreSQL (${POSTGRES_URL ? 'UNDERSTUDY_TEST_DATABASE_URL' : POSTGRES_SKIP_REASON})`, () => {
  it('names the server and database it uses, never the password or the URL', async () => {
    const database = await createThrowawayPostgresDatabase();
    const scratch = temporaryDirectory('log-format-postgres');
    try {
      const target = new URL(database.url);
      // The test server trusts local connections and never asks for it, but a password in the URL must not reach the log.
      target.password = 'password-that-must-not-be-logged';
      const cli = runCli(['serve'], { ...env, UNDERSTUDY_DATA_DIR: scratch.path, UNDERSTUDY_DATABASE_URL: target.toString() });
      await cli.listening();
      expect(await cli.stop()).toEqual({ code: 0, signal: null });
      const output = cli.stdout();
      expect(logLines(output).find((line) => line.msg === 'using the PostgreSQL database')).toEqual(
        expect.objectContaining({ level: 30, host: target.hostname, port: target.port || '5432', database: target.pathname.slice(1) }),
      );
      expect(output).not.toContain('password-that-must-not-be-logged');
      expect(output).not.toContain('postgres://');
      expect(output).not.toContain('embedded SQLite');
    } finally {
      killLeftoverProcesses();
      await database.drop();
      scratch.remove();
    }
  });
});
