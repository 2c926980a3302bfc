import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { TEST_LOG_RUN_ENV, scanLogDirectory, testLogDirectory } from './test-logs.js';

/**
 * vitest globalSetup: gives the run its own log folder (inherited by the test workers through the
 * environment), and at the end scans everything the test servers logged. A secret in any line
 * fails the run; otherwise the folder is removed. Set UNDERSTUDY_KEEP_TEST_LOGS=1 to keep it.
 */
export function setup(): () => void {
  const run = process.env[TEST_LOG_RUN_ENV] ?? `run-${new Date().toISOString().replace(/[:.]/g, '-')}-${process.pid}`;
  process.env[TEST_LOG_RUN_ENV] = run;
  const directory = testLogDirectory(run);
  mkdirSync(directory, { recursive: true });
  return () => {
    if (!existsSync(directory)) return;
    const { files, bytes, findings } = scanLogDirectory(directory);
    if (findings.length > 0) {
      const listed = findings.slice(0, 20).map((finding) => `  - ${finding.kind} in ${finding.file}: …${finding.excerpt}…`);
      throw new Error(`Secrets found in the test servers' logs (${findings.length}; logs kept in ${directory}):\n${listed.join('\n')}`);
    }
    process.stderr.write(`[understudy tests] scanned ${files} server log file(s), ${(bytes / 1024 / 1024).toFixed(1)} MiB: no secrets\n`);
    if (process.env.UNDERSTUDY_KEEP_TEST_LOGS !== '1') rmSync(directory, { recursive: true, force: true });
  };
}
