import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    // Every test server logs into a per-run folder; the teardown fails the run if any secret was logged.
    globalSetup: ['tests/support/log-scan-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Vitest runs one file at a time on a two-core machine (cores − 1) by default; most files wait on
    // the database, child processes or sockets rather than the CPU, so two at once nearly halve the
    // suite's time (measured: about 27 minutes to about 10 on the CI machine).
    maxWorkers: 2,
    // The stytch SDK warns on every client built with a custom `env` (how tests reach a local server).
    onConsoleLog(log) {
      return !log.includes("[Stytch] Warning: Using a custom 'env' value");
    },
  },
});
