import type { SendResult } from '../domain/sms/sms-transport.js';

/** How long one provider request may take, answer included, before it counts as a temporary failure. */
export const DEFAULT_SMS_TIMEOUT_MS = 10_000;

/** The longest reply kept: a provider's answer can be long, and it is stored and shown as is. */
const MAX_REPLY_LENGTH = 500;

/**
 * The most of an answer's body read: enough for any provider's error, while a provider (or whatever
 * answers at its address) sending megabytes, or a body that never ends, costs neither memory nor
 * the whole timeout.
 */
export const MAX_BODY_BYTES = 4096;

/** What came back from one request: an HTTP answer, or why there was none. */
export type HttpAnswer = { readonly status: number; readonly text: string } | { readonly failure: string };

/**
 * One POST, cut off after `timeoutMs` (the answer's body included). Redirects are not followed: a
 * POST must not turn into a GET elsewhere, and a moved endpoint is a settings problem to fix.
 */
export async function postOnce(url: string, init: { readonly headers: Record<string, string>; readonly body: string }, timeoutMs: number): Promise<HttpAnswer> {
  try {
    const response = await fetch(url, { method: 'POST', headers: init.headers, body: init.body, redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
    return { status: response.status, text: await readAtMost(response, MAX_BODY_BYTES) };
  } catch (error) {
    const failure = error as { name?: unknown; message?: unknown; cause?: { code?: unknown; message?: unknown } };
    if (failure.name === 'TimeoutError' || failure.name === 'AbortError') return { failure: `no answer within ${timeoutMs} ms` };
    const cause = failure.cause;
    const code = typeof cause?.code === 'string' ? cause.code : undefined;
    const message = typeof cause?.message === 'string' ? cause.message : typeof failure.message === 'string' ? failure.message : String(error);
    return { failure: code === undefined ? message : `${code}: ${message}` };
  }
}

/** The body's first `limit` bytes as text; the rest is never read (the stream is cancelled, closing the connection). */
async function readAtMost(response: Response, limit: number): Promise<string> {
  if (response.body === null) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < limit) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } finally {
    // Once the limit is reached, or when reading failed: the rest of the body is not wanted.
    await reader.cancel().catch(() => {});
  }
  // A character cut at the limit decodes as U+FFFD.
  return new TextDecoder().decode(Buffer.concat(chunks).subarray(0, limit));
}

/**
 * 2xx is sent. 408 (the provider timed out), 429 (slow down) and 5xx are worth another try; every
 * other answer (4xx, a redirect) will be the same next time. No answer at all is temporary.
 */
export function resultOf(answer: HttpAnswer, describe: (answer: { readonly status: number; readonly text: string }) => string): SendResult {
  if ('failure' in answer) return { ok: false, permanent: false, reply: clip(answer.failure) };
  const reply = clip(describe(answer));
  if (answer.status >= 200 && answer.status < 300) return { ok: true, reply };
  const temporary = answer.status === 408 || answer.status === 429 || answer.status >= 500;
  return { ok: false, permanent: !temporary, reply };
}

export function clip(text: string): string {
  const oneLine = text.replace(/[\r\n]+/g, ' ').trim();
  return oneLine.length > MAX_REPLY_LENGTH ? `${oneLine.slice(0, MAX_REPLY_LENGTH)}…` : oneLine;
}
