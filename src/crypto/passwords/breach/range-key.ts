import { hash } from 'node:crypto';

/**
 * Where a password sits in a k-anonymity range source: the upper-case hex SHA-1 of its UTF-8 bytes
 * (as HaveIBeenPwned computes it, with no normalization), split into the 5-character `prefix` that
 * names the range (the only part that ever leaves this process) and the 35-character `suffix` looked
 * for inside it.
 */
/**
 * What each source here offers: the shape of the domain's BreachedPasswords port, restated because
 * src/crypto is a leaf that imports nothing from src/domain.
 */
export interface BreachRangeSource {
  /** Whether the password appears in the source. Throws when the source cannot answer. */
  isBreached(password: string): Promise<boolean>;
}

export interface BreachRangeKey {
  readonly prefix: string;
  readonly suffix: string;
}

export function breachRangeKey(password: string): BreachRangeKey {
  const digest = hash('sha1', password, 'hex').toUpperCase();
  return { prefix: digest.slice(0, 5), suffix: digest.slice(5) };
}

/**
 * Whether a range (lines of `SUFFIX:COUNT`, CRLF or LF) lists `suffix` with a count above zero.
 * The range API's padding lines carry a count of 0 and mean nothing; a line that does not parse is
 * skipped rather than trusted.
 */
export function rangeListsSuffix(range: string, suffix: string): boolean {
  let start = 0;
  while (start < range.length) {
    let end = range.indexOf('\n', start);
    if (end === -1) end = range.length;
    const line = range.slice(start, end).trim();
    start = end + 1;
    const colon = line.indexOf(':');
    if (colon !== suffix.length || line.slice(0, colon).toUpperCase() !== suffix) continue;
    const count = Number.parseInt(line.slice(colon + 1), 10);
    return Number.isInteger(count) && count > 0;
  }
  return false;
}
