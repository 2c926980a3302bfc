import { deepFreeze } from '../../platform/deep-freeze.js';

/**
 * Reuses the object mapped from a row while the row is unchanged. The hot lookup (sessions.authenticate)
 * reads the same few members and organizations over and over; mapping their JSON columns, and at the
 * edge encoding and serializing them, cost more than the query. An entry is reused only when every
 * column value read now is identical (`===`) to the one it was made from, so an update, however made,
 * is seen on the very next read: nothing is served from the memo that the database does not say now.
 * The shared objects are deeply frozen, so no caller can change what another request sees.
 */
export class RowMemo<T extends object> {
  readonly #entries = new Map<string, { readonly values: readonly unknown[]; readonly value: T }>();
  readonly #capacity: number;

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  /** The object for `row[start..end)` keyed by `key`: the remembered one if those values are unchanged, else `map()`'s. */
  get(key: string, row: readonly unknown[], start: number, end: number, map: () => T): T {
    const entry = this.#entries.get(key);
    if (entry !== undefined && sameValues(entry.values, row, start)) return entry.value;
    const value = deepFreeze(map());
    const values = row.slice(start, end);
    // Only text, numbers, booleans and nulls compare by value; a row holding anything else is not remembered.
    if (!values.every(isPrimitive)) return value;
    this.#entries.delete(key);
    this.#entries.set(key, { values, value });
    if (this.#entries.size > this.#capacity) {
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
    return value;
  }
}

function sameValues(remembered: readonly unknown[], row: readonly unknown[], start: number): boolean {
  for (let index = 0; index < remembered.length; index += 1) if (remembered[index] !== row[start + index]) return false;
  return true;
}

function isPrimitive(value: unknown): boolean {
  return value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint';
}
