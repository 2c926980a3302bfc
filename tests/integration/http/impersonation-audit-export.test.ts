import { request as httpRequest, type IncomingMessage } from 'node:http';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql, type Kysely } from 'kysely';
import pino from 'pino';
import type { Member, Organization } from 'stytch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUDIT_EXPORT_RETRY_AFTER_SECONDS } from '../../../src/domain/impersonation/audit-export.js';
import { createLogger } from '../../../src/platform/logger.js';
import type { Database } from '../../../src/storage/database.js';
import { sqliteFileIn } from '../../../src/storage/open-store.js';
import { openPostgres } from '../../../src/storage/postgres/postgres-database.js';
import { openSqlite } from '../../../src/storage/sqlite/sqlite-database.js';
import { AUDIT, auditEvents, auditPage, createImpersonationCast, expectErrorResponse, impersonate, type WireAuditEvent } from '../../support/impersonation.js';
import { STORES } from '../../support/stores.js';
import { TEST_LOG_LEVEL, testLogDestination } from '../../support/test-logs.js';
import { startTestServer, type TestServer } from '../../support/test-server.js';
import { ConsoleClient } from '../console/console-client.js';
import { seedAuditTrail, type SeededTrail } from '../../reliability/support/audit-trail-seed.js';

/**
 * The streamed audit export (docs/impersonation.md, "Exporting the trail"): a trail of 40,000 events
 * (36,000 of them impersonation events) seeded straight into the database, read back whole and in
 * pieces as NDJSON from the API and the console, with exports held open by clients that stop
 * reading so the per-process bound (2) can be seen: a third export gets 429, a client that goes
 * away frees its slot, and a failure after the first line cuts the response off.
 */
const ROWS = 40_000;
const START = '2025-06-01T00:00:00Z';
const VIEWER_PASSWORD = 'a long viewer password 4711';

/** A GET whose body is not read until asked: the server sees a client that stopped reading. */
interface HeldResponse {
  readonly response: IncomingMessage;
  /** Reads the rest of the body; `error` is set when the connection ended before the body did. */
  drain(): Promise<{ lines: string[]; error: Error | undefined }>;
  /** Goes away mid-export, as a closed browser tab does. */
  abandon(): void;
}

function hold(url: string, headers: Record<string, string>): Promise<HeldResponse> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(url, { headers }, (response) => {
      resolve({
        response,
        async drain() {
          let text = '';
          let error: Error | undefined;
          try {
            for await (const chunk of response) text += (chunk as Buffer).toString('utf8');
          } catch (failure) {
            error = failure as Error;
          }
          // An HTTP/1.1 chunked body cut off without its last chunk ends the message as aborted.
          if (error === undefined && !response.complete) error = new Error('response ended before the body was complete');
          return { lines: text.split('\n').filter((line) => line !== ''), error };
        },
        abandon: () => request.destroy(),
      });
    });
    request.on('error', reject);
    request.end();
  });
}

for (const store of STORES) {
  describe(`streamed audit export (${store.name})`, () => {
    let server: TestServer;
    let db: Kysely<Database>;
    let organization: Organization;
    let member: Member;
    let trail: SeededTrail;
    let console_: ConsoleClient;
    const logLines: Record<string, unknown>[] = [];
    let basic: Record<string, string>;

    beforeAll(async () => {
      const capture = new Writable({
        write(chunk: Buffer, _encoding, done) {
          for (const line of chunk.toString('utf8').split('\n')) if (line !== '') logLines.push(JSON.parse(line) as Record<string, unknown>);
          done();
        },
      });
      const logger = createLogger(TEST_LOG_LEVEL, pino.multistream([{ level: TEST_LOG_LEVEL as pino.Level, stream: testLogDestination() }, { level: TEST_LOG_LEVEL as pino.Level, stream: capture }]));
      server = await startTestServer({ store: store.name, logger });
      basic = { authorization: `Basic ${Buffer.from(`${server.projectId}:${server.secret}`).toString('base64')}` };
      const cast = await createImpersonationCast(server.client);
      organization = cast.organization;
      member = cast.member;
      db = server.databaseUrl === undefined ? openSqlite(sqliteFileIn(server.dataDir)) : openPostgres(server.databaseUrl, { maxConnections: 1 });
      trail = await seedAuditTrail(db, {
        dialect: store.name,
        projectId: server.projectId,
        count: ROWS,
        start: START,
        stepMs: 1000,
        organizationId: organization.organization_id,
        memberId: member.member_id,
        impersonatorId: 'support-agent-17',
        otherEvery: 10,
      });
      if (store.name === 'postgres') await sql`analyze audit_events`.execute(db);
      // Two real impersonations after the seeded ones: the export holds what the API wrote too.
      await impersonate(server, member);
      const created = await server.server.app.services.operators.create(
        { requestId: 'request-id-test-00000000-0000-4000-8000-0000000000e2', actor: { type: 'cli' } },
        { emailAddress: `viewer-${store.name}@operators.example`, name: 'Viewer', role: 'viewer', password: VIEWER_PASSWORD },
      );
      console_ = new ConsoleClient(server.baseUrl);
      await console_.signIn({ emailAddress: created.operator.emailAddress, password: VIEWER_PASSWORD, totpSecret: null }, new Date());
    }, 120_000);

    afterAll(async () => {
      await db?.destroy();
      await server?.stop();
    });

    async function exportText(query: string): Promise<{ status: number; headers: Headers; events: WireAuditEvent[]; text: string }> {
      const response = await fetch(`${server.baseUrl}${AUDIT}?format=ndjson${query}`, { headers: basic });
      const text = await response.text();
      const events = response.status === 200 ? text.split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as WireAuditEvent) : [];
      return { status: response.status, headers: response.headers, events, text };
    }

    function consoleCookie(): string {
      return [...console_.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    }

    it('exports every impersonation event across many pages, in order, exactly as the JSON pages list them', async () => {
      const exported = await exportText('');
      expect(exported.status).toBe(200);
      expect(exported.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
      expect(exported.text.endsWith('\n')).toBe(true);
      expect(exported.events).toHaveLength(trail.impersonationEvents + 2);
      expect(exported.events.every((event) => event.type.startsWith('impersonation.'))).toBe(true);
      expect(exported.events).toEqual(await auditEvents(server, { limit: '1000' }));
    });

    it('narrows the export by organization (slug), since and until, splitting pages anywhere', async () => {
      const since = trail.occurredAt(1234);
      const until = trail.occurredAt(25_678);
      let expected = 0;
      for (let index = 1234; index < 25_678; index += 1) if (trail.isImpersonation(index)) expected += 1;
      const exported = await exportText(`&organization_id=${organization.organization_slug}&since=${since}&until=${until}`);
      expect(exported.events).toHaveLength(expected);
      expect(exported.events[0]?.occurred_at).toBe(since);
      expect(exported.events.every((event) => event.organization_id === organization.organization_id && event.occurred_at >= since && event.occurred_at < until)).toBe(true);
      const none = await exportText('&since=2099-01-01T00:00:00Z');
      expect({ status: none.status, text: none.text }).toEqual({ status: 200, text: '' });
      // From a cursor: what follows the first JSON page.
      const first = await auditPage(server, { limit: '700' });
      const rest = await exportText(`&cursor=${first.body.next_cursor as string}`);
      expect(rest.events).toHaveLength(trail.impersonationEvents + 2 - 700);
      expect(rest.events[0]).toEqual(await auditPage(server, { limit: '1', cursor: first.body.next_cursor as string }).then((page) => (page.body.events as WireAuditEvent[])[0]));
    });

    it('answers bad filters with the Stytch envelope before anything is streamed', async () => {
      for (const [query, status, errorType] of [
        ['&since=yesterday', 400, 'bad_request'],
        ['&organization_id=no-such-organization', 404, 'organization_not_found'],
        ['&cursor=bm90LWEtY3Vyc29y', 400, 'invalid_cursor'],
      ] as const) {
        const response = await server.fetch(`${AUDIT}?format=ndjson${query}`);
        expect(response.headers.get('content-type')).toMatch(/^application\/json/);
        expectErrorResponse(response, status, errorType);
      }
    });

    it('streams the console download to a viewer, the whole trail', async () => {
      const response = await fetch(`${server.baseUrl}/console/audit/export?organization=${organization.organization_slug}`, { headers: { cookie: consoleCookie() }, redirect: 'manual' });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-disposition')).toBe('attachment; filename="impersonation-audit.ndjson"');
      const lines = (await response.text()).split('\n').filter((line) => line !== '');
      expect(lines).toHaveLength(trail.impersonationEvents + 2);
    });

    it('runs two exports at once; a third, from the API or the console, gets 429 with Retry-After; a client that goes away frees its slot', async () => {
      const url = `${server.baseUrl}${AUDIT}?format=ndjson`;
      const first = await hold(url, basic);
      const second = await hold(`${server.baseUrl}/console/audit/export`, { cookie: consoleCookie() });
      expect([first.response.statusCode, second.response.statusCode]).toEqual([200, 200]);

      const refused = await server.fetch(`${AUDIT}?format=ndjson`);
      expectErrorResponse(refused, 429, 'too_many_requests');
      expect(refused.headers.get('retry-after')).toBe(String(AUDIT_EXPORT_RETRY_AFTER_SECONDS));
      expect(refused.body.error_message).toMatch(/^Too many requests have been made: at most 2 audit exports/);
      const refusedPage = await fetch(`${server.baseUrl}/console/audit/export`, { headers: { cookie: consoleCookie() }, redirect: 'manual' });
      expect(refusedPage.status).toBe(429);
      expect(refusedPage.headers.get('content-type')).toMatch(/^text\/html/);
      expect(refusedPage.headers.get('retry-after')).toBe(String(AUDIT_EXPORT_RETRY_AFTER_SECONDS));
      expect(await refusedPage.text()).toContain('at most 2 audit exports');
      // The JSON pages are not exports and stay available.
      expect((await auditPage(server, { limit: '5' })).status).toBe(200);

      first.abandon();
      let replacement: Awaited<ReturnType<typeof exportText>> | undefined;
      for (let attempt = 0; attempt < 50 && replacement?.status !== 200; attempt += 1) {
        await sleep(20);
        replacement = await exportText('');
      }
      expect(replacement?.status).toBe(200);
      expect(replacement?.events).toHaveLength(trail.impersonationEvents + 2);

      const rest = await second.drain();
      expect(rest.error).toBeUndefined();
      expect(rest.lines).toHaveLength(trail.impersonationEvents + 2);
      expect(rest.lines.map((line) => (JSON.parse(line) as WireAuditEvent).event_id)).toEqual(replacement?.events.map((event) => event.event_id));
    });

    it('cuts off an export whose client reads nothing for longer than the stall limit, giving its slot back', async () => {
      // A second server on the same database, with one export slot and a one-second stall limit.
      const shared = server.databaseUrl === undefined ? { dataDir: server.dataDir } : { databaseUrl: server.databaseUrl };
      const impatient = await startTestServer({ config: { ...shared, auditExportConcurrency: 1, auditExportStallSeconds: 1 } });
      try {
        const held = await hold(`${impatient.baseUrl}${AUDIT}?format=ndjson`, basic);
        expect(held.response.statusCode).toBe(200);
        expectErrorResponse(await impatient.fetch(`${AUDIT}?format=ndjson`), 429, 'too_many_requests');
        await sleep(2_500);
        // The slot is free again while the idle client still has not read a byte.
        const next = await fetch(`${impatient.baseUrl}${AUDIT}?format=ndjson`, { headers: basic });
        expect(next.status).toBe(200);
        expect((await next.text()).split('\n').filter((line) => line !== '')).toHaveLength(trail.impersonationEvents + 2);
        const rest = await held.drain();
        expect(rest.error).toBeDefined();
        expect(rest.lines.length).toBeLessThan(trail.impersonationEvents + 2);
      } finally {
        await impatient.stop();
      }
    });

    it('answers HEAD with the headers only, without running an export in the background', async () => {
      // Three in a row: were each HEAD to read the trail on unseen, the third would find both slots taken.
      for (let attempt = 0; attempt < 3; attempt += 1) {
        const head = await fetch(`${server.baseUrl}${AUDIT}?format=ndjson`, { method: 'HEAD', headers: basic });
        expect(head.status).toBe(200);
        expect(head.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
        const page = await fetch(`${server.baseUrl}/console/audit/export`, { method: 'HEAD', headers: { cookie: consoleCookie() }, redirect: 'manual' });
        expect(page.status).toBe(200);
        expect(page.headers.get('content-disposition')).toContain('attachment');
      }
      const head = await fetch(`${server.baseUrl}${AUDIT}?format=ndjson&since=yesterday`, { method: 'HEAD', headers: basic });
      expect(head.status).toBe(400);
    });

    it('cuts the response off (no clean end) when the database fails after the first line, logs it, and frees the slot', async () => {
      const held = await hold(`${server.baseUrl}${AUDIT}?format=ndjson`, basic);
      expect(held.response.statusCode).toBe(200);
      // The table disappears under the running export, then comes back.
      await sql`alter table audit_events rename to audit_events_away`.execute(db);
      let cut: Awaited<ReturnType<HeldResponse['drain']>>;
      try {
        cut = await held.drain();
      } finally {
        await sql`alter table audit_events_away rename to audit_events`.execute(db);
      }
      expect(cut.error).toBeDefined();
      expect(cut.lines.length).toBeGreaterThan(0);
      expect(cut.lines.length).toBeLessThan(trail.impersonationEvents);
      expect(logLines.some((line) => line.msg === 'audit export failed after it began; response cut off' && line.level === 50)).toBe(true);
      // Both slots are free again.
      const [again, andAgain] = await Promise.all([exportText(''), exportText('')]);
      expect([again.status, andAgain.status]).toEqual([200, 200]);
      expect(again.events).toHaveLength(trail.impersonationEvents + 2);
    });
  });
}
