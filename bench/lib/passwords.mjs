// The password scenarios of a database, against a server of their own on the nearly empty database
// (after the other scenarios there), every figure held against the machine's raw argon2id capacity
// measured in the same run (argon2-reference.mjs):
//
// - password-sign-in: passwords.authenticate with right passwords, cycling through the seeded
//   password members, closed loop with a few connections per hashing slot (enough to keep every
//   slot busy, few enough that latency is mostly the hash and not a queue the load made).
// - password-mixed: password sign-ins arriving on a schedule at half the raw capacity while
//   sessions.authenticate (by token) takes the usual closed-loop load from wrk.
// - password-overload: sign-ins arriving far past capacity, with the same session load: past the
//   pool's queue they must be refused at once with 429 and Retry-After, sessions must stay fast, and
//   the server's memory must stay near its size without hashing plus argon2's memory per slot.
//
// Before these, the same server takes the session load alone for one round: the baseline of the
// session latency and of the memory in the two scenarios with sessions.
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpuSeconds, finished, mainThreadCpuSeconds, PINNING, residentMemoryMb, spawnPinned, watchPeakMemory } from './processes.mjs';
import { median, runScenario } from './runner.mjs';
import { AUTHORIZATION, startUnderstudy } from './understudy.mjs';

export const PASSWORD_SCENARIOS = ['password-sign-in', 'password-mixed', 'password-overload'];
export const PASSWORD_LOAD_GENERATOR = 'password-load';

const LOAD_SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'password-load.mjs');
const PATH = '/v1/b2b/passwords/authenticate';
const HEADERS = { authorization: AUTHORIZATION, 'content-type': 'application/json' };

/**
 * The server's settings beyond the defaults: the argon2id parameters written out (the seed hashed
 * with exactly these, so no sign-in rehashes), and the per-client limit on password attempts at its
 * maximum. All the load comes from one address, which the default (600 a minute) would refuse
 * within seconds; at its maximum the counter is still written on every attempt, as in production,
 * and never reached, so every 429 measured comes from the hashing pool.
 */
export function passwordServerEnv(settings) {
  return {
    UNDERSTUDY_ARGON2_MEMORY_KIB: String(settings.argon2.memoryKib),
    UNDERSTUDY_ARGON2_ITERATIONS: String(settings.argon2.iterations),
    UNDERSTUDY_ARGON2_PARALLELISM: String(settings.argon2.parallelism),
    UNDERSTUDY_RATE_LIMIT_PASSWORD_ATTEMPTS_PER_CLIENT_PER_MINUTE: '1000000',
  };
}

/**
 * The machine's raw argon2id capacity (argon2-reference.mjs): verifications per second with the
 * server's parameters and as many at once as the server's hashing pool has slots, in a process of
 * its own pinned to the server's core (so it sees the CPUs the server sees).
 */
export async function measureArgon2(context) {
  const { argon2, argon2ReferenceSeconds } = context.settings;
  const args = [join(context.root, 'bench/lib/argon2-reference.mjs'), String(argon2ReferenceSeconds), String(argon2.memoryKib), String(argon2.iterations), String(argon2.parallelism)];
  const child = spawnPinned(process.execPath, args, { cpu: PINNING?.server, cwd: context.root });
  const output = await finished(child, 'argon2id reference');
  return JSON.parse(output.trim().split('\n').at(-1));
}

/**
 * Returns the rows measured. The capacity they are held to is measured again right before them, on
 * the same core, with their server up and idle: on a machine shared with other work, a reference
 * taken minutes earlier (the run's, before any server) drifted by up to a quarter from the rate
 * the scenarios then met.
 */
export async function benchmarkPasswords(context, database) {
  const { dialect } = database;
  const names = PASSWORD_SCENARIOS.filter((name) => context.only === undefined || context.only.has(name));
  if (names.length === 0) return [];
  const signIns = database.small.fixtures.passwordSignIns ?? [];
  if (signIns.length === 0) {
    context.log(`${dialect}: password scenarios skipped: the seed wrote no passwords`);
    return [];
  }
  const { settings } = context;
  const server = await startUnderstudy(context.sourceRoot, context.runtime, {
    dataDir: database.small.dataDir,
    databaseUrl: database.small.databaseUrl,
    masterKey: context.masterKey,
    cpu: PINNING?.server,
    env: passwordServerEnv(settings),
  });
  const rows = [];
  try {
    const argon2 = await measureArgon2(context);
    context.log(`${dialect}: argon2id beside the password server: ${argon2.verifications_per_second.toFixed(1)} verifications/s, ${argon2.concurrency} at once`);
    const run = passwordRun(context, dialect, server, argon2, database.small.fixtures);
    await signInOnce(run);
    let sessionsAlone;
    if (names.includes('password-mixed') || names.includes('password-overload')) {
      sessionsAlone = await measureSessions(run, 'password-sessions-alone', { ...settings, rounds: 1 });
      context.log(`${dialect}: sessions alone on the password server: ${Math.round(sessionsAlone.requests_per_second)} req/s, p99 ${sessionsAlone.latency_p99_ms.toFixed(1)} ms, peak RSS ${sessionsAlone.peak_rss_mb?.toFixed(0)} MB`);
    }
    if (names.includes('password-sign-in')) rows.push(await saturatedSignIns(run));
    if (names.includes('password-mixed')) rows.push(await mixed(run, sessionsAlone));
    if (names.includes('password-overload')) rows.push(await overload(run, sessionsAlone));
  } finally {
    await server.stop();
  }
  return rows;
}

/** What the scenarios of one server share; `fixtures` are the nearly empty database's. */
export function passwordRun(context, dialect, server, argon2, fixtures) {
  return { context, dialect, server, argon2, signIns: fixtures.passwordSignIns, sessionTokens: fixtures.sessionTokens, slots: argon2.concurrency };
}

/** Closed loop, `passwordConnectionsPerSlot` connections per hashing slot (also what `--profile` runs). */
export async function saturatedSignIns(run) {
  const { context, dialect, server } = run;
  const { settings } = context;
  const connections = settings.passwordConnectionsPerSlot * run.slots;
  context.log(`${dialect}: password-sign-in (closed loop, ${connections} connections)`);
  const watch = watchPeakMemory(server.pid);
  const cpuBefore = cpuSeconds(server.pid);
  const mainBefore = mainThreadCpuSeconds(server.pid);
  const load = await runPasswordLoad(run, 'password-sign-in', { mode: 'closed', connections, warmupSeconds: settings.warmupSeconds, durationSeconds: settings.durationSeconds, rounds: settings.rounds });
  const peak = watch.stop();
  const cpuUsed = (cpuSeconds(server.pid) ?? Number.NaN) - (cpuBefore ?? Number.NaN);
  const mainUsed = (mainThreadCpuSeconds(server.pid) ?? Number.NaN) - (mainBefore ?? Number.NaN);
  const row = passwordRow(run, 'password-sign-in', load, { peak, method: watch.method, cpuUsed, load: { mode: 'closed', connections } });
  // What a sign-in costs the event loop, besides its hash (which runs on libuv's pool).
  row.password.event_loop_cpu_us_per_sign_in = Number.isFinite(mainUsed) && load.all.responses_2xx > 0 ? (mainUsed * 1e6) / load.all.responses_2xx : null;
  context.log(
    `${dialect}: password-sign-in: ${row.requests_per_second.toFixed(1)} sign-ins/s (${(100 * (row.requests_per_second / run.argon2.verifications_per_second)).toFixed(1)}% of argon2id), p50 ${row.latency_p50_ms.toFixed(0)} ms, p99 ${row.latency_p99_ms.toFixed(0)} ms, 429: ${row.password.too_many_requests_all}, server CPU ${row.server_cpu_us_per_request?.toFixed(0)} µs/sign-in (event loop ${row.password.event_loop_cpu_us_per_sign_in?.toFixed(0)})`,
  );
  return row;
}

/** Sign-ins on a schedule at `passwordMixedShare` of the raw capacity, beside the closed-loop session load. */
async function mixed(run, sessionsAlone) {
  const { context, dialect, server } = run;
  const { settings } = context;
  const rate = settings.passwordMixedShare * run.argon2.verifications_per_second;
  context.log(`${dialect}: password-mixed (${rate.toFixed(1)} sign-ins/s on schedule, sessions.authenticate beside)`);
  const watch = watchPeakMemory(server.pid);
  const [load, sessions] = await Promise.all([
    runPasswordLoad(run, 'password-mixed', { mode: 'open', rate, warmupSeconds: settings.warmupSeconds, durationSeconds: settings.durationSeconds, rounds: settings.rounds, tailSeconds: tailFor(settings) }),
    measureSessions(run, 'password-mixed-sessions', settings, true),
  ]);
  const row = passwordRow(run, 'password-mixed', load, { peak: watch.stop(), method: watch.method, load: { mode: 'open', rate } });
  row.sessions = sessionFigures(sessions, sessionsAlone);
  context.log(
    `${dialect}: password-mixed: ${row.requests_per_second.toFixed(1)} of ${row.password.offered_per_second.toFixed(1)} sign-ins/s, p99 ${row.latency_p99_ms.toFixed(0)} ms, 429: ${row.password.too_many_requests_all}; sessions ${Math.round(sessions.requests_per_second)} req/s, p99 ${sessions.latency_p99_ms.toFixed(1)} ms`,
  );
  return row;
}

/** Sign-ins on a schedule at `passwordOverload.factor` times the raw capacity, beside the session load. */
async function overload(run, sessionsAlone) {
  const { context, dialect, server } = run;
  const { settings } = context;
  const { factor, warmupSeconds, durationSeconds, members } = settings.passwordOverload;
  const rate = factor * run.argon2.verifications_per_second;
  // A flood is the same people retrying: few members, each sending many times the user lock's
  // threshold of right passwords. None of them may end up locked.
  const flood = { ...run, signIns: run.signIns.slice(0, members) };
  context.log(`${dialect}: password-overload (${rate.toFixed(0)} sign-ins/s on schedule by ${flood.signIns.length} members, ${factor}× the capacity, sessions.authenticate beside)`);
  const rssBefore = residentMemoryMb(server.pid);
  const watch = watchPeakMemory(server.pid);
  const short = { ...settings, warmupSeconds, durationSeconds, rounds: 1 };
  const [load, sessions] = await Promise.all([
    runPasswordLoad(flood, 'password-overload', { mode: 'open', rate, warmupSeconds, durationSeconds, rounds: 1, tailSeconds: tailFor(short) }, { lockedAllowed: true }),
    measureSessions(run, 'password-overload-sessions', short, true),
  ]);
  const row = passwordRow(run, 'password-overload', load, { peak: watch.stop(), method: watch.method, load: { mode: 'open', rate, factor, members: flood.signIns.length } });
  row.sessions = sessionFigures(sessions, sessionsAlone);
  const argon2Mb = settings.argon2.memoryKib / 1024;
  const baseline = sessionsAlone?.peak_rss_mb ?? null;
  row.memory = {
    rss_before_mb: rssBefore,
    baseline_peak_rss_mb: baseline,
    argon2_memory_mb: argon2Mb,
    hash_slots: run.slots,
    expected_peak_rss_mb: baseline === null ? null : baseline + argon2Mb * run.slots,
  };
  context.log(
    `${dialect}: password-overload: ${row.password.too_many_requests_all} refused with 429 too_many_requests, ${row.password.user_locked_all} as locked (${row.password.retry_after_missing} without Retry-After) of ${row.password.sent} sent, ${row.requests_per_second.toFixed(1)} sign-ins/s; sessions p99 ${sessions.latency_p99_ms.toFixed(1)} ms; peak RSS ${row.peak_rss_mb?.toFixed(0)} MB (sessions alone ${baseline?.toFixed(0)} MB)`,
  );
  return row;
}

/** The session load; beside sign-ins a round with no answer at all is a finding (`starved`), not a broken run. */
function measureSessions(run, label, settings, beside = false) {
  return runScenario({ scenario: 'session-token', database: run.dialect, servers: [run.server], values: run.sessionTokens, settings, workDir: run.context.workDir, label, emptyRoundsAllowed: beside });
}

/** wrk runs each round as its own process, so the session load ends a little after the rounds' sum; the sign-ins go on meanwhile. */
function tailFor(settings) {
  return 0.5 + 0.25 * (settings.rounds + 1);
}

function sessionFigures(sessions, alone) {
  return {
    requests_per_second: sessions.requests_per_second,
    // A round with no answer has no latency to report: the sessions waited longer than the round.
    starved: sessions.starved,
    latency_p50_ms: sessions.latency_p50_ms,
    latency_p99_ms: sessions.latency_p99_ms,
    load_generator: sessions.load_generator,
    rounds: sessions.rounds,
    alone: alone === undefined ? null : { requests_per_second: alone.requests_per_second, latency_p50_ms: alone.latency_p50_ms, latency_p99_ms: alone.latency_p99_ms, peak_rss_mb: alone.peak_rss_mb },
  };
}

/** The row of a password scenario: the medians of its measured rounds, counting only 200s as sign-ins. */
function passwordRow(run, scenario, { rounds, all }, { peak, method, cpuUsed, load }) {
  const answered = all.responses_2xx;
  return {
    scenario,
    database: run.dialect,
    processes: 1,
    load_generator: PASSWORD_LOAD_GENERATOR,
    requests_per_second: median(rounds.map((round) => round.requests_per_second)),
    latency_p50_ms: median(rounds.map((round) => round.latency_p50_ms)),
    latency_p99_ms: median(rounds.map((round) => round.latency_p99_ms)),
    peak_rss_mb: peak,
    peak_rss_method: method,
    response_bytes: all.response_bytes,
    // Only where sign-ins are all the server does (the closed loop): warm-up included, per 200.
    server_cpu_us_per_request: cpuUsed !== undefined && Number.isFinite(cpuUsed) && answered > 0 ? (cpuUsed * 1e6) / answered : null,
    exhausted: false,
    rounds,
    // The capacity this row is held to (measured just before this database's password scenarios).
    argon2_reference: { verifications_per_second: run.argon2.verifications_per_second, concurrency: run.argon2.concurrency, seconds: run.argon2.seconds },
    password: {
      ...load,
      hash_slots: run.slots,
      offered_per_second: load.mode === 'open' ? median(rounds.map((round) => round.offered_per_second)) : null,
      too_many_requests: rounds.reduce((sum, round) => sum + round.too_many_requests, 0),
      too_many_requests_all: all.too_many_requests,
      // Right passwords refused as locked (user_lock_limit_reached): only the overload tolerates them, as a finding.
      user_locked_all: all.user_locked,
      retry_after_missing: all.retry_after_missing,
      retry_after_seconds: all.retry_after_seconds,
      refused_latency_p99_ms: all.refused_latency_p99_ms,
      sent: all.sent,
      signed_in: answered,
    },
  };
}

/**
 * Runs password-load.mjs pinned to the load core; fails on any answer that is neither a sign-in nor
 * the pool's 429, or (unless `lockedAllowed`) a user lock's 429.
 */
async function runPasswordLoad(run, label, load, { lockedAllowed = false } = {}) {
  const { workDir } = run.context;
  const valuesFile = join(workDir, `${run.dialect}-${label}-values.json`);
  const jobFile = join(workDir, `${run.dialect}-${label}-job.json`);
  writeFileSync(valuesFile, JSON.stringify(run.signIns));
  // A queued sign-in may wait for the whole queue ahead of it (64 hashes by default) on a slow machine.
  writeFileSync(jobFile, JSON.stringify({ target: run.server.url, request: { method: 'POST', path: PATH, headers: HEADERS }, valuesFile, timeoutSeconds: 30, ...load }));
  const child = spawnPinned(process.execPath, [LOAD_SCRIPT, jobFile], { cpu: PINNING?.load, env: process.env });
  const output = await finished(child, `password load for ${label} on ${run.dialect}`);
  const lines = output
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line));
  const all = lines.find((line) => line.round === 'all');
  const rounds = lines.filter((line) => typeof line.round === 'number' && line.round > 0);
  const expected = lockedAllowed ? ['too_many_requests', 'user_lock_limit_reached'] : ['too_many_requests'];
  const refusedOtherwise = Object.keys(all.too_many_requests_error_types).filter((type) => !expected.includes(type));
  // Not per round: on schedule, a short round may end before any queued sign-in does.
  if (all.failures > 0 || refusedOtherwise.length > 0 || all.responses_2xx === 0) {
    throw new Error(`${label} on ${run.dialect}: ${JSON.stringify({ statuses: all.statuses, failures: all.failures, timeouts: all.timeouts, samples: all.failure_samples, refused_as: all.too_many_requests_error_types })}`);
  }
  return { rounds, all };
}

/** One sign-in before any load: the operation is served and a right password signs the member in. */
export async function signInOnce(run) {
  const response = await fetch(`${run.server.url}${PATH}`, { method: 'POST', headers: HEADERS, body: JSON.stringify(run.signIns[0]) });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`passwords.authenticate with a seeded member's right password answered ${response.status}: ${text.slice(0, 500)}`);
  if (JSON.parse(text).member_authenticated !== true) throw new Error(`passwords.authenticate did not sign the seeded member in: ${text.slice(0, 500)}`);
}
