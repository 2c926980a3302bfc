/** The credentials every test server starts with (tests/support/test-server.ts); the log scan looks for them. */
export const TEST_PROJECT_ID = 'project-test-11111111-2222-4333-8444-555555555555';
export const TEST_MASTER_KEY = Buffer.alloc(32, 7).toString('base64');
export const TEST_PROJECT_SECRET = 'secret-test-understudy-conformance-0123456789';

/** argon2id at 1 MiB and one pass: tests hash hundreds of passwords; production uses OWASP's minimum. */
export const TEST_ARGON2 = { memoryKib: 1024, iterations: 1, parallelism: 1 } as const;
