import { readFileSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseMasterKey } from '../../src/crypto/keys/master-key.js';
import { systemClock } from '../../src/platform/clock.js';
import { cryptoRandom } from '../../src/platform/random.js';
import { createServices } from '../../src/services.js';
import { migrate, sqliteFileIn } from '../../src/storage/open-store.js';
import { openPostgres } from '../../src/storage/postgres/postgres-database.js';
import { openSqlite } from '../../src/storage/sqlite/sqlite-database.js';
import { createSqlStore } from '../../src/storage/store.js';
import { killLeftoverProcesses, runCli, temporaryDirectory, type CliProcess } from '../integration/cli/cli-process.js';
import { ConsoleClient } from '../integration/console/console-client.js';
import { createThrowawayPostgresDatabase, STORES } from '../support/stores.js';
import { TEST_MASTER_KEY, TEST_PROJECT_ID, TEST_PROJECT_SECRET } from '../support/test-constants.js';
import { seedAuditTrail, type SeededTrail } from './support/audit-trail-seed.js';

/**
 * Exporting a long audit trail (docs/reliability.md, "Large audit exports"): a real `understudy
 * serve` process over a database seeded with 200,000 impersonation events (written straight into
 * the table, as the bench seeds). Two whole-trail exports at once, one through the API's NDJSON and
 * one through the console's download, must arrive complete and in order while the server's
 * resident memory stays within 300 MB of what it was before and /healthz keeps answering within
 * 2 s; a third export meanwhile is refused with 429 and Retry-After. Before exports streamed, each
 * one was built in memory: this same run grew the server by more than a gigabyte and /healthz
 * waited 4 to 16 s. The bounds are loose on purpose (a streamed run grows by 10 to 100 MB and
 * answers /healthz within 200 ms): the suite runs beside other tests on two cores.
 */
const EVENTS = 200_000;
const MAX_RSS_GROWTH_MB = 300;
const MAX_HEALTHZ_MS = 2_000;
const AUTHORIZATION = `Basic ${Buffer.from(`${TEST_PROJECT_ID}:${TEST_PROJECT_SECRET}`).toString('base64')}`;
const START = '2025-01-01T00:00:00Z';
const ORGANIZATION_SLUG = 'audit-export';
const VIEWER = { emailAddress: 'auditor@operators.example', password: 'a long viewer password 4711' };

afterAll(() => killLeftoverProcesses());

for (const store of STORES) {
  describe(`exporting ${EVENTS.toLocaleString('en')} audit events from a serve process (${store.name})`, () => {
    const dataDir = temporaryDirectory('audit-export');
    let postgres: { url: string; drop: () => Promise<void> } | undefined;
    let serve: CliProcess;
    let baseUrl: string;
    let trail: SeededTrail;

    beforeAll(async () => {
      postgres = store.name === 'postgres' ? await createThrowawayPostgresDatabase() : undefined;
      const db = postgres ? openPostgres(postgres.url) : openSqlite(sqliteFileIn(dataDir.path));
      try {
        await migrate(db);
        const services = createServices({ store: createSqlStore(db, store.name), clock: systemClock, random: cryptoRandom, projectId: TEST_PROJECT_ID, masterKey: parseMasterKey(TEST_MASTER_KEY) });
        const context = { requestId: 'request-id-test-00000000-0000-4000-8000-0000000000e1', actor: { type: 'cli' } } as const;
        const organization = await services.organizations.create(context, { organizationName: 'Audit Export', organizationSlug: ORGANIZATION_SLUG });
        trail = await seedAuditTrail(db, {
          dialect: store.name,
          projectId: TEST_PROJECT_ID,
          count: EVENTS,
          start: START,
          stepMs: 1000,
          organizationId: organization.organizationId,
          memberId: 'member-test-6a1b2c3d-4e5f-4a6b-8c7d-8e9f0a1b2c3d',
          impersonatorId: 'support-agent-17',
        });
        // The console's download is open to viewers, the least privileged role.
        await services.operators.create(context, { ...VIEWER, name: 'Auditor', role: 'viewer' });
        // A table filled in one go has no planner statistics until autovacuum gets to it; a trail that
        // grew over months has them. Give PostgreSQL what it would have (the bench does the same).
        if (store.name === 'postgres') await sql`analyze audit_events`.execute(db);
      } finally {
        await db.destroy();
      }
      serve = runCli(['serve'], {
        UNDERSTUDY_DATA_DIR: dataDir.path,
        UNDERSTUDY_PORT: '0',
        UNDERSTUDY_LOG_LEVEL: 'info',
        UNDERSTUDY_PROJECT_ID: TEST_PROJECT_ID,
        UNDERSTUDY_PROJECT_SECRET: TEST_PROJECT_SECRET,
        UNDERSTUDY_MASTER_KEY: TEST_MASTER_KEY,
        ...(postgres && { UNDERSTUDY_DATABASE_URL: postgres.url }),
      });
      baseUrl = await serve.listening();
    }, 120_000);

    afterAll(async () => {
      await serve?.stop();
      await postgres?.drop();
      dataDir.remove();
    });

    it('streams two whole-trail exports at once with flat memory and a responsive /healthz, and refuses a third with 429', async () => {
      const pid = serve.child.pid as number;
      // Warm up the paths under test (and the console session) so the baseline includes their code.
      const viewer = new ConsoleClient(baseUrl);
      await viewer.signIn({ ...VIEWER, totpSecret: null }, new Date());
      const cookie = [...viewer.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
      const warmUntil = trail.occurredAt(3000);
      expect((await readExport(await apiExport(baseUrl, `&until=${warmUntil}`))).count).toBeGreaterThan(2000);
      expect((await readExport(await consoleExport(baseUrl, cookie, `?until=${warmUntil}`))).count).toBeGreaterThan(2000);
      await sleep(500);
      const baselineMb = statusMb(pid, 'VmRSS');
      const measured = await whileMeasuring(pid, baseUrl, async () => {
        const started = performance.now();
        // The API export filtered by organization (its slug), the console's unfiltered: both are the whole trail.
        const [api, download] = await Promise.all([apiExport(baseUrl, `&organization_id=${ORGANIZATION_SLUG}`), consoleExport(baseUrl, cookie)]);
        // Both slots are taken while the two bodies are still being read.
        const refused = await apiExport(baseUrl);
        const refusedPage = await consoleExport(baseUrl, cookie);
        const [refusedText, refusedHtml] = await Promise.all([refused.text(), refusedPage.text()]);
        const [apiRead, downloadRead] = await Promise.all([readExport(api), readExport(download)]);
        return { api, download, refused, refusedText, refusedPage, refusedHtml, apiRead, downloadRead, exportMs: performance.now() - started };
      });
      const { api, download, refused, refusedText, refusedPage, refusedHtml, apiRead, downloadRead, exportMs } = measured.result;
      const { healthz, peakMb } = measured;
      await sleep(1000);
      const afterMb = statusMb(pid, 'VmRSS');

      const figures = {
        database: store.name,
        events: trail.impersonationEvents,
        exported_mb: Math.round(apiRead.bytes / 1e6),
        baseline_rss_mb: Math.round(baselineMb),
        peak_rss_mb: Math.round(peakMb),
        growth_mb: Math.round(peakMb - baselineMb),
        rss_after_mb: Math.round(afterMb),
        peak_method: measured.peakMethod,
        healthz_max_ms: Math.round(healthz.max),
        healthz_checks: healthz.count,
        two_exports_ms: Math.round(exportMs),
      };
      process.stderr.write(`[audit export] ${JSON.stringify(figures)}\n`);

      expect([api.status, download.status]).toEqual([200, 200]);
      expect(api.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
      expect(download.headers.get('content-disposition')).toContain('attachment');
      expect(refused.status).toBe(429);
      expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(JSON.parse(refusedText)).toMatchObject({ status_code: 429, error_type: 'too_many_requests' });
      expect(refusedPage.status).toBe(429);
      expect(refusedPage.headers.get('content-type')).toMatch(/^text\/html/);
      expect(refusedPage.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(refusedHtml).toContain('audit exports');
      for (const read of [apiRead, downloadRead]) {
        expect(read.problems).toEqual([]);
        expect(read.count).toBe(trail.impersonationEvents);
      }
      expect(figures.growth_mb, JSON.stringify(figures)).toBeLessThan(MAX_RSS_GROWTH_MB);
      expect(healthz.count).toBeGreaterThan(5);
      expect(healthz.max, JSON.stringify(figures)).toBeLessThan(MAX_HEALTHZ_MS);
    }, 120_000);
  });
}

function apiExport(baseUrl: string, query = ''): Promise<Response> {
  return fetch(`${baseUrl}/v1/b2b/impersonation/audit?format=ndjson${query}`, { headers: { authorization: AUTHORIZATION } });
}

function consoleExport(baseUrl: string, cookie: string, query = ''): Promise<Response> {
  return fetch(`${baseUrl}/console/audit/export${query}`, { headers: { cookie }, redirect: 'manual' });
}

/** Reads an NDJSON body as it arrives: every line must parse, be an impersonation event and come after the previous one. */
async function readExport(response: Response): Promise<{ count: number; bytes: number; problems: string[] }> {
  const problems: string[] = [];
  let count = 0;
  let bytes = 0;
  let previous = '';
  let rest = '';
  const decoder = new TextDecoder();
  const check = (line: string): void => {
    count += 1;
    try {
      const event = JSON.parse(line) as { event_id: string; type: string };
      if (!event.type.startsWith('impersonation.')) problems.push(`line ${count}: type ${event.type}`);
      if (event.event_id <= previous) problems.push(`line ${count}: ${event.event_id} after ${previous}`);
      previous = event.event_id;
    } catch {
      problems.push(`line ${count} does not parse: ${line.slice(0, 200)}`);
    }
  };
  if (response.status !== 200) throw new Error(`export answered ${response.status}: ${(await response.text()).slice(0, 500)}`);
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    bytes += chunk.byteLength;
    const lines = (rest + decoder.decode(chunk, { stream: true })).split('\n');
    rest = lines.pop() ?? '';
    for (const line of lines) check(line);
  }
  if (rest !== '') problems.push(`the export does not end with a newline: ${rest.slice(0, 200)}`);
  return { count, bytes, problems };
}

/** Runs `work` while polling /healthz and watching the server's peak memory; both stop even when `work` fails. */
async function whileMeasuring<T>(pid: number, baseUrl: string, work: () => Promise<T>): Promise<{ result: T; healthz: { max: number; count: number }; peakMb: number; peakMethod: string }> {
  const peak = watchPeak(pid);
  const health = pollHealth(baseUrl);
  const outcome = await work().then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
  const peakMb = peak.stop();
  const healthz = await health.stop();
  // Reported before any assertion, so a failing run still shows what it measured.
  process.stderr.write(`[audit export] measured: peak ${Math.round(peakMb)} MB (${peak.method}), /healthz max ${Math.round(healthz.max)} ms over ${healthz.count} checks\n`);
  if (!outcome.ok) throw outcome.error;
  return { result: outcome.value, healthz, peakMb, peakMethod: peak.method };
}

/** GET /healthz every 50 ms until stopped; the slowest answer is what a load balancer would see. */
function pollHealth(baseUrl: string): { stop(): Promise<{ max: number; count: number }> } {
  let running = true;
  let max = 0;
  let count = 0;
  const loop = (async () => {
    while (running) {
      const started = performance.now();
      const response = await fetch(`${baseUrl}/healthz`);
      await response.arrayBuffer();
      if (response.status !== 200) throw new Error(`/healthz answered ${response.status}`);
      max = Math.max(max, performance.now() - started);
      count += 1;
      await sleep(50);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { max, count };
    },
  };
}

/** Peak resident memory since the call: the kernel's high-water mark after resetting it, or VmRSS sampled every 50 ms. */
function watchPeak(pid: number): { method: string; stop(): number } {
  let canReset = true;
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
  } catch {
    canReset = false;
  }
  let sampled = statusMb(pid, 'VmRSS');
  const timer = setInterval(() => {
    sampled = Math.max(sampled, statusMb(pid, 'VmRSS'));
  }, 50);
  return {
    method: canReset ? 'VmHWM after clear_refs' : 'VmRSS every 50 ms',
    stop() {
      clearInterval(timer);
      return Math.max(sampled, canReset ? statusMb(pid, 'VmHWM') : 0);
    },
  };
}

function statusMb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (match === null) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(match[1]) / 1024;
}
