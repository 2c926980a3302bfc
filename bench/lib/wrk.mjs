// Where wrk is, which version, and what to say when it is missing. wrk is the default load
// generator: autocannon, one Node process, saturates (~27k req/s on a 2-core machine) before the
// reference servers do, which under-measures them and overstates every share of them.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';

export const WRK_INSTALL = 'apt-get install -y wrk (Debian/Ubuntu; brew install wrk on macOS)';

/** The wrk executable on PATH, or undefined. */
export function findWrk() {
  for (const directory of (process.env.PATH ?? '').split(delimiter)) {
    if (directory === '') continue;
    const candidate = join(directory, 'wrk');
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

/** The wrk executable, or an error that names the install command (never a silent fallback). */
export function requireWrk() {
  const wrk = findWrk();
  if (wrk === undefined) {
    throw new Error(
      `wrk is not installed, and it is the benchmark's load generator (autocannon saturates before the reference servers do). Install it: ${WRK_INSTALL}. To measure with autocannon instead, pass --load-generator autocannon explicitly.`,
    );
  }
  return wrk;
}

/** wrk's version line (`wrk -v` prints it, then its usage, and exits 1). */
export function wrkVersion(wrk = findWrk()) {
  if (wrk === undefined) return null;
  const output = spawnSync(wrk, ['-v'], { encoding: 'utf8' }).stdout ?? '';
  return /^wrk (\S+)/m.exec(output)?.[1] ?? 'unknown';
}
