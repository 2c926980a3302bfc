import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Runs the `understudy` CLI as a user would (a separate Node process running src/cli/main.ts
 * through tsx), with an environment made only of what the test passes plus PATH and HOME.
 */
const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');
const CLI = join(ROOT, 'src/cli/main.ts');

export interface CliExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface CliProcess {
  readonly child: ChildProcess;
  /** Everything written to stdout / stderr so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves when the process exits. */
  readonly exited: Promise<CliExit>;
  /** Waits for the `understudy is listening` log line and returns its `url`. */
  listening(): Promise<string>;
  /** Sends SIGTERM and waits for the exit. */
  stop(): Promise<CliExit>;
}

const running = new Set<ChildProcess>();

/** Kills every CLI process a test left running (call from afterAll), so a failed test leaves no server behind. */
export function killLeftoverProcesses(): void {
  for (const child of running) child.kill('SIGKILL');
  running.clear();
}

export function runCli(args: readonly string[], env: Record<string, string>): CliProcess {
  return runNodeProgram(['--import', 'tsx', CLI, ...args], env, { cwd: ROOT, name: 'understudy' });
}

/**
 * Runs `node <nodeArgs>` (this checkout's CLI through tsx, or a built release's `dist/cli/main.js`)
 * with an environment made only of `env` plus PATH and HOME; `name` says which in failures.
 */
export function runNodeProgram(nodeArgs: readonly string[], env: Record<string, string>, options: { readonly cwd?: string; readonly name: string }): CliProcess {
  const { name } = options;
  const child = spawn(process.execPath, [...nodeArgs], {
    ...(options.cwd !== undefined && { cwd: options.cwd }),
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
  running.add(child);
  // 'close', not 'exit': a process that exits at once (process.exit) may still have output on its
  // way through the pipes when 'exit' fires; 'close' comes once stdout and stderr are read to the end.
  const exited = new Promise<CliExit>((resolveExit) =>
    child.once('close', (code, signal) => {
      running.delete(child);
      resolveExit({ code, signal });
    }),
  );

  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    /** Needs UNDERSTUDY_LOG_LEVEL at info or lower: the URL is in an info log line. */
    async listening(): Promise<string> {
      const deadline = 20_000;
      const started = performance.now();
      for (;;) {
        const url = listeningUrl(stdout);
        if (url !== undefined) return url;
        if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode} before listening:\n${stdout}\n${stderr}`);
        if (performance.now() - started > deadline) {
          child.kill('SIGKILL');
          throw new Error(`${name} did not log "understudy is listening" within ${deadline} ms:\n${stdout}\n${stderr}`);
        }
        await new Promise((wake) => setTimeout(wake, 25));
      }
    },
    async stop(): Promise<CliExit> {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

/** Runs a command to completion. */
export async function runCliToExit(args: readonly string[], env: Record<string, string>): Promise<CliExit & { stdout: string; stderr: string }> {
  const cli = runCli(args, env);
  const exit = await cli.exited;
  return { ...exit, stdout: cli.stdout(), stderr: cli.stderr() };
}

/** The complete JSON log lines on stdout (the credentials banner is plain text and is skipped). */
export function logLines(output: string): Record<string, unknown>[] {
  return output
    .split('\n')
    .slice(0, -1)
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

function listeningUrl(stdout: string): string | undefined {
  const line = logLines(stdout).find((entry) => entry.msg === 'understudy is listening');
  return typeof line?.url === 'string' ? line.url : undefined;
}

/** The `project_id:` and `secret:` lines of the first-start banner, if printed. */
export function printedCredentials(stdout: string): { projectId: string; secret: string } | undefined {
  const projectId = /^ {2}project_id: (\S+)$/m.exec(stdout)?.[1];
  const secret = /^ {2}secret: +(\S+)$/m.exec(stdout)?.[1];
  return projectId !== undefined && secret !== undefined ? { projectId, secret } : undefined;
}

/** A temporary directory removed by the returned cleanup. */
export function temporaryDirectory(prefix: string): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), `understudy-${prefix}-`));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}
