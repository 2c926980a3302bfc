// What a result depends on: versions, machine and settings, recorded with every run.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism, cpus, loadavg, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { PINNING } from './processes.mjs';
import { wrkVersion } from './wrk.mjs';

/** `sourceRoot` is the Understudy measured: this checkout, or the one --source names. */
export function describeEnvironment(root, sourceRoot, postgresVersion, loadAtStart) {
  const require = createRequire(join(sourceRoot, 'package.json'));
  const Database = require('better-sqlite3');
  const memory = new Database(':memory:');
  const sqlite = memory.prepare('select sqlite_version() as version').get().version;
  memory.close();
  const packageVersion = (name, base = sourceRoot) => JSON.parse(readFileSync(join(base, 'node_modules', name, 'package.json'), 'utf8')).version;
  return {
    node: process.version,
    load_average_at_start: loadAtStart ?? null,
    understudy_commit: gitCommit(sourceRoot),
    ...(sourceRoot !== root && { understudy_source: sourceRoot, harness_commit: gitCommit(root) }),
    sqlite,
    postgresql: postgresVersion ?? null,
    packages: {
      fastify: packageVersion('fastify'),
      kysely: packageVersion('kysely'),
      'better-sqlite3': packageVersion('better-sqlite3'),
      pg: packageVersion('pg'),
      // Older versions measured with --source have no password hashing.
      ...(existsSync(join(sourceRoot, 'node_modules', '@node-rs/argon2', 'package.json')) && { '@node-rs/argon2': packageVersion('@node-rs/argon2') }),
      autocannon: packageVersion('autocannon', root),
    },
    wrk: wrkVersion() ?? null,
    machine: { nproc: availableParallelism(), cpu_model: cpus()[0]?.model ?? 'unknown', memory_gb: Math.round(totalmem() / 2 ** 30), kernel: release() },
    pinning: PINNING ? { server_cpu: PINNING.server, load_cpu: PINNING.load, tool: 'taskset' } : null,
  };
}

/** The machine's 1, 5 and 15 minute load averages, rounded. */
export function loadAverage() {
  return loadavg().map((value) => Number(value.toFixed(2)));
}

/** The commit checked out in `root` itself (not in a repository around it), marked when it has local changes. */
function gitCommit(root) {
  try {
    const top = execFileSync('git', ['rev-parse', '--show-toplevel'], { cwd: root, encoding: 'utf8' }).trim();
    if (realpathSync(top) !== realpathSync(root)) return 'unknown (not a git checkout)';
    const commit = execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: root, encoding: 'utf8' }).trim() !== '';
    return dirty ? `${commit} + uncommitted changes` : commit;
  } catch {
    return 'unknown (not a git checkout)';
  }
}
