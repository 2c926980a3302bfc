import { Readable } from 'node:stream';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { printableJson } from './wire/json-text.js';

/** Pages read on demand, and given back (`close`) when the reader stops early. */
export interface PageSource<T> {
  nextPage(): Promise<readonly T[] | null>;
  close(): void;
  /** How long the client may read nothing before the export is cut off; never when omitted. */
  readonly stallMilliseconds?: number | undefined;
}

export interface StreamHandlers {
  /** A failure after the first chunk (the response is cut off). */
  readonly onFailure: (error: unknown) => void;
  /** The client read nothing for `stallMilliseconds` (the response is cut off and the source closed). */
  readonly onStall: () => void;
}

/**
 * NDJSON of every item of `source`, one page per chunk. A page is read only when the stream is
 * asked for more (`read`), and Fastify pipes it into the response, which stops asking while the
 * socket's buffer is full: a slow client slows the export instead of the server buffering it.
 * When the client goes away Fastify destroys the stream and the source is closed. A failure after
 * the first chunk destroys the stream, so the client sees the response cut off (no final chunk)
 * rather than a short export that looks complete; `onFailure` logs it.
 */
export function ndjsonStream<T>(source: PageSource<T>, encode: (item: T) => unknown, handlers: StreamHandlers): Readable {
  // A client that stops reading holds an export slot (and its socket) for as long as it likes: past
  // the stall limit the export ends, so two idle clients cannot keep everyone else's exports refused.
  let stall: NodeJS.Timeout | undefined;
  const stream = new Readable({
    read() {
      clearTimeout(stall);
      void nextChunk(source, encode).then(
        (chunk) => {
          if (this.destroyed) return;
          if (chunk === null) source.close();
          else if (source.stallMilliseconds !== undefined) {
            stall = setTimeout(() => {
              if (stream.destroyed) return;
              handlers.onStall();
              stream.destroy(new Error(`the client read nothing for ${source.stallMilliseconds} ms`));
            }, source.stallMilliseconds);
            stall.unref();
          }
          this.push(chunk);
        },
        (error: unknown) => {
          source.close();
          if (this.destroyed) return;
          handlers.onFailure(error);
          this.destroy(error instanceof Error ? error : new Error(String(error)));
        },
      );
    },
    destroy(error, callback) {
      clearTimeout(stall);
      source.close();
      callback(error);
    },
  });
  return stream;
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
