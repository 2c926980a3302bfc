import { randomBytes } from 'node:crypto';

/**
 * A small seeded generator (mulberry32), so a failing run of a randomised reliability test can be
 * replayed: the test prints its seed, and setting the environment variable it names reruns it with
 * the same choices (the operating system still decides how concurrent requests interleave).
 */
export interface SeededRandom {
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [min, max]. */
  integer(min: number, max: number): number;
  /** One element of `items`, or undefined when it is empty. */
  pick<T>(items: readonly T[]): T | undefined;
  /** An independent generator seeded from this one (one per concurrent client). */
  fork(): SeededRandom;
}

export function seededRandom(seed: number): SeededRandom {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
  const integer = (min: number, max: number): number => min + Math.floor(next() * (max - min + 1));
  return {
    next,
    integer,
    pick: <T>(items: readonly T[]): T | undefined => (items.length === 0 ? undefined : items[integer(0, items.length - 1)]),
    fork: () => seededRandom(integer(0, 0xffffffff)),
  };
}

/** The seed in `variable` when set (decimal), otherwise a fresh random one. */
export function chooseSeed(variable: string): number {
  const configured = process.env[variable];
  if (configured !== undefined && configured !== '') {
    const seed = Number(configured);
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new Error(`${variable} must be an integer from 0 to 4294967295, got ${configured}`);
    return seed;
  }
  return randomBytes(4).readUInt32LE(0);
}
