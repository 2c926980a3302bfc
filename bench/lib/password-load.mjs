#!/usr/bin/env node
// The load generator of the password scenarios, in its own process (pinned to the load core):
//   node bench/lib/password-load.mjs <job.json>
// wrk counts every answer above 399 as a failure and cannot send at a fixed rate; password sign-ins
// need both: at saturation the hashing pool may answer 429 (too_many_requests, Retry-After), which is
// counted, not failed (a user lock's 429, user_lock_limit_reached, is counted apart), and the mixed
// and overload scenarios send at a fixed arrival rate. At a few hundred requests per second a Node
// process has room to spare, so this is plain node:http.
//
// `mode: 'closed'`: `connections` loops, each sending its next request when its answer arrives.
// `mode: 'open'`: requests leave at `rate` per second on schedule, whatever is outstanding (a new
// connection when none is free), and latency runs from the scheduled time, so a stalled server is
// charged for the requests that waited to leave (no coordinated omission).
//
// The run is continuous: a warm-up, then `rounds` windows of `durationSeconds`; an answer belongs to
// the window it arrived in. Prints one JSON line per window (round 0 the warm-up), then one line
// {"round": "all", …} with every answer of the run, those that arrived after the last window included.
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';

const job = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const values = JSON.parse(readFileSync(job.valuesFile, 'utf8'));
if (values.length === 0) throw new Error('password-load: no values to send');
const target = new URL(job.target);
const agent = new Agent({ keepAlive: true, maxSockets: job.mode === 'closed' ? job.connections : Number.POSITIVE_INFINITY });
const timeoutMs = (job.timeoutSeconds ?? 10) * 1000;
const warmupMs = job.warmupSeconds * 1000;
const roundMs = job.durationSeconds * 1000;
const totalMs = warmupMs + job.rounds * roundMs;
/** Sending goes on this long after the last window (not measured): load that runs beside this one may end a little later. */
const tailMs = (job.tailSeconds ?? 0) * 1000;

/** Every request's outcome: when it was due (open) or sent (closed), when it ended, and what came back. */
const outcomes = [];
let cursor = 0;
const started = performance.now();
const endAt = started + totalMs + tailMs;

if (job.mode === 'open') await openLoop();
else await closedLoop();
agent.destroy();

const windows = [{ round: 0, label: 'warm-up', from: 0, to: warmupMs }];
for (let round = 1; round <= job.rounds; round += 1) windows.push({ round, label: `round ${round}`, from: warmupMs + (round - 1) * roundMs, to: warmupMs + round * roundMs });
for (const window of windows) {
  const inside = outcomes.filter((outcome) => outcome.endedMs >= window.from && outcome.endedMs < window.to);
  const due = job.mode === 'open' ? outcomes.filter((outcome) => outcome.dueMs >= window.from && outcome.dueMs < window.to).length : undefined;
  process.stdout.write(`${JSON.stringify({ round: window.round, ...summarize(inside, window.label, (window.to - window.from) / 1000, due) })}\n`);
}
process.stdout.write(`${JSON.stringify({ round: 'all', ...summarize(outcomes, 'all', (totalMs + tailMs) / 1000, outcomes.length), sent: outcomes.length })}\n`);

async function closedLoop() {
  const loop = async () => {
    while (performance.now() < endAt) await send(performance.now());
  };
  await Promise.all(Array.from({ length: job.connections }, loop));
}

function openLoop() {
  return new Promise((resolve) => {
    const sent = [];
    const intervalMs = 1000 / job.rate;
    const tick = () => {
      const now = performance.now();
      // Every request whose time has come leaves now, stamped with the time it was due.
      for (let due = started + sent.length * intervalMs; due <= now && due < endAt; due = started + sent.length * intervalMs) sent.push(send(due));
      const next = started + sent.length * intervalMs;
      if (next < endAt) setTimeout(tick, Math.max(0, next - performance.now()));
      // send() never rejects: its failures are recorded in its outcome.
      else resolve(Promise.all(sent));
    };
    tick();
  });
}

/** Sends the next value's request; resolves (never rejects) once its outcome is recorded. */
function send(dueAt) {
  const value = values[cursor % values.length];
  cursor += 1;
  const body = JSON.stringify(value);
  return new Promise((resolve) => {
    const outcome = { dueMs: dueAt - started, endedMs: 0, latencyMs: 0, status: 0, bytes: 0, retryAfter: null, errorType: null, failure: null };
    const finish = () => {
      const now = performance.now();
      outcome.endedMs = now - started;
      outcome.latencyMs = now - dueAt;
      outcomes.push(outcome);
      resolve();
    };
    const call = request(
      {
        agent,
        hostname: target.hostname,
        port: target.port,
        method: job.request.method,
        path: job.request.path,
        headers: { ...job.request.headers, 'content-length': Buffer.byteLength(body) },
        timeout: timeoutMs,
      },
      (response) => {
        const chunks = [];
        response.on('data', (chunk) => chunks.push(chunk));
        response.on('error', (error) => {
          outcome.failure = `socket: ${error.message}`;
          finish();
        });
        response.on('end', () => {
          outcome.status = response.statusCode;
          const answer = Buffer.concat(chunks);
          outcome.bytes = answer.length;
          judge(outcome, response, answer.toString('utf8'));
          finish();
        });
      },
    );
    call.on('timeout', () => {
      outcome.failure = 'timeout';
      call.destroy(new Error('timeout'));
    });
    call.on('error', (error) => {
      if (outcome.failure === null) outcome.failure = `socket: ${error.message}`;
      finish();
    });
    call.end(body);
  });
}

/**
 * What a caller would check: a 200 is a signed-in member (a session token, member_authenticated); a
 * 429 names its error and says when to come back. Anything else is recorded as a failure.
 */
function judge(outcome, response, text) {
  let answer;
  try {
    answer = JSON.parse(text);
  } catch {
    outcome.failure = `status ${response.statusCode}, not JSON: ${text.slice(0, 200)}`;
    return;
  }
  if (response.statusCode === 200) {
    if (answer.member_authenticated !== true || typeof answer.session_token !== 'string' || answer.session_token === '') {
      outcome.failure = `200 without a signed-in member: ${text.slice(0, 300)}`;
    }
    return;
  }
  outcome.errorType = answer.error_type ?? null;
  if (response.statusCode === 429) {
    const header = response.headers['retry-after'];
    outcome.retryAfter = header !== undefined && /^\d+$/.test(header) && Number(header) > 0 ? Number(header) : null;
    return;
  }
  outcome.failure = `status ${response.statusCode}: ${text.slice(0, 300)}`;
}

function summarize(list, label, seconds, due) {
  const ok = list.filter((outcome) => outcome.status === 200 && outcome.failure === null);
  const refused = list.filter((outcome) => outcome.status === 429 && outcome.failure === null);
  const statuses = {};
  for (const outcome of list) if (outcome.status !== 0) statuses[outcome.status] = (statuses[outcome.status] ?? 0) + 1;
  const errorTypes = {};
  for (const outcome of refused) errorTypes[outcome.errorType ?? 'none'] = (errorTypes[outcome.errorType ?? 'none'] ?? 0) + 1;
  const failures = list.filter((outcome) => outcome.failure !== null);
  const okLatencies = ok.map((outcome) => outcome.latencyMs).sort((a, b) => a - b);
  const refusedLatencies = refused.map((outcome) => outcome.latencyMs).sort((a, b) => a - b);
  const retryAfters = refused.map((outcome) => outcome.retryAfter).filter((value) => value !== null);
  const busy = refused.filter((outcome) => outcome.errorType === 'too_many_requests');
  const busyRetryAfters = busy.map((outcome) => outcome.retryAfter).filter((value) => value !== null);
  return {
    label,
    seconds,
    requests_per_second: seconds > 0 ? ok.length / seconds : 0,
    ...(due !== undefined && { offered_per_second: seconds > 0 ? due / seconds : 0 }),
    latency_p50_ms: percentile(okLatencies, 0.5),
    latency_p99_ms: percentile(okLatencies, 0.99),
    latency_max_ms: okLatencies.at(-1) ?? 0,
    responses_2xx: ok.length,
    response_bytes: ok.length === 0 ? 0 : Math.round(ok.reduce((sum, outcome) => sum + outcome.bytes, 0) / ok.length),
    // The hashing pool's refusal (or a rate limit's); a user lock (`user_lock_limit_reached`) is counted apart.
    too_many_requests: busy.length,
    user_locked: refused.filter((outcome) => outcome.errorType === 'user_lock_limit_reached').length,
    too_many_requests_error_types: errorTypes,
    retry_after_missing: refused.length - retryAfters.length,
    // The range the too_many_requests answers gave (a user lock's is the lock's remaining time).
    retry_after_seconds: busyRetryAfters.length === 0 ? null : { min: Math.min(...busyRetryAfters), max: Math.max(...busyRetryAfters) },
    // Every 429, whatever its error type.
    refused_latency_p50_ms: percentile(refusedLatencies, 0.5),
    refused_latency_p99_ms: percentile(refusedLatencies, 0.99),
    statuses,
    failures: failures.length,
    timeouts: failures.filter((outcome) => outcome.failure === 'timeout').length,
    failure_samples: [...new Set(failures.map((outcome) => outcome.failure))].slice(0, 5),
  };
}

function percentile(sorted, fraction) {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))];
}
