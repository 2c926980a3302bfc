// Runs one scenario against one or more running servers: a load worker per server (the load split
// evenly; wrk by default, autocannon with --load-generator autocannon), the servers' peak memory
// watched meanwhile, the median of the rounds reported.
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpuSeconds, finished, PINNING, spawnPinned, watchPeakMemory } from './processes.mjs';
import { loadRequest } from './scenarios.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
/** The worker process of each load generator; both take the same job and print the same lines. */
const WORKERS = { wrk: join(HERE, 'wrk-worker.mjs'), autocannon: join(HERE, 'load-worker.mjs') };

/**
 * `servers`: [{ url, pid }]; `values`: what the requests vary over (split between the servers).
 * `pinLoad` false leaves the load workers unpinned (several servers share the cores anyway).
 * `emptyRoundsAllowed`: a measured round with no answer at all is recorded (`starved`) instead of
 * failing the run: for a load that runs beside another one meant to crowd it out.
 */
export async function runScenario({ scenario, database, servers, values, settings, workDir, pinLoad = true, label = scenario, emptyRoundsAllowed = false }) {
  const watches = servers.map((server) => watchPeakMemory(server.pid));
  const cpuBefore = servers.map((server) => cpuSeconds(server.pid));
  const connections = Math.max(1, Math.floor(settings.connections / servers.length));
  const generator = settings.loadGenerator ?? 'wrk';
  const workers = servers.map((server, index) => {
    const share = values === undefined ? undefined : values.filter((_value, position) => position % servers.length === index);
    const valuesFile = join(workDir, `${database}-${label}-${index}-values.json`);
    if (share !== undefined) writeFileSync(valuesFile, JSON.stringify(share));
    const jobFile = join(workDir, `${database}-${label}-${index}-job.json`);
    const request = loadRequest(scenario, valuesFile);
    writeFileSync(
      jobFile,
      JSON.stringify({ target: server.url, connections, threads: settings.wrkThreads, warmupSeconds: settings.warmupSeconds, durationSeconds: settings.durationSeconds, rounds: settings.rounds, ...request }),
    );
    const child = spawnPinned(process.execPath, [WORKERS[generator], jobFile], { cpu: pinLoad ? PINNING?.load : undefined, env: process.env });
    return finished(child, `${generator} load worker for ${label} on ${database}`);
  });
  const outputs = await Promise.all(workers);
  const peaks = watches.map((watch) => watch.stop());
  const cpuUsed = servers.reduce((sum, server, index) => sum + ((cpuSeconds(server.pid) ?? Number.NaN) - (cpuBefore[index] ?? Number.NaN)), 0);
  const runs = outputs.map((output) => output.trim().split('\n').filter(Boolean).map((line) => JSON.parse(line)));
  const answered = runs.flat().reduce((sum, run) => sum + run.responses_2xx + run.non_2xx, 0);
  // The warm-up is judged too: with wrk it is where every status is counted exactly (wrk-worker.mjs).
  for (const run of runs.flat()) {
    const exhaustedStragglers = run.exhausted ? (run.statuses?.['400'] ?? 0) + (run.statuses?.['401'] ?? 0) : 0;
    if (run.non_2xx - exhaustedStragglers > 0 || run.errors > 0 || run.timeouts > 0 || (run.round > 0 && run.responses_2xx === 0 && !emptyRoundsAllowed)) {
      throw new Error(`${label} on ${database} (${generator}, ${run.label}): ${JSON.stringify({ statuses: run.statuses, errors: run.errors, timeouts: run.timeouts })}`);
    }
  }
  const perWorker = runs.map((worker) => worker.filter((run) => run.round > 0));
  const rounds = combineWorkers(perWorker);
  return {
    scenario,
    database,
    processes: servers.length,
    load_generator: generator,
    requests_per_second: median(rounds.map((round) => round.requests_per_second)),
    latency_p50_ms: median(rounds.map((round) => round.latency_p50_ms)),
    latency_p99_ms: median(rounds.map((round) => round.latency_p99_ms)),
    peak_rss_mb: peaks.some((peak) => peak === null) ? null : Math.max(...peaks),
    peak_rss_method: watches[0].method,
    response_bytes: rounds[0]?.response_bytes ?? 0,
    // Server CPU time (all threads) per response, warm-up included: steadier than req/s on a shared machine.
    server_cpu_us_per_request: Number.isFinite(cpuUsed) && answered > 0 ? (cpuUsed * 1e6) / answered : null,
    exhausted: rounds.some((round) => round.exhausted),
    starved: rounds.some((round) => round.responses_2xx === 0),
    rounds,
  };
}

/** Round i of every worker ran at the same time: throughputs add up, latencies take the worst worker's. */
function combineWorkers(perWorker) {
  const count = Math.min(...perWorker.map((rounds) => rounds.length));
  const combined = [];
  for (let index = 0; index < count; index += 1) {
    const same = perWorker.map((rounds) => rounds[index]);
    combined.push({
      round: index + 1,
      seconds: Math.max(...same.map((round) => round.seconds)),
      requests_per_second: same.reduce((sum, round) => sum + round.requests_per_second, 0),
      latency_p50_ms: Math.max(...same.map((round) => round.latency_p50_ms)),
      latency_p99_ms: Math.max(...same.map((round) => round.latency_p99_ms)),
      latency_max_ms: Math.max(...same.map((round) => round.latency_max_ms)),
      responses_2xx: same.reduce((sum, round) => sum + round.responses_2xx, 0),
      response_bytes: same[0].response_bytes,
      exhausted: same.some((round) => round.exhausted),
    });
  }
  return combined;
}

export function median(numbers) {
  if (numbers.length === 0) return 0;
  const sorted = [...numbers].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}
