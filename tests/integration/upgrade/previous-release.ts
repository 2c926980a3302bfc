import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { logLines } from '../cli/cli-process.js';

/**
 * The previous release, checked out of git and built, to start on a database that the current
 * code then migrates and serves (tests/integration/upgrade). Update PREVIOUS_RELEASE (tag and
 * commit) when a release is made, so the test keeps upgrading from the one before.
 */
export const PREVIOUS_RELEASE = { tag: 'v0.1.0', commit: 'f29dabdbf5a540b4ed62cc40482415121f55c0e3' } as const;

/** The repository root: this file is tests/integration/upgrade/previous-release.ts. */
export const REPOSITORY_ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');

/** The commit to build (the tag's, else the recorded one), or why there is none: no git, or a clone without it. */
export function findPreviousRelease(): { commit: string } | { unavailable: string } {
  const git = (args: string[]) => spawnSync('git', args, { cwd: REPOSITORY_ROOT, encoding: 'utf8' });
  const tagged = git(['rev-parse', '--verify', '--quiet', `${PREVIOUS_RELEASE.tag}^{commit}`]);
  if (tagged.error !== undefined) return { unavailable: `git cannot be run (${tagged.error.message})` };
  if (tagged.status === 0) return { commit: tagged.stdout.trim() };
  // CI clones often lack tags; the release's commit may still be there.
  const recorded = git(['cat-file', '-e', `${PREVIOUS_RELEASE.commit}^{commit}`]);
  if (recorded.status === 0) return { commit: PREVIOUS_RELEASE.commit };
  return {
    unavailable: `neither the tag ${PREVIOUS_RELEASE.tag} nor the commit ${PREVIOUS_RELEASE.commit} is here (not a git checkout, or a shallow clone: fetch with --tags or more depth)`,
  };
}

export interface BuiltRelease {
  readonly directory: string;
  /** `dist/cli/main.js` of the release. */
  readonly cli: string;
  readonly buildMilliseconds: number;
  remove(): void;
}

/**
 * `git archive <commit> | tar -x` into a temporary directory, this checkout's node_modules linked
 * into it (the release's dependencies are a subset as long as none was removed since), and built
 * with the release's own tsconfig.build.json and this checkout's TypeScript.
 */
export function buildRelease(commit: string): BuiltRelease {
  const directory = mkdtempSync(join(tmpdir(), 'understudy-previous-release-'));
  const remove = (): void => rmSync(directory, { recursive: true, force: true });
  try {
    const extracted = spawnSync('sh', ['-c', 'git archive --format=tar "$1" | tar -x -C "$2"', 'sh', commit, directory], { cwd: REPOSITORY_ROOT, encoding: 'utf8' });
    if (extracted.status !== 0) throw new Error(`git archive ${commit} failed: ${extracted.stderr}`);
    symlinkSync(join(REPOSITORY_ROOT, 'node_modules'), join(directory, 'node_modules'), 'dir');
    const started = performance.now();
    // Emitted without type checking (half the time): the release was checked when it was made, and a
    // newer TypeScript in this checkout may judge old code more strictly without changing its output.
    const built = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json', '--noCheck'], { cwd: directory, encoding: 'utf8' });
    const buildMilliseconds = performance.now() - started;
    if (built.status !== 0) throw new Error(`building ${commit} failed:\n${built.stdout}\n${built.stderr}`);
    const cli = join(directory, 'dist/cli/main.js');
    if (!existsSync(cli)) throw new Error(`building ${commit} produced no dist/cli/main.js`);
    return { directory, cli, buildMilliseconds, remove };
  } catch (error) {
    remove();
    throw error;
  }
}

export interface ReleaseServer {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Waits for the `understudy is listening` log line and returns its URL. */
  listening(): Promise<string>;
  /** SIGTERM, then the exit. */
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Runs a built release's CLI (`node dist/cli/main.js …`) with only the given environment plus PATH and HOME. */
export function runRelease(cli: string, args: readonly string[], env: Record<string, string>): ReleaseServer {
  const child = spawn(process.execPath, [cli, ...args], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NODE_NO_WARNINGS: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolveExit) => child.once('exit', (code, signal) => resolveExit({ code, signal })));
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    async listening() {
      const deadline = performance.now() + 20_000;
      for (;;) {
        const line = logLines(stdout).find((entry) => entry.msg === 'understudy is listening');
        if (typeof line?.url === 'string') return line.url;
        if (child.exitCode !== null) throw new Error(`the previous release exited with ${child.exitCode} before listening:\n${stdout}\n${stderr}`);
        if (performance.now() > deadline) {
          child.kill('SIGKILL');
          throw new Error(`the previous release did not listen within 20 s:\n${stdout}\n${stderr}`);
        }
        await new Promise((wake) => setTimeout(wake, 25));
      }
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}
