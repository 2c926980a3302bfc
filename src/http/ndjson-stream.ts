import { printableJson } from './wire/json-text.js';
import { Readable } from 'node:stream';
import { setImmediate as nextTurn } from 'node:timers/promises';

/** Pages read on demand, and given back (`close`) when the reader stops early. */
export interface PageSource<T> {
  nextPage(): Promise<readonly T[] | null>;
  close(): void;
}

/**
 * NDJSON of every item of `source`, one page per chunk. A page is read only when the stream is
 * asked for more (`read`), and Fastify pipes it into the response, which stops asking while the
 * socket's buffer is full: a slow client slows the export instead of the server buffering it.
 * When the client goes away Fastify destroys the stream and the source is closed. A failure after
 * the first chunk destroys the stream, so the client sees the response cut off (no final chunk)
 * rather than a short export that looks complete; `onFailure` logs it.
 */
export function ndjsonStream<T>(source: PageSource<T>, encode: (item: T) => unknown, onFailure: (error: unknown) => void): Readable {
  return new Readable({
    read() {
      void nextChunk(source, encode).then(
        (chunk) => {
          if (this.destroyed) return;
          if (chunk === null) source.close();
          this.push(chunk);
        },
        (error: unknown) => {
          source.close();
          if (this.destroyed) return;
          onFailure(error);
          this.destroy(error instanceof Error ? error : new Error(String(error)));
        },
      );
    },
    destroy(error, callback) {
      source.close();
      callback(error);
    },
  });
}

/**
 * The next non-empty page as NDJSON text, or null at the end. Each page starts on a new turn of the
 * event loop: SQLite answers synchronously and a fast client keeps the socket writable, so otherwise
 * a whole export would run as one unbroken chain of promise callbacks and other requests (health
 * checks included) would wait for its end.
 */
async function nextChunk<T>(source: PageSource<T>, encode: (item: T) => unknown): Promise<string | null> {
  for (;;) {
    await nextTurn();
    const page = await source.nextPage();
    if (page === null) return null;
    if (page.length === 0) continue;
    let chunk = '';
    for (const item of page) chunk += `${printableJson(encode(item))}\n`;
    return chunk;
  }
}
