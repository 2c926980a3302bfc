import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    // Every test server logs into a per-run folder; the teardown fails the run if any secret was logged.
    globalSetup: ['tests/support/log-scan-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // The stytch SDK warns on every client built with a custom `env` (how tests reach a local server).
    onConsoleLog(log) {
      return !log.includes("[Stytch] Warning: Using a custom 'env' value");
    },
  },
});
