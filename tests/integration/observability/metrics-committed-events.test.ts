import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../../src/domain/audit/audit-event.js';
import { AuditRecorder } from '../../../src/domain/audit/audit-recorder.js';
import type { OperationContext } from '../../../src/domain/common/operation-context.js';
import { systemClock } from '../../../src/platform/clock.js';
import { IdGenerator } from '../../../src/platform/ids.js';
import { cryptoRandom } from '../../../src/platform/random.js';
import type { Store } from '../../../src/storage/store.js';
import { STORES } from '../../support/stores.js';

/**
 * The store tells its listeners (the metrics) of audit events only once they are committed, so a
 * sign-in is counted exactly once: never for a transaction rolled back, once for one PostgreSQL
 * aborted to break a deadlock and ran again, and not before the commit.
 */
const CONTEXT: OperationContext = { requestId: 'request-id-test-metrics', actor: { type: 'system' } };
const audit = new AuditRecorder({ ids: new IdGenerator(cryptoRandom, 'test'), clock: systemClock });

function record(store: Pick<Store, 'audit'>, method: string): Promise<void> {
  return audit.record(store.audit, CONTEXT, { type: 'member.sign_in_refused', organizationId: null, details: { method } });
}

describe.each(STORES)('committed audit events ($name)', (factory) => {
  let store: Store;
  let cleanup: () => Promise<void>;
  let told: string[];
  let stop: () => void;

  beforeAll(async () => {
    ({ store, cleanup } = await factory.open());
  });
  afterAll(async () => {
    await cleanup?.();
  });

  function listen(): void {
    told = [];
    stop = store.onAuditEventCommitted((event: AuditEvent) => told.push(event.details.method as string));
  }

  it('tells of an event appended outside a transaction once it is written', async () => {
    listen();
    await record(store, 'alone');
    expect(told).toEqual(['alone']);
    stop();
  });

  it("tells of a transaction's events after it commits, not before", async () => {
    listen();
    await store.transaction(async (tx) => {
      await record(tx, 'first');
      await record(tx, 'second');
      expect(told).toEqual([]);
    });
    expect(told).toEqual(['first', 'second']);
    stop();
  });

  it('never tells of the events of a transaction rolled back', async () => {
    listen();
    await expect(
      store.transaction(async (tx) => {
        await record(tx, 'rolled back');
        throw new Error('refused after recording');
      }),
    ).rejects.toThrow('refused after recording');
    expect(told).toEqual([]);
    const kept = await store.audit.listEvents({ organizationId: null, limit: 1000 });
    expect(kept.map((event) => event.details.method)).not.toContain('rolled back');
    stop();
  });

  it('tells once of a transaction run again after a deadlock: only the attempt that committed', async () => {
    listen();
    let attempts = 0;
    await store.transaction(async (tx) => {
      attempts += 1;
      await record(tx, `attempt ${attempts}`);
      if (attempts === 1) throw Object.assign(new Error('deadlock detected'), { code: '40P01' });
    });
    expect(attempts).toBe(2);
    expect(told).toEqual(['attempt 2']);
    stop();
  });

  it("never fails the caller whose work committed when a listener throws: the error goes to the listener's onError, the others are told", async () => {
    const failures: string[] = [];
    // Subscribed first, so the listener after it is told only if the store goes on past the throw.
    const stopThrowing = store.onAuditEventCommitted(
      () => {
        throw new Error('listener broke');
      },
      (error, event) => failures.push(`${(error as Error).message} on ${event.details.method as string}`),
    );
    listen();
    await expect(record(store, 'alone despite')).resolves.toBeUndefined();
    await expect(store.transaction((tx) => record(tx, 'committed despite').then(() => 'answer'))).resolves.toBe('answer');
    stopThrowing();
    expect(told).toEqual(['alone despite', 'committed despite']);
    expect(failures).toEqual(['listener broke on alone despite', 'listener broke on committed despite']);
    const kept = await store.audit.listEvents({ organizationId: null, limit: 1000 });
    expect(kept.map((event) => event.details.method)).toContain('committed despite');
    stop();
  });

  it('tells every listener, and none once it stopped', async () => {
    listen();
    const other: string[] = [];
    const stopOther = store.onAuditEventCommitted((event) => other.push(event.details.method as string));
    await record(store, 'both');
    stop();
    await store.transaction((tx) => record(tx, 'other only'));
    stopOther();
    await record(store, 'nobody');
    expect({ told, other }).toEqual({ told: ['both'], other: ['both', 'other only'] });
  });
});
