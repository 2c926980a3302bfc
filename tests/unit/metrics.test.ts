import Fastify from 'fastify';
import { register as globalRegistry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { AuditEvent, AuditEventType } from '../../src/domain/audit/audit-event.js';
import { rateLimitError } from '../../src/domain/rate-limits/errors.js';
import { RateLimitRefusal } from '../../src/domain/rate-limits/rate-limiter.js';
import { countRequests } from '../../src/http/metrics-endpoint.js';
import { sendError } from '../../src/http/server.js';
import type { PoolConnections } from '../../src/storage/postgres/postgres-database.js';
import { Metrics } from '../../src/metrics/metrics.js';
import { parseExposition, samplesOf, sampleValue } from '../support/prometheus-text.js';

/** How the metrics turn what the server reports into series (docs/monitoring.md, "Metrics"). */
function event(type: AuditEventType, details: Record<string, unknown> = {}): AuditEvent {
  return {
    eventId: 'audit-event-test-1',
    type,
    occurredAt: '2025-01-01T00:00:00Z',
    requestId: 'request-id-test-1',
    actor: { type: 'system' },
    organizationId: null,
    memberId: null,
    impersonatorId: null,
    client: null,
    details,
  };
}

function metrics(connections: () => PoolConnections | undefined = () => undefined): Metrics {
  return new Metrics({ version: '9.8.7', dialect: 'sqlite', connections });
}

async function scrape(subject: Metrics) {
  return parseExposition(await subject.render());
}

describe('metrics', () => {
  it('counts sign-ins by the method the audit trail names, success or refused', async () => {
    const subject = metrics();
    subject.auditEventCommitted(event('member.signed_in', { method: 'email_otp', member_authenticated: false, mfa_required: true }));
    subject.auditEventCommitted(event('member.signed_in', { method: 'totp' }));
    subject.auditEventCommitted(event('member.sign_in_refused', { method: 'password', why: 'wrong_password' }));
    subject.auditEventCommitted(event('member.sign_in_refused', { method: 'password' }));
    // Discovery proved an address: an intermediate session naming its method.
    subject.auditEventCommitted(event('intermediate_session.started', { method: 'discovery_magic_link' }));
    // The pipeline's own intermediate sessions name no method: they are not sign-ins of their own.
    subject.auditEventCommitted(event('intermediate_session.started', { factor: 'impersonated' }));
    // Events of other kinds count nothing.
    subject.auditEventCommitted(event('member.created', { method: 'magic_link' }));
    subject.auditEventCommitted(event('session.started', { method: 'magic_link' }));
    const exposition = await scrape(subject);
    expect(samplesOf(exposition, 'understudy_sign_ins_total').map((sample) => ({ ...sample.labels, value: sample.value }))).toEqual([
      { method: 'email_otp', outcome: 'success', value: 1 },
      { method: 'totp', outcome: 'success', value: 1 },
      { method: 'password', outcome: 'refused', value: 2 },
      { method: 'discovery_magic_link', outcome: 'success', value: 1 },
    ]);
  });

  it('counts impersonations minted, redeemed and refused, and redemptions as sign-ins', async () => {
    const subject = metrics();
    subject.auditEventCommitted(event('impersonation.token_minted'));
    subject.auditEventCommitted(event('impersonation.token_minted'));
    subject.auditEventCommitted(event('impersonation.mint_refused'));
    subject.auditEventCommitted(event('impersonation.token_redeemed'));
    subject.auditEventCommitted(event('impersonation.redemption_refused'));
    subject.auditEventCommitted(event('impersonation.token_revoked'));
    const exposition = await scrape(subject);
    expect({
      minted: sampleValue(exposition, 'understudy_impersonations_total', { event: 'minted' }),
      redeemed: sampleValue(exposition, 'understudy_impersonations_total', { event: 'redeemed' }),
      refused: sampleValue(exposition, 'understudy_impersonations_total', { event: 'refused' }),
      series: samplesOf(exposition, 'understudy_impersonations_total').length,
      signedIn: sampleValue(exposition, 'understudy_sign_ins_total', { method: 'impersonation', outcome: 'success' }),
      signInRefused: sampleValue(exposition, 'understudy_sign_ins_total', { method: 'impersonation', outcome: 'refused' }),
    }).toEqual({ minted: 2, redeemed: 1, refused: 2, series: 3, signedIn: 1, signInRefused: 1 });
  });

  it('keeps label values bounded: a missing or odd method is counted as other', async () => {
    const subject = metrics();
    subject.auditEventCommitted(event('member.sign_in_refused', {}));
    subject.auditEventCommitted(event('member.sign_in_refused', { method: 42 }));
    subject.auditEventCommitted(event('member.sign_in_refused', { method: '/v1/b2b/x?token=abc' }));
    subject.auditEventCommitted(event('member.sign_in_refused', { method: 'a'.repeat(65) }));
    const exposition = await scrape(subject);
    expect(samplesOf(exposition, 'understudy_sign_ins_total').map((sample) => ({ ...sample.labels, value: sample.value }))).toEqual([
      { method: 'other', outcome: 'refused', value: 4 },
    ]);
  });

  it('counts rate-limit refusals by limit', async () => {
    const subject = metrics();
    subject.rateLimited('searches');
    subject.rateLimited('searches');
    subject.rateLimited('email_sends_per_address');
    const exposition = await scrape(subject);
    expect(sampleValue(exposition, 'understudy_rate_limited_total', { limit: 'searches' })).toBe(2);
    expect(sampleValue(exposition, 'understudy_rate_limited_total', { limit: 'email_sends_per_address' })).toBe(1);
  });

  it('counts a rate limit’s refusal where its 429 is answered: once, and never one a call absorbed or a 429 of no limit', async () => {
    const subject = metrics();
    const app = Fastify();
    app.setErrorHandler((error, request, reply) => sendError(reply, request, error));
    countRequests(app, subject);
    const refusal = () => new RateLimitRefusal('sms_sends_per_number', 60, 'Too many requests have been made.');
    app.post('/refused', { config: { operation: 'refused' } }, async () => {
      throw refusal();
    });
    app.post('/absorbed', { config: { operation: 'absorbed' } }, async () => {
      // As a sign-in whose own SMS a limit refused: the refusal is caught, and the call succeeds.
      try {
        throw refusal();
      } catch {
        return { sent: false };
      }
    });
    app.post('/retried', { config: { operation: 'retried' } }, async () => {
      // Refused in an attempt run again (as after a deadlock), then refused for good: one call refused.
      for (let attempt = 0; ; attempt += 1) {
        try {
          throw refusal();
        } catch (error) {
          if (attempt >= 1) throw error;
        }
      }
    });
    app.post('/queue-full', { config: { operation: 'queue_full' } }, async () => {
      // A 429 of no rate limit (a full password-hashing queue).
      throw rateLimitError(1);
    });
    for (const path of ['/refused', '/refused', '/absorbed', '/retried', '/queue-full']) await app.inject({ method: 'POST', url: path });
    await app.close();
    const exposition = await scrape(subject);
    expect(samplesOf(exposition, 'understudy_http_requests_total').map((sample) => [sample.labels.operation, sample.labels.status, sample.value])).toEqual([
      ['refused', '429', 2],
      ['absorbed', '200', 1],
      ['retried', '429', 1],
      ['queue_full', '429', 1],
    ]);
    expect(samplesOf(exposition, 'understudy_rate_limited_total').map((sample) => [sample.labels.limit, sample.value])).toEqual([['sms_sends_per_number', 3]]);
  });

  it('counts requests by operation and status, and times them per operation', async () => {
    const subject = metrics();
    subject.recordRequest('organizations.create', 200, 0.003);
    subject.recordRequest('organizations.create', 200, 0.2);
    subject.recordRequest('organizations.create', 400, 0.0005);
    subject.recordRequest('unmatched', 404, 0.0001);
    const exposition = await scrape(subject);
    expect(sampleValue(exposition, 'understudy_http_requests_total', { operation: 'organizations.create', status: '200' })).toBe(2);
    expect(sampleValue(exposition, 'understudy_http_requests_total', { operation: 'organizations.create', status: '400' })).toBe(1);
    expect(sampleValue(exposition, 'understudy_http_requests_total', { operation: 'unmatched', status: '404' })).toBe(1);
    const bucket = (le: string) => sampleValue(exposition, 'understudy_http_request_duration_seconds_bucket', { operation: 'organizations.create', le });
    expect([bucket('0.001'), bucket('0.0025'), bucket('0.005'), bucket('0.1'), bucket('0.25'), bucket('+Inf')]).toEqual([1, 1, 2, 2, 3, 3]);
    expect(sampleValue(exposition, 'understudy_http_request_duration_seconds_count', { operation: 'organizations.create' })).toBe(3);
    expect(sampleValue(exposition, 'understudy_http_request_duration_seconds_sum', { operation: 'organizations.create' })).toBeCloseTo(0.2035, 10);
  });

  it('reads the database pool at each scrape, and shows none without one', async () => {
    let pool: PoolConnections | undefined = { total: 3, idle: 1, waiting: 0 };
    const subject = metrics(() => pool);
    let exposition = await scrape(subject);
    expect(samplesOf(exposition, 'understudy_db_pool_connections').map((sample) => [sample.labels.state, sample.value])).toEqual([
      ['total', 3],
      ['idle', 1],
      ['waiting', 0],
    ]);
    pool = { total: 10, idle: 0, waiting: 4 };
    exposition = await scrape(subject);
    expect(sampleValue(exposition, 'understudy_db_pool_connections', { state: 'waiting' })).toBe(4);
    // SQLite: no pool, no series.
    expect(samplesOf(await scrape(metrics()), 'understudy_db_pool_connections')).toEqual([]);
  });

  it('names the build and the database', async () => {
    const exposition = await scrape(metrics());
    expect(samplesOf(exposition, 'understudy_build_info').map((sample) => [sample.labels, sample.value])).toEqual([[{ version: '9.8.7' }, 1]]);
    expect(samplesOf(exposition, 'understudy_db_dialect_info').map((sample) => [sample.labels, sample.value])).toEqual([[{ dialect: 'sqlite' }, 1]]);
  });

  it("keeps each server's metrics apart, out of prom-client's global registry", async () => {
    const one = metrics();
    const two = metrics();
    one.rateLimited('searches');
    expect(sampleValue(await scrape(one), 'understudy_rate_limited_total', { limit: 'searches' })).toBe(1);
    expect(sampleValue(await scrape(two), 'understudy_rate_limited_total', { limit: 'searches' })).toBe(0);
    expect(globalRegistry.getSingleMetric('understudy_rate_limited_total')).toBeUndefined();
    expect(globalRegistry.getSingleMetric('understudy_nodejs_eventloop_lag_seconds')).toBeUndefined();
    // Node's default metrics are in each server's own registry, with the prefix.
    expect((await scrape(two)).types.get('understudy_nodejs_eventloop_lag_seconds')).toBe('gauge');
  });
});
