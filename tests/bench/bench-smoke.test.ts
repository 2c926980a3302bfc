import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * `npm run bench` in its smoke mode (`node bench/run.mjs --smoke`): the whole benchmark, every
 * scenario, on a tiny seed with sub-second rounds, so it cannot silently break. No target is
 * asserted here; only that every scenario really ran against a working server. PostgreSQL joins in
 * when UNDERSTUDY_TEST_DATABASE_URL is set, as in the full run, and with it a 3 s soak of mixed
 * traffic on two server processes (docs/reliability.md, "Load and soak"); its memory is not judged
 * in so short a run. Load comes from wrk, as in the full run: without wrk on PATH the run refuses to
 * start, and so does this test, naming the install command.
 */
const ROOT = resolve(import.meta.dirname, '../..');
const ON_POSTGRES = Boolean(process.env.UNDERSTUDY_BENCH_DATABASE_URL || process.env.UNDERSTUDY_TEST_DATABASE_URL);
const WRK = (process.env.PATH ?? '')
  .split(delimiter)
  .filter(Boolean)
  .map((directory) => join(directory, 'wrk'))
  .find((candidate) => existsSync(candidate));

interface Row {
  scenario: string;
  database: string;
  processes: number;
  load_generator: string;
  requests_per_second: number;
  latency_p50_ms: number;
  latency_p99_ms: number;
  peak_rss_mb: number | null;
  response_bytes: number;
  rounds: { responses_2xx: number }[];
  ratio_to_ceiling: { requests_per_second: number } | null;
  ratio_to_reference_fastify: number | null;
  targets: { target: string; met: boolean }[];
}

interface PasswordRow extends Row {
  ratio_to_argon2: number | null;
  argon2_reference: { verifications_per_second: number; concurrency: number };
  server_cpu_us_per_request: number | null;
  password: {
    mode: 'closed' | 'open';
    connections?: number;
    rate?: number;
    hash_slots: number;
    offered_per_second: number | null;
    too_many_requests_all: number;
    user_locked_all: number;
    members?: number;
    retry_after_missing: number;
    sent: number;
    signed_in: number;
  };
  sessions?: {
    requests_per_second: number;
    latency_p99_ms: number;
    starved: boolean;
    rounds: { responses_2xx: number }[];
    alone: { latency_p99_ms: number; peak_rss_mb: number | null } | null;
  };
  memory?: { baseline_peak_rss_mb: number | null; argon2_memory_mb: number; hash_slots: number; expected_peak_rss_mb: number | null };
}

interface Argon2Reference {
  verifications_per_second: number;
  verifications: number;
  concurrency: number;
  parameters: { memory_kib: number; iterations: number; parallelism: number };
}

const PASSWORD_SCENARIOS = ['password-sign-in', 'password-mixed', 'password-overload'];

interface SoakServer {
  responses: number;
  errors: number;
  running_at_end: boolean;
  memory: { judged: boolean; rss_at_start_mb: number | null; samples: number };
}

interface Soak {
  skipped: boolean;
  reason?: string;
  passed?: boolean;
  failures?: string[];
  processes?: number;
  requests?: number;
  errors?: { total: number };
  calls?: Record<string, { requests: number; expected_answers: number; errors: number }>;
  revoked_sessions_refused?: number;
  servers?: SoakServer[];
  page?: string;
}

interface Result {
  mode: string;
  environment: { node: string; sqlite: string; postgresql: string | null; wrk: string | null; machine: { nproc: number } };
  settings: { connections: number; rounds: number; argon2: { memoryKib: number; iterations: number; parallelism: number }; passwordMixedShare: number; passwordOverload: { factor: number } };
  argon2: Argon2Reference | null;
  seeding: Record<string, { rows: { sessions: number; members: number; member_passwords: number } }>;
  rows: Row[];
  soak: Soak;
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
  it('finds wrk, its load generator', () => {
    expect(WRK, 'wrk is not installed; the benchmark needs it as its load generator. Install it: apt-get install -y wrk').toBeDefined();
  });

  it('runs to the end and exits 0', () => {
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('| Scenario |');
  });

  it('measures every scenario on SQLite, and on PostgreSQL when a URL is set', () => {
    const rows = result().rows;
    const expected = ['session-token', 'session-jwt', 'members-get', 'jwks', 'impersonation', 'impersonation-mint', 'magic-link', 'email-otp', ...PASSWORD_SCENARIOS, 'session-token-1m'];
    expect(rows.filter((row) => row.database === 'sqlite').map((row) => row.scenario)).toEqual(expected);
    expect(rows.filter((row) => row.database === 'postgres').map((row) => row.scenario)).toEqual(ON_POSTGRES ? [...expected, 'scale-out-2x'] : []);
    expect(rows[0]?.scenario).toBe('ceiling');
    // Beside the ceiling: servers doing no work but sending a real sessions.authenticate answer.
    expect(rows.slice(1, 3).map((row) => [row.scenario, row.database])).toEqual([
      ['reference-node-http', '–'],
      ['reference-fastify', '–'],
    ]);
    const answerBytes = rows.find((row) => row.scenario === 'session-token' && row.database === 'sqlite')?.response_bytes ?? 0;
    for (const reference of rows.slice(1, 3)) expect(Math.abs(reference.response_bytes - answerBytes), reference.scenario).toBeLessThan(answerBytes * 0.05);
  });

  it('answers every request of every scenario with a 2xx (the password pool\'s 429s apart) and records its figures', () => {
    for (const row of result().rows) {
      const label = `${row.scenario} on ${row.database}`;
      expect(row.rounds.length, label).toBeGreaterThan(0);
      // Sign-ins sent on schedule are judged over the whole run (below): a sub-second round may end
      // before any queued sign-in does.
      if (!['password-mixed', 'password-overload'].includes(row.scenario)) {
        for (const round of row.rounds) expect(round.responses_2xx, label).toBeGreaterThan(0);
        expect(row.requests_per_second, label).toBeGreaterThan(0);
        expect(row.ratio_to_ceiling?.requests_per_second, label).toBeGreaterThan(0);
      }
      expect(row.latency_p99_ms, label).toBeGreaterThanOrEqual(row.latency_p50_ms);
      expect(row.response_bytes, label).toBeGreaterThan(100);
      // Every scenario, the single-use impersonation tokens included, is loaded by wrk; password
      // sign-ins by their own generator, which counts 429s and sends on schedule.
      expect(row.load_generator, label).toBe(PASSWORD_SCENARIOS.includes(row.scenario) ? 'password-load' : 'wrk');
      if (process.platform === 'linux') expect(row.peak_rss_mb, label).toBeGreaterThan(10);
    }
  });

  it('reports token and JWT authentication as a share of the same run\'s Fastify reference', () => {
    const rows = result().rows;
    const fastify = rows.find((row) => row.scenario === 'reference-fastify');
    for (const database of ON_POSTGRES ? ['sqlite', 'postgres'] : ['sqlite']) {
      for (const scenario of ['session-token', 'session-jwt']) {
        const row = rows.find((candidate) => candidate.scenario === scenario && candidate.database === database);
        expect(row?.ratio_to_reference_fastify, `${scenario} on ${database}`).toBeCloseTo((row?.requests_per_second ?? 0) / (fastify?.requests_per_second ?? 1), 6);
      }
    }
    for (const row of rows.slice(0, 3)) expect(row.ratio_to_reference_fastify, row.scenario).toBeNull();
    const page = readFileSync(join(outDir, 'performance-smoke.md'), 'utf8');
    expect(page).toContain('% of Fastify reference');
    expect(page).toMatch(/- sessions\.authenticate \(session_token\) on SQLite: \*\*\d+\.\d%\*\* of the Fastify reference/);
    expect(page).toContain('wrk');
  });

  it('measures the machine\'s RS256 signing rate and reports each sign-in against it', () => {
    const { rs256, rows } = result() as unknown as { rs256: { signatures_per_second: number }; rows: (Row & { ratio_to_rs256: number | null; server_cpu_us_per_request: number | null })[] };
    expect(rs256.signatures_per_second).toBeGreaterThan(0);
    for (const row of rows.filter((candidate) => ['impersonation', 'magic-link', 'email-otp'].includes(candidate.scenario))) {
      expect(row.ratio_to_rs256, `${row.scenario} on ${row.database}`).toBeCloseTo(row.requests_per_second / rs256.signatures_per_second, 6);
      expect(row.server_cpu_us_per_request, `${row.scenario} on ${row.database}`).toBeGreaterThan(0);
    }
    const page = readFileSync(join(outDir, 'performance-smoke.md'), 'utf8');
    expect(page).toContain('### Sign-ins');
    expect(page).toMatch(/\| magicLinks\.authenticate \(redeem pre-sent magic links, each once\) \| SQLite \| [\d,]+ \| \d+\.\d% \|/);
    expect(page).toMatch(/\| otps\.email\.authenticate \(one pre-sent code per member, each once\) \| SQLite \| [\d,]+ \| \d+\.\d% \|/);
  });

  it('measures the machine\'s argon2id capacity and reports password sign-ins against it', () => {
    const { argon2, settings } = result();
    const rows = result().rows as PasswordRow[];
    expect(argon2?.verifications).toBeGreaterThan(0);
    expect(argon2?.verifications_per_second).toBeGreaterThan(0);
    expect(argon2?.concurrency).toBeGreaterThanOrEqual(1);
    // The server's parameters, which the seed hashed with too.
    expect(argon2?.parameters).toEqual({ memory_kib: settings.argon2.memoryKib, iterations: settings.argon2.iterations, parallelism: settings.argon2.parallelism });
    for (const database of ON_POSTGRES ? ['sqlite', 'postgres'] : ['sqlite']) {
      const row = (scenario: string) => rows.find((candidate) => candidate.scenario === scenario && candidate.database === database) as PasswordRow;
      const saturated = row('password-sign-in');
      // Held to the capacity measured again right before this database's password scenarios.
      const capacity = saturated.argon2_reference.verifications_per_second;
      expect(capacity).toBeGreaterThan(0);
      expect(saturated.argon2_reference.concurrency).toBe(argon2?.concurrency);
      for (const scenario of PASSWORD_SCENARIOS) expect(row(scenario).argon2_reference).toEqual(saturated.argon2_reference);
      expect(saturated.password.mode).toBe('closed');
      expect(saturated.password.hash_slots).toBe(argon2?.concurrency);
      expect(saturated.password.connections).toBeGreaterThan(saturated.password.hash_slots);
      expect(saturated.ratio_to_argon2).toBeCloseTo(saturated.requests_per_second / capacity, 6);
      expect(saturated.server_cpu_us_per_request).toBeGreaterThan(0);
      expect(saturated.password.signed_in).toBeGreaterThan(0);

      const mixed = row('password-mixed');
      expect(mixed.password.mode).toBe('open');
      expect(mixed.password.rate).toBeCloseTo(settings.passwordMixedShare * capacity, 6);
      expect(mixed.password.signed_in).toBeGreaterThan(0);
      // The session load beside ran; a sub-second round under tsx may get no answer at all, which is recorded, not hidden.
      expect(mixed.sessions?.rounds.length).toBeGreaterThan(0);
      expect(mixed.sessions?.starved).toBe(mixed.sessions?.rounds.some((round) => round.responses_2xx === 0));
      expect(mixed.sessions?.alone?.latency_p99_ms).toBeGreaterThan(0);

      // Far past capacity: the pool's queue fills and the rest are refused at once, each saying when to come back.
      const overload = row('password-overload');
      expect(overload.password.rate).toBeCloseTo(settings.passwordOverload.factor * capacity, 6);
      expect(overload.password.too_many_requests_all).toBeGreaterThan(0);
      expect(overload.password.retry_after_missing).toBe(0);
      // Every request answered: a sign-in, the pool's refusal, or (counted, a missed target) a user lock.
      expect(overload.password.signed_in + overload.password.too_many_requests_all + overload.password.user_locked_all).toBe(overload.password.sent);
      expect(overload.password.members).toBe(10);
      expect(overload.sessions?.rounds.length).toBeGreaterThan(0);
      expect(overload.sessions?.starved).toBe(overload.sessions?.rounds.some((round) => round.responses_2xx === 0));
      expect(overload.memory?.argon2_memory_mb).toBeCloseTo(settings.argon2.memoryKib / 1024, 6);
      if (process.platform === 'linux') expect(overload.memory?.expected_peak_rss_mb).toBeCloseTo((overload.memory?.baseline_peak_rss_mb ?? 0) + (overload.memory?.argon2_memory_mb ?? 0) * (overload.memory?.hash_slots ?? 0), 6);
    }
    const page = readFileSync(join(outDir, 'performance-smoke.md'), 'utf8');
    expect(page).toContain('### Password sign-ins');
    expect(page).toMatch(/argon2id hashes per second\*\* with the server's parameters \(m = 19,456 KiB, t = 2, p = 1/);
    expect(page).toMatch(/\| passwords\.authenticate \(right passwords, closed loop saturating the hashing pool\) \| SQLite \| closed loop, \d+ connections \| [\d,.]+ \| \d+\.\d% \|/);
    expect(page).toMatch(/\| passwords\.authenticate on schedule far past capacity, sessions\.authenticate beside \| SQLite \| [\d,.]+\/s on schedule \(5× capacity, 10 members\) \| .* \| [\d,]+ \(all with Retry-After/);
    expect(page).toContain('Memory under overload (SQLite)');
  });

  it('holds each scenario to its performance targets without asserting them', () => {
    const rows = result().rows;
    const targets = (scenario: string, database = 'sqlite') => rows.find((row) => row.scenario === scenario && row.database === database)?.targets.map((check) => check.target);
    expect(targets('session-token')).toEqual(['>= 50% of ceiling req/s', 'p99 < 25 ms', 'peak RSS < 250 MB']);
    expect(targets('session-jwt')).toEqual(['>= 40% of ceiling req/s', 'p99 < 25 ms', 'peak RSS < 250 MB']);
    expect(targets('session-token-1m')).toContain('within 15% of the nearly empty database');
    expect(targets('impersonation')).toContain('>= 400 redemptions/s');
    expect(targets('impersonation')).not.toContain(">= 25% of the machine's RS256 signatures/s");
    expect(targets('magic-link')).toContain(">= 25% of the machine's RS256 signatures/s");
    expect(targets('email-otp')).toContain(">= 25% of the machine's RS256 signatures/s");
    expect(targets('reference-fastify', '–')).toEqual([]);
    expect(targets('password-sign-in')).toEqual([">= 80% of the machine's argon2id verifications/s", 'peak RSS < 250 MB']);
    expect(targets('password-mixed')).toEqual(['>= 95% of the arriving sign-ins signed in', 'sessions.authenticate p99 < 25 ms alongside', 'peak RSS < 250 MB']);
    expect(targets('password-overload')).toEqual(
      process.platform === 'linux'
        ? [
            'refused past capacity with 429 and Retry-After',
            'no right password refused as locked',
            'sessions.authenticate p99 < 25 ms alongside',
            'peak RSS <= sessions alone + argon2 memory × slots + 64 MB',
            'peak RSS < 250 MB',
          ]
        : ['refused past capacity with 429 and Retry-After', 'no right password refused as locked', 'sessions.authenticate p99 < 25 ms alongside'],
    );
  });

  it('seeds the databases it reports, and records versions and machine', () => {
    const { seeding, environment, settings, mode } = result();
    expect(mode).toBe('smoke');
    expect(seeding['sqlite-large']?.rows.sessions).toBe(2_000);
    expect(seeding['sqlite-large']?.rows.members).toBe(200);
    // Password members only in the nearly empty database, where the password scenarios run.
    expect(seeding['sqlite-small']?.rows.member_passwords).toBe(20);
    expect(seeding['sqlite-large']?.rows.member_passwords).toBe(0);
    expect(environment.node).toBe(process.version);
    expect(environment.sqlite).toMatch(/^3\.\d+\.\d+$/);
    expect(environment.postgresql === null).toBe(!ON_POSTGRES);
    expect(environment.machine.nproc).toBeGreaterThan(0);
    expect(environment.wrk).toEqual(expect.any(String));
    expect(settings.rounds).toBe(1);
  });

  it('writes its page beside its JSON and leaves docs/performance.md alone', () => {
    const page = readFileSync(join(outDir, 'performance-smoke.md'), 'utf8');
    expect(page).toContain('| sessions.authenticate (session_token) | sqlite |');
    expect(page).toContain(`Node ${process.version}`);
    expect(statSync(join(ROOT, 'docs', 'performance.md'), { throwIfNoEntry: false })?.mtimeMs ?? 0).toBe(docsModifiedBefore);
  });
});

describe('the soak in smoke mode', () => {
  it.runIf(ON_POSTGRES)('runs mixed traffic on two server processes on PostgreSQL with no error', () => {
    const { soak } = result();
    expect(soak.skipped, soak.reason).toBe(false);
    expect(soak.failures).toEqual([]);
    expect(soak.passed).toBe(true);
    expect(soak.errors?.total).toBe(0);
    expect(soak.processes).toBe(2);
    expect(soak.servers).toHaveLength(2);
    for (const server of soak.servers ?? []) {
      expect(server.responses).toBeGreaterThan(0);
      expect(server.errors).toBe(0);
      expect(server.running_at_end).toBe(true);
      // Sampled, but a few seconds are not judged.
      expect(server.memory.judged).toBe(false);
      if (process.platform === 'linux') expect(server.memory.rss_at_start_mb).toBeGreaterThan(10);
    }
    const calls = soak.calls ?? {};
    expect(Object.keys(calls)).toEqual([
      'authenticate-token',
      'authenticate-jwt',
      'authenticate-revoked',
      'members-get',
      'jwks',
      'organization-create',
      'member-create',
      'impersonation-mint',
      'impersonation-redeem',
      'sessions-revoke',
    ]);
    for (const [kind, call] of Object.entries(calls)) expect(call.expected_answers, kind).toBe(call.requests);
    expect(calls['authenticate-token']?.expected_answers).toBeGreaterThan(0);
    expect(calls['authenticate-jwt']?.expected_answers).toBeGreaterThan(0);
    expect(calls['impersonation-mint']?.expected_answers).toBeGreaterThan(0);
  });

  it.runIf(ON_POSTGRES)('writes its page beside the JSON', () => {
    const page = readdirSync(outDir).find((name) => name.startsWith('soak-smoke-') && name.endsWith('.md'));
    expect(page).toBeDefined();
    const text = readFileSync(join(outDir, page as string), 'utf8');
    expect(text).toContain('| sessions.authenticate (session_token) |');
    expect(text).toContain('passed');
  });

  it.skipIf(ON_POSTGRES)('is skipped without PostgreSQL, saying why', () => {
    const { soak } = result();
    expect(soak.skipped).toBe(true);
    expect(soak.reason).toContain('no PostgreSQL URL');
    expect(run.stdout).toContain('soak skipped: no PostgreSQL URL');
  });
});
