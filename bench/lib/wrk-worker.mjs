#!/usr/bin/env node
// The wrk load generator (the default; load-worker.mjs is the autocannon one), in its own process
// pinned to the load core when taskset exists, so every wrk it starts inherits that core:
//   node bench/lib/wrk-worker.mjs <job.json>
// Takes the same job as load-worker.mjs, writes the requests it varies over for wrk-load.lua (the
// same bytes autocannon would send), and runs one wrk for the warm-up and one per round. Prints one
// JSON line per run in load-worker.mjs's shape (round 0 is the warm-up).
//
// Statuses: wrk itself counts only answers above 399 unless a Lua response() runs for every answer,
// which costs the generator about a tenth of its CPU. So the warm-up counts every status exactly
// (any non-2xx fails the run), and the measured rounds rely on wrk's own count of statuses above 399.
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { variedRequest } from './scenarios.mjs';
import { requireWrk } from './wrk.mjs';

const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'wrk-load.lua');
const WRK = requireWrk();

const jobFile = process.argv[2];
const job = JSON.parse(readFileSync(jobFile, 'utf8'));
const threads = Math.max(1, Math.min(job.threads ?? 1, job.connections));
const kind = job.vary?.kind ?? 'cycle';
/** The requests still to send: every value for `cycle`, the values not yet used for `once`. */
let pending = job.vary ? JSON.parse(readFileSync(job.vary.valuesFile, 'utf8')) : [undefined];
const requestsFile = `${jobFile}.requests`;

const warmUp = await runWrk(job.warmupSeconds, 'warm-up', true);
process.stdout.write(`${JSON.stringify({ round: 0, ...warmUp })}\n`);
for (let round = 1; round <= job.rounds && !warmUp.exhausted; round += 1) {
  const result = await runWrk(job.durationSeconds, `round ${round}`, false);
  process.stdout.write(`${JSON.stringify({ round, ...result })}\n`);
  if (result.exhausted) break;
}

/** One wrk run of `seconds`; resolves with throughput, latency percentiles and failure counts. */
async function runWrk(seconds, label, countStatuses) {
  if (pending.length === 0) return { ...emptyRun(label), exhausted: true };
  writeRequests();
  const args = ['-t', String(threads), '-c', String(job.connections), '-d', `${Math.ceil(seconds)}s`, '--timeout', '10s', '-s', SCRIPT, job.target, '--'];
  args.push(requestsFile, kind, String(threads), countStatuses ? 'count-statuses' : 'wrk-statuses');
  const { output, exhausted } = await runUntil(args, seconds);
  const line = output.split('\n').find((text) => text.startsWith('wrk-result '));
  if (line === undefined) throw new Error(`wrk printed no result for the ${label}:\n${output.slice(-4000)}`);
  const result = JSON.parse(line.slice('wrk-result '.length));
  if (kind === 'once') pending = pending.filter((_value, index) => !result.slices.some((slice) => index >= slice.first && index < slice.first + slice.taken));
  return summarize(result, label, exhausted || result.slices.some((slice) => slice.exhausted));
}

/** Runs wrk; a fractional length, or a `once` list running out, ends it early with SIGINT (wrk then reports as usual). */
function runUntil(args, seconds) {
  return new Promise((resolve, reject) => {
    const child = spawn(WRK, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let errorOutput = '';
    let exhausted = false;
    const stop = () => child.kill('SIGINT');
    const timer = Number.isInteger(seconds) ? undefined : setTimeout(stop, seconds * 1000);
    child.stdout.on('data', (chunk) => {
      output += chunk;
    });
    child.stderr.on('data', (chunk) => {
      errorOutput += chunk;
      if (!exhausted && errorOutput.includes('exhausted\n')) {
        exhausted = true;
        stop();
      }
    });
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve({ output, exhausted });
      else reject(new Error(`wrk exited with ${code ?? signal}:\n${errorOutput.slice(-4000)}${output.slice(-2000)}`));
    });
  });
}

/**
 * The requests file wrk-load.lua reads: the method, the headers, a blank line, then one request per
 * line as "<path>\t<body>".
 */
function writeRequests() {
  const { request } = job;
  const lines = [request.method, ...Object.entries(request.headers ?? {}).map(([name, value]) => `${name}: ${value}`), ''];
  for (const value of pending) {
    const { path, body } = job.vary ? variedRequest(job, value) : request;
    if (/[\t\n\r]/.test(path) || /[\n\r]/.test(body ?? '')) throw new Error(`a request cannot be written on one line: ${path}`);
    lines.push(`${path}\t${body ?? ''}`);
  }
  writeFileSync(requestsFile, `${lines.join('\n')}\n`);
}

function summarize(result, label, exhausted) {
  const seconds = result.duration_us / 1e6;
  const counted = result.statuses !== null;
  const statuses = counted ? result.statuses : { '>399': result.errors.status };
  let ok = result.requests - result.errors.status;
  if (counted) ok = Object.entries(statuses).reduce((sum, [status, count]) => (status.startsWith('2') ? sum + count : sum), 0);
  return {
    label,
    seconds,
    requests_per_second: seconds > 0 ? ok / seconds : 0,
    latency_p50_ms: result.latency_us.p50 / 1000,
    latency_p99_ms: result.latency_us.p99 / 1000,
    latency_max_ms: result.latency_us.max / 1000,
    responses_2xx: ok,
    response_bytes: result.requests === 0 ? 0 : Math.round(result.bytes / result.requests),
    non_2xx: result.requests - ok,
    statuses,
    statuses_counted: counted,
    errors: result.errors.connect + result.errors.read + result.errors.write,
    timeouts: result.errors.timeout,
    exhausted,
  };
}

function emptyRun(label) {
  return { label, seconds: 0, requests_per_second: 0, latency_p50_ms: 0, latency_p99_ms: 0, latency_max_ms: 0, responses_2xx: 0, response_bytes: 0, non_2xx: 0, statuses: {}, errors: 0, timeouts: 0 };
}
