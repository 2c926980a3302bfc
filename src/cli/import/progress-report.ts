import { printable } from '../cli-support.js';
import type { ImportCounts } from './checkpoint.js';
import type { LineFailure } from './member-line.js';

/** At most one progress line per this many milliseconds. */
const INTERVAL_MS = 1000;
const CLEAR_LINE = '\r\x1b[K';

/**
 * The import's progress on stderr, at most once a second: the last line committed, the counts so far
 * (a resumed import's include the earlier runs') and this run's rate. On a terminal it is one line
 * rewritten in place; anywhere else (a pipe, a log file) each report is a line of its own, without
 * carriage returns. Refused lines are printed as they are found, with their number and error_type.
 */
export class ProgressReport {
  readonly #write: (text: string) => void;
  readonly #terminal: boolean;
  readonly #now: () => number;
  readonly #startedAt: number;
  readonly #firstLine: number;
  #lastReportAt: number;
  /** On a terminal, whether the progress line is showing (and must be cleared before other output). */
  #showing = false;

  constructor(options: { write: (text: string) => void; terminal: boolean; now: () => number; firstLine: number }) {
    this.#write = options.write;
    this.#terminal = options.terminal;
    this.#now = options.now;
    this.#startedAt = options.now();
    this.#lastReportAt = this.#startedAt;
    this.#firstLine = options.firstLine;
  }

  failed(failure: LineFailure): void {
    this.#clear();
    this.#write(`line ${failure.number}: ${failure.code}: ${printable(failure.message)}\n`);
  }

  /** After each commit; prints when a second has passed since the last report. */
  committed(line: number, counts: ImportCounts): void {
    const now = this.#now();
    if (now - this.#lastReportAt < INTERVAL_MS) return;
    this.#lastReportAt = now;
    const text = `import: line ${line}, ${countsText(counts)}, ${this.rate(line)} lines/s`;
    if (this.#terminal) {
      this.#write(`${CLEAR_LINE}${text}`);
      this.#showing = true;
    } else {
      this.#write(`${text}\n`);
    }
  }

  /** Ends the progress line on a terminal, before the summary. */
  finish(): void {
    this.#clear();
  }

  /** Lines this run read per second, whole. */
  rate(line: number): number {
    const seconds = (this.#now() - this.#startedAt) / 1000;
    return seconds <= 0 ? 0 : Math.round((line - this.#firstLine) / seconds);
  }

  elapsedSeconds(): number {
    return (this.#now() - this.#startedAt) / 1000;
  }

  #clear(): void {
    if (!this.#showing) return;
    this.#write(CLEAR_LINE);
    this.#showing = false;
  }
}

export function countsText(counts: ImportCounts): string {
  return `${counts.created} created, ${counts.updated} updated, ${counts.unchanged} unchanged, ${counts.kept} kept, ${counts.failed} failed`;
}
