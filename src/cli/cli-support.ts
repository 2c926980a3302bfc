import type { Config } from '../config/schema.js';
import { MASTER_KEY_FILE } from '../crypto/keys/master-key.js';
import { isDomainError } from '../domain/common/domain-error.js';
import type { OperationContext } from '../domain/common/operation-context.js';
import { openServices } from '../main.js';
import type { Services } from '../services.js';

/** Where a CLI command prints: results on stdout, problems and notes on stderr. */
export interface Output {
  out(text: string): void;
  err(text: string): void;
  /** Resolves once stdout has taken what was written, so long output is produced no faster than it is read. */
  drained?(): Promise<void>;
}

/**
 * Opens the services `serve` uses, runs `work` as the `cli` actor and closes them again. A domain
 * error exits 1 with its code and message on stderr; anything else is a bug and propagates.
 * `announce` receives the first-start project credentials (stdout for commands that print them
 * as their result, stderr for those whose stdout must stay parseable).
 */
export async function withCliServices(
  config: Config,
  io: Output & { announce: (text: string) => void; noteGeneratedMasterKey?: boolean },
  work: (services: Services, context: OperationContext) => Promise<number>,
): Promise<number> {
  const opened = await openServices(config, { announce: io.announce });
  try {
    if (io.noteGeneratedMasterKey === true && opened.masterKey.source === 'generated') {
      io.err(`Created ${MASTER_KEY_FILE} in ${config.dataDir} to encrypt secrets; set UNDERSTUDY_MASTER_KEY in production.`);
    }
    const context: OperationContext = { requestId: opened.services.ids.next('request-id'), actor: { type: 'cli' } };
    return await work(opened.services, context);
  } catch (error) {
    if (!isDomainError(error)) throw error;
    io.err(`understudy: ${error.code}: ${printable(error.message)}`);
    return 1;
  } finally {
    await opened.close();
  }
}

/**
 * C0 and C1 controls, DEL and the Unicode bidirectional formatting characters: an escape sequence
 * in a stored value (a reason, an email address) could otherwise move the cursor, recolour or
 * rewrite what an operator's terminal shows, and a bidi override could reorder a row.
 */
const TERMINAL_CONTROL = /[\p{Cc}\p{Bidi_Control}]/gu;

/** A stored value made safe to print on a terminal: every control character written out as `\xHH` or `\uHHHH`. */
export function printable(value: string): string {
  return value.replace(TERMINAL_CONTROL, (character) => {
    const code = character.codePointAt(0) ?? 0;
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/** Left-aligned columns; line breaks and tabs inside a value become spaces so each row stays one line, and other control characters are escaped. */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const cells = [header, ...rows].map((row) => row.map((cell) => printable(cell.replace(/[\r\n\t]+/g, ' '))));
  const widths = header.map((_, column) => Math.max(...cells.map((row) => (row[column] ?? '').length)));
  return cells.map((row) => row.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ').trimEnd()).join('\n');
}

/**
 * A command's arguments, parsed before anything is opened; on a mistake (a UsageError, or one of
 * node:util parseArgs' own) the message and the usage go to stderr and the exit code is 2.
 */
export function parsedOrUsage<T>(parse: () => T, usage: string, io: Output): { readonly args: T } | { readonly exitCode: 2 } {
  try {
    return { args: parse() };
  } catch (error) {
    const isUsage = error instanceof Error && (error.name === 'UsageError' || String((error as { code?: unknown }).code).startsWith('ERR_PARSE_ARGS_'));
    if (!isUsage) throw error;
    io.err(`${printable(error.message)}\n\n${usage}`);
    return { exitCode: 2 };
  }
}
