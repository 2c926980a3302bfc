import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { B2BClient, StytchError } from 'stytch';
import { Agent, type Dispatcher } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestedExporters } from '../../../src/platform/tracing.js';
import { TEST_MASTER_KEY } from '../../support/test-constants.js';
import { findSecrets } from '../../support/test-logs.js';
import { killLeftoverProcesses, logLines, runCli, temporaryDirectory, type CliExit } from '../cli/cli-process.js';

/**
 * Tracing (docs/monitoring.md, "Tracing"): `understudy serve` started with the standard OTEL_*
 * variables sends one server span per request to an OTLP/HTTP collector, here a small local HTTP
 * server that keeps what it receives. Spans are named after the operation, carry the status, join
 * the caller's trace when it sends a W3C `traceparent`, and hold no token or credential.
 */
const PROJECT_ID = 'project-test-0b5e7a11-2222-4333-8444-555555555555';
const SECRET = 'secret-test-tracing-0123456789abcdef';
/** What every server here runs with besides its data directory and OTEL_* variables. */
const SERVER_ENV = { UNDERSTUDY_PORT: '0', UNDERSTUDY_PROJECT_ID: PROJECT_ID, UNDERSTUDY_PROJECT_SECRET: SECRET, UNDERSTUDY_MASTER_KEY: TEST_MASTER_KEY };

interface OtlpAttribute {
  readonly key: string;
  readonly value: { readonly stringValue?: string; readonly intValue?: number | string; readonly boolValue?: boolean };
}
interface OtlpSpan {
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId?: string;
  readonly name: string;
  readonly kind: number;
  readonly startTimeUnixNano: string | number;
  readonly endTimeUnixNano: string | number;
  readonly attributes: readonly OtlpAttribute[];
  readonly status?: { readonly code?: number };
}
interface OtlpExport {
  readonly resourceSpans: readonly { readonly resource: { readonly attributes: readonly OtlpAttribute[] }; readonly scopeSpans: readonly { readonly spans: readonly OtlpSpan[] }[] }[];
}

/** The attributes as a plain record (int values as numbers). */
function attributesOf(attributes: readonly OtlpAttribute[]): Record<string, unknown> {
  return Object.fromEntries(attributes.map(({ key, value }) => [key, value.stringValue ?? (value.intValue === undefined ? value.boolValue : Number(value.intValue))]));
}

/** An OTLP/HTTP collector for JSON exports: keeps each request's path, content type and body. */
async function startCollector(): Promise<{ server: Server; url: string; received: { path: string; contentType: string; body: string }[] }> {
  const received: { path: string; contentType: string; body: string }[] = [];
  const server = createServer((request, response) => {
    let body = '';
    request.setEncoding('utf8').on('data', (chunk: string) => {
      body += chunk;
    });
    request.on('end', () => {
      received.push({ path: request.url ?? '', contentType: request.headers['content-type'] ?? '', body });
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received };
}

/** An HTTP client that adds a W3C `traceparent` to every request, as a traced application's would. */
function dispatcherSending(traceparent: string): Dispatcher {
  return new Agent().compose((dispatch) => (options, handler) => {
    const headers = Array.isArray(options.headers) ? [...options.headers, 'traceparent', traceparent] : { ...(options.headers as Record<string, string>), traceparent };
    return dispatch({ ...options, headers }, handler);
  });
}

describe('understudy serve with OTEL_EXPORTER_OTLP_TRACES_ENDPOINT set', () => {
  const dataDir = temporaryDirectory('tracing');
  const callerTraceId = randomBytes(16).toString('hex');
  const callerSpanId = randomBytes(8).toString('hex');
  let collector: Awaited<ReturnType<typeof startCollector>>;
  const spans: OtlpSpan[] = [];
  let resource: Record<string, unknown> = {};
  let exit: CliExit;
  let stdout = '';
  const requestIds: Record<string, string> = {};
  const secrets: string[] = [SECRET];

  beforeAll(async () => {
    collector = await startCollector();
    const cli = runCli(['serve'], {
      UNDERSTUDY_DATA_DIR: dataDir.path,
      ...SERVER_ENV,
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${collector.url}/v1/traces`,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      // Far longer than the test: every span reaches the collector through the flush when the server stops.
      OTEL_BSP_SCHEDULE_DELAY: '600000',
      OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=test',
    });
    try {
      const url = await cli.listening();
      const client = new B2BClient({ project_id: PROJECT_ID, secret: SECRET, env: `${url}/` });
      const created = await client.organizations.create({ organization_name: 'Traced Co', organization_slug: 'traced-co' });
      requestIds.create = created.request_id;
      const { member } = await client.organizations.members.create({ organization_id: created.organization.organization_id, email_address: 'traced@example.org' });

      // An impersonation token, redeemed for a session, whose token is then authenticated by a traced caller.
      const minted = await fetch(`${url}/v1/b2b/impersonation`, {
        method: 'POST',
        headers: { authorization: `Basic ${Buffer.from(`${PROJECT_ID}:${SECRET}`).toString('base64')}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          organization_id: created.organization.organization_id,
          member_id: member.member_id,
          impersonator_id: 'support-17',
          impersonator_email_address: 'sam@support.example',
          reason: 'Ticket 4711: tracing',
        }),
      });
      expect(minted.status).toBe(200);
      const { impersonation_token: impersonationToken } = (await minted.json()) as { impersonation_token: string };
      const redeemed = await client.impersonation.authenticate({ impersonation_token: impersonationToken });
      secrets.push(impersonationToken, redeemed.session_token, redeemed.session_jwt);
      requestIds.redeem = redeemed.request_id;

      const traced = new B2BClient({ project_id: PROJECT_ID, secret: SECRET, env: `${url}/`, dispatcher: dispatcherSending(`00-${callerTraceId}-${callerSpanId}-01`) });
      const authenticated = await traced.sessions.authenticate({ session_token: redeemed.session_token });
      requestIds.traced = authenticated.request_id;

      const missing = await client.organizations.members.get({ organization_id: created.organization.organization_id, member_id: 'member-test-00000000-0000-4000-8000-000000000000' }).catch((error: unknown) => error);
      expect(missing).toBeInstanceOf(StytchError);
      requestIds.missing = (missing as StytchError).request_id as string;
      const unimplemented = await client.organizations.connectedApps({ organization_id: created.organization.organization_id }).catch((error: unknown) => error);
      expect(unimplemented).toMatchObject({ status_code: 501 });
      requestIds.unimplemented = (unimplemented as StytchError).request_id as string;
      const unknown = await fetch(`${url}/v1/b2b/no-such-route`, { headers: { authorization: `Basic ${Buffer.from(`${PROJECT_ID}:${SECRET}`).toString('base64')}` } });
      expect(unknown.status).toBe(404);
      requestIds.unknown = unknown.headers.get('x-request-id') as string;
    } finally {
      // Stopping flushes the spans still queued.
      exit = await cli.stop();
      stdout = cli.stdout();
    }
    for (const { body } of collector.received) {
      for (const resourceSpans of (JSON.parse(body) as OtlpExport).resourceSpans) {
        resource = attributesOf(resourceSpans.resource.attributes);
        for (const scope of resourceSpans.scopeSpans) spans.push(...scope.spans);
      }
    }
  }, 60_000);
  afterAll(async () => {
    killLeftoverProcesses();
    collector?.server.close();
    dataDir.remove();
  });

  function spanOf(requestId: string | undefined): OtlpSpan {
    const found = spans.filter((span) => attributesOf(span.attributes)['understudy.request_id'] === requestId);
    expect(found, `spans of ${requestId}: ${JSON.stringify(spans.map((span) => span.name))}`).toHaveLength(1);
    return found[0] as OtlpSpan;
  }

  it('exports OTLP/HTTP JSON to the endpoint, says so at start, and stops cleanly after the last export', () => {
    expect(exit).toEqual({ code: 0, signal: null });
    expect(collector.received.length).toBeGreaterThan(0);
    for (const request of collector.received) expect(request).toMatchObject({ path: '/v1/traces', contentType: 'application/json' });
    const lines = logLines(stdout);
    expect(lines.find((line) => line.msg === 'tracing requests with OpenTelemetry')).toMatchObject({ exporters: ['otlp'], service_name: 'understudy', endpoint: `${collector.url}/v1/traces` });
    expect(lines.at(-1)?.msg).toBe('understudy stopped');
    // No warning: neither from the server nor from the OpenTelemetry SDK (a refused export, say).
    expect(lines.filter((line) => (line.level as number) >= 40)).toEqual([]);
  });

  it('names the service understudy with its version, and keeps OTEL_RESOURCE_ATTRIBUTES', () => {
    expect(resource).toMatchObject({ 'service.name': 'understudy', 'service.version': expect.stringMatching(/^\d+\.\d+\.\d+/), 'deployment.environment.name': 'test' });
  });

  it('records one server span per request, named after its operation, with method, route, status and request id', () => {
    const span = spanOf(requestIds.create);
    expect(span).toMatchObject({ name: 'organizations.create', kind: 2 });
    expect(attributesOf(span.attributes)).toEqual({
      'http.request.method': 'POST',
      'http.route': '/v1/b2b/organizations',
      'http.response.status_code': 200,
      'understudy.request_id': requestIds.create,
    });
    expect(BigInt(span.endTimeUnixNano)).toBeGreaterThan(BigInt(span.startTimeUnixNano));
    expect(spanOf(requestIds.redeem).name).toBe('impersonation.authenticate');
    // No route matched: no http.route.
    const unknown = spanOf(requestIds.unknown);
    expect(unknown.name).toBe('unmatched');
    expect(attributesOf(unknown.attributes)).toEqual({ 'http.request.method': 'GET', 'http.response.status_code': 404, 'understudy.request_id': requestIds.unknown });
    // Every request made, the unrecorded ones (member create, mint) included, is among the spans.
    expect(spans.map((span) => span.name).sort()).toEqual(
      ['impersonation.authenticate', 'impersonation.mint', 'organizations.connectedApps', 'unmatched', 'organizations.create', 'organizations.members.create', 'organizations.members.get', 'sessions.authenticate'].sort(),
    );
  });

  it("joins the caller's trace when the request carries a traceparent, and starts a new one otherwise", () => {
    const traced = spanOf(requestIds.traced);
    expect(traced).toMatchObject({ name: 'sessions.authenticate', traceId: callerTraceId, parentSpanId: callerSpanId });
    const untraced = spanOf(requestIds.create);
    expect(untraced.traceId).not.toBe(callerTraceId);
    expect(untraced.parentSpanId ?? '').toBe('');
  });

  it('marks 5xx answers as errors, and 4xx answers not', () => {
    const missing = spanOf(requestIds.missing);
    expect(attributesOf(missing.attributes)['http.response.status_code']).toBe(404);
    expect(missing.status?.code ?? 0).toBe(0);
    const unimplemented = spanOf(requestIds.unimplemented);
    expect(attributesOf(unimplemented.attributes)).toMatchObject({ 'http.response.status_code': 501, 'error.type': '501' });
    expect(unimplemented.status?.code).toBe(2);
  });

  it('puts no token, credential, header or query string in what it exports', () => {
    const payload = collector.received.map((request) => request.body).join('\n');
    expect(secrets.filter((secret) => secret.length > 20)).toHaveLength(4);
    expect(findSecrets(payload, secrets)).toEqual([]);
    expect(payload).not.toContain('Basic ');
    expect(payload).not.toContain('traced@example.org');
    for (const span of spans) for (const key of Object.keys(attributesOf(span.attributes))) expect(key).toMatch(/^(http\.request\.method|http\.route|http\.response\.status_code|understudy\.request_id|error\.type)$/);
  });
});

describe('understudy serve with a collector that never answers', () => {
  const dataDir = temporaryDirectory('tracing-hung');
  afterAll(() => {
    killLeftoverProcesses();
    dataDir.remove();
  });

  it('gives up on the last spans after a few seconds and exits, rather than waiting out the exporter', async () => {
    // Accepts connections and reads requests, but never answers one.
    const hung = createServer(() => undefined);
    hung.listen(0, '127.0.0.1');
    await once(hung, 'listening');
    const { port } = hung.address() as AddressInfo;
    try {
      const cli = runCli(['serve'], {
        UNDERSTUDY_DATA_DIR: dataDir.path,
        ...SERVER_ENV,
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `http://127.0.0.1:${port}/v1/traces`,
        // The exporter alone would wait a minute for the answer.
        OTEL_EXPORTER_OTLP_TIMEOUT: '60000',
        OTEL_BSP_SCHEDULE_DELAY: '600000',
      });
      const url = await cli.listening();
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
      const stopping = Date.now();
      const exit = await cli.stop();
      // Liveness, not speed: the shutdown waits 5 s for the export, then exits, well short of the exporter's minute.
      expect(Date.now() - stopping).toBeLessThan(30_000);
      expect(exit).toEqual({ code: 0, signal: null });
      const lines = logLines(cli.stdout());
      expect(lines.map((line) => line.msg)).toContain('stopped without exporting the last spans: the trace exporter did not finish in time');
      // Nothing the SDK says after giving up follows the last line.
      expect(lines.at(-1)?.msg).toBe('understudy stopped');
    } finally {
      hung.closeAllConnections();
      hung.close();
    }
  }, 60_000);
});

describe('when tracing is on', () => {
  it('follows the standard variables: an exporter or an OTLP endpoint turns it on, OTEL_SDK_DISABLED or the none exporter off', () => {
    expect(requestedExporters({})).toEqual({ exporters: [], ignored: [] });
    expect(requestedExporters({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }).exporters).toEqual(['otlp']);
    expect(requestedExporters({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/v1/traces' }).exporters).toEqual(['otlp']);
    expect(requestedExporters({ OTEL_TRACES_EXPORTER: 'console' }).exporters).toEqual(['console']);
    expect(requestedExporters({ OTEL_TRACES_EXPORTER: 'otlp, console' }).exporters).toEqual(['otlp', 'console']);
    expect(requestedExporters({ OTEL_TRACES_EXPORTER: 'zipkin,otlp' })).toEqual({ exporters: ['otlp'], ignored: ['zipkin'] });
    expect(requestedExporters({ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }).exporters).toEqual([]);
    expect(requestedExporters({ OTEL_SDK_DISABLED: 'true', OTEL_TRACES_EXPORTER: 'otlp' }).exporters).toEqual([]);
    expect(requestedExporters({ OTEL_SDK_DISABLED: 'false', OTEL_TRACES_EXPORTER: 'otlp' }).exporters).toEqual(['otlp']);
  });
});
