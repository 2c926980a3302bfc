import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORES } from '../support/stores.js';
import { apiRequests, consoleRequests } from './support/fuzz-requests.js';
import { expectHealthy, FUZZ_RUNS, FUZZ_SEED, type FuzzTarget, startFuzzTarget } from './support/fuzz-target.js';

/** A request and two database snapshots take a few milliseconds; PostgreSQL is the slower one. */
const TIMEOUT_MS = Math.max(60_000, FUZZ_RUNS * 4_000);

/**
 * Property-based fuzzing of every route the server registers (docs/reliability.md, "Hostile
 * input"): random and malformed JSON, wrong types, hostile strings, odd methods and headers.
 * Whatever arrives, the answer is never a 5xx, API answers are Stytch's envelope (or a valid
 * success), console answers are HTML, a refused request writes no row, and /healthz still answers.
 *
 * Fixed seed by default; replay or explore with UNDERSTUDY_FUZZ_SEED=<n> UNDERSTUDY_FUZZ_RUNS=<runs per route>.
 */
describe.each(STORES)('fuzzing every route ($name)', ({ name: store }) => {
  let target: FuzzTarget;

  beforeAll(async () => {
    target = await startFuzzTarget(store);
    console.info(`[fuzz ${store}] seed ${FUZZ_SEED}, ${FUZZ_RUNS} runs per route (UNDERSTUDY_FUZZ_SEED / UNDERSTUDY_FUZZ_RUNS)`);
  });
  afterAll(async () => {
    if (target === undefined) return;
    console.info(`[fuzz ${store}] ${JSON.stringify(target.counts)}`);
    await target.stop();
  });

  it('enumerates the routes from the running server, the console and the impersonation extensions included', () => {
    const names = target.routes.map((route) => `${route.method} ${route.url}`);
    expect(names).toEqual(expect.arrayContaining(['GET /healthz', 'POST /v1/b2b/organizations', 'POST /v1/b2b/impersonation', 'GET /v1/b2b/impersonation/audit', 'PUT /v1/b2b/impersonation/policies/:organization_id']));
    expect(names).toEqual(expect.arrayContaining(['POST /v1/b2b/organizations/:organization_id/members', 'DELETE /v1/b2b/organizations/:organization_id/members/:member_id/external_id']));
    expect(names).toEqual(expect.arrayContaining(['POST /console/login', 'POST /console/organizations/:organization/members/:member/impersonate', 'POST /console/operators/:operator/disable']));
    expect(names.length).toBeGreaterThanOrEqual(45);
  });

  it('answers hostile requests to every API route with a 4xx envelope or a valid success, and writes nothing when it refuses', async () => {
    const routes = target.routes.filter((route) => !route.url.startsWith('/console'));
    for (const route of routes) {
      await fc.assert(
        fc.asyncProperty(apiRequests(target, route), async (request) => {
          await target.send(request);
        }),
        { seed: FUZZ_SEED, numRuns: FUZZ_RUNS },
      );
      await expectHealthy(target);
    }
    // The generators reach past the edge: most requests are refused, some succeed, some refusals are audited.
    expect(target.counts.errors).toBeGreaterThan(routes.length * FUZZ_RUNS * 0.5);
  }, TIMEOUT_MS);

  it('answers hostile requests to every console route with HTML or a same-site redirect, and writes nothing when it refuses', async () => {
    for (const route of target.routes.filter((candidate) => candidate.url.startsWith('/console'))) {
      await fc.assert(
        fc.asyncProperty(consoleRequests(target, route), async (request) => {
          await target.send(request);
        }),
        { seed: FUZZ_SEED, numRuns: FUZZ_RUNS },
      );
      await expectHealthy(target);
    }
  }, TIMEOUT_MS);
});
