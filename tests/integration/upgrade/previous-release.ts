import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type CliProcess, runNodeProgram } from '../cli/cli-process.js';

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

/** Runs a built release's CLI (`node dist/cli/main.js …`) as the tests run this checkout's. */
export function runRelease(cli: string, args: readonly string[], env: Record<string, string>): CliProcess {
  return runNodeProgram([cli, ...args], env, { name: 'the previous release' });
}
