import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';

/** A version 4 UUID in lower case, as in every Stytch id. */
const UUID_V4 = '[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}';

/** `<prefix>-<test|live>-<uuid v4>`, e.g. `idPattern('member')` matches `member-test-…`. */
export function idPattern(prefix: string, environment: 'test' | 'live' = 'test'): RegExp {
  return new RegExp(`^${prefix}-${environment}-${UUID_V4}$`);
}

/** RFC 3339 in UTC with a `Z`, as Stytch writes timestamps; fractional seconds are allowed. */
export const RFC3339_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

/** Checks `value` is an RFC 3339 UTC timestamp of a real instant, and returns that instant in ms. */
export function expectTimestamp(value: unknown): number {
  expect(value).toMatch(RFC3339_UTC);
  const millis = Date.parse(value as string);
  expect(Number.isNaN(millis), `${String(value)} is a real instant`).toBe(false);
  return millis;
}

/** A short random token that keeps slugs, emails and external ids of one suite from colliding. */
export function uniqueSuffix(): string {
  return randomBytes(5).toString('hex');
}
