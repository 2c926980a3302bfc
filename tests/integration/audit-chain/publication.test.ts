import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { headsDigest } from '../../../src/domain/audit/audit-chain.js';
import { createLogger } from '../../../src/platform/logger.js';
import { mintToken } from '../../support/impersonation.js';
import { POSTGRES_SKIP_REASON, POSTGRES_URL, STORES } from '../../support/stores.js';
import { startTestServer, type TestServer } from '../../support/test-server.js';
import { organizationWithMints, querySql } from './chain-support.js';

interface PublishedEvent {
  readonly event_id: string;
  readonly actor: string;
  readonly organization_id: string | null;
  readonly chain_id: string | null;
  readonly details: string;
}

interface PublishedDetails {
  readonly digest: string;
  readonly heads: { chain_id: string; seq: number; hash: string }[];
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

const pause = (milliseconds: number) => new Promise((wake) => setTimeout(wake, milliseconds));

describe.each(STORES.map((factory) => factory.name))('publishing the audit chain heads (%s)', (store) => {
  let server: TestServer;
  let logLines: () => Record<string, unknown>[];

  beforeAll(async () => {
    ({ server, logLines } = await publishingServer({ store }));
  });
  afterAll(async () => server?.stop());

  it('logs the heads and records an unchained, published audit.chain_head_published event; nothing again until a head moves', async () => {
    const { organizationId, member } = await organizationWithMints(server, 2);
    const first = await eventually(() => publishedEvents(server), (events) => events.length > 0 && (JSON.parse(events[events.length - 1]?.details ?? '{}') as PublishedDetails).heads.some((head) => head.chain_id === organizationId), 'a publication naming the organization');
    const published = first[first.length - 1] as PublishedEvent;
    const details = JSON.parse(published.details) as PublishedDetails;
    expect(JSON.parse(published.actor)).toEqual({ type: 'system' });
    expect(published.organization_id).toBeNull();
    expect(published.chain_id).toBeNull();
    const chain = await server.fetch('/v1/b2b/impersonation/audit/chain');
    expect(details.digest).toBe(chain.body.digest);
    expect(details.heads).toEqual((chain.body.heads as { chain_id: string; seq: number; hash: string }[]).map(({ chain_id, seq, hash }) => ({ chain_id, seq, hash })));
    expect(details.heads.find((head) => head.chain_id === organizationId)?.seq).toBe(2);
    expect(headsDigest(details.heads.map((head) => ({ chainId: head.chain_id, seq: head.seq, hash: head.hash })))).toBe(details.digest);
    // It is written to the webhook outbox with it (the store contract shows that); the webhooks' dispatcher takes it from there at once.

    const line = logLines().find((entry) => entry.msg === 'audit chain heads' && entry.digest === details.digest);
    expect(line).toMatchObject({ level: 30, chains: details.heads.length, digest: details.digest, heads: details.heads });

    // Nothing changed: the next ticks publish nothing.
    const count = first.length;
    await pause(2500);
    expect(await publishedEvents(server)).toHaveLength(count);
    expect(logLines().filter((entry) => entry.msg === 'audit chain heads')).toHaveLength(count);

    await mintToken(server, { organizationId, memberId: member.member_id });
    const second = await eventually(() => publishedEvents(server), (events) => events.length === count + 1, 'a publication after the next mint');
    const moved = JSON.parse(second[count]?.details ?? '{}') as PublishedDetails;
    expect(moved.digest).not.toBe(details.digest);
    expect(moved.heads.find((head) => head.chain_id === organizationId)?.seq).toBe(3);
  });
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
