// The databases a run benchmarks: SQLite files in a temporary directory, and throwaway PostgreSQL
// databases made next to the one UNDERSTUDY_BENCH_DATABASE_URL (or UNDERSTUDY_TEST_DATABASE_URL) names.
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { finished, spawnPinned } from './processes.mjs';
import { PROJECT_ID } from './understudy.mjs';

export const POSTGRES_URL = process.env.UNDERSTUDY_BENCH_DATABASE_URL || process.env.UNDERSTUDY_TEST_DATABASE_URL || undefined;

/** Creates `understudy_bench_<random>` beside the configured database; `drop` removes it even with clients left. */
export async function createPostgresDatabase(baseUrl) {
  const name = `understudy_bench_${randomBytes(5).toString('hex')}`;
  await adminQuery(baseUrl, `CREATE DATABASE ${name}`);
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => adminQuery(baseUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

export async function postgresVersion(baseUrl) {
  return (await adminQuery(baseUrl, 'SHOW server_version')).rows[0]?.server_version ?? 'unknown';
}

async function adminQuery(baseUrl, text) {
  const client = new pg.Client({ connectionString: baseUrl });
  await client.connect();
  try {
    return await client.query(text);
  } finally {
    await client.end();
  }
}

/**
 * Seeds one database in a child process (under tsx: the seeder uses Understudy's own services and
 * stores) and returns its timings; the tokens and ids the load needs are in `<workDir>/<name>-fixtures.json`.
 * `seedScript` is bench/lib/seed.mjs, or its copy inside the --source checkout.
 */
export async function seedDatabase(root, workDir, name, target, shape, masterKey, seedScript = join(root, 'bench/lib/seed.mjs')) {
  const jobFile = join(workDir, `${name}-seed.json`);
  const output = join(workDir, `${name}-fixtures.json`);
  writeFileSync(jobFile, JSON.stringify({ ...target, ...shape, projectId: PROJECT_ID, masterKey, output }));
  const child = spawnPinned(process.execPath, ['--import', 'tsx', seedScript, jobFile], { cwd: root, env: { ...process.env, NODE_NO_WARNINGS: '1' } });
  const stdout = await finished(child, `seeding ${name}`);
  return { ...JSON.parse(stdout.trim().split('\n').at(-1)), fixturesFile: output };
}
