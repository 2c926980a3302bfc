import { describe, expect, it } from 'vitest';
import { clientAddressKey } from '../../src/domain/rate-limits/client-address.js';
import { RateLimitedError } from '../../src/domain/rate-limits/errors.js';
import { policiesOf } from '../../src/domain/rate-limits/rate-limit.js';
import { RateLimiter } from '../../src/domain/rate-limits/rate-limiter.js';
import type { RateLimitCounterKey, RateLimitsStore } from '../../src/domain/rate-limits/rate-limits-store.js';
import type { OperationContext } from '../../src/domain/common/operation-context.js';
import { ManualClock } from '../../src/platform/clock.js';

/** An in-memory store that records every call, to show which paths touch the database. */
class RecordingStore implements RateLimitsStore {
  readonly counts = new Map<string, number>();
  readonly calls: string[] = [];

  async incrementCounter(counter: RateLimitCounterKey): Promise<number> {
    this.calls.push('increment');
    const id = `${counter.bucket}|${counter.key}|${counter.windowStart}`;
    const count = (this.counts.get(id) ?? 0) + 1;
    this.counts.set(id, count);
    return count;
  }

  async readCounter(counter: RateLimitCounterKey): Promise<number> {
    this.calls.push('read');
    return this.counts.get(`${counter.bucket}|${counter.key}|${counter.windowStart}`) ?? 0;
  }

  async deleteExpiredCounters(): Promise<number> {
    this.calls.push('prune');
    return 0;
  }
}

const SETTINGS = { enabled: true, mintsPerMinute: 2, searchesPerMinute: 0, consoleSignInsPerMinute: 3, emailSendsPerAddressPerMinute: 0, emailSendsPerClientPerMinute: 0 };
const FROM = (ipAddress: string): OperationContext => ({ requestId: 'r', actor: { type: 'system' }, client: { ipAddress, userAgent: '' } });

function limiterAt(start: string) {
  const store = new RecordingStore();
  const clock = new ManualClock(start);
  return { store, clock, limiter: new RateLimiter({ store, clock, policies: policiesOf(SETTINGS) }) };
}

describe('RateLimiter', () => {
  it('counts every attempt of a client address, refuses past the limit with the seconds left, and starts over in the next window', async () => {
    const { store, clock, limiter } = limiterAt('2026-03-01T12:00:10Z');
    const signIns = limiter.clientLimit('console_sign_ins');
    for (let index = 0; index < 3; index += 1) await signIns(FROM('203.0.113.1'));
    await expect(signIns(FROM('203.0.113.1'))).rejects.toMatchObject({
      code: 'too_many_requests',
      kind: 'rate_limited',
      retryAfterSeconds: 50,
      message: 'Too many requests have been made: at most 3 console sign-in attempts per client address per minute. Retry after 50 seconds.',
    });
    // Another address has its own count.
    await signIns(FROM('198.51.100.1'));
    expect([...store.counts]).toEqual([
      ['console_sign_ins|203.0.113.1|2026-03-01T12:00:00Z', 4],
      ['console_sign_ins|198.51.100.1|2026-03-01T12:00:00Z', 1],
    ]);
    clock.advance(50_000);
    await signIns(FROM('203.0.113.1'));
    expect(store.counts.get('console_sign_ins|203.0.113.1|2026-03-01T12:01:00Z')).toBe(1);
  });

  it('counts an IPv6 client by its /64 and an IPv4-mapped address as the IPv4 address', async () => {
    const { store, limiter } = limiterAt('2026-03-01T12:00:10Z');
    const signIns = limiter.clientLimit('console_sign_ins');
    for (const address of ['2001:db8:a:b::1', '2001:db8:a:b::2', '2001:db8:a:b:ffff:1:2:3']) await signIns(FROM(address));
    await expect(signIns(FROM('2001:db8:a:b:9:9:9:9'))).rejects.toBeInstanceOf(RateLimitedError);
    await signIns(FROM('2001:db8:a:c::1'));
    for (let index = 0; index < 3; index += 1) await signIns(FROM('::ffff:203.0.113.7'));
    await expect(signIns(FROM('203.0.113.7'))).rejects.toBeInstanceOf(RateLimitedError);
    expect([...store.counts.keys()].map((id) => id.split('|')[1])).toEqual(['2001:db8:a:b::/64', '2001:db8:a:c::/64', '203.0.113.7']);
  });

  it('refuses per-project calls past the limit without writing once it knows the key is over', async () => {
    const { store, limiter } = limiterAt('2026-03-01T12:00:59.2Z');
    await limiter.consume('mints', 'project');
    await limiter.consume('mints', 'project');
    await expect(limiter.consume('mints', 'project')).rejects.toMatchObject({ code: 'too_many_requests', retryAfterSeconds: 1 });
    const writes = store.calls.filter((call) => call === 'increment').length;
    await expect(limiter.consume('mints', 'project')).rejects.toBeInstanceOf(RateLimitedError);
    expect(store.calls.filter((call) => call === 'increment').length).toBe(writes);
  });

  it('prunes ended windows once per window and process', async () => {
    const { store, clock, limiter } = limiterAt('2026-03-01T12:00:10Z');
    await limiter.consume('mints', 'a');
    await limiter.consume('mints', 'b');
    clock.advance(60_000);
    await limiter.consume('mints', 'a');
    expect(store.calls).toEqual(['prune', 'increment', 'increment', 'prune', 'increment']);
  });

  it('enforces nothing for a limit set to 0, a disabled configuration, or a call without a client address', async () => {
    const { store, limiter } = limiterAt('2026-03-01T12:00:10Z');
    for (let index = 0; index < 5; index += 1) await limiter.consume('searches', 'project');
    const none = new RateLimiter({ store, clock: new ManualClock(), policies: policiesOf({ ...SETTINGS, enabled: false }) });
    for (let index = 0; index < 5; index += 1) await none.consume('mints', 'project');
    const signIns = limiter.clientLimit('console_sign_ins');
    const internal: OperationContext = { requestId: 'r', actor: { type: 'cli' } };
    for (let index = 0; index < 5; index += 1) await signIns(internal);
    for (let index = 0; index < 5; index += 1) await signIns({ ...internal, client: { ipAddress: '', userAgent: '' } });
    for (let index = 0; index < 5; index += 1) await none.clientLimit('console_sign_ins')(FROM('203.0.113.1'));
    expect(store.calls).toEqual([]);
  });
});

describe('clientAddressKey', () => {
  it.each([
    ['203.0.113.7', '203.0.113.7'],
    ['::ffff:203.0.113.7', '203.0.113.7'],
    ['::FFFF:203.0.113.7', '203.0.113.7'],
    ['2001:db8:a:b::1', '2001:db8:a:b::/64'],
    ['2001:0db8:000a:000b:1:2:3:4', '2001:db8:a:b::/64'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
    ['fe80::1%eth0', 'fe80:0:0:0::/64'],
    ['64:ff9b::192.0.2.33', '64:ff9b:0:0::/64'],
    ['not-an-address', 'not-an-address'],
  ])('keys %s as %s', (address, key) => {
    expect(clientAddressKey(address)).toBe(key);
  });
});
