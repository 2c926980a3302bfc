#!/usr/bin/env node
// A soak load generator, in its own process: node bench/lib/soak-worker.mjs <job.json>
// `concurrency` clients each loop over a weighted mix of Stytch B2B calls until the deadline,
// every request going to the next server in turn, so a token minted on one process is redeemed,
// and a session revoked, on either. Every answer is checked (status, and the field the next call
// needs); anything unexpected, a socket error or a timeout is an error. Prints one JSON line.
import { readFileSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';

const job = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const TIMEOUT_MS = 10_000;
/** Latency histogram: bucket i holds latencies around bucketRatio^i ms. */
const BUCKET_BASE = Math.log(job.bucketRatio);
/** Errors kept verbatim (the rest are counted). */
const KEPT_ERRORS = 20;
/** A client replaces its session JWT (5 minutes' life) once it has less than this left. */
const JWT_REFRESH_SECONDS = 120;
/** Revoked sessions remembered for re-presenting (the oldest forgotten first). */
const REVOKED_KEPT = 1_000;

const authorization = `Basic ${Buffer.from(`${job.projectId}:${job.projectSecret}`).toString('base64')}`;
const servers = job.servers.map((url) => {
  const parsed = new URL(url);
  return { url, host: parsed.hostname, port: Number(parsed.port), agent: new Agent({ keepAlive: true, maxSockets: job.concurrency }), responses: 0, errors: 0 };
});

// What the clients share: seeded sessions (token + latest JWT), members, organizations, and what the
// workload itself made: minted tokens (first in, first redeemed), live impersonated sessions, revoked ones.
const sessions = job.sessions.map(([token, jwt]) => ({ token, jwt }));
const members = [...job.members];
const organizationIds = [...job.organizationIds];
const minted = [];
const liveImpersonated = [];
const revoked = [];

const MIX = job.mix;
const TOTAL_WEIGHT = MIX.reduce((sum, [, weight]) => sum + weight, 0);
const kinds = Object.fromEntries(MIX.map(([kind]) => [kind, { requests: 0, ok: 0, errors: 0, statuses: {}, histogram: {} }]));
const errors = { total: 0, unexpected_status: 0, socket: 0, timeout: 0, invalid_body: 0, kept: [] };
const timeline = [];
let expectedNotFound = 0;
let counter = 0;
let nextServer = job.index;
let randomState = job.seed >>> 0 || 1;

async function client() {
  while (performance.now() < deadline) await OPERATIONS[pick()]();
}

const OPERATIONS = {
  async 'authenticate-token'() {
    const session = sessions[Math.floor(random() * sessions.length)];
    const body = await call('authenticate-token', 'POST', '/v1/b2b/sessions/authenticate', { session_token: session.token }, (answer) => typeof answer.session_jwt === 'string');
    if (body) keepFreshJwt(session, body.session_jwt);
  },
  async 'authenticate-jwt'() {
    const session = sessions[Math.floor(random() * sessions.length)];
    const body = await call('authenticate-jwt', 'POST', '/v1/b2b/sessions/authenticate', { session_jwt: session.jwt }, (answer) => typeof answer.session_jwt === 'string');
    if (body) keepFreshJwt(session, body.session_jwt);
  },
  async 'authenticate-revoked'() {
    if (revoked.length === 0) return OPERATIONS['sessions-revoke']();
    const token = revoked[Math.floor(random() * revoked.length)];
    const body = await call('authenticate-revoked', 'POST', '/v1/b2b/sessions/authenticate', { session_token: token }, undefined, { status: 404, errorType: 'session_not_found' });
    if (body) expectedNotFound += 1;
  },
  async 'members-get'() {
    const member = members[Math.floor(random() * members.length)];
    await call('members-get', 'GET', `/v1/b2b/organizations/${member.organizationId}/member?member_id=${member.memberId}`, undefined, (answer) => answer.member?.member_id === member.memberId);
  },
  async jwks() {
    await call('jwks', 'GET', `/v1/b2b/sessions/jwks/${job.projectId}`, undefined, (answer) => Array.isArray(answer.keys) && answer.keys.length > 0);
  },
  async 'organization-create'() {
    const slug = `soak-${job.runId}-${job.index}-${nextNumber()}`;
    const body = await call('organization-create', 'POST', '/v1/b2b/organizations', { organization_name: `Soak ${slug}`, organization_slug: slug }, (answer) => typeof answer.organization?.organization_id === 'string');
    if (body) organizationIds.push(body.organization.organization_id);
  },
  async 'member-create'() {
    const organizationId = organizationIds[Math.floor(random() * organizationIds.length)];
    const email = `soak-${job.runId}-${job.index}-${nextNumber()}@soak.example.com`;
    const body = await call('member-create', 'POST', `/v1/b2b/organizations/${organizationId}/members`, { email_address: email, name: 'Soak Member' }, (answer) => typeof answer.member?.member_id === 'string');
    if (body) members.push({ memberId: body.member.member_id, organizationId });
  },
  async 'impersonation-mint'() {
    const member = members[Math.floor(random() * members.length)];
    const body = await call(
      'impersonation-mint',
      'POST',
      '/v1/b2b/impersonation',
      { organization_id: member.organizationId, member_id: member.memberId, impersonator_id: `support-agent-${job.index}`, impersonator_email_address: 'agent@support.example.com', reason: 'Soak: reproduce a reported problem' },
      (answer) => typeof answer.impersonation_token === 'string',
    );
    if (body) minted.push(body.impersonation_token);
  },
  async 'impersonation-redeem'() {
    // Taken before the request, so no other client of this worker presents it twice.
    const token = minted.shift();
    if (token === undefined) return OPERATIONS['impersonation-mint']();
    const body = await call('impersonation-redeem', 'POST', '/v1/b2b/impersonation/authenticate', { impersonation_token: token }, (answer) => typeof answer.session_token === 'string' && typeof answer.member_session?.member_session_id === 'string');
    if (body) liveImpersonated.push({ memberSessionId: body.member_session.member_session_id, token: body.session_token });
  },
  async 'sessions-revoke'() {
    const session = liveImpersonated.shift();
    if (session === undefined) return OPERATIONS['impersonation-redeem']();
    const body = await call('sessions-revoke', 'POST', '/v1/b2b/sessions/revoke', { member_session_id: session.memberSessionId }, () => true);
    // Only an acknowledged revocation makes a later 404 the expected answer.
    if (body) {
      revoked.push(session.token);
      if (revoked.length > REVOKED_KEPT) revoked.shift();
    }
  },
};

/**
 * A client keeps its session JWT, as a browser keeps its cookie, until it has less than
 * JWT_REFRESH_SECONDS to live, then takes the one an authentication returned. Taking every new JWT
 * would present a new one about once a minute per session (a JWT carries `last_accessed_at`), which
 * fills the server's bounded cache of verified JWTs for minutes: growth a two-minute soak cannot
 * tell from a leak (docs/reliability.md, "Load and soak").
 */
function keepFreshJwt(session, returned) {
  if (session.jwtExpiresAt === undefined) session.jwtExpiresAt = expiresAt(session.jwt);
  if (session.jwtExpiresAt - Date.now() / 1000 >= JWT_REFRESH_SECONDS || returned === session.jwt) return;
  session.jwt = returned;
  session.jwtExpiresAt = expiresAt(returned);
}

/** A JWT's `exp` (seconds since the epoch). */
function expiresAt(jwt) {
  return JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString('utf8')).exp;
}

/**
 * One request to the next server. Resolves with the parsed body when the answer is the expected one
 * (200 and `isComplete(body)`, or the given error status and type), and with undefined after counting an error.
 */
async function call(kind, method, path, json, isComplete, expectedError) {
  const server = servers[nextServer % servers.length];
  nextServer += 1;
  const stats = kinds[kind];
  stats.requests += 1;
  const answer = await send(server, method, path, json);
  const bucket = timelineBucket();
  if (answer.error) return failure(kind, server, bucket, answer.error === 'timeout' ? 'timeout' : 'socket', `${answer.error} after ${answer.ms.toFixed(0)} ms`);
  stats.statuses[answer.status] = (stats.statuses[answer.status] ?? 0) + 1;
  server.responses += 1;
  let body;
  try {
    body = JSON.parse(answer.text);
  } catch {
    return failure(kind, server, bucket, 'invalid_body', `${answer.status} ${answer.text.slice(0, 200)}`);
  }
  const isExpected = expectedError ? answer.status === expectedError.status && body.error_type === expectedError.errorType : answer.status === 200 && isComplete(body);
  if (!isExpected) return failure(kind, server, bucket, answer.status === 200 ? 'invalid_body' : 'unexpected_status', `${answer.status} ${answer.text.slice(0, 300)}`);
  stats.ok += 1;
  bucket.responses += 1;
  const index = Math.round(Math.log(Math.max(answer.ms, 0.01)) / BUCKET_BASE);
  stats.histogram[index] = (stats.histogram[index] ?? 0) + 1;
  return body;
}

function failure(kind, server, bucket, type, detail) {
  kinds[kind].errors += 1;
  server.errors += 1;
  bucket.errors += 1;
  errors.total += 1;
  errors[type] += 1;
  if (errors.kept.length < KEPT_ERRORS) errors.kept.push({ at_seconds: Number(((performance.now() - startedAt) / 1000).toFixed(2)), kind, server: server.url, type, detail });
  return undefined;
}

/** Answers and errors per `timelineSeconds` of the run, to show the throughput held. */
function timelineBucket() {
  // Answers to requests still in flight at the deadline count in the last interval.
  const seconds = Math.min(performance.now() - startedAt, job.durationSeconds * 1000 - 1) / 1000;
  const index = Math.floor(seconds / job.timelineSeconds);
  while (timeline.length <= index) timeline.push({ from_seconds: timeline.length * job.timelineSeconds, responses: 0, errors: 0 });
  return timeline[index];
}

function send(server, method, path, json) {
  return new Promise((resolve) => {
    const started = performance.now();
    const payload = json === undefined ? undefined : JSON.stringify(json);
    const headers = { authorization, ...(payload !== undefined && { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }) };
    let isTimedOut = false;
    const request = httpRequest({ host: server.host, port: server.port, method, path, headers, agent: server.agent }, (response) => {
      const chunks = [];
      response.on('data', (chunk) => chunks.push(chunk));
      response.on('end', () => {
        clearTimeout(timer);
        resolve({ status: response.statusCode, text: Buffer.concat(chunks).toString('utf8'), ms: performance.now() - started });
      });
      response.on('error', (error) => {
        clearTimeout(timer);
        resolve({ error: error.code ?? error.message, ms: performance.now() - started });
      });
    });
    const timer = setTimeout(() => {
      isTimedOut = true;
      request.destroy();
    }, TIMEOUT_MS);
    request.on('error', (error) => {
      clearTimeout(timer);
      resolve({ error: isTimedOut ? 'timeout' : (error.code ?? error.message), ms: performance.now() - started });
    });
    request.end(payload);
  });
}

/** A number not used before by this worker, for unique slugs and email addresses. */
function nextNumber() {
  counter += 1;
  return counter;
}

/** A call kind drawn by the mix's weights. */
function pick() {
  let roll = random() * TOTAL_WEIGHT;
  for (const [kind, weight] of MIX) {
    roll -= weight;
    if (roll < 0) return kind;
  }
  return MIX[0][0];
}

/** xorshift32: a seeded stream, so a worker's choices can be replayed (the interleaving cannot). */
function random() {
  randomState ^= randomState << 13;
  randomState ^= randomState >>> 17;
  randomState ^= randomState << 5;
  return (randomState >>> 0) / 2 ** 32;
}

// The run itself, after every definition it uses.
const startedAt = performance.now();
const deadline = startedAt + job.durationSeconds * 1000;
await Promise.all(Array.from({ length: job.concurrency }, client));
const seconds = (performance.now() - startedAt) / 1000;
for (const server of servers) server.agent.destroy();

process.stdout.write(
  `${JSON.stringify({
    worker: job.index,
    seconds,
    kinds,
    servers: servers.map(({ url, responses, errors: serverErrors }) => ({ url, responses, errors: serverErrors })),
    errors,
    expected_not_found: expectedNotFound,
    timeline,
    left: { minted_unredeemed: minted.length, live_impersonated_sessions: liveImpersonated.length, revoked_sessions: revoked.length, organizations: organizationIds.length, members: members.length },
  })}\n`,
);

