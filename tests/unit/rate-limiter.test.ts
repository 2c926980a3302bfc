import { describe, expect, it } from 'vitest';
import { clientAddressKey } from '../../src/domain/rate-limits/client-address.js';
import { RateLimitedError } from '../../src/domain/rate-limits/errors.js';
import { policiesOf } from '../../src/domain/rate-limits/rate-limit.js';
import { RateLimiter } from '../../src/domain/rate-limits/rate-limiter.js';
import type { RateLimitCounterKey, RateLimitsStore } from '../../src/domain/rate-limits/rate-limits-store.js';
import { DomainError } from '../../src/domain/shared/domain-error.js';
import type { OperationContext } from '../../src/domain/shared/operation-context.js';
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

const SETTINGS = { enabled: true, authFailuresPerMinute: 3, mintsPerMinute: 2, searchesPerMinute: 0 };
const FROM = (ipAddress: string): OperationContext => ({ requestId: 'r', actor: { type: 'system' }, client: { ipAddress, userAgent: '' } });
const NOT_FOUND = new DomainError('not_found', 'session_not_found', 'Session could not be found.');

function limiterAt(start: string) {
  const store = new RecordingStore();
  const clock = new ManualClock(start);
  return { store, clock, limiter: new RateLimiter({ store, clock, policies: policiesOf(SETTINGS) }) };
}

describe('RateLimiter', () => {
  it('checks an address it saw no failure from without touching the database', async () => {
    const { store, limiter } = limiterAt('2026-03-01T12:00:10Z');
    const guesses = limiter.guessLimit('auth_failures');
    for (let index = 0; index < 1000; index += 1) await guesses.beforeAttempt(FROM('203.0.113.1'));
    expect(store.calls).toEqual([]);
  });

  it('reads the shared count before each attempt only from an address with failures this window', async () => {
    const { store, clock, limiter } = limiterAt('2026-03-01T12:00:10Z');
    const guesses = limiter.guessLimit('auth_failures');
    expect(await guesses.afterFailedGuess(FROM('203.0.113.1'), NOT_FOUND)).toBe(NOT_FOUND);
    store.calls.length = 0;
    await guesses.beforeAttempt(FROM('203.0.113.1'));
    await guesses.beforeAttempt(FROM('198.51.100.1'));
    expect(store.calls).toEqual(['read']);
    clock.advance(60_000);
    await guesses.beforeAttempt(FROM('203.0.113.1'));
    expect(store.calls).toEqual(['read']);
  });

  it('returns the original error up to the limit, then too_many_requests with the seconds left in the window', async () => {
    const { store, limiter } = limiterAt('2026-03-01T12:00:10Z');
    const guesses = limiter.guessLimit('auth_failures');
    const answers = [];
    for (let index = 0; index < 4; index += 1) answers.push(await guesses.afterFailedGuess(FROM('203.0.113.1'), NOT_FOUND));
    expect(answers.slice(0, 3)).toEqual([NOT_FOUND, NOT_FOUND, NOT_FOUND]);
    expect(answers[3]).toBeInstanceOf(RateLimitedError);
    expect((answers[3] as RateLimitedError).retryAfterSeconds).toBe(50);
    // Known to be over the limit: refused before the attempt with no read at all.
    store.calls.length = 0;
    await expect(guesses.beforeAttempt(FROM('203.0.113.1'))).rejects.toMatchObject({ code: 'too_many_requests', kind: 'rate_limited', retryAfterSeconds: 50 });
    expect(store.calls).toEqual([]);
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
    const guesses = limiter.guessLimit('auth_failures');
    const internal: OperationContext = { requestId: 'r', actor: { type: 'cli' } };
    for (let index = 0; index < 5; index += 1) expect(await guesses.afterFailedGuess(internal, NOT_FOUND)).toBe(NOT_FOUND);
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
