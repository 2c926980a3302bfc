import { execFile, execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

/**
 * A PostgreSQL cluster owned by one test: its own data directory, port and socket directory, so
 * the test can stop and start it without touching the shared server. PostgreSQL refuses to run as
 * root, so as root every command runs as the `postgres` OS user (runuser).
 */
export interface ThrowawayCluster {
  readonly url: string;
  start(): Promise<void>;
  /** `pg_ctl stop -m immediate`: every backend dies at once, as in a crash. */
  stopImmediately(): Promise<void>;
  /** Stops the cluster if it runs and deletes its directory. */
  destroy(): Promise<void>;
  /** The server log, for failure messages. */
  log(): string;
}

const run = promisify(execFile);
const POSTGRES_ROOT = '/usr/lib/postgresql';

/** The newest installed `bin` directory with initdb and pg_ctl, or undefined. */
function findBinaries(): string | undefined {
  if (!existsSync(POSTGRES_ROOT)) return undefined;
  const versions = readdirSync(POSTGRES_ROOT)
    .filter((version) => existsSync(join(POSTGRES_ROOT, version, 'bin', 'initdb')) && existsSync(join(POSTGRES_ROOT, version, 'bin', 'pg_ctl')))
    .sort((left, right) => Number(right) - Number(left));
  return versions[0] === undefined ? undefined : join(POSTGRES_ROOT, versions[0], 'bin');
}

/** uid and gid of the `postgres` OS user, or undefined when there is none. */
function postgresUser(): { uid: number; gid: number } | undefined {
  try {
    return { uid: Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' })), gid: Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' })) };
  } catch {
    return undefined;
  }
}

const BIN = findBinaries();
const IS_ROOT = process.getuid?.() === 0;
const USER = IS_ROOT ? postgresUser() : undefined;

/** Why a throwaway cluster cannot be started here, or undefined when it can. */
export const CLUSTER_SKIP_REASON: string | undefined =
  BIN === undefined
    ? `no PostgreSQL server binaries (initdb, pg_ctl) under ${POSTGRES_ROOT}/*/bin; install the postgresql package to run it`
    : IS_ROOT && USER === undefined
      ? 'running as root without a `postgres` OS user, and PostgreSQL refuses to run as root'
      : undefined;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no free port');
  return address.port;
}

async function postgresCommand(tool: string, args: readonly string[]): Promise<void> {
  const executable = join(BIN as string, tool);
  const [command, commandArgs] = IS_ROOT ? ['runuser', ['-u', 'postgres', '--', executable, ...args]] : [executable, [...args]];
  await run(command, commandArgs, { timeout: 60_000 });
}

/** initdb and start a cluster listening on 127.0.0.1 only, with trust authentication. */
export async function startThrowawayCluster(): Promise<ThrowawayCluster> {
  if (CLUSTER_SKIP_REASON !== undefined) throw new Error(CLUSTER_SKIP_REASON);
  const directory = mkdtempSync(join(tmpdir(), 'understudy-pg-'));
  if (USER !== undefined) chownSync(directory, USER.uid, USER.gid);
  const data = join(directory, 'data');
  const logFile = join(directory, 'server.log');
  const port = await freePort();
  const options = `-p ${port} -k ${directory} -c listen_addresses=127.0.0.1`;
  let isRunning = false;
  const cluster: ThrowawayCluster = {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    async start() {
      await postgresCommand('pg_ctl', ['-D', data, '-l', logFile, '-o', options, '-w', '-t', '30', 'start']);
      isRunning = true;
    },
    async stopImmediately() {
      await postgresCommand('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      isRunning = false;
    },
    async destroy() {
      if (isRunning) await cluster.stopImmediately().catch(() => undefined);
      rmSync(directory, { recursive: true, force: true });
    },
    log: () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : ''),
  };
  try {
    await postgresCommand('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8', '--locale=C']);
    await cluster.start();
  } catch (error) {
    await cluster.destroy();
    throw error;
  }
  return cluster;
}
