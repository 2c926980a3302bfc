#!/usr/bin/env node
// `npm run bench`: Understudy's hot paths against a bare node:http ceiling and two reference servers
// (node:http and Fastify sending the same answer with no work), on SQLite and (when a URL is given)
// PostgreSQL, including password sign-ins against the machine's argon2id capacity, a 1,000,000-session
// database and two processes on one PostgreSQL, then
// (PostgreSQL only) a soak of mixed traffic on two processes. Load comes from wrk (bench/lib/wrk-worker.mjs).
// Writes bench/results/*.json, docs/performance.md and bench/results/soak-*.md. See bench/README.md.
//   node bench/run.mjs [--smoke] [--no-postgres] [--rounds N] [--duration S] [--warmup S]
//                      [--connections N] [--out DIR] [--no-docs] [--profile] [--runtime build|tsx]
//                      [--only scenario,scenario] [--source DIR] [--render results.json]
//                      [--no-soak] [--soak-only] [--soak-duration S] [--load-generator wrk|autocannon]
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createPostgresDatabase, POSTGRES_URL, postgresVersion } from './lib/databases.mjs';
import { describeEnvironment, loadAverage } from './lib/environment.mjs';
import { runProfiles } from './lib/profiling.mjs';
import { evaluate, renderMarkdown, renderTable, writeJson } from './lib/report.mjs';
import { runSoak } from './lib/soak.mjs';
import { summarizeSoak, writeSoakReport } from './lib/soak-report.mjs';
import { PASSWORD_SCENARIOS } from './lib/passwords.mjs';
import { benchmarkDatabase, measureArgon2, measureCeiling, measureReferences, measureRs256, seedAll } from './lib/suite.mjs';
import { prepareRuntime } from './lib/understudy.mjs';
import { requireWrk } from './lib/wrk.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const { values: flags } = parseArgs({
  options: {
    smoke: { type: 'boolean', default: false },
    'no-postgres': { type: 'boolean', default: false },
    'no-docs': { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
    rounds: { type: 'string' },
    duration: { type: 'string' },
    warmup: { type: 'string' },
    connections: { type: 'string' },
    out: { type: 'string' },
    runtime: { type: 'string' },
    only: { type: 'string' },
    source: { type: 'string' },
    render: { type: 'string' },
    'no-soak': { type: 'boolean', default: false },
    'soak-only': { type: 'boolean', default: false },
    'soak-duration': { type: 'string' },
    'load-generator': { type: 'string', default: 'wrk' },
  },
});

/** The fixed settings of a full run, and of the smoke run `npm test` makes (seconds, tiny seed, no targets). */
const FULL = {
  mode: 'full',
  runtime: 'build',
  connections: 50,
  /** wrk's threads: one, as the load generator has one core of its own (bench/lib/processes.mjs). */
  wrkThreads: 1,
  warmupSeconds: 2,
  durationSeconds: 7,
  rounds: 3,
  small: { organizations: 1, members: 100, sessions: 1_000, benchmarkSessions: 1_000 },
  large: { organizations: 100, members: 100_000, sessions: 1_000_000, benchmarkSessions: 1_000 },
  /** Each redeemed once; enough for 2,500 redemptions/s through the warm-up and every round. */
  redemptionsPerSecondBudget: 2_500,
  /** Magic links and one-time codes, each redeemed once (a code needs a member of its own): enough for 1,500 sign-ins/s. */
  signInsPerSecondBudget: 1_500,
  /** Seconds the RS256 signing reference signs for. */
  rs256Seconds: 3,
  /**
   * The password scenarios (bench/lib/passwords.mjs): members with a password (sharing a few dozen
   * distinct passwords), argon2id's parameters (Understudy's defaults, OWASP's minimum; the server,
   * the seed and the reference all use these), how long the raw capacity is measured, connections
   * per hashing slot in the closed loop, the arrival rate beside sessions as a share of the raw
   * capacity, and the short overload (by a few members, each retrying many times the user lock's
   * threshold).
   */
  passwordMembers: 1_000,
  argon2: { memoryKib: 19_456, iterations: 2, parallelism: 1 },
  argon2ReferenceSeconds: 5,
  passwordConnectionsPerSlot: 4,
  passwordMixedShare: 0.5,
  passwordOverload: { factor: 5, warmupSeconds: 1, durationSeconds: 5, members: 50 },
  /** The soak (bench/lib/soak.mjs): its length, how often memory is sampled, and its own database. */
  soak: {
    durationSeconds: 120,
    sampleSeconds: 2,
    timelineSeconds: 10,
    workers: 2,
    seed: { organizations: 4, members: 400, sessions: 2_000, benchmarkSessions: 1_000 },
  },
};
const SMOKE = {
  ...FULL,
  mode: 'smoke',
  runtime: 'tsx',
  connections: 10,
  warmupSeconds: 0.2,
  durationSeconds: 0.6,
  rounds: 1,
  small: { organizations: 1, members: 20, sessions: 100, benchmarkSessions: 100 },
  large: { organizations: 2, members: 200, sessions: 2_000, benchmarkSessions: 100 },
  redemptionsPerSecondBudget: 1_500,
  signInsPerSecondBudget: 1_000,
  rs256Seconds: 0.5,
  passwordMembers: 20,
  argon2ReferenceSeconds: 0.5,
  passwordOverload: { factor: 5, warmupSeconds: 0.2, durationSeconds: 0.6, members: 10 },
  soak: { durationSeconds: 3, sampleSeconds: 0.5, timelineSeconds: 1, workers: 2, seed: { organizations: 1, members: 20, sessions: 100, benchmarkSessions: 100 } },
};

const base = flags.smoke ? SMOKE : FULL;
const settings = {
  ...base,
  runtime: flags.runtime ?? base.runtime,
  rounds: numberFlag('rounds', base.rounds),
  durationSeconds: numberFlag('duration', base.durationSeconds),
  warmupSeconds: numberFlag('warmup', base.warmupSeconds),
  connections: numberFlag('connections', base.connections),
  soak: { ...base.soak, durationSeconds: numberFlag('soak-duration', base.soak.durationSeconds) },
  loadGenerator: flags['load-generator'],
};
settings.impersonationTokens = Math.ceil((settings.warmupSeconds + settings.rounds * settings.durationSeconds) * settings.redemptionsPerSecondBudget);
settings.emailSignIns = Math.ceil((settings.warmupSeconds + settings.rounds * settings.durationSeconds) * settings.signInsPerSecondBudget);
const resultsDir = resolve(flags.out ?? join(ROOT, 'bench', 'results'));
const postgresUrl = flags['no-postgres'] ? undefined : POSTGRES_URL;
const only = flags.only === undefined ? undefined : new Set(flags.only.split(','));
const isSoakOnly = flags['soak-only'];
const soakSkipReason = whySkipSoak();
if (isSoakOnly && soakSkipReason !== undefined) {
  process.stderr.write(`--soak-only cannot run: ${soakSkipReason}\n`);
  process.exit(2);
}

// --render <results.json>: rewrite docs/performance.md from a full run's JSON (after editing the notes).
if (flags.render) {
  const result = JSON.parse(readFileSync(resolve(flags.render), 'utf8'));
  if (result.rows.length === 0) throw new Error(`${flags.render} has no scenario rows (a --soak-only run?)`);
  result.json_file ??= relative(ROOT, resolve(flags.render));
  writeFileSync(join(ROOT, 'docs', 'performance.md'), renderMarkdown(result, join(ROOT, 'bench', 'performance-notes.md')));
  process.stdout.write('docs/performance.md written\n');
  process.exit(0);
}

// wrk is checked before anything is seeded: a missing generator fails at once, naming the install
// command, rather than after minutes of seeding or by falling back to a slower generator.
if (!['wrk', 'autocannon'].includes(settings.loadGenerator)) {
  process.stderr.write(`--load-generator must be wrk or autocannon, not ${settings.loadGenerator}\n`);
  process.exit(2);
}
if (settings.loadGenerator === 'wrk' && !isSoakOnly) {
  try {
    requireWrk();
  } catch (error) {
    process.stderr.write(`${error.message}\n`);
    process.exit(2);
  }
}

const startedAt = performance.now();
const loadAtStart = loadAverage();
const workDir = mkdtempSync(join(tmpdir(), 'understudy-bench-'));
const dropDatabases = [];
const log = (text) => process.stderr.write(`[bench ${((performance.now() - startedAt) / 1000).toFixed(0).padStart(3)} s] ${text}\n`);

try {
  const masterKey = randomBytes(32).toString('base64');
  log(`preparing Understudy (${settings.runtime})`);
  // --source <dir> benchmarks another version of Understudy with this harness (a before/after
  // comparison): `dir` is a checkout of that version (`git worktree add <dir> <commit>`) with a
  // node_modules. Its server is built from its own src/, and its database is seeded by its own
  // bench/lib/seed.mjs, which speaks its src/'s API (the fixtures it writes are checked below).
  // Without one (a bare `git archive` of src/), a copy of this harness's seed runs there instead,
  // two levels down so that `../../src` resolves to its src/, leaving its own files alone.
  const sourceRoot = flags.source ? realpathSync(resolve(flags.source)) : ROOT;
  let seedScript = join(ROOT, 'bench', 'lib', 'seed.mjs');
  if (sourceRoot !== ROOT) {
    settings.source = sourceRoot;
    seedScript = join(sourceRoot, 'bench', 'lib', 'seed.mjs');
    if (!existsSync(seedScript)) {
      seedScript = join(sourceRoot, 'bench', '.harness-seed', 'seed.mjs');
      mkdirSync(dirname(seedScript), { recursive: true });
      copyFileSync(join(ROOT, 'bench', 'lib', 'seed.mjs'), seedScript);
    }
    log(`measuring ${sourceRoot} with this harness, seeded by ${relative(sourceRoot, seedScript)}`);
  }
  const runtime = prepareRuntime(sourceRoot, settings.runtime);
  // Without the 1,000,000-session scenario, its database is not worth seeding.
  if (only !== undefined && !only.has('session-token-1m')) settings.large = { organizations: 1, members: 1, sessions: 1, benchmarkSessions: 1 };
  const context = { root: ROOT, sourceRoot, seedScript, runtime, settings, workDir, masterKey, log, only };

  if (flags.profile) {
    await runProfiles(context, resultsDir);
  } else {
    let rows = [];
    let seeding = {};
    let rs256;
    let argon2;
    // --soak-only: no scenario, so no ceiling and no scenario databases either.
    const databases = isSoakOnly ? [] : [{ dialect: 'sqlite' }];
    if (postgresUrl && !isSoakOnly) databases.push({ dialect: 'postgres' });
    for (const database of databases) {
      for (const size of ['small', 'large']) {
        if (database.dialect === 'sqlite') {
          const dataDir = join(workDir, `sqlite-${size}`);
          database[size] = { target: { dialect: 'sqlite', sqliteFile: join(dataDir, 'understudy.db') }, dataDir };
        } else {
          const created = await createPostgresDatabase(postgresUrl);
          dropDatabases.push(created.drop);
          database[size] = { target: { dialect: 'postgres', databaseUrl: created.url }, dataDir: join(workDir, `postgres-${size}`), databaseUrl: created.url };
        }
      }
    }
    if (!isSoakOnly) {
      seeding = await seedAll(context, databases);
      rows = [await measureCeiling(context)];
      log(`ceiling: ${Math.round(rows[0].requests_per_second)} req/s`);
      rs256 = await measureRs256(context);
      log(`RS256 signing: ${Math.round(rs256.signatures_per_second)} signatures/s on one core`);
      if (PASSWORD_SCENARIOS.some((scenario) => only === undefined || only.has(scenario))) {
        argon2 = await measureArgon2(context);
        context.argon2 = argon2;
        log(`argon2id: ${argon2.verifications_per_second.toFixed(1)} verifications/s, ${argon2.concurrency} at once`);
      }
      const references = [];
      for (const database of databases) {
        rows.push(...(await benchmarkDatabase(context, database)));
        // Right after SQLite's scenarios, with one of its real answers; listed beside the ceiling.
        if (database.referenceAnswerFile) references.push(...(await measureReferences(context, database.referenceAnswerFile, database.small.fixtures.sessionTokens)));
      }
      rows.splice(1, 0, ...references);
    }
    // The soak: after the scenarios, on a database of its own (PostgreSQL only).
    if (soakSkipReason !== undefined) log(`soak skipped: ${soakSkipReason}`);
    const soak = soakSkipReason === undefined ? await runSoak(context, postgresUrl) : { skipped: true, reason: soakSkipReason };

    const evaluated = evaluate(rows, rs256, argon2);
    const finishedAt = new Date();
    const result = {
      mode: settings.mode,
      ...(isSoakOnly && { only: 'soak' }),
      finished_at: finishedAt.toISOString(),
      duration_seconds: (performance.now() - startedAt) / 1000,
      environment: describeEnvironment(ROOT, sourceRoot, postgresUrl ? await postgresVersion(postgresUrl) : undefined, loadAtStart),
      load_average_at_end: loadAverage(),
      settings,
      shapes: { small: settings.small, large: settings.large },
      seeding,
      rs256,
      argon2: argon2 ?? null,
      rows: evaluated,
      soak,
    };
    if (!soak.skipped) soak.page = relative(ROOT, writeSoakReport(resultsDir, result));
    result.json_file = relative(ROOT, writeJson(resultsDir, result)) || resultsDir;
    if (!isSoakOnly) {
      process.stdout.write(`\n${renderTable(evaluated)}\n`);
      // Only a complete full run of this checkout rewrites docs/performance.md; a smoke, partial or
      // --source run writes its page beside its JSON.
      const isComplete = settings.mode === 'full' && only === undefined && !flags['no-docs'] && sourceRoot === ROOT;
      const page = isComplete ? join(ROOT, 'docs', 'performance.md') : join(resultsDir, `performance-${settings.mode}.md`);
      writeFileSync(page, renderMarkdown(result, join(ROOT, 'bench', 'performance-notes.md')));
      process.stdout.write(`${relative(ROOT, page)} written\n`);
    }
    if (soak.skipped) process.stdout.write(`soak skipped: ${soak.reason}\n`);
    else {
      process.stdout.write(`\n${summarizeSoak(soak)}\n${soak.page} written\n`);
      // A failed soak fails the run, after everything is written.
      if (!soak.passed) process.exitCode = 1;
    }
    process.stdout.write(`results: ${result.json_file}\n`);
  }
} finally {
  if (settings.source) rmSync(join(settings.source, 'bench', '.harness-seed'), { recursive: true, force: true });
  for (const drop of dropDatabases) await drop().catch((error) => log(`dropping a benchmark database failed: ${error.message}`));
  rmSync(workDir, { recursive: true, force: true });
}

/** Why this run has no soak, or undefined when it has one. */
function whySkipSoak() {
  if (flags['no-soak']) return isSoakOnly ? '--no-soak and --soak-only contradict each other' : '--no-soak';
  if (flags.profile) return '--profile';
  if (flags['no-postgres']) return '--no-postgres (the soak runs on PostgreSQL only)';
  if (!postgresUrl) return 'no PostgreSQL URL (the soak runs on PostgreSQL only; set UNDERSTUDY_BENCH_DATABASE_URL or UNDERSTUDY_TEST_DATABASE_URL)';
  if (only !== undefined && !only.has('soak') && !isSoakOnly) return '--only without soak';
  return undefined;
}

function numberFlag(name, fallback) {
  if (flags[name] === undefined) return fallback;
  const value = Number(flags[name]);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a positive number`);
  return value;
}
