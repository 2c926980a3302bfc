import { Writable } from 'node:stream';
import { StytchError } from 'stytch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/platform/logger.js';
import { createImpersonationCast, impersonate, type ImpersonationCast } from '../../support/impersonation.js';
import { startTestSession } from '../../support/sessions.js';
import { findSecrets } from '../../support/test-logs.js';
import { startTestServer, type TestServer } from '../../support/test-server.js';

/**
 * The access log (docs/monitoring.md, "Logs"): one "request completed" line per request at info,
 * naming the operation, method, status, duration and request id, and nothing a request carried:
 * no token, header, query string or URL. UNDERSTUDY_ACCESS_LOG=false moves the line to debug.
 */
interface LogLine {
  readonly level: number;
  readonly msg: string;
  readonly [field: string]: unknown;
}

/** A server logging into memory at `level`, and the lines it wrote, raw and parsed. */
async function serverWithCapturedLog(level: string, accessLog: boolean): Promise<{ server: TestServer; raw: () => string; lines: () => LogLine[] }> {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString('utf8'));
      done();
    },
  });
  const server = await startTestServer({ logger: createLogger(level, destination), config: { accessLog } });
  const raw = () => chunks.join('');
  const lines = () =>
    raw()
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as LogLine);
  return { server, raw, lines };
}

/** The access line of a request, once written: it follows the answer by a moment. */
async function accessLinesOf(lines: () => LogLine[], requestId: string): Promise<LogLine[]> {
  for (let attempt = 0; attempt < 100; attempt += 1) {
    const found = lines().filter((line) => line.msg === 'request completed' && line.reqId === requestId);
    if (found.length > 0) return found;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`no access line for ${requestId}; the log holds:\n${lines().map((line) => JSON.stringify(line)).join('\n')}`);
}

async function sdkError(call: Promise<unknown>): Promise<StytchError> {
  const error = await call.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(StytchError);
  return error as StytchError;
}

const ACCESS_FIELDS = ['duration_ms', 'hostname', 'level', 'method', 'msg', 'operation', 'pid', 'reqId', 'status', 'time'];

describe('the access log, on (the default)', () => {
  let server: TestServer;
  let raw: () => string;
  let lines: () => LogLine[];
  let cast: ImpersonationCast;

  beforeAll(async () => {
    ({ server, raw, lines } = await serverWithCapturedLog('info', true));
    cast = await createImpersonationCast(server.client);
  });
  afterAll(async () => server?.stop());

  it('writes one info line per SDK call: operation, method, status, duration and the request id of the answer', async () => {
    const created = await server.client.organizations.members.create({ organization_id: cast.organization.organization_id, email_address: 'logged@example.org' });
    const [line, ...more] = await accessLinesOf(lines, created.request_id);
    expect(more).toEqual([]);
    expect(line).toMatchObject({ level: 30, msg: 'request completed', operation: 'organizations.members.create', method: 'POST', status: 200, reqId: created.request_id });
    expect(line?.duration_ms).toEqual(expect.any(Number));
    expect(line?.duration_ms).toBeGreaterThanOrEqual(0);
    // Exactly these fields: nothing of the request (URL, headers, body) rides along.
    expect(Object.keys(line ?? {}).sort()).toEqual(ACCESS_FIELDS);

    const refused = await sdkError(server.client.organizations.members.get({ organization_id: cast.organization.organization_id, member_id: 'member-test-00000000-0000-4000-8000-000000000000' }));
    const [refusedLine] = await accessLinesOf(lines, refused.request_id as string);
    expect(refusedLine).toMatchObject({ level: 30, operation: 'organizations.members.get', method: 'GET', status: 404 });
  });

  it("matches the x-request-id header of raw HTTP answers, and names unmatched and malformed URLs 'unmatched'", async () => {
    const requests: [string, number, string][] = [
      ['/healthz', 200, 'health.healthz'],
      ['/v1/b2b/no-such-route', 404, 'unmatched'],
      ['/v1/b2b/organizations/%zz', 400, 'unmatched'],
    ];
    for (const [path, status, operation] of requests) {
      const response = await server.fetch(path);
      expect(response.status, path).toBe(status);
      const requestId = response.headers.get('x-request-id') as string;
      expect(requestId).toMatch(/^request-id-test-/);
      const written = await accessLinesOf(lines, requestId);
      expect(written, path).toHaveLength(1);
      expect(written[0], path).toMatchObject({ level: 30, operation, method: 'GET', status, reqId: requestId });
    }
  });

  it('shows no session token, session JWT, impersonation token, credentials or query string of the requests it logs', async () => {
    const before = raw().length;
    const session = await startTestSession(server, { organizationId: cast.organization.organization_id, memberId: cast.admin.member_id });
    const authenticated = await server.client.sessions.authenticate({ session_token: session.sessionToken });
    const byJwt = await server.client.sessions.authenticate({ session_jwt: session.sessionJwt });
    // The member session rides in the X-Stytch-Member-Session header.
    const updated = await server.client.organizations.members.update(
      { organization_id: cast.organization.organization_id, member_id: cast.member.member_id, name: 'Logged Ann' },
      { authorization: { session_token: session.sessionToken } },
    );
    const { minted, redeemed } = await impersonate(server, cast.member);
    const bogus = 'bogus-session-token-0123456789abcdefghijklmnopq';
    const refused = await sdkError(server.client.sessions.authenticate({ session_token: bogus }));
    // Query strings: an email address, and a token put where it does not belong.
    const searched = await server.fetch(`/v1/b2b/organizations/${cast.organization.organization_id}/member?email_address=${encodeURIComponent(cast.member.email_address)}`);
    expect(searched.status).toBe(200);
    const misplaced = await server.fetch(`/healthz?token=${minted.impersonation_token}`);
    expect(misplaced.status).toBe(200);

    const expected: [string, string, number][] = [
      [authenticated.request_id, 'sessions.authenticate', 200],
      [byJwt.request_id, 'sessions.authenticate', 200],
      [updated.request_id, 'organizations.members.update', 200],
      [minted.request_id, 'impersonation.mint', 200],
      [redeemed.request_id, 'impersonation.authenticate', 200],
      [refused.request_id as string, 'sessions.authenticate', 404],
      [searched.headers.get('x-request-id') as string, 'organizations.members.get', 200],
      [misplaced.headers.get('x-request-id') as string, 'health.healthz', 200],
    ];
    for (const [requestId, operation, status] of expected) {
      const written = await accessLinesOf(lines, requestId);
      expect(written).toHaveLength(1);
      expect(written[0]).toMatchObject({ operation, status });
    }
    const log = raw().slice(before);
    const secrets = [session.sessionToken, session.sessionJwt, minted.impersonation_token, redeemed.session_token, redeemed.session_jwt, bogus, server.secret];
    expect(findSecrets(log, secrets)).toEqual([]);
    expect(log).not.toContain(cast.member.email_address);
    expect(log).not.toContain('?');
    expect(log).not.toContain('/v1/b2b/');
  });
});

describe('the access log, off (UNDERSTUDY_ACCESS_LOG=false)', () => {
  let server: TestServer;
  let lines: () => LogLine[];

  beforeAll(async () => {
    // At debug, where the line still goes: it shows the line was written, and at which level.
    ({ server, lines } = await serverWithCapturedLog('debug', false));
  });
  afterAll(async () => server?.stop());

  it('writes the line at debug instead, so a server logging at info writes none', async () => {
    const created = await server.client.organizations.create({ organization_name: 'Quiet Co' });
    const refused = await sdkError(server.client.sessions.authenticate({ session_token: 'A'.repeat(44) }));
    for (const requestId of [created.request_id, refused.request_id as string]) {
      const written = await accessLinesOf(lines, requestId);
      expect(written).toHaveLength(1);
      expect(written[0]?.level).toBe(20);
    }
    const requestIds = new Set([created.request_id, refused.request_id]);
    expect(lines().filter((line) => requestIds.has(line.reqId as string) && line.level >= 30)).toEqual([]);
  });
});
