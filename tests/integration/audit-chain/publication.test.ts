import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { headsDigest } from '../../../src/domain/audit/audit-chain.js';
import { createLogger } from '../../../src/platform/logger.js';
import { expectErrorResponse, mintToken } from '../../support/impersonation.js';
import { POSTGRES_SKIP_REASON, POSTGRES_URL, STORES } from '../../support/stores.js';
import { startTestServer, type TestServer } from '../../support/test-server.js';
import { executeSql, sqlText } from '../../support/database-access.js';
import { killLeftoverProcesses } from '../cli/cli-process.js';
import { auditCli, chainRows, organizationWithMints, querySql } from './chain-support.js';

interface PublishedEvent {
  readonly event_id: string;
  readonly actor: string;
  readonly organization_id: string | null;
  readonly chain_id: string | null;
  readonly details: string;
}

interface PublishedDetails {
  readonly digest: string;
  readonly changed_since: string | null;
  readonly heads: { chain_id: string; seq: number; hash: string }[];
}

/** What an outside copy holds after these publications: the latest head of each chain they named. */
function accumulated(publications: readonly PublishedDetails[]): { chain_id: string; seq: number; hash: string }[] {
  const heads = new Map<string, { chain_id: string; seq: number; hash: string }>();
  for (const publication of publications) for (const head of publication.heads) heads.set(head.chain_id, head);
  return [...heads.values()].sort((a, b) => (a.chain_id < b.chain_id ? -1 : 1));
}

/** A server publishing its chain heads every second, with its log lines kept. */
async function publishingServer(options: { store: 'sqlite' | 'postgres'; sharing?: TestServer }): Promise<{ server: TestServer; logLines: () => Record<string, unknown>[] }> {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString('utf8'));
      done();
    },
  });
  const server = await startTestServer({ store: options.store, sharing: options.sharing, logger: createLogger('info', destination), config: { auditChainPublishSeconds: 1 } });
  const logLines = () =>
    chunks
      .join('')
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { server, logLines };
}

function publishedEvents(server: TestServer): Promise<PublishedEvent[]> {
  return querySql<PublishedEvent>(server, `select event_id, actor, organization_id, chain_id, details from audit_events where type = 'audit.chain_head_published' order by event_id`);
}

/** Waits until `check` holds (polling), or fails with what it saw last. */
async function eventually<T>(read: () => Promise<T>, check: (value: T) => boolean, what: string): Promise<T> {
  const deadline = performance.now() + 10_000;
  for (;;) {
    const value = await read();
    if (check(value)) return value;
    if (performance.now() > deadline) throw new Error(`${what} did not happen within 10 s: ${JSON.stringify(value)}`);
    await new Promise((wake) => setTimeout(wake, 100));
  }
}

const VERIFY = '/v1/b2b/impersonation/audit/chain/verify';

const pause = (milliseconds: number) => new Promise((wake) => setTimeout(wake, milliseconds));

describe.each(STORES.map((factory) => factory.name))('publishing the audit chain heads (%s)', (store) => {
  let server: TestServer;
  let logLines: () => Record<string, unknown>[];

  const directory = mkdtempSync(join(tmpdir(), 'understudy-published-'));

  beforeAll(async () => {
    ({ server, logLines } = await publishingServer({ store }));
  });
  afterAll(async () => {
    killLeftoverProcesses();
    await server?.stop();
    rmSync(directory, { recursive: true, force: true });
  });

  it('logs the heads and records an unchained, published audit.chain_head_published event; nothing again until a head moves, then only the heads that moved', async () => {
    const { organizationId, member } = await organizationWithMints(server, 2);
    // Waits for the organization's second record: a tick between the two mints publishes the first alone.
    const first = await eventually(
      () => publishedEvents(server),
      (events) => events.length > 0 && (JSON.parse(events[events.length - 1]?.details ?? '{}') as PublishedDetails).heads.some((head) => head.chain_id === organizationId && head.seq === 2),
      'a publication naming the organization',
    );
    const published = first[first.length - 1] as PublishedEvent;
    const details = JSON.parse(published.details) as PublishedDetails;
    expect(JSON.parse(published.actor)).toEqual({ type: 'system' });
    expect(published.organization_id).toBeNull();
    expect(published.chain_id).toBeNull();
    const chain = await server.fetch('/v1/b2b/impersonation/audit/chain');
    expect(details.digest).toBe(chain.body.digest);
    // The first publication lists every head; each later one the heads that moved since the one before, whose digest it names.
    const all = first.map((event) => JSON.parse(event.details) as PublishedDetails);
    expect(all[0]?.changed_since).toBeNull();
    for (const [index, publication] of all.entries()) if (index > 0) expect(publication.changed_since).toBe(all[index - 1]?.digest);
    const union = accumulated(all);
    expect(union).toEqual((chain.body.heads as { chain_id: string; seq: number; hash: string }[]).map(({ chain_id, seq, hash }) => ({ chain_id, seq, hash })));
    expect(details.heads.find((head) => head.chain_id === organizationId)?.seq).toBe(2);
    expect(headsDigest(union.map((head) => ({ chainId: head.chain_id, seq: head.seq, hash: head.hash })))).toBe(details.digest);
    // It is written to the webhook outbox with it (the store contract shows that); the webhooks' dispatcher takes it from there at once.

    const line = logLines().find((entry) => entry.msg === 'audit chain heads' && entry.digest === details.digest);
    expect(line).toMatchObject({ level: 30, chains: union.length, digest: details.digest, changed_since: details.changed_since, heads: details.heads });

    // Nothing changed: the next ticks publish nothing.
    const count = first.length;
    await pause(2500);
    expect(await publishedEvents(server)).toHaveLength(count);
    expect(logLines().filter((entry) => entry.msg === 'audit chain heads')).toHaveLength(count);

    await mintToken(server, { organizationId, memberId: member.member_id });
    const second = await eventually(() => publishedEvents(server), (events) => events.length === count + 1, 'a publication after the next mint');
    const moved = JSON.parse(second[count]?.details ?? '{}') as PublishedDetails;
    expect(moved.digest).not.toBe(details.digest);
    expect(moved.changed_since).toBe(details.digest);
    expect(moved.heads).toEqual([{ chain_id: organizationId, seq: 3, hash: (await chainRows(server, organizationId))[2]?.hash }]);
  });

  it('verifies against the log lines kept, or the webhook bodies kept, oldest first; a chain cut back fails them, and the heads published from the database too', async () => {
    const { organizationId } = await organizationWithMints(server, 3);
    await eventually(() => publishedEvents(server), (events) => events.some((event) => (JSON.parse(event.details) as PublishedDetails).heads.some((head) => head.chain_id === organizationId && head.seq === 3)), 'a publication of the new chain');
    const logged = logLines().filter((entry) => entry.msg === 'audit chain heads');
    const logFile = join(directory, 'log.ndjson');
    writeFileSync(logFile, `${logged.map((entry) => JSON.stringify(entry)).join('\n')}\n`);
    // What a webhook receiver keeps: the body of each delivery (docs/webhooks.md).
    const events = await querySql<PublishedEvent & { type: string; occurred_at: string }>(server, `select event_id, type, occurred_at, details from audit_events where type = 'audit.chain_head_published' order by event_id`);
    const bodies = events.map((event) => ({ type: event.type, timestamp: event.occurred_at, data: { event_id: event.event_id, details: JSON.parse(event.details) as unknown } }));
    const bodiesFile = join(directory, 'bodies.ndjson');
    writeFileSync(bodiesFile, bodies.map((body) => JSON.stringify(body)).join('\n'));
    const fromBodies = await auditCli(server, ['verify', '--published', bodiesFile]);
    expect(fromBodies.code, fromBodies.stderr).toBe(0);
    const fromLog = await server.fetch(VERIFY, { method: 'POST', json: { published: logged } });
    expect(fromLog.status, JSON.stringify(fromLog.body)).toBe(200);
    expect(fromLog.body).toMatchObject({ valid: true });
    // One delivery lost: the copy no longer adds up, and says so.
    expect(bodies.length).toBeGreaterThanOrEqual(3);
    const withGap = await server.fetch(VERIFY, { method: 'POST', json: { published: bodies.filter((_, index) => index !== 1) } });
    expectErrorResponse(withGap, 400, 'bad_request');
    expect(withGap.body.error_message).toMatch(/^published\[1\] follows the publication of digest [0-9a-f]{64}, but published\[0\] ends at [0-9a-f]{64}: a publication between them is missing\.$/);

    // The chain cut back to one record, its head moved with it: consistent on its own.
    const rows = await chainRows(server, organizationId);
    await executeSql(server, [`delete from audit_events where chain_id = ${sqlText(organizationId)} and chain_seq > 1;`, `update audit_chain_heads set seq = 1, hash = ${sqlText(rows[0]?.hash ?? '')} where chain_id = ${sqlText(organizationId)};`].join('\n'));
    const cutBack = { chain_id: organizationId, seq: 3, event_id: null, problem: 'not_as_published' };
    // The furthest head published from this database says seq 3 (a weak check: it is in the same database) ...
    const weak = await server.fetch(VERIFY, { method: 'POST', json: { chain_id: organizationId } });
    expect(weak.body).toMatchObject({ valid: false, checked_records: 1, broken: cutBack });
    // ... which the cut goes on failing after the next publication, as the copy kept outside does.
    await eventually(() => publishedEvents(server), (later) => later.some((event) => (JSON.parse(event.details) as PublishedDetails).heads.some((head) => head.chain_id === organizationId && head.seq === 1)), 'a publication of the cut chain');
    expect((await server.fetch(VERIFY, { method: 'POST', json: { chain_id: organizationId } })).body).toMatchObject({ valid: false, broken: cutBack });
    const outside = await auditCli(server, ['verify', '--organization', organizationId, '--published', logFile, '--json']);
    expect(outside.code, outside.stderr).toBe(1);
    expect(JSON.parse(outside.stdout)).toMatchObject({ valid: false, problems: [cutBack] });
  }, 60_000);
});

// Skipped without a PostgreSQL server: POSTGRES_SKIP_REASON says how to provide one.
describe.skipIf(!POSTGRES_URL)(`two servers publishing on one PostgreSQL (${POSTGRES_URL ? 'UNDERSTUDY_TEST_DATABASE_URL' : POSTGRES_SKIP_REASON})`, () => {
  let first: TestServer;
  let second: TestServer;

  beforeAll(async () => {
    first = (await publishingServer({ store: 'postgres' })).server;
    second = (await publishingServer({ store: 'postgres', sharing: first })).server;
  });
  afterAll(async () => {
    await second?.stop();
    await first?.stop();
  });

  it('publish each state of the heads once between them', async () => {
    const { organizationId, member } = await organizationWithMints(first, 1);
    for (let round = 0; round < 3; round += 1) {
      await mintToken(round % 2 === 0 ? first : second, { organizationId, memberId: member.member_id });
      await pause(1500);
    }
    await eventually(
      () => publishedEvents(first),
      (events) => events.some((event) => (JSON.parse(event.details) as PublishedDetails).heads.some((head) => head.chain_id === organizationId && head.seq === 4)),
      'a publication of the last head',
    );
    await pause(2500);
    const digests = (await publishedEvents(first)).map((event) => (JSON.parse(event.details) as PublishedDetails).digest);
    expect(digests.length).toBeGreaterThanOrEqual(2);
    expect(new Set(digests).size).toBe(digests.length);
  });
});
