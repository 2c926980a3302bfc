import { describe, expect, it } from 'vitest';
import { IdGenerator } from '../../src/platform/ids.js';
import { SequentialRandom, cryptoRandom, type Random } from '../../src/platform/random.js';

const MOMENT = new Date('2026-03-01T12:00:00.123Z');
/** RFC 9562 §5.7: 48-bit ms time, version 7, 12 bits, variant 10, 62 bits; lower-case hex. */
const UUID_V7 = /^([0-9a-f]{8})-([0-9a-f]{4})-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function uuidOf(id: string): string {
  const uuid = id.replace(/^audit-event-(test|live)-/, '');
  expect(uuid).toMatch(UUID_V7);
  return uuid;
}

/** The Unix milliseconds in a UUIDv7's first 48 bits. */
function millisOf(id: string): number {
  const uuid = uuidOf(id);
  return Number.parseInt(uuid.slice(0, 8) + uuid.slice(9, 13), 16);
}

function isSortedAsText(ids: readonly string[]): boolean {
  return ids.every((id, index) => index === 0 || (ids[index - 1] as string) < id);
}

/** Random bytes that would sort an id first (all 0xff) or last (all 0x00) if randomness decided order. */
function descendingRandom(): Random {
  let call = 0;
  return {
    uuid: () => cryptoRandom.uuid(),
    bytes(length: number): Buffer {
      call += 1;
      return Buffer.alloc(length, Math.max(0, 0xff - call));
    },
  };
}

describe('IdGenerator.nextTimeOrdered', () => {
  it('makes <prefix>-<environment>-<UUIDv7>: version 7, variant 10xx, the time in the first 48 bits', () => {
    for (const environment of ['test', 'live'] as const) {
      const id = new IdGenerator(cryptoRandom, environment).nextTimeOrdered('audit-event', MOMENT);
      expect(id.startsWith(`audit-event-${environment}-`)).toBe(true);
      const uuid = uuidOf(id);
      expect(uuid[14]).toBe('7');
      expect(Number.parseInt(uuid[19] as string, 16) & 0b1100).toBe(0b1000);
      expect(millisOf(id)).toBe(MOMENT.getTime());
    }
  });

  it('keeps version and variant bits whatever the random bytes are (all 0x00 or all 0xff)', () => {
    for (const fill of [0x00, 0xff]) {
      const random: Random = { uuid: () => cryptoRandom.uuid(), bytes: (length) => Buffer.alloc(length, fill) };
      expect(uuidOf(new IdGenerator(random, 'test').nextTimeOrdered('audit-event', MOMENT))).toMatch(UUID_V7);
    }
  });

  it('sorts ids made in later milliseconds after earlier ones, as strings', () => {
    const ids = new IdGenerator(new SequentialRandom(), 'test');
    const made = [0, 1, 2, 1000, 60_000, 86_400_000].map((offset) => ids.nextTimeOrdered('audit-event', new Date(MOMENT.getTime() + offset)));
    expect(isSortedAsText(made)).toBe(true);
  });

  it('sorts ids made within the same millisecond in the order they were made, even when the random bytes descend', () => {
    const ids = new IdGenerator(descendingRandom(), 'test');
    const made = Array.from({ length: 50 }, () => ids.nextTimeOrdered('audit-event', MOMENT));
    expect(new Set(made).size).toBe(50);
    expect(isSortedAsText(made)).toBe(true);
    expect(made.every((id) => millisOf(id) === MOMENT.getTime())).toBe(true);
  });

  it('keeps 5000 ids made in one millisecond in order: past 4096 the counter borrows the next millisecond', () => {
    const ids = new IdGenerator(descendingRandom(), 'test');
    const made = Array.from({ length: 5000 }, () => ids.nextTimeOrdered('audit-event', MOMENT));
    expect(new Set(made).size).toBe(5000);
    expect(isSortedAsText(made)).toBe(true);
    expect(millisOf(made[4095] as string)).toBe(MOMENT.getTime());
    expect(millisOf(made[4096] as string)).toBe(MOMENT.getTime() + 1);
    // The next real millisecond still sorts after every borrowed one.
    const next = ids.nextTimeOrdered('audit-event', new Date(MOMENT.getTime() + 1));
    expect(next > (made[4999] as string)).toBe(true);
  });

  it('never sorts an id before an earlier one when the clock goes backwards', () => {
    const ids = new IdGenerator(descendingRandom(), 'test');
    const moments = [0, 5, 5, -1000, -1000, 3, 5, -60_000, 6, 6, 2].map((offset) => new Date(MOMENT.getTime() + offset));
    const made = moments.map((moment) => ids.nextTimeOrdered('audit-event', moment));
    expect(new Set(made).size).toBe(made.length);
    expect(isSortedAsText(made)).toBe(true);
    // After the clock recovers, ids carry the real time again.
    expect(millisOf(made[9] as string)).toBe(MOMENT.getTime() + 6);
  });

  it('orders ids from separate generators by time alone across milliseconds', () => {
    const first = new IdGenerator(cryptoRandom, 'test');
    const second = new IdGenerator(cryptoRandom, 'test');
    const earlier = first.nextTimeOrdered('audit-event', MOMENT);
    const later = second.nextTimeOrdered('audit-event', new Date(MOMENT.getTime() + 1));
    expect(earlier < later).toBe(true);
  });
});
