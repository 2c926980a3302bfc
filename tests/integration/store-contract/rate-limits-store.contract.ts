import { describe, expect, it } from 'vitest';
import type { RateLimitCounterKey } from '../../../src/domain/rate-limits/rate-limits-store.js';
import type { StoreFactory } from '../../support/stores.js';
import { useFreshStore } from './contract-support.js';

/** The counter of `key` in the minute starting at 12:00 + `minute` on 2026-03-01. */
function counter(key: string, overrides: Partial<RateLimitCounterKey> & { minute?: number } = {}): RateLimitCounterKey {
  const { minute = 0, ...rest } = overrides;
  const start = Date.UTC(2026, 2, 1, 12, minute);
  const stamp = (millis: number): string => new Date(millis).toISOString().replace(/\.\d{3}Z$/, 'Z');
  return { bucket: 'console_sign_ins', key, windowStart: stamp(start), expiresAt: stamp(start + 60_000), ...rest };
}

/** The RateLimitsStore port (src/domain/rate-limits/rate-limits-store.ts) against one adapter. */
export function describeRateLimitsStoreContract(factory: StoreFactory): void {
  describe('RateLimitsStore', () => {
    const store = useFreshStore(factory);

    it('incrementCounter creates a counter at 1 and returns each new count', async () => {
      const limits = store().rateLimits;
      expect(await limits.incrementCounter(counter('203.0.113.7'))).toBe(1);
      expect(await limits.incrementCounter(counter('203.0.113.7'))).toBe(2);
      expect(await limits.incrementCounter(counter('203.0.113.7'))).toBe(3);
      expect(await limits.readCounter(counter('203.0.113.7'))).toBe(3);
    });

    it('readCounter returns 0 for a counter that does not exist', async () => {
      expect(await store().rateLimits.readCounter(counter('198.51.100.1'))).toBe(0);
    });

    it('keeps one count per bucket, key and window: no other counter moves', async () => {
      const limits = store().rateLimits;
      await limits.incrementCounter(counter('203.0.113.7'));
      await limits.incrementCounter(counter('203.0.113.7'));
      expect(await limits.incrementCounter(counter('203.0.113.8'))).toBe(1);
      expect(await limits.incrementCounter(counter('203.0.113.7', { bucket: 'mints' }))).toBe(1);
      expect(await limits.incrementCounter(counter('203.0.113.7', { minute: 1 }))).toBe(1);
      expect(await limits.readCounter(counter('203.0.113.7'))).toBe(2);
      expect(await limits.readCounter(counter('203.0.113.8'))).toBe(1);
    });

    it('counts every one of 40 concurrent increments exactly once, each caller seeing its own count', async () => {
      const limits = store().rateLimits;
      const counts = await Promise.all(Array.from({ length: 40 }, () => limits.incrementCounter(counter('2001:db8:1:2::/64'))));
      expect([...counts].sort((a, b) => a - b)).toEqual(Array.from({ length: 40 }, (_, index) => index + 1));
      expect(await limits.readCounter(counter('2001:db8:1:2::/64'))).toBe(40);
    });

    it('deleteExpiredCounters removes the counters whose window ended at or before now, and only those', async () => {
      const limits = store().rateLimits;
      await limits.incrementCounter(counter('a', { minute: 0 }));
      await limits.incrementCounter(counter('b', { minute: 0, bucket: 'searches' }));
      await limits.incrementCounter(counter('a', { minute: 1 }));
      await limits.incrementCounter(counter('a', { minute: 2 }));
      // 12:02:00 is the end of minute 1's window: minutes 0 and 1 are over, minute 2 is running.
      expect(await limits.deleteExpiredCounters('2026-03-01T12:02:00Z')).toBe(3);
      expect(await limits.readCounter(counter('a', { minute: 0 }))).toBe(0);
      expect(await limits.readCounter(counter('b', { minute: 0, bucket: 'searches' }))).toBe(0);
      expect(await limits.readCounter(counter('a', { minute: 1 }))).toBe(0);
      expect(await limits.readCounter(counter('a', { minute: 2 }))).toBe(1);
      expect(await limits.deleteExpiredCounters('2026-03-01T12:02:00Z')).toBe(0);
    });
  });
}
