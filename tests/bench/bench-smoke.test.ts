import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * `npm run bench` in its smoke mode (`node bench/run.mjs --smoke`): the whole benchmark, every
 * scenario, on a tiny seed with sub-second rounds, so it cannot silently break. No target is
 * asserted here; only that every scenario really ran against a working server. PostgreSQL joins in
 * when UNDERSTUDY_TEST_DATABASE_URL is set, as in the full run.
 */
const ROOT = resolve(import.meta.dirname, '../..');
const ON_POSTGRES = Boolean(process.env.UNDERSTUDY_BENCH_DATABASE_URL || process.env.UNDERSTUDY_TEST_DATABASE_URL);

interface Row {
  scenario: string;
  database: string;
  processes: number;
  requests_per_second: number;
  latency_p50_ms: number;
  latency_p99_ms: number;
  peak_rss_mb: number | null;
  response_bytes: number;
  rounds: { responses_2xx: number }[];
  ratio_to_ceiling: { requests_per_second: number } | null;
  targets: { target: string; met: boolean }[];
}

interface Result {
  mode: string;
  environment: { node: string; sqlite: string; postgresql: string | null; machine: { nproc: number } };
  settings: { connections: number; rounds: number };
  seeding: Record<string, { rows: { sessions: number; members: number } }>;
  rows: Row[];
}

let outDir: string;
let run: { code: number | null; stdout: string; stderr: string };
let docsModifiedBefore: number;

beforeAll(async () => {
  outDir = mkdtempSync(join(tmpdir(), 'understudy-bench-smoke-'));
  docsModifiedBefore = statSync(join(ROOT, 'docs', 'performance.md'), { throwIfNoEntry: false })?.mtimeMs ?? 0;
  run = await new Promise((resolveRun) => {
    const child = spawn(process.execPath, [join(ROOT, 'bench', 'run.mjs'), '--smoke', '--out', outDir], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk;
    });
    child.on('exit', (code) => resolveRun({ code, stdout, stderr }));
  });
}, 240_000);

afterAll(() => {
  rmSync(outDir, { recursive: true, force: true });
});

function result(): Result {
  const file = readdirSync(outDir).find((name) => name.startsWith('bench-smoke-') && name.endsWith('.json'));
  expect(file, `no results JSON in ${outDir}; stderr:\n${run.stderr}`).toBeDefined();
  return JSON.parse(readFileSync(join(outDir, file as string), 'utf8')) as Result;
}

describe('the benchmark in smoke mode', () => {
  it('runs to the end and exits 0', () => {
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('| Scenario |');
  });

  it('measures every scenario on SQLite, and on PostgreSQL when a URL is set', () => {
    const rows = result().rows;
    const expected = ['session-token', 'session-jwt', 'members-get', 'jwks', 'impersonation', 'session-token-1m'];
    expect(rows.filter((row) => row.database === 'sqlite').map((row) => row.scenario)).toEqual(expected);
    expect(rows.filter((row) => row.database === 'postgres').map((row) => row.scenario)).toEqual(ON_POSTGRES ? [...expected, 'scale-out-2x'] : []);
    expect(rows[0]?.scenario).toBe('ceiling');
  });

  it('answers every request of every scenario with a 2xx and records its figures', () => {
    for (const row of result().rows) {
      const label = `${row.scenario} on ${row.database}`;
      expect(row.rounds.length, label).toBeGreaterThan(0);
      for (const round of row.rounds) expect(round.responses_2xx, label).toBeGreaterThan(0);
      expect(row.requests_per_second, label).toBeGreaterThan(0);
      expect(row.latency_p99_ms, label).toBeGreaterThanOrEqual(row.latency_p50_ms);
      expect(row.response_bytes, label).toBeGreaterThan(100);
      expect(row.ratio_to_ceiling?.requests_per_second, label).toBeGreaterThan(0);
      if (process.platform === 'linux') expect(row.peak_rss_mb, label).toBeGreaterThan(10);
    }
  });

  it('holds each scenario to its target of issue #6 without asserting them', () => {
    const rows = result().rows;
    const targets = (scenario: string, database = 'sqlite') => rows.find((row) => row.scenario === scenario && row.database === database)?.targets.map((check) => check.target);
    expect(targets('session-token')).toEqual(['>= 50% of ceiling req/s', 'p99 < 25 ms', 'peak RSS < 250 MB']);
    expect(targets('session-jwt')).toEqual(['>= 40% of ceiling req/s', 'p99 < 25 ms', 'peak RSS < 250 MB']);
    expect(targets('session-token-1m')).toContain('within 15% of the nearly empty database');
    expect(targets('impersonation')).toContain('>= 400 redemptions/s');
  });

  it('seeds the databases it reports, and records versions and machine', () => {
    const { seeding, environment, settings, mode } = result();
    expect(mode).toBe('smoke');
    expect(seeding['sqlite-large']?.rows.sessions).toBe(2_000);
    expect(seeding['sqlite-large']?.rows.members).toBe(200);
    expect(environment.node).toBe(process.version);
    expect(environment.sqlite).toMatch(/^3\.\d+\.\d+$/);
    expect(environment.postgresql === null).toBe(!ON_POSTGRES);
    expect(environment.machine.nproc).toBeGreaterThan(0);
    expect(settings.rounds).toBe(1);
  });

  it('writes its page beside its JSON and leaves docs/performance.md alone', () => {
    const page = readFileSync(join(outDir, 'performance-smoke.md'), 'utf8');
    expect(page).toContain('| sessions.authenticate (session_token) | sqlite |');
    expect(page).toContain(`Node ${process.version}`);
    expect(statSync(join(ROOT, 'docs', 'performance.md'), { throwIfNoEntry: false })?.mtimeMs ?? 0).toBe(docsModifiedBefore);
  });
});
