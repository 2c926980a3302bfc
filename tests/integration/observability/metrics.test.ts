import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/platform/logger.js';
import { argon2idOf } from '../../conformance/stytch-sdk/passwords-sign-in-fixtures.js';
import { expectErrorResponse, MINT, mintBody, mintToken } from '../../support/impersonation.js';
import { linkToken, waitForEmail } from '../../support/outbox.js';
import { parseExposition, samplesOf, sampleValue, type Exposition } from '../../support/prometheus-text.js';
import { STORES } from '../../support/stores.js';
import { startTestServer, type TestServer } from '../../support/test-server.js';
import { uniqueSuffix } from '../../support/wire-formats.js';

/**
 * Prometheus metrics (docs/monitoring.md, "Metrics"): a workload driven through the official SDK is
 * counted exactly, by operation and status, sign-in method and outcome, impersonation event and
 * rate limit; /metrics needs the metrics token (never the project's credentials), is not served
 * without configuration, and a listener of its own serves nothing else.
 */
const TOKEN = 'metrics-token-0123456789abcdef0123456789abcdef';
const PASSWORD = 'Violet-Harbor-Lantern-93';
const SEARCHES_PER_MINUTE = 2;
const PACKAGE_VERSION = (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/** GET `url` with the metrics token (or the given Authorization header, or none for `null`). */
async function scrapeRaw(url: string, authorization: string | null = `Bearer ${TOKEN}`, method = 'GET'): Promise<Response> {
  return fetch(url, { method, headers: authorization === null ? {} : { authorization } });
}

async function scrape(url: string, authorization?: string | null): Promise<Exposition> {
  const response = await scrapeRaw(url, authorization);
  expect(response.status, await response.clone().text()).toBe(200);
  expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
  return parseExposition(await response.text());
}

/**
 * A scrape once `ready` holds of it. A request is counted when its answer has gone out, which can be
 * a moment after the client has read it; sign-ins, impersonations and rate limits are counted before.
 */
async function scrapeOnce(url: string, ready: (exposition: Exposition) => boolean): Promise<Exposition> {
  const deadline = performance.now() + 5000;
  for (;;) {
    const exposition = await scrape(url);
    if (ready(exposition) || performance.now() > deadline) return exposition;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Stytch's error envelope, from a raw fetch. */
async function expectEnvelope(response: Response, status: number, errorType: string): Promise<void> {
  const body = (await response.json()) as Record<string, unknown>;
  expectErrorResponse({ status: response.status, body, headers: response.headers }, status, errorType);
  expect(body.error_url).toBe(`https://stytch.com/docs/api-reference/b2b/api/errors/${status}#${errorType}`);
}

/** What one scrape says a counter grew by since the other. */
function delta(before: Exposition, after: Exposition, name: string, labels: Record<string, string>): number {
  return sampleValue(after, name, labels) - sampleValue(before, name, labels);
}

describe.each(STORES)('metrics ($name)', ({ name: store }) => {
  let server: TestServer;
  const logs: string[] = [];

  beforeAll(async () => {
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        logs.push(chunk.toString('utf8'));
        done();
      },
    });
    server = await startTestServer({
      store,
      logger: createLogger('trace', destination),
      // Rate limits on, with a search limit small enough to reach; the others at their test defaults.
      config: { metricsToken: TOKEN, rateLimitsEnabled: true, rateLimitSearchesPerMinute: SEARCHES_PER_MINUTE },
    });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('counts a workload through the SDK exactly: requests, sign-ins, impersonations, rate limits', async () => {
    const metricsUrl = server.server.metricsUrl as string;
    expect(metricsUrl).toBe(`${server.baseUrl}/metrics`);
    const before = await scrape(metricsUrl);
    const { client } = server;

    const suffix = uniqueSuffix();
    const { organization } = await client.organizations.create({ organization_name: `Metrics ${suffix}`, organization_slug: `metrics-${suffix}` });
    const organizationId = organization.organization_id;
    const ada = await client.organizations.members.create({ organization_id: organizationId, email_address: `ada-${suffix}@example.com` });
    const bob = await client.organizations.members.create({ organization_id: organizationId, email_address: `bob-${suffix}@example.com` });
    await client.organizations.members.get({ organization_id: organizationId, member_id: bob.member.member_id });

    // Passwords: one sign-in with the right password, one refused.
    await client.passwords.migrate({ organization_id: organizationId, email_address: ada.member.email_address, hash: await argon2idOf(PASSWORD), hash_type: 'argon_2id' });
    await client.passwords.authenticate({ organization_id: organizationId, email_address: ada.member.email_address, password: PASSWORD });
    await expect(client.passwords.authenticate({ organization_id: organizationId, email_address: ada.member.email_address, password: `${PASSWORD}x` })).rejects.toMatchObject({
      status_code: 401,
    });

    // A magic link: redeemed once, refused the second time.
    await client.magicLinks.email.loginOrSignup({ organization_id: organizationId, email_address: bob.member.email_address });
    const email = await waitForEmail(server, bob.member.email_address, { template: 'login' });
    const magicLinksToken = linkToken(email.link as string);
    expect((await client.magicLinks.authenticate({ magic_links_token: magicLinksToken })).member_authenticated).toBe(true);
    await expect(client.magicLinks.authenticate({ magic_links_token: magicLinksToken })).rejects.toMatchObject({ status_code: 401 });

    // Impersonation: a mint and its redemption, the redemption replayed (refused), and a mint refused.
    const minted = await mintToken(server, { organizationId, memberId: bob.member.member_id });
    await client.impersonation.authenticate({ impersonation_token: minted.impersonation_token });
    await expect(client.impersonation.authenticate({ impersonation_token: minted.impersonation_token })).rejects.toMatchObject({ status_code: 401 });
    const refusedMint = await server.fetch(MINT, { method: 'POST', json: mintBody({ organizationId, memberId: bob.member.member_id, reason: ' ' }) });
    expect(refusedMint.status).toBe(400);

    // One search past the limit.
    for (let call = 0; call < SEARCHES_PER_MINUTE; call += 1) await client.organizations.search({});
    await expect(client.organizations.search({})).rejects.toMatchObject({ status_code: 429 });

    const after = await scrapeOnce(metricsUrl, (exposition) => delta(before, exposition, 'understudy_http_requests_total', { operation: 'organizations.search', status: '429' }) === 1);
    const requests = (operation: string, status: number) => delta(before, after, 'understudy_http_requests_total', { operation, status: String(status) });
    expect({
      create: requests('organizations.create', 200),
      members: requests('organizations.members.create', 200),
      get: requests('organizations.members.get', 200),
      migrate: requests('passwords.migrate', 200),
      passwordOk: requests('passwords.authenticate', 200),
      passwordRefused: requests('passwords.authenticate', 401),
      send: requests('magicLinks.email.loginOrSignup', 200),
      linkOk: requests('magicLinks.authenticate', 200),
      linkRefused: requests('magicLinks.authenticate', 401),
      redeemOk: requests('impersonation.authenticate', 200),
      redeemRefused: requests('impersonation.authenticate', 401),
      searchOk: requests('organizations.search', 200),
      searchLimited: requests('organizations.search', 429),
      // The first scrape is counted once it is answered, so the second sees it.
      scrape: requests('metrics', 200),
    }).toEqual({
      create: 1,
      members: 2,
      get: 1,
      migrate: 1,
      passwordOk: 1,
      passwordRefused: 1,
      send: 1,
      linkOk: 1,
      linkRefused: 1,
      redeemOk: 1,
      redeemRefused: 1,
      searchOk: SEARCHES_PER_MINUTE,
      searchLimited: 1,
      scrape: 1,
    });
    // Every request is timed under its operation: the histogram's count is the requests' total.
    expect(delta(before, after, 'understudy_http_request_duration_seconds_count', { operation: 'passwords.authenticate' })).toBe(2);
    expect(delta(before, after, 'understudy_http_request_duration_seconds_bucket', { operation: 'passwords.authenticate', le: '+Inf' })).toBe(2);
    expect(delta(before, after, 'understudy_http_request_duration_seconds_sum', { operation: 'passwords.authenticate' })).toBeGreaterThan(0);

    const signIns = (method: string, outcome: string) => delta(before, after, 'understudy_sign_ins_total', { method, outcome });
    expect({
      passwordOk: signIns('password', 'success'),
      passwordRefused: signIns('password', 'refused'),
      linkOk: signIns('magic_link', 'success'),
      linkRefused: signIns('magic_link', 'refused'),
      impersonationOk: signIns('impersonation', 'success'),
      impersonationRefused: signIns('impersonation', 'refused'),
    }).toEqual({ passwordOk: 1, passwordRefused: 1, linkOk: 1, linkRefused: 1, impersonationOk: 1, impersonationRefused: 1 });
    // Nothing else signed in or was refused.
    const allSignIns = (exposition: Exposition) => samplesOf(exposition, 'understudy_sign_ins_total').reduce((sum, sample) => sum + sample.value, 0);
    expect(allSignIns(after) - allSignIns(before)).toBe(6);

    const impersonations = (event: string) => delta(before, after, 'understudy_impersonations_total', { event });
    expect({ minted: impersonations('minted'), redeemed: impersonations('redeemed'), refused: impersonations('refused') }).toEqual({ minted: 1, redeemed: 1, refused: 2 });
    expect(delta(before, after, 'understudy_rate_limited_total', { limit: 'searches' })).toBe(1);
    const allLimited = (exposition: Exposition) => samplesOf(exposition, 'understudy_rate_limited_total').reduce((sum, sample) => sum + sample.value, 0);
    expect(allLimited(after) - allLimited(before)).toBe(1);

    // Labels name operations, never URLs: no id of the workload appears anywhere in the scrape.
    const text = await (await scrapeRaw(metricsUrl)).text();
    for (const id of [organizationId, ada.member.member_id, bob.member.member_id, minted.token_id]) expect(text).not.toContain(id);
    expect(text).not.toContain('/v1/');
  });

  it('describes the build, the database and the process', async () => {
    const exposition = await scrape(server.server.metricsUrl as string);
    expect(sampleValue(exposition, 'understudy_build_info', { version: PACKAGE_VERSION })).toBe(1);
    expect(samplesOf(exposition, 'understudy_build_info')).toHaveLength(1);
    expect(sampleValue(exposition, 'understudy_db_dialect_info', { dialect: store })).toBe(1);
    expect(samplesOf(exposition, 'understudy_db_dialect_info')).toHaveLength(1);
    // Node's default metrics, with the same prefix: event-loop lag among them.
    expect(exposition.types.get('understudy_nodejs_eventloop_lag_seconds')).toBe('gauge');
    expect(samplesOf(exposition, 'understudy_nodejs_eventloop_lag_seconds')).toHaveLength(1);
    expect(sampleValue(exposition, 'understudy_process_resident_memory_bytes')).toBeGreaterThan(0);
    const pool = samplesOf(exposition, 'understudy_db_pool_connections');
    if (store === 'postgres') {
      // Read from the pool at the scrape: at least the connection that served the last query is open.
      expect(pool.map((sample) => sample.labels.state).sort()).toEqual(['idle', 'total', 'waiting']);
      expect(sampleValue(exposition, 'understudy_db_pool_connections', { state: 'total' })).toBeGreaterThanOrEqual(1);
      expect(sampleValue(exposition, 'understudy_db_pool_connections', { state: 'idle' })).toBeLessThanOrEqual(sampleValue(exposition, 'understudy_db_pool_connections', { state: 'total' }));
    } else {
      // SQLite has no pool: the metric is declared, with no series.
      expect(exposition.types.get('understudy_db_pool_connections')).toBe('gauge');
      expect(pool).toEqual([]);
    }
  });

  it('refuses a scrape without the token, with a wrong one, or with the project credentials, in Stytch’s envelope', async () => {
    const url = server.server.metricsUrl as string;
    const refusals = [null, `Bearer ${TOKEN.slice(0, -1)}x`, `Bearer ${TOKEN}0`, 'Bearer ', `Basic ${Buffer.from(`${server.projectId}:${server.secret}`).toString('base64')}`, TOKEN];
    for (const authorization of refusals) {
      const response = await scrapeRaw(url, authorization);
      expect(response.headers.get('www-authenticate')).toBe('Bearer');
      await expectEnvelope(response, 401, 'unauthorized_credentials');
    }
    // The scheme's case does not matter (RFC 7235); the token's does.
    expect((await scrapeRaw(url, `bearer ${TOKEN}`)).status).toBe(200);
    expect((await scrapeRaw(url, `Bearer ${TOKEN.toUpperCase()}`)).status).toBe(401);
    await expectEnvelope(await scrapeRaw(url, `Bearer ${TOKEN}`, 'POST'), 405, 'method_not_allowed');
  });

  it('says where metrics are served, and never logs the token', () => {
    const lines = logs.join('').split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as Record<string, unknown>);
    const served = lines.filter((line) => line.msg === 'metrics served on the API port');
    expect(served).toHaveLength(1);
    expect(served[0]).toMatchObject({ level: 30, url: server.server.metricsUrl, token_required: true });
    expect(logs.join('')).not.toContain(TOKEN);
  });
});

describe('metrics configuration', () => {
  it('serves no /metrics without a token or address: the route does not exist', async () => {
    const server = await startTestServer();
    try {
      expect(server.server.metricsUrl).toBeUndefined();
      expect(server.server.app.metrics).toBeUndefined();
      await expectEnvelope(await scrapeRaw(`${server.baseUrl}/metrics`), 404, 'route_not_found');
      await expectEnvelope(await scrapeRaw(`${server.baseUrl}/metrics`, `Basic ${Buffer.from(`${server.projectId}:${server.secret}`).toString('base64')}`), 404, 'route_not_found');
    } finally {
      await server.stop();
    }
  });

  it('serves metrics only on a listener of their own when an address is given, the token required there', async () => {
    const server = await startTestServer({ config: { metricsToken: TOKEN, metricsAddress: { host: '127.0.0.1', port: 0 } } });
    try {
      const url = server.server.metricsUrl as string;
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
      expect(new URL(url).port).not.toBe(new URL(server.baseUrl).port);
      const origin = new URL(url).origin;
      // The API port does not serve them: that is what the listener is for.
      await expectEnvelope(await scrapeRaw(`${server.baseUrl}/metrics`), 404, 'route_not_found');

      await server.client.organizations.create({ organization_name: 'Listener', organization_slug: `listener-${uniqueSuffix()}` });
      const exposition = await scrapeOnce(url, (scraped) => sampleValue(scraped, 'understudy_http_requests_total', { operation: 'organizations.create', status: '200' }) === 1);
      // The API's requests are counted; the listener's own scrapes are not requests of the API.
      expect(sampleValue(exposition, 'understudy_http_requests_total', { operation: 'organizations.create', status: '200' })).toBe(1);
      expect(samplesOf(exposition, 'understudy_http_requests_total').filter((sample) => sample.labels.operation === 'metrics')).toEqual([]);

      const refused = await scrapeRaw(url, null);
      expect(refused.headers.get('x-request-id')).toMatch(/^request-id-test-/);
      await expectEnvelope(refused, 401, 'unauthorized_credentials');
      await expectEnvelope(await scrapeRaw(url, `Bearer ${TOKEN}x`), 401, 'unauthorized_credentials');
      // Nothing but GET /metrics: no API route, not even the health checks.
      for (const path of ['/', '/healthz', '/v1/b2b/organizations/search', '/metrics/', '/metricsx']) await expectEnvelope(await scrapeRaw(`${origin}${path}`), 404, 'route_not_found');
      await expectEnvelope(await scrapeRaw(url, `Bearer ${TOKEN}`, 'POST'), 405, 'method_not_allowed');
      const head = await scrapeRaw(url, `Bearer ${TOKEN}`, 'HEAD');
      expect(head.status).toBe(200);
      expect(await head.text()).toBe('');
    } finally {
      await server.stop();
    }
    // Closed with the server.
    await expect(fetch(server.server.metricsUrl as string)).rejects.toThrow();
  });

  it('serves the listener to anyone when no token is configured, for a scraper on a private network', async () => {
    const server = await startTestServer({ config: { metricsAddress: { host: '127.0.0.1', port: 0 } } });
    try {
      const exposition = await scrape(server.server.metricsUrl as string, null);
      expect(sampleValue(exposition, 'understudy_build_info', { version: PACKAGE_VERSION })).toBe(1);
      await expectEnvelope(await scrapeRaw(`${server.baseUrl}/metrics`, null), 404, 'route_not_found');
    } finally {
      await server.stop();
    }
  });

  it('refuses to start when the metrics address is taken', async () => {
    const first = await startTestServer({ config: { metricsAddress: { host: '127.0.0.1', port: 0 } } });
    try {
      const taken = Number(new URL(first.server.metricsUrl as string).port);
      await expect(startTestServer({ config: { metricsAddress: { host: '127.0.0.1', port: taken } } })).rejects.toMatchObject({ code: 'EADDRINUSE' });
    } finally {
      await first.stop();
    }
  });
});
