import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // The stytch SDK warns on every client built with a custom `env` (how tests reach a local server).
    onConsoleLog(log) {
      return !log.includes("[Stytch] Warning: Using a custom 'env' value");
    },
  },
});
