import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { killLeftoverProcesses, runCli, temporaryDirectory } from '../integration/cli/cli-process.js';
import { createThrowawayPostgresDatabase, POSTGRES_SKIP_REASON, POSTGRES_URL } from '../support/stores.js';
import { checkDatabase, type Query, redeemLeftoverTokens, verifyAcknowledged } from './support/crash-checks.js';
import { emptyLedger, httpCaller, type Ledger, runClient } from './support/crash-workload.js';
import { chooseSeed, type SeededRandom, seededRandom } from './support/seeded-random.js';

/**
 * Crash safety (docs/reliability.md): a real `understudy serve` process takes writes from several
 * concurrent clients (organizations, members, impersonation mint and redeem, session revocation)
 * and is killed with SIGKILL at a random moment, several times, then started again on the same
 * data. Whatever it acknowledged must be there; nothing may be half-written; a single-use token
 * never makes two sessions. Replay a failure with UNDERSTUDY_CRASH_SEED=<the printed seed>.
 */
const SEED = chooseSeed('UNDERSTUDY_CRASH_SEED');
process.stdout.write(`[crash-safety] seed ${SEED} (replay with UNDERSTUDY_CRASH_SEED=${SEED})\n`);

const CLIENTS = 4;
/** Each round: start, check what earlier rounds were told, run the workload, SIGKILL after this many ms. */
const KILL_AFTER_MS = { min: 40, max: 700 } as const;
const CREDENTIALS = { projectId: 'project-test-c7a5c7a5-0000-4000-8000-000000000001', secret: 'secret-test-crash-safety-0123456789abcdef' };
const MASTER_KEY = Buffer.alloc(32, 5).toString('base64');

interface CrashRun {
  readonly ledger: Ledger;
  readonly problems: string[];
  readonly kills: number[];
}

function serverEnvironment(dataDir: string, databaseUrl: string | undefined): Record<string, string> {
  return {
    UNDERSTUDY_DATA_DIR: dataDir,
    UNDERSTUDY_PORT: '0',
    UNDERSTUDY_LOG_LEVEL: 'info',
    UNDERSTUDY_PROJECT_ID: CREDENTIALS.projectId,
    UNDERSTUDY_PROJECT_SECRET: CREDENTIALS.secret,
    UNDERSTUDY_MASTER_KEY: MASTER_KEY,
    // The workload mints and re-redeems far more than the per-minute limits allow; limits are tested elsewhere.
    UNDERSTUDY_RATE_LIMITS_ENABLED: 'false',
    ...(databaseUrl !== undefined && { UNDERSTUDY_DATABASE_URL: databaseUrl }),
  };
}

/** `rounds` kill-and-restart cycles, then a last start that checks everything and stops cleanly. */
async function crashRounds(env: Record<string, string>, rounds: number, random: SeededRandom): Promise<CrashRun> {
  const ledger = emptyLedger();
  const problems: string[] = [];
  const kills: number[] = [];
  for (let round = 0; round < rounds; round += 1) {
    const cli = runCli(['serve'], env);
    const call = httpCaller(await cli.listening(), CREDENTIALS);
    problems.push(...(await verifyAcknowledged(call, ledger)).map((problem) => `after kill ${round}: ${problem}`));
    let isStopped = false;
    const clients = Array.from({ length: CLIENTS }, () => runClient(call, ledger, random.fork(), String(SEED), () => isStopped));
    const delay = random.integer(KILL_AFTER_MS.min, KILL_AFTER_MS.max);
    await sleep(delay);
    cli.child.kill('SIGKILL');
    isStopped = true;
    kills.push(delay);
    expect((await cli.exited).signal).toBe('SIGKILL');
    await Promise.all(clients);
  }
  const cli = runCli(['serve'], env);
  const call = httpCaller(await cli.listening(), CREDENTIALS);
  problems.push(...(await verifyAcknowledged(call, ledger)).map((problem) => `after kill ${rounds}: ${problem}`));
  problems.push(...(await redeemLeftoverTokens(call, ledger)));
  // Those redemptions were acknowledged too: a second attempt must be refused.
  problems.push(...(await verifyAcknowledged(call, ledger)).map((problem) => `final: ${problem}`));
  expect(await cli.stop(), cli.stderr()).toEqual({ code: 0, signal: null });
  return { ledger, problems, kills };
}

function summary(name: string, run: CrashRun, counts: Record<string, number>): string {
  const sessions = [...run.ledger.sessions.values()];
  const redemptions = [...run.ledger.redemptions.values()];
  return `[crash-safety] ${name} seed ${SEED}: ${run.kills.length} kills after ${run.kills.join(', ')} ms; ${run.ledger.requests} workload requests, ${run.ledger.lost} without an answer; acknowledged: ${run.ledger.organizations.length} organizations, ${run.ledger.members.length} members, ${redemptions.filter((r) => r.state === 'acknowledged').length} redemptions, ${sessions.filter((s) => s.revocation === 'acknowledged').length} revocations; cut-off redemptions found consumed: ${redemptions.filter((r) => r.state === 'consumed_unacknowledged').length}; stored: ${JSON.stringify(counts)}\n`;
}

async function expectCrashSafe(name: string, run: CrashRun, query: Query): Promise<void> {
  const { problems, counts } = await checkDatabase(query, run.ledger);
  process.stdout.write(summary(name, run, counts));
  const replay = `seed ${SEED} (UNDERSTUDY_CRASH_SEED=${SEED})`;
  expect(run.ledger.unexpected, `answers during the workload, ${replay}`).toEqual([]);
  expect(run.problems, `after restarts, ${replay}`).toEqual([]);
  expect(problems, `database state, ${replay}`).toEqual([]);
  // The workload really exercised what is checked.
  expect(run.ledger.organizations.length).toBeGreaterThan(0);
  expect(run.ledger.members.length).toBeGreaterThan(0);
  expect([...run.ledger.redemptions.values()].filter((redemption) => redemption.state === 'acknowledged').length).toBeGreaterThan(0);
}

afterAll(() => killLeftoverProcesses());

describe('crash safety: SIGKILL during writes, restart on the same data', () => {
  it('SQLite (WAL, synchronous=NORMAL): 5 kills; acknowledged writes survive, nothing half-written, tokens single use', { timeout: 90_000 }, async () => {
    const scratch = temporaryDirectory('crash-sqlite');
    try {
      const run = await crashRounds(serverEnvironment(scratch.path, undefined), 5, seededRandom(SEED));
      const database = new SQLite(join(scratch.path, 'understudy.db'), { readonly: true });
      try {
        expect(database.pragma('integrity_check', { simple: true })).toBe('ok');
        await expectCrashSafe('sqlite', run, async (sql) => database.prepare(sql).all() as Record<string, unknown>[]);
      } finally {
        database.close();
      }
    } finally {
      scratch.remove();
    }
  });

  // Skipped without a PostgreSQL server: POSTGRES_SKIP_REASON says how to provide one.
  it.skipIf(!POSTGRES_URL)(
    `PostgreSQL (${POSTGRES_URL ? 'a throwaway database' : POSTGRES_SKIP_REASON}): 4 kills; acknowledged writes survive, nothing half-written, tokens single use`,
    { timeout: 90_000 },
    async () => {
      const scratch = temporaryDirectory('crash-postgres');
      const database = await createThrowawayPostgresDatabase();
      try {
        const run = await crashRounds(serverEnvironment(scratch.path, database.url), 4, seededRandom(SEED ^ 0x5bd1e995));
        const client = new pg.Client({ connectionString: database.url });
        await client.connect();
        try {
          await expectCrashSafe('postgres', run, async (sql) => (await client.query(sql)).rows as Record<string, unknown>[]);
        } finally {
          await client.end();
        }
      } finally {
        await database.drop();
        scratch.remove();
      }
    },
  );
});
