// Child processes of a benchmark run: pinned to a core when the machine allows, watched for their
// peak memory, and always stopped by their own pid.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { availableParallelism } from 'node:os';

const TASKSET = ['/usr/bin/taskset', '/bin/taskset'].find((path) => existsSync(path));

/** Server on the last core, load on the first: only when there are at least two and taskset exists. */
export const PINNING = TASKSET !== undefined && availableParallelism() >= 2 ? { server: availableParallelism() - 1, load: 0, taskset: TASKSET } : undefined;

const running = new Set();
process.on('exit', () => {
  for (const child of running) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

/** Spawns `command args`, under `taskset -c <cpu>` when a cpu is given and pinning is possible. */
export function spawnPinned(command, args, { cpu, env, stdout = 'pipe', stderr = 'pipe', cwd } = {}) {
  const pinned = cpu !== undefined && PINNING !== undefined;
  // taskset execs the command, so the child's pid is the pid of the command itself.
  const child = pinned
    ? spawn(PINNING.taskset, ['-c', String(cpu), command, ...args], { env, cwd, stdio: ['ignore', stdout, stderr] })
    : spawn(command, args, { env, cwd, stdio: ['ignore', stdout, stderr] });
  running.add(child);
  child.once('exit', () => running.delete(child));
  child.output = '';
  child.errorOutput = '';
  child.stdout?.on('data', (chunk) => {
    child.output += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    child.errorOutput += chunk;
  });
  return child;
}

/** Resolves with the child's stdout when it exits with 0; rejects with its stderr otherwise. */
export function finished(child, name) {
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      if (code === 0) resolve(child.output);
      else reject(new Error(`${name} exited with ${code ?? signal}:\n${child.errorOutput.slice(-4000)}`));
    });
  });
}

/** Resolves once the child has printed `text` on stdout. */
export function waitForOutput(child, text, name, timeoutMs = 30_000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not print "${text}" within ${timeoutMs} ms:\n${child.errorOutput}`)), timeoutMs);
    const check = () => {
      if (child.output.includes(text)) {
        clearTimeout(timer);
        child.stdout.off('data', check);
        resolve();
      }
    };
    child.stdout.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${code} during startup:\n${child.errorOutput.slice(-4000)}`));
    });
    check();
  });
}

/** Sends SIGTERM (a graceful stop, which also writes a --cpu-prof profile) and waits; SIGKILL after 15 s. */
export async function stopProcess(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

/**
 * Peak resident memory of a process, per scenario: resets the kernel's high-water mark
 * (`/proc/<pid>/clear_refs` = 5) and reads `VmHWM` afterwards. Where the reset is not allowed, it
 * samples `VmRSS` every 100 ms instead.
 */
export function watchPeakMemory(pid) {
  let canReset = true;
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
  } catch {
    canReset = false;
  }
  let sampled = statusKb(pid, 'VmRSS') ?? 0;
  const timer = canReset
    ? undefined
    : setInterval(() => {
        sampled = Math.max(sampled, statusKb(pid, 'VmRSS') ?? 0);
      }, 100);
  return {
    method: canReset ? 'VmHWM after clear_refs' : 'VmRSS sampled every 100 ms',
    /** The peak in MB since the watch began. */
    stop() {
      if (timer) clearInterval(timer);
      const kb = canReset ? statusKb(pid, 'VmHWM') : Math.max(sampled, statusKb(pid, 'VmRSS') ?? 0);
      return kb === undefined ? null : kb / 1024;
    },
  };
}

/** CPU seconds (user + system, every thread) a process has used so far; undefined off Linux. */
export function cpuSeconds(pid) {
  try {
    // Fields after the parenthesised command name: state is field 3, utime 14 and stime 15 (proc(5)).
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}

/**
 * CPU seconds of a process's main thread (its JavaScript, Node's event loop) alone; undefined off
 * Linux. With cpuSeconds, it tells what ran on the event loop from what ran on other threads
 * (libuv's pool: password hashes, WebCrypto; V8's collector).
 */
export function mainThreadCpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/task/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}

/** How long ago a process started, in seconds (its `starttime` in /proc/<pid>/stat against /proc/uptime); undefined off Linux. */
export function processAgeSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // starttime is field 22 of proc(5), in clock ticks since boot.
    const startTicks = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
    return Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]) - startTicks / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}

/** A process's resident memory now (`VmRSS`) in MB; null off Linux. */
export function residentMemoryMb(pid) {
  const kb = statusKb(pid, 'VmRSS');
  return kb === undefined ? null : kb / 1024;
}

/** USER_HZ: 100 on every Linux architecture Node runs on. */
const CLOCK_TICKS = 100;

function statusKb(pid, field) {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

export async function waitForHealth(url, child, name, timeoutMs = 60_000) {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode} during startup:\n${child.errorOutput.slice(-4000)}`);
    const healthy = await fetch(`${url}/healthz`).then(
      (response) => response.ok,
      () => false,
    );
    if (healthy) return;
    await new Promise((wake) => setTimeout(wake, 100));
  }
  throw new Error(`${name} did not become healthy within ${timeoutMs} ms`);
}
