import { sharedError } from './errors.js';

/**
 * Refuses a free-form JSON value (metadata) holding a number that is not finite.
 *
 * JSON has no Infinity or NaN, yet JSON.parse reads a literal too large for a double, such as
 * `1e309`, as Infinity, and JSON.stringify would then store it as `null`: the caller's value would
 * change without a word. Other numbers are kept as IEEE-754 doubles (docs/compatibility.md, "Metadata").
 * `field` names the top-level field in the error message, with the path to the number inside it.
 */
export function assertFiniteNumbers(value: unknown, field: string): void {
  const path = nonFinitePath(value, field);
  if (path !== undefined) {
    throw sharedError('bad_request', `${path} is not a finite number; JSON numbers must be finite (send very large values as strings).`);
  }
}

function nonFinitePath(value: unknown, path: string): string | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : path;
  if (value === null || typeof value !== 'object') return undefined;
  const entries: [string, unknown][] = Array.isArray(value)
    ? value.map((entry, index) => [`${path}[${index}]`, entry])
    : Object.entries(value).map(([key, entry]) => [`${path}.${key}`, entry]);
  for (const [childPath, entry] of entries) {
    const found = nonFinitePath(entry, childPath);
    if (found !== undefined) return found;
  }
  return undefined;
}
