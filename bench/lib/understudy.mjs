// Building and starting Understudy for a benchmark, exactly as `npm start` runs it: compiled
// JavaScript (`tsc -p tsconfig.build.json`), `understudy serve`, configured by UNDERSTUDY_* variables.
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, spawnPinned, stopProcess, waitForHealth } from './processes.mjs';

export const PROJECT_ID = 'project-test-00000000-0000-4000-8000-00000000be7c';
export const PROJECT_SECRET = 'secret-test-benchmark-0123456789abcdef';
export const AUTHORIZATION = `Basic ${Buffer.from(`${PROJECT_ID}:${PROJECT_SECRET}`).toString('base64')}`;

/**
 * How the server is run: `build` compiles src/ into bench/.build/ (what production runs);
 * `tsx` runs the TypeScript directly (starts faster; the smoke mode uses it).
 */
export function prepareRuntime(root, kind) {
  if (kind === 'tsx') return { kind, args: ['--import', 'tsx', join(root, 'src/cli/main.ts')] };
  const outDir = join(root, 'bench', '.build');
  rmSync(outDir, { recursive: true, force: true });
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const result = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json'), '--outDir', outDir, '--sourceMap', 'false'], { cwd: root, encoding: 'utf8' });
  const entry = join(outDir, 'cli', 'main.js');
  // tsc emits even when another file fails to type-check; a missing entry point is the real failure.
  if (!existsSync(entry)) throw new Error(`building Understudy failed:\n${result.stdout}${result.stderr}`);
  if (result.status !== 0) process.stderr.write(`[bench] tsc reported type errors; benchmarking the emitted code anyway:\n${result.stdout.slice(0, 2000)}\n`);
  return { kind, args: [entry] };
}

/**
 * Starts `understudy serve` on a free port, pinned to `options.cpu` when given. Logs go to a file in the data
 * directory, at the configured default level (info), as a deployment would write them.
 */
export async function startUnderstudy(root, runtime, options) {
  const port = await freePort();
  mkdirSync(options.dataDir, { recursive: true });
  const logFd = openSync(join(options.dataDir, `server-${port}.log`), 'a');
  const nodeArgs = options.profileDir ? ['--cpu-prof', '--cpu-prof-dir', options.profileDir] : [];
  const child = spawnPinned(process.execPath, [...nodeArgs, ...runtime.args, 'serve'], {
    cpu: options.cpu,
    cwd: root,
    stdout: logFd,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NODE_ENV: 'production',
      NODE_NO_WARNINGS: '1',
      UNDERSTUDY_HOST: '127.0.0.1',
      UNDERSTUDY_PORT: String(port),
      UNDERSTUDY_DATA_DIR: options.dataDir,
      UNDERSTUDY_PROJECT_ID: PROJECT_ID,
      UNDERSTUDY_PROJECT_SECRET: PROJECT_SECRET,
      UNDERSTUDY_MASTER_KEY: options.masterKey,
      ...(options.databaseUrl && { UNDERSTUDY_DATABASE_URL: options.databaseUrl }),
      ...(options.logLevel && { UNDERSTUDY_LOG_LEVEL: options.logLevel }),
      // Settings a scenario needs beyond the defaults (the password scenarios' limits, say).
      ...options.env,
    },
  });
  closeSync(logFd);
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitForHealth(url, child, 'understudy');
  } catch (error) {
    await stopProcess(child);
    throw error;
  }
  return { url, pid: child.pid, child, stop: () => stopProcess(child) };
}
