// What each scenario sends, and the performance targets it is held to.
import { AUTHORIZATION, PROJECT_ID } from './understudy.mjs';

/** Scenarios where each request is a member's sign-in (a new session and its JWT). */
export const SIGN_IN_SCENARIOS = ['impersonation', 'magic-link', 'email-otp'];
/** Held to the floor of 25% of the RS256 signing rate on SQLite; impersonation is reported against it only. */
const EMAIL_SIGN_IN_SCENARIOS = ['magic-link', 'email-otp'];

export const CEILING_KEY = 'organization-test-00000000-0000-4000-8000-000000000001';

const JSON_HEADERS = { authorization: AUTHORIZATION, 'content-type': 'application/json' };

/**
 * The load job of a scenario (see load-worker.mjs). `valuesFile` holds the values a request
 * varies over: session tokens, JWTs, impersonation tokens (each used once) or member paths.
 */
export function loadRequest(scenario, valuesFile) {
  switch (scenario) {
    case 'ceiling':
      return { request: { method: 'POST', path: '/', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ key: CEILING_KEY }) } };
    case 'session-token':
    case 'session-token-1m':
    case 'reference-node-http':
    case 'reference-fastify':
      return { request: post('/v1/b2b/sessions/authenticate'), vary: { kind: 'cycle', into: 'body', template: {}, field: 'session_token', valuesFile } };
    case 'session-jwt':
      return { request: post('/v1/b2b/sessions/authenticate'), vary: { kind: 'cycle', into: 'body', template: {}, field: 'session_jwt', valuesFile } };
    case 'impersonation':
      return { request: post('/v1/b2b/impersonation/authenticate'), vary: { kind: 'once', into: 'body', template: {}, field: 'impersonation_token', valuesFile } };
    case 'impersonation-mint':
      // Each value is one mint body; all in one organization, so every mint appends to one audit chain.
      return { request: post('/v1/b2b/impersonation'), vary: { kind: 'cycle', into: 'body', template: {}, merge: true, valuesFile } };
    case 'magic-link':
      return { request: post('/v1/b2b/magic_links/authenticate'), vary: { kind: 'once', into: 'body', template: {}, field: 'magic_links_token', valuesFile } };
    case 'email-otp':
      // Each value is {organization_id, email_address, code}: one member's one live code.
      return { request: post('/v1/b2b/otps/email/authenticate'), vary: { kind: 'once', into: 'body', template: {}, merge: true, valuesFile } };
    case 'members-get':
      return { request: get('/v1/b2b/organizations/'), vary: { kind: 'cycle', into: 'path', template: '/v1/b2b/organizations/{}', valuesFile } };
    case 'jwks':
      return { request: { method: 'GET', path: `/v1/b2b/sessions/jwks/${PROJECT_ID}`, headers: {} } };
    default:
      throw new Error(`unknown scenario ${scenario}`);
  }
}

/**
 * The path and body of one request of a job that varies (`vary` from loadRequest) for one value:
 * the same bytes whichever load generator sends them.
 */
export function variedRequest(job, value) {
  const { vary, request } = job;
  if (vary.into === 'path') return { path: vary.template.replace('{}', value), body: request.body };
  if (vary.merge) return { path: request.path, body: JSON.stringify({ ...vary.template, ...value }) };
  return { path: request.path, body: JSON.stringify({ ...vary.template, [vary.field]: value }) };
}

function post(path) {
  return { method: 'POST', path, headers: JSON_HEADERS, body: '{}' };
}

function get(path) {
  return { method: 'GET', path, headers: { authorization: AUTHORIZATION } };
}

export const SCENARIO_TITLES = {
  ceiling: 'ceiling: node:http, JSON POST + Map lookup, ~1 KB JSON',
  'reference-node-http': 'reference: node:http sending the sessions.authenticate answer, no other work',
  'reference-fastify': 'reference: Fastify sending the sessions.authenticate answer, no other work',
  'session-token': 'sessions.authenticate (session_token)',
  'session-jwt': 'sessions.authenticate (session_jwt)',
  'session-token-1m': 'sessions.authenticate (session_token), 1,000,000 sessions / 100,000 members',
  impersonation: 'impersonation.authenticate (redeem pre-minted tokens, each once)',
  'impersonation-mint': 'impersonation mint (POST /v1/b2b/impersonation, one organization: one audit chain)',
  'magic-link': 'magicLinks.authenticate (redeem pre-sent magic links, each once)',
  'email-otp': 'otps.email.authenticate (one pre-sent code per member, each once)',
  'members-get': 'organizations.members.get',
  jwks: 'sessions.getJWKS (GET /v1/b2b/sessions/jwks/{project_id})',
  'scale-out-2x': 'sessions.authenticate (session_token), 2 processes on one PostgreSQL, load split',
  'password-sign-in': 'passwords.authenticate (right passwords, closed loop saturating the hashing pool)',
  'password-mixed': 'passwords.authenticate on schedule at half the argon2id capacity, sessions.authenticate beside',
  'password-overload': 'passwords.authenticate on schedule far past capacity, sessions.authenticate beside',
};

/** The performance targets; each returns { target, met } for a scenario's medians, or undefined. */
export function targetsFor(row, context) {
  const checks = [];
  const share = (minimum) => {
    const ratio = row.requests_per_second / context.ceiling.requests_per_second;
    checks.push({ target: `>= ${minimum * 100}% of ceiling req/s`, met: ratio >= minimum });
  };
  const isSession = row.scenario === 'session-token' || row.scenario === 'session-jwt';
  if (isSession) {
    if (row.database === 'sqlite') share(row.scenario === 'session-token' ? 0.5 : 0.4);
    else share(0.3);
    checks.push({ target: 'p99 < 25 ms', met: row.latency_p99_ms < 25 });
  }
  if (row.scenario === 'session-token-1m') {
    const small = context.rows.find((other) => other.scenario === 'session-token' && other.database === row.database);
    if (small) checks.push({ target: 'within 15% of the nearly empty database', met: row.requests_per_second >= 0.85 * small.requests_per_second });
    checks.push({ target: 'p99 < 25 ms', met: row.latency_p99_ms < 25 });
  }
  if (row.scenario === 'impersonation' && row.database === 'sqlite') checks.push({ target: '>= 400 redemptions/s', met: row.requests_per_second >= 400 });
  // Every sign-in signs one RS256 JWT: the machine's own signing rate on one core (same run) is the honest reference.
  if (EMAIL_SIGN_IN_SCENARIOS.includes(row.scenario) && row.database === 'sqlite' && context.rs256) {
    checks.push({ target: ">= 25% of the machine's RS256 signatures/s", met: row.requests_per_second >= 0.25 * context.rs256.signatures_per_second });
  }
  passwordTargets(row, context, checks);
  if (row.scenario !== 'ceiling' && !row.scenario.startsWith('reference-') && row.peak_rss_mb !== null) checks.push({ target: 'peak RSS < 250 MB', met: row.peak_rss_mb < 250 });
  return checks;
}

/**
 * The password scenarios (bench/lib/passwords.mjs) against the same run's raw argon2id capacity: a
 * sign-in verifies one hash, so the hashing pool should turn most of the machine's capacity into
 * sign-ins, sign-ins must not slow sessions down, and a flood must be refused, not queued in memory.
 */
function passwordTargets(row, context, checks) {
  const sessionsFast = () => checks.push({ target: 'sessions.authenticate p99 < 25 ms alongside', met: !row.sessions.starved && row.sessions.latency_p99_ms < 25 });
  const capacity = row.argon2_reference ?? context.argon2;
  if (row.scenario === 'password-sign-in' && capacity) {
    checks.push({ target: ">= 80% of the machine's argon2id verifications/s", met: row.requests_per_second >= 0.8 * capacity.verifications_per_second });
  }
  if (row.scenario === 'password-mixed') {
    checks.push({ target: '>= 95% of the arriving sign-ins signed in', met: row.requests_per_second >= 0.95 * row.password.offered_per_second });
    sessionsFast();
  }
  if (row.scenario === 'password-overload') {
    checks.push({ target: 'refused past capacity with 429 and Retry-After', met: row.password.too_many_requests_all > 0 && row.password.retry_after_missing === 0 });
    checks.push({ target: 'no right password refused as locked', met: row.password.user_locked_all === 0 });
    sessionsFast();
    // Bounded: the hashes the slots allow, and 64 MB for the session load's own spread (its peak moves
    // by tens of MB from one round to the next with the collector). Hashing the queue (64 × argon2's
    // memory) or keeping refused requests would exceed it many times over.
    const { baseline_peak_rss_mb: baseline, argon2_memory_mb: argon2Mb, hash_slots: slots } = row.memory;
    if (baseline !== null && row.peak_rss_mb !== null) checks.push({ target: 'peak RSS <= sessions alone + argon2 memory × slots + 64 MB', met: row.peak_rss_mb <= baseline + argon2Mb * slots + 64 });
  }
}
