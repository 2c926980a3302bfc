import { type BreachRangeSource, breachRangeKey, rangeListsSuffix } from './range-key.js';

/** How long one range request may take before the check gives up. */
export const DEFAULT_RANGE_API_TIMEOUT_MS = 3000;

/**
 * A padded HaveIBeenPwned range is about 40 KB; anything far larger is not a range, and is not read
 * into memory.
 */
const MAX_RANGE_BYTES = 1024 * 1024;

/**
 * Breached passwords from a k-anonymity range API (HaveIBeenPwned's `https://api.pwnedpasswords.com/range/`
 * or a mirror): GET `<base><prefix>` sends only the first 5 characters of the password's SHA-1, with
 * `Add-Padding: true` so that the answer's size does not narrow down which suffix was wanted. A
 * failure (timeout, refused connection, a status other than 200, an oversized answer) throws: the
 * caller decides what an unanswered check means.
 */
export class RangeApiBreachedPasswords implements BreachRangeSource {
  readonly #baseUrl: string;
  readonly #timeoutMs: number;

  constructor(options: { baseUrl: string; timeoutMs?: number }) {
    // The prefix is appended to the base, so a base without its final slash still names the range.
    this.#baseUrl = options.baseUrl.endsWith('/') ? options.baseUrl : `${options.baseUrl}/`;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_RANGE_API_TIMEOUT_MS;
  }

  async isBreached(password: string): Promise<boolean> {
    const { prefix, suffix } = breachRangeKey(password);
    const response = await fetch(`${this.#baseUrl}${prefix}`, {
      headers: { 'add-padding': 'true', accept: 'text/plain', 'user-agent': 'understudy-breach-check' },
      signal: AbortSignal.timeout(this.#timeoutMs),
    });
    if (response.status !== 200) {
      await response.body?.cancel().catch(() => undefined);
      throw new Error(`the breach range API answered ${response.status}`);
    }
    return rangeListsSuffix(await boundedText(response), suffix);
  }
}

async function boundedText(response: Response): Promise<string> {
  if (response.body === null) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of response.body) {
    size += chunk.byteLength;
    // Leaving the loop by throwing cancels the rest of the body.
    if (size > MAX_RANGE_BYTES) throw new Error(`the breach range API answered more than ${MAX_RANGE_BYTES} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
