import { sharedError } from './errors.js';

/** Where a page starts: after the row with this creation time and id (keyset pagination). */
export interface CursorPosition {
  readonly createdAt: string;
  readonly id: string;
}

export interface PageRequest {
  readonly limit: number;
  readonly after: CursorPosition | null;
}

export interface Page<T> {
  readonly items: readonly T[];
  readonly total: number;
  readonly nextCursor: string | null;
}

export const DEFAULT_SEARCH_LIMIT = 100;
export const MAX_SEARCH_LIMIT = 1000;

/** `limit` arrives as a number from the SDK and as a string in the OpenAPI description; accept both. */
export function parseLimit(limit: number | string | undefined): number {
  if (limit === undefined) return DEFAULT_SEARCH_LIMIT;
  const value = typeof limit === 'string' && /^\d+$/.test(limit) ? Number(limit) : limit;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_SEARCH_LIMIT) {
    throw sharedError('invalid_limit');
  }
  return value;
}

export function encodeCursor(position: CursorPosition): string {
  return Buffer.from(JSON.stringify([position.createdAt, position.id])).toString('base64url');
}

export function decodeCursor(cursor: string | undefined): CursorPosition | null {
  if (cursor === undefined || cursor === '') return null;
  try {
    const decoded: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    // U+0000 never appears in a cursor we issued, and PostgreSQL refuses it in a query parameter.
    if (Array.isArray(decoded) && decoded.length === 2 && decoded.every((part) => typeof part === 'string' && !part.includes('\u0000'))) {
      return { createdAt: decoded[0] as string, id: decoded[1] as string };
    }
  } catch {
    // reported below
  }
  throw sharedError('invalid_cursor');
}

/** Builds a page from `limit + 1` fetched rows: the extra row only tells whether another page exists. */
export function toPage<T>(
  rows: readonly T[],
  request: PageRequest,
  total: number,
  positionOf: (row: T) => CursorPosition,
): Page<T> {
  const items = rows.slice(0, request.limit);
  const last = items[items.length - 1];
  const nextCursor = rows.length > request.limit && last !== undefined ? encodeCursor(positionOf(last)) : null;
  return { items, total, nextCursor };
}
