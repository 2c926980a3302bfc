import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { B2BClient } from 'stytch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { logLines, printedCredentials, temporaryDirectory } from '../integration/cli/cli-process.js';

/**
 * The package as an operator gets it: `npm pack` (which runs `prepack`: a clean build), the tarball
 * installed into an empty project with npm, and the installed `understudy` command run through npx,
 * with the official SDK signing a member in against it. Nothing here runs from the source tree.
 */
const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');
const MANIFEST = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string };
const run = promisify(execFile);

/** The files under `directory`, relative to it, with forward slashes. */
function filesUnder(directory: string): string[] {
  return readdirSync(directory, { recursive: true, encoding: 'utf8' })
    .filter((entry) => statSync(join(directory, entry)).isFile())
    .map((entry) => entry.split(sep).join('/'));
}

/** What the tarball must hold: one compiled file per source file, the docs (documents and dashboard), the licence, the changelog, README and manifest. */
function expectedTarballFiles(): string[] {
  const compiled = filesUnder(join(ROOT, 'src'))
    .filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts'))
    .map((file) => `dist/${file.slice(0, -'.ts'.length)}.js`);
  const docs = filesUnder(join(ROOT, 'docs'))
    .filter((file) => file.endsWith('.md') || /^grafana\/[^/]+\.json$/.test(file))
    .map((file) => `docs/${file}`);
  return [...compiled, ...docs, 'CHANGELOG.md', 'LICENSE', 'README.md', 'package.json'].sort();
}

/**
 * The environment for nested npm commands: ours, without what an outer `npm test` adds about the
 * project it runs (npm_package_*, npm_lifecycle_*), which would describe the wrong package.
 */
function npmEnvironment(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const environment: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^npm_(package|lifecycle)_/.test(key) || key === 'npm_command' || key === 'INIT_CWD') continue;
    environment[key] = value;
  }
  return { ...environment, npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false', ...extra };
}

/**
 * better-sqlite3 installs by downloading a prebuilt binary from GitHub (prebuild-install) and
 * compiles from source when it cannot (about a minute on two cores). This machine reaches only
 * the npm registry, so the download always fails. Unless UNDERSTUDY_PACK_BUILD_FROM_SOURCE=1, the
 * binary the project's own install built for the same better-sqlite3 version is offered as a local
 * prebuild, exactly as the GitHub download would arrive: everything else, our package, the
 * dependency resolution and the install scripts, runs as it does for an operator. If npm resolves
 * another version, the file name does not match and it compiles.
 */
function localPrebuildDirectory(directory: string): string | undefined {
  if (process.env.UNDERSTUDY_PACK_BUILD_FROM_SOURCE === '1') return undefined;
  const packageDirectory = join(ROOT, 'node_modules/better-sqlite3');
  const binary = join(packageDirectory, 'build/Release/better_sqlite3.node');
  if (!existsSync(binary)) return undefined;
  const { version } = JSON.parse(readFileSync(join(packageDirectory, 'package.json'), 'utf8')) as { version: string };
  const name = `better-sqlite3-v${version}-node-v${process.versions.modules}-${process.platform}-${process.arch}.tar.gz`;
  execFileSync('tar', ['-czf', join(directory, name), '-C', packageDirectory, 'build/Release/better_sqlite3.node']);
  return directory;
}

interface Packed {
  readonly tarball: string;
  readonly files: readonly { path: string; mode: number }[];
  readonly size: number;
}

const scratch = temporaryDirectory('pack-install');
const running = new Set<ChildProcess>();
let packed: Packed;
let app: string;
let installed: string;

beforeAll(async () => {
  let started = performance.now();
  // `npm pack` runs `prepack` (a clean `npm run build`); its script output goes to stderr, the JSON to stdout.
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', scratch.path], { cwd: ROOT, env: npmEnvironment(), maxBuffer: 64 * 1024 * 1024 });
  const [report] = JSON.parse(stdout) as { filename: string; size: number; files: { path: string; mode: number }[] }[];
  if (report === undefined) throw new Error(`npm pack printed no report:\n${stdout}`);
  packed = { tarball: join(scratch.path, report.filename), files: report.files, size: report.size };
  const packSeconds = (performance.now() - started) / 1000;

  app = join(scratch.path, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), `${JSON.stringify({ name: 'understudy-pack-probe', private: true }, null, 2)}\n`);
  const prebuilds = localPrebuildDirectory(scratch.path);
  started = performance.now();
  await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', packed.tarball], {
    cwd: app,
    env: npmEnvironment(prebuilds === undefined ? { npm_config_build_from_source: 'true' } : { npm_config_better_sqlite3_local_prebuilds: prebuilds }),
    maxBuffer: 64 * 1024 * 1024,
  });
  const installSeconds = (performance.now() - started) / 1000;
  installed = join(app, 'node_modules', MANIFEST.name);
  const compiled = existsSync(join(app, 'node_modules/better-sqlite3/build/Release/obj.target'));
  console.info(
    `[pack-install] npm pack (clean build) ${packSeconds.toFixed(1)} s, ${report.files.length} files, ${(report.size / 1024).toFixed(0)} KiB; ` +
      `npm install of the tarball ${installSeconds.toFixed(1)} s (better-sqlite3 ${compiled ? 'compiled from source' : 'from a local prebuilt binary'})`,
  );
}, 300_000);

afterAll(() => {
  for (const child of running) if (child.pid !== undefined) killGroup(child.pid, 'SIGKILL');
  scratch.remove();
});

/** Signals a process group started with `detached: true`; a group already gone is fine. */
function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitFor<T>(what: string, probe: () => T | undefined, timeoutMs: number): Promise<T> {
  const started = performance.now();
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (performance.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((wake) => setTimeout(wake, 50));
  }
}

describe('the packed package', () => {
  it('holds exactly the compiled server, the docs, the licence, the changelog, README and package.json', () => {
    expect(packed.files.map((file) => file.path).sort()).toEqual(expectedTarballFiles());
    const bin = packed.files.find((file) => file.path === 'dist/cli/main.js');
    expect(bin, 'the bin is in the tarball').toBeDefined();
    expect((bin?.mode ?? 0) & 0o111, 'the bin is executable in the tarball').not.toBe(0);
  });

  it('installs with its bin linked, its shebang kept, and no tests, sources or tooling', () => {
    // node_modules appears only if npm had to nest a dependency; it is not part of the package.
    const top = readdirSync(installed)
      .filter((entry) => entry !== 'node_modules')
      .sort();
    expect(top).toEqual(['CHANGELOG.md', 'LICENSE', 'README.md', 'dist', 'docs', 'package.json']);
    for (const absent of ['src', 'tests', 'bench', 'examples', 'scripts', 'contract']) expect(existsSync(join(installed, absent)), absent).toBe(false);
    expect(filesUnder(join(installed, 'dist')).filter((file) => !file.endsWith('.js'))).toEqual([]);
    expect(readFileSync(join(installed, 'dist/cli/main.js'), 'utf8').split('\n')[0]).toBe('#!/usr/bin/env node');
    expect(statSync(join(app, 'node_modules/.bin/understudy')).mode & 0o111).not.toBe(0);
    expect(readFileSync(join(installed, 'LICENSE'), 'utf8')).toContain('Apache License\n                           Version 2.0, January 2004');
  });

  // `--yes=false`: never fetch a package of that name from the registry if the bin were missing.
  it('npx understudy --version (and the version command) print the package version', async () => {
    const flag = await run('npx', ['--yes=false', 'understudy', '--version'], { cwd: app, env: npmEnvironment() });
    expect(flag.stdout).toBe(`${MANIFEST.version}\n`);
    const command = await run('npx', ['--yes=false', 'understudy', 'version'], { cwd: app, env: npmEnvironment() });
    expect(command.stdout).toBe(`${MANIFEST.version}\n`);
  });

  it('npx understudy serve starts on an empty data directory, prints credentials, signs a member in through the SDK, and stops on SIGTERM', async () => {
    const dataDir = join(scratch.path, 'data');
    // Its own process group: npx runs `sh -c understudy`, and the group is what a terminal or a
    // supervisor signals; the cleanup kills the whole group if the test fails half way.
    const child = spawn('npx', ['--yes=false', 'understudy', 'serve'], {
      cwd: app,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '',
        UNDERSTUDY_HOST: '127.0.0.1',
        UNDERSTUDY_PORT: '0',
        UNDERSTUDY_DATA_DIR: dataDir,
        UNDERSTUDY_LOG_FORMAT: 'json',
        UNDERSTUDY_LOG_LEVEL: 'info',
      },
    });
    running.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    const exited = new Promise<number | null>((resolveExit) => child.once('exit', (code) => resolveExit(code)));

    const listening = await waitFor(
      '"understudy is listening"',
      () => {
        if (child.exitCode !== null) throw new Error(`npx understudy serve exited with ${child.exitCode}:\n${stdout}\n${stderr}`);
        const line = logLines(stdout).find((entry) => entry.msg === 'understudy is listening');
        return line === undefined ? undefined : { url: String(line.url), pid: Number(line.pid) };
      },
      30_000,
    );
    const credentials = printedCredentials(stdout);
    expect(credentials, `credentials banner in:\n${stdout}`).toBeDefined();
    if (credentials === undefined) return;
    expect(credentials.projectId).toMatch(/^project-test-[0-9a-f-]{36}$/);
    expect(JSON.parse(readFileSync(join(dataDir, 'credentials.json'), 'utf8'))).toMatchObject({ project_id: credentials.projectId, secret: credentials.secret });

    const ready = await fetch(`${listening.url}/readyz`);
    expect(ready.status).toBe(200);

    const client = new B2BClient({ project_id: credentials.projectId, secret: credentials.secret, env: `${listening.url}/` });
    const suffix = createHash('sha256').update(scratch.path).digest('hex').slice(0, 10);
    const { organization } = await client.organizations.create({ organization_name: 'Packed Install', organization_slug: `packed-${suffix}` });
    const emailAddress = `ada-${suffix}@packed-install.example`;
    const { member } = await client.organizations.members.create({ organization_id: organization.organization_id, email_address: emailAddress });

    // The strength check runs in the zxcvbn worker thread, a file of its own in dist/.
    const password = `Understudy packed ${suffix} violet harbour`;
    const strength = await client.passwords.strengthCheck({ password });
    expect(strength.valid_password).toBe(true);
    // A migrated SHA-512 hash, verified at the first sign-in and replaced with argon2id (native code) there.
    await client.passwords.migrate({
      organization_id: organization.organization_id,
      email_address: emailAddress,
      hash_type: 'sha_512',
      hash: createHash('sha512').update(password).digest('hex'),
    });
    const signedIn = await client.passwords.authenticate({ organization_id: organization.organization_id, email_address: emailAddress, password, session_duration_minutes: 60 });
    expect(signedIn.member.member_id).toBe(member.member_id);
    expect(signedIn.session_token).not.toBe('');
    const session = await client.sessions.authenticate({ session_token: signedIn.session_token });
    expect(session.member.member_id).toBe(member.member_id);
    expect(session.member_session.organization_id).toBe(organization.organization_id);

    // What a supervisor does: SIGTERM to the server process. It shuts down cleanly, so npx exits 0.
    process.kill(listening.pid, 'SIGTERM');
    expect(await exited).toBe(0);
    await waitFor('the server process to end', () => (isAlive(listening.pid) ? undefined : true), 10_000);
    running.delete(child);

    const log = logLines(stdout)
      .map((line) => JSON.stringify(line))
      .join('\n');
    for (const secret of [credentials.secret, signedIn.session_token, signedIn.session_jwt, password]) expect(log).not.toContain(secret);
  }, 90_000);
});
