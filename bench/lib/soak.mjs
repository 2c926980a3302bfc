// The soak (docs/reliability.md, "Load and soak"): two `understudy serve` processes on one throwaway
// PostgreSQL database take a weighted mix of calls from load-generator processes for a bounded time,
// while each server's memory is sampled. It passes when every answer was the expected one, both
// processes answered, and memory stayed flat (soak-memory.mjs).
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createPostgresDatabase, seedDatabase } from './databases.mjs';
import { cpuSeconds, finished, processAgeSeconds, spawnPinned } from './processes.mjs';
import { judgeMemory, readFullCollections, sampleMemory, TRACE_GC_FLAG } from './soak-memory.mjs';
import { sessionJwtsFor, startServerFor } from './suite.mjs';
import { PROJECT_ID, PROJECT_SECRET } from './understudy.mjs';

const WORKER = join(dirname(fileURLToPath(import.meta.url)), 'soak-worker.mjs');
const SERVERS = 2;
/** Latency histogram buckets are this ratio wide: percentiles within 1 %, a few hundred buckets per call kind. */
const BUCKET_RATIO = 1.02;

/**
 * The calls and their weights (percent). Sessions.authenticate is two thirds: by session_token and by
 * session_jwt on seeded sessions, and 1 % re-presenting sessions the workload itself revoked (those
 * must be refused with 404 session_not_found). The writes: organizations and members created,
 * impersonation tokens minted and redeemed (each redemption starts a session), impersonated
 * sessions revoked. A call with nothing to work on yet runs its producer instead (revoke → redeem →
 * mint), so the counts in the results, not these weights, are what was sent.
 */
export const SOAK_MIX = [
  ['authenticate-token', 40],
  ['authenticate-jwt', 24],
  ['authenticate-revoked', 1],
  ['members-get', 10],
  ['jwks', 5],
  ['organization-create', 1],
  ['member-create', 3],
  ['impersonation-mint', 6],
  ['impersonation-redeem', 5],
  ['sessions-revoke', 5],
];

export const SOAK_CALL_TITLES = {
  'authenticate-token': 'sessions.authenticate (session_token)',
  'authenticate-jwt': 'sessions.authenticate (session_jwt)',
  'authenticate-revoked': 'sessions.authenticate of a revoked session (404 expected)',
  'members-get': 'organizations.members.get',
  jwks: 'sessions.getJWKS',
  'organization-create': 'organizations.create',
  'member-create': 'organizations.members.create',
  'impersonation-mint': 'impersonation mint (POST /v1/b2b/impersonation)',
  'impersonation-redeem': 'impersonation.authenticate (redeem)',
  'sessions-revoke': 'sessions.revoke',
};

/** Rate limits off, through the configuration file a deployment would use: the writes exceed the per-minute limits. */
const SERVER_CONFIG = { rate_limits_enabled: false };

/**
 * Runs the soak on a new database beside `postgresUrl` and returns its figures and verdict
 * (`passed`, `failures`). Throws only when it cannot run (seeding or a server start failed).
 */
export async function runSoak(context, postgresUrl) {
  const { settings, workDir, log } = context;
  const soak = settings.soak;
  const database = await createPostgresDatabase(postgresUrl);
  const servers = [];
  try {
    const target = { dialect: 'postgres', databaseUrl: database.url };
    log(`soak: seeding ${soak.seed.sessions.toLocaleString('en-US')} sessions, ${soak.seed.members.toLocaleString('en-US')} members`);
    const seeded = await seedDatabase(context.sourceRoot, workDir, 'postgres-soak', target, { ...soak.seed, impersonationTokens: 0 }, context.masterKey, context.seedScript);
    const fixtures = JSON.parse(readFileSync(seeded.fixturesFile, 'utf8'));

    const configFile = join(workDir, 'soak-config.json');
    writeFileSync(configFile, JSON.stringify(SERVER_CONFIG));
    // `node --trace-gc <understudy> --config <file> serve`, otherwise started exactly as the other
    // scenarios' servers; each collection is a line in the server's log file.
    const serverContext = { ...context, runtime: { ...context.runtime, args: [TRACE_GC_FLAG, ...context.runtime.args, '--config', configFile] } };
    const place = { dataDir: join(workDir, 'postgres-soak'), databaseUrl: database.url };
    for (let index = 0; index < SERVERS; index += 1) servers.push(await startServerFor(serverContext, place, { cpu: null }));
    const jwts = await sessionJwtsFor(servers[0].url, fixtures.sessionTokens);

    const workers = soak.workers;
    const concurrency = Math.max(1, Math.floor(settings.connections / workers));
    const runId = randomBytes(3).toString('hex');
    log(`soak: ${soak.durationSeconds} s of mixed traffic, ${workers} load processes × ${concurrency} connections, ${SERVERS} servers`);
    const cpuBefore = servers.map((server) => cpuSeconds(server.pid));
    const agesAtStart = servers.map((server) => processAgeSeconds(server.pid));
    const memory = sampleMemory(
      servers.map((server) => server.pid),
      soak.sampleSeconds,
    );
    const outputs = await Promise.all(
      Array.from({ length: workers }, (_unused, index) => {
        const jobFile = join(workDir, `soak-worker-${index}.json`);
        const sessions = fixtures.sessionTokens.map((token, position) => [token, jwts[position]]).filter((_session, position) => position % workers === index);
        writeFileSync(
          jobFile,
          JSON.stringify({
            index,
            runId,
            seed: randomBytes(4).readUInt32LE(0),
            servers: servers.map((server) => server.url),
            projectId: PROJECT_ID,
            projectSecret: PROJECT_SECRET,
            concurrency,
            durationSeconds: soak.durationSeconds,
            timelineSeconds: soak.timelineSeconds,
            mix: SOAK_MIX,
            bucketRatio: BUCKET_RATIO,
            sessions,
            members: fixtures.members,
            organizationIds: fixtures.organizationIds,
          }),
        );
        // Not pinned: two servers, PostgreSQL and the load share every core.
        return finished(spawnPinned(process.execPath, [WORKER, jobFile], { env: process.env }), `soak load worker ${index}`);
      }),
    );
    const samples = memory.stop();
    const runningAtEnd = servers.map((server) => server.child.exitCode === null && server.child.signalCode === null);
    const cpuUsed = servers.map((server, index) => (cpuSeconds(server.pid) ?? Number.NaN) - (cpuBefore[index] ?? Number.NaN));
    const collections = servers.map((server, index) => readFullCollections(join(place.dataDir, `server-${new URL(server.url).port}.log`), agesAtStart[index]));
    const reports = outputs.map((output) => JSON.parse(output.trim().split('\n').at(-1)));
    const result = summarize({ reports, servers, samples, collections, runningAtEnd, cpuUsed, settings, seeding: seeded });
    log(`soak: ${result.passed ? 'passed' : `FAILED: ${result.failures.join('; ')}`}`);
    return result;
  } finally {
    for (const server of servers) await server.stop();
    await database.drop().catch((error) => log(`dropping the soak database failed: ${error.message}`));
  }
}

/** Adds up the load workers' reports, judges memory per server, and gives the verdict. */
function summarize({ reports, servers, samples, collections, runningAtEnd, cpuUsed, settings, seeding }) {
  const seconds = Math.max(...reports.map((report) => report.seconds));
  const calls = {};
  const overall = {};
  for (const [kind, weight] of SOAK_MIX) {
    const same = reports.map((report) => report.kinds[kind]);
    const histogram = mergeHistograms(same.map((stats) => stats.histogram));
    mergeInto(overall, histogram);
    const statuses = {};
    for (const stats of same) for (const [status, count] of Object.entries(stats.statuses)) statuses[status] = (statuses[status] ?? 0) + count;
    const requests = sum(same.map((stats) => stats.requests));
    const ok = sum(same.map((stats) => stats.ok));
    calls[kind] = {
      weight_percent: weight,
      requests,
      expected_answers: ok,
      errors: sum(same.map((stats) => stats.errors)),
      requests_per_second: ok / seconds,
      latency_p50_ms: percentile(histogram, 0.5),
      latency_p99_ms: percentile(histogram, 0.99),
      statuses,
    };
  }
  const requests = sum(Object.values(calls).map((call) => call.requests));
  const expectedAnswers = sum(Object.values(calls).map((call) => call.expected_answers));
  const errors = { total: 0, unexpected_status: 0, socket: 0, timeout: 0, invalid_body: 0 };
  for (const report of reports) for (const key of Object.keys(errors)) errors[key] += report.errors[key];
  const perServer = servers.map((server, index) => {
    const answered = reports.map((report) => report.servers.find((entry) => entry.url === server.url));
    const responses = sum(answered.map((entry) => entry?.responses ?? 0));
    return {
      url: server.url,
      responses,
      errors: sum(answered.map((entry) => entry?.errors ?? 0)),
      running_at_end: runningAtEnd[index],
      cpu_seconds: Number.isFinite(cpuUsed[index]) ? Number(cpuUsed[index].toFixed(1)) : null,
      memory: judgeMemory(samples[index], collections[index], settings.soak.durationSeconds, responses / seconds),
      samples: samples[index],
      full_collections: collections[index],
    };
  });
  const timeline = [];
  for (const report of reports) {
    report.timeline.forEach((bucket, index) => {
      timeline[index] ??= { from_seconds: bucket.from_seconds, responses: 0, errors: 0 };
      timeline[index].responses += bucket.responses;
      timeline[index].errors += bucket.errors;
    });
  }

  const failures = [];
  if (errors.total > 0) failures.push(`${errors.total} errors (${Object.entries(errors).filter(([key, count]) => key !== 'total' && count > 0).map(([key, count]) => `${count} ${key}`).join(', ')})`);
  for (const server of perServer) {
    if (server.responses === 0) failures.push(`${server.url} answered nothing`);
    if (!server.running_at_end) failures.push(`${server.url} exited during the soak`);
    if (server.memory.judged && !server.memory.flat) failures.push(`${server.url}: memory not flat: ${server.memory.reason}`);
  }
  if (expectedAnswers === 0) failures.push('no request was answered as expected');
  return {
    skipped: false,
    passed: failures.length === 0,
    failures,
    duration_seconds: Number(seconds.toFixed(2)),
    processes: servers.length,
    load_workers: reports.length,
    connections: settings.connections,
    seeding,
    requests,
    expected_answers: expectedAnswers,
    requests_per_second: expectedAnswers / seconds,
    latency_p50_ms: percentile(overall, 0.5),
    latency_p99_ms: percentile(overall, 0.99),
    revoked_sessions_refused: sum(reports.map((report) => report.expected_not_found)),
    errors,
    error_examples: reports.flatMap((report) => report.errors.kept),
    calls,
    servers: perServer,
    timeline,
    left_in_load_workers: reports.map((report) => report.left),
  };
}

/** Histograms are { bucket index: count }; bucket i holds latencies around BUCKET_RATIO^i ms. */
function mergeHistograms(histograms) {
  const merged = {};
  for (const histogram of histograms) mergeInto(merged, histogram);
  return merged;
}

function mergeInto(target, histogram) {
  for (const [index, count] of Object.entries(histogram)) target[index] = (target[index] ?? 0) + count;
}

function percentile(histogram, fraction) {
  const buckets = Object.entries(histogram)
    .map(([index, count]) => [Number(index), count])
    .sort((a, b) => a[0] - b[0]);
  const total = sum(buckets.map(([, count]) => count));
  if (total === 0) return 0;
  const rank = Math.min(total - 1, Math.floor(fraction * total));
  let seen = 0;
  for (const [index, count] of buckets) {
    seen += count;
    if (seen > rank) return Number((BUCKET_RATIO ** index).toFixed(2));
  }
  return 0;
}

function sum(numbers) {
  return numbers.reduce((total, value) => total + value, 0);
}
