import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * HaveIBeenPwned-format breach data for tests: the passwords given (with their breach counts) in
 * range files of a throwaway directory, for `passwordBreachRangesDir` or a fake range API.
 */
export interface BreachRanges {
  readonly dir: string;
  /** The range file's text for a 5-character prefix, as the range API would answer it ('' when none). */
  rangeOf(prefix: string): string;
  cleanup(): void;
}

export interface BreachRangesOptions {
  /** File names `5BAA6.txt` (as HaveIBeenPwned's downloader writes them, the default) or bare `5BAA6`. */
  readonly fileNames?: 'txt' | 'bare';
  /** CRLF (as the range API answers, the default) or LF. */
  readonly lineEnding?: '\r\n' | '\n';
  /** Other suffixes in each range, so a test finds its password among others (3 by default). */
  readonly decoysPerRange?: number;
}

/** The upper-case hex SHA-1 of a password, as range sources index it. */
export function pwnedSha1(password: string): string {
  return createHash('sha1').update(password, 'utf8').digest('hex').toUpperCase();
}

/**
 * Writes the range files of `passwords` (a list: each seen 42 times; or password → count, where a
 * count of 0 writes a padding line, which does not mean breached).
 */
export function writeBreachRanges(passwords: readonly string[] | Readonly<Record<string, number>>, options: BreachRangesOptions = {}): BreachRanges {
  const counts: Readonly<Record<string, number>> = Array.isArray(passwords) ? Object.fromEntries(passwords.map((password) => [password, 42])) : passwords;
  const lineEnding = options.lineEnding ?? '\r\n';
  const decoys = options.decoysPerRange ?? 3;
  const ranges = new Map<string, string[]>();
  for (const [password, count] of Object.entries(counts)) {
    const digest = pwnedSha1(password);
    const prefix = digest.slice(0, 5);
    const lines = ranges.get(prefix) ?? Array.from({ length: decoys }, () => `${randomBytes(18).toString('hex').slice(0, 35).toUpperCase()}:${1 + randomBytes(1).readUInt8(0)}`);
    lines.push(`${digest.slice(5)}:${count}`);
    ranges.set(prefix, lines);
  }
  const dir = mkdtempSync(join(tmpdir(), 'understudy-breach-ranges-'));
  const texts = new Map<string, string>();
  for (const [prefix, lines] of ranges) {
    const text = lines.sort().join(lineEnding);
    texts.set(prefix, text);
    writeFileSync(join(dir, options.fileNames === 'bare' ? prefix : `${prefix}.txt`), text);
  }
  return {
    dir,
    rangeOf: (prefix) => texts.get(prefix.toUpperCase()) ?? '',
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
