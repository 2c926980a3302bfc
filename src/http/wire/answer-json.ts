/**
 * The JSON text of an answer, with parts shared between answers serialized once. An encoder marks a
 * wire object it hands to every request that reads the same row version (encodeMember and
 * encodeOrganization, for members and organizations the store shares, row-memo.ts) as shared; its
 * text is then made on first use and spliced into every later answer. The result is byte for byte
 * what `JSON.stringify(body)` gives (tests/unit/answer-json.test.ts checks it).
 */
const SHARED = new WeakMap<object, string | undefined>();

/** Marks a deeply frozen wire object whose JSON text may be reused for as long as it lives. */
export function shareJson<T extends object>(value: T): T {
  if (!Object.isFrozen(value)) throw new Error('only a frozen wire object can be shared');
  SHARED.set(value, undefined);
  return value;
}

/** `JSON.stringify(body)` for a plain object, splicing in the remembered text of shared values at its top level. */
export function answerJson(body: Readonly<Record<string, unknown>>): string {
  let text = '{';
  for (const key of Object.keys(body)) {
    const part = partJson(body[key]);
    // JSON.stringify leaves out what has no JSON form (undefined, functions, symbols).
    if (part === undefined) continue;
    text += `${text.length === 1 ? '' : ','}${JSON.stringify(key)}:${part}`;
  }
  return `${text}}`;
}

function partJson(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object' || !SHARED.has(value)) return JSON.stringify(value);
  let shared = SHARED.get(value);
  if (shared === undefined) {
    shared = JSON.stringify(value);
    SHARED.set(value, shared);
  }
  return shared;
}
