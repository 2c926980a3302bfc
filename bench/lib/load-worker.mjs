#!/usr/bin/env node
// The autocannon load generator (`--load-generator autocannon`; wrk-worker.mjs is the default),
// always in its own process (pinned to its own core when taskset exists):
//   node bench/lib/load-worker.mjs <job.json>
// Runs autocannon programmatically (a different body or path per request needs setupRequest, which
// the CLI cannot take): one warm-up, then `rounds` measured runs of `durationSeconds` each. Prints
// one JSON line per run (round 0 is the warm-up). Latency percentiles come from every response's own timing
// (autocannon's histogram keeps whole milliseconds only).
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';
import { variedRequest } from './scenarios.mjs';

const job = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const values = job.vary?.valuesFile ? JSON.parse(readFileSync(job.vary.valuesFile, 'utf8')) : [];
let cursor = 0;
let exhausted = false;

const warmUp = await runOnce(job.warmupSeconds, 'warm-up');
process.stdout.write(`${JSON.stringify({ round: 0, ...warmUp })}\n`);
for (let round = 1; round <= job.rounds && !warmUp.exhausted; round += 1) {
  const result = await runOnce(job.durationSeconds, `round ${round}`);
  process.stdout.write(`${JSON.stringify({ round, ...result })}\n`);
  if (result.exhausted) break;
}

/** One autocannon run; resolves with throughput, latency percentiles and failure counts. */
function runOnce(seconds, label) {
  const latencies = [];
  const statuses = {};
  let ok = 0;
  let bytes = 0;
  const startedAt = performance.now();
  let instance;
  return new Promise((resolve, reject) => {
    instance = autocannon(
      {
        url: job.target,
        connections: job.connections,
        pipelining: 1,
        duration: seconds,
        timeout: 10,
        // autocannon notices the end of a run only at a sample tick; 200 ms keeps short runs close to their length.
        sampleInt: 200,
        requests: [{ method: job.request.method, path: job.request.path, headers: job.request.headers, body: job.request.body, ...(job.vary && { setupRequest }) }],
      },
      (error, result) => {
        if (error) return reject(error);
        const elapsedSeconds = exhausted ? (performance.now() - startedAt) / 1000 : result.duration;
        latencies.sort((a, b) => a - b);
        resolve({
          label,
          seconds: elapsedSeconds,
          requests_per_second: ok / elapsedSeconds,
          latency_p50_ms: percentile(latencies, 0.5),
          latency_p99_ms: percentile(latencies, 0.99),
          latency_max_ms: latencies.at(-1) ?? 0,
          responses_2xx: ok,
          response_bytes: ok === 0 ? 0 : Math.round(bytes / ok),
          non_2xx: result.non2xx,
          statuses,
          errors: result.errors,
          timeouts: result.timeouts,
          exhausted,
        });
      },
    );
    instance.on('response', (_client, statusCode, responseBytes, responseTime) => {
      statuses[statusCode] = (statuses[statusCode] ?? 0) + 1;
      if (statusCode >= 200 && statusCode < 300) {
        ok += 1;
        bytes += responseBytes;
        latencies.push(responseTime);
      }
    });
  });

  /** Gives each request its own body or path; a `once` list hands out every value exactly once. */
  function setupRequest(request) {
    const vary = job.vary;
    let value;
    if (vary.kind === 'once') {
      if (cursor >= values.length) {
        // Out of single-use values: stop, and send a value that cannot succeed meanwhile.
        if (!exhausted) setImmediate(() => instance.stop());
        exhausted = true;
        value = 'exhausted';
      } else {
        value = values[cursor];
        cursor += 1;
      }
    } else {
      value = values[cursor % values.length];
      cursor += 1;
    }
    const varied = variedRequest(job, value);
    request.path = varied.path;
    if (vary.into === 'body') request.body = varied.body;
    return request;
  }
}

function percentile(sorted, fraction) {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))];
}
