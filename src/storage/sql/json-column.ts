/** JSON documents are stored as text in both dialects. */
export function toJson(value: unknown): string {
  return JSON.stringify(value);
}

export function fromJson<T>(text: string): T {
  return JSON.parse(text) as T;
}

export function toFlag(value: boolean): number {
  return value ? 1 : 0;
}

/** PostgreSQL returns integers as numbers and SQLite as numbers too; anything non-zero is true. */
export function fromFlag(value: number | string | boolean): boolean {
  return Number(value) !== 0;
}

/** Escapes %, _ and \ so user text matches literally inside LIKE '%…%' (used with ESCAPE '\'). */
export function likePattern(text: string): string {
  return `%${text.toLowerCase().replace(/[\\%_]/g, (character) => `\\${character}`)}%`;
}
