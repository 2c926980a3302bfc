import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';

/** One line of an NDJSON file, with where it sits in the file's bytes. */
export interface FileLine {
  /** 1-based. */
  readonly number: number;
  /** Byte offset just past the line's end (its newline included): where the next line starts. */
  readonly end: number;
  /** The line as text, without its line break; undefined when it is not UTF-8 or is too long. */
  readonly text: string | undefined;
  readonly problem?: 'too_long' | 'not_utf8';
}

/** Where reading starts again: a line boundary, and the SHA-256 of every byte before it. */
export interface ResumePoint {
  readonly offset: number;
  readonly line: number;
  readonly prefixSha256: string;
}

/** The file does not start with the bytes a checkpoint was taken over: it was edited, replaced or truncated. */
export class FileChangedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FileChangedError';
  }
}

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;
const UTF8_BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/**
 * Reads an NDJSON file line by line as a stream, never whole, keeping exact byte offsets (a
 * checkpoint names a byte offset, and readline's strings lose the bytes of `\r\n` and of invalid
 * UTF-8). A line longer than `maxLineBytes` is reported as too long without being kept in memory.
 *
 * Every byte read feeds a running SHA-256, so `prefixSha256()` after a line is the digest of the
 * file up to that line's end. From a resume point the bytes before it are read again only to be
 * digested and compared (a changed file throws FileChangedError), and lines start after it.
 */
export class NdjsonLines {
  readonly #path: string;
  readonly #maxLineBytes: number;
  readonly #digest: Hash = createHash('sha256');
  readonly #decoder = new TextDecoder('utf-8', { fatal: true });

  constructor(path: string, options: { maxLineBytes: number }) {
    this.#path = path;
    this.#maxLineBytes = options.maxLineBytes;
  }

  /** The SHA-256 (hex) of every byte of the lines yielded so far. */
  prefixSha256(): string {
    return this.#digest.copy().digest('hex');
  }

  async *lines(resume?: ResumePoint): AsyncGenerator<FileLine> {
    let offset = 0;
    let number = 0;
    if (resume !== undefined && resume.offset > 0) {
      await this.#digestPrefix(resume);
      offset = resume.offset;
      number = resume.line;
    }
    // The bytes of the line being read; after `maxLineBytes` only its length is counted.
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    let tooLong = false;
    const stream = createReadStream(this.#path, { start: offset, highWaterMark: 1 << 20 });
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      let from = 0;
      for (;;) {
        const at = chunk.indexOf(NEWLINE, from);
        const to = at === -1 ? chunk.length : at + 1;
        const piece = chunk.subarray(from, to);
        this.#digest.update(piece);
        pendingBytes += piece.length;
        if (!tooLong && pendingBytes > this.#maxLineBytes + 2) {
          tooLong = true;
          pending = [];
        }
        if (!tooLong) pending.push(piece);
        if (at === -1) break;
        offset += pendingBytes;
        number += 1;
        yield this.#line(number, offset, pending, tooLong);
        pending = [];
        pendingBytes = 0;
        tooLong = false;
        from = to;
        if (from === chunk.length) break;
      }
    }
    // A last line without a line break.
    if (pendingBytes > 0) {
      offset += pendingBytes;
      yield this.#line(number + 1, offset, pending, tooLong);
    }
  }

  #line(number: number, end: number, pieces: Buffer[], tooLong: boolean): FileLine {
    if (tooLong) return { number, end, text: undefined, problem: 'too_long' };
    let bytes = pieces.length === 1 ? (pieces[0] as Buffer) : Buffer.concat(pieces);
    if (bytes.at(-1) === NEWLINE) bytes = bytes.subarray(0, -1);
    if (bytes.at(-1) === CARRIAGE_RETURN) bytes = bytes.subarray(0, -1);
    if (number === 1 && bytes.subarray(0, 3).equals(UTF8_BOM)) bytes = bytes.subarray(3);
    if (bytes.length > this.#maxLineBytes) return { number, end, text: undefined, problem: 'too_long' };
    try {
      return { number, end, text: this.#decoder.decode(bytes) };
    } catch {
      return { number, end, text: undefined, problem: 'not_utf8' };
    }
  }

  /** Digests the bytes before the resume point and checks they are the ones the checkpoint saw. */
  async #digestPrefix(resume: ResumePoint): Promise<void> {
    const read = await digestBytes(this.#path, resume.offset, this.#digest);
    if (read !== resume.offset) throw new FileChangedError(`it is shorter (${read} bytes) than the ${resume.offset} bytes already imported`);
    if (this.prefixSha256() !== resume.prefixSha256) throw new FileChangedError(`its first ${resume.offset} bytes (lines 1 to ${resume.line}) are not the ones already imported`);
  }
}

/** The SHA-256 (hex) of the first `offset` bytes of the file, for a checkpoint taken between batches. */
export async function digestOfPrefix(path: string, offset: number): Promise<string> {
  const digest = createHash('sha256');
  await digestBytes(path, offset, digest);
  return digest.digest('hex');
}

/** Feeds the first `length` bytes of the file to `digest`; returns how many there were. */
async function digestBytes(path: string, length: number, digest: Hash): Promise<number> {
  if (length === 0) return 0;
  let read = 0;
  for await (const chunk of createReadStream(path, { start: 0, end: length - 1, highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    digest.update(chunk);
    read += chunk.length;
  }
  return read;
}
