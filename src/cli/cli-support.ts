import type { Config } from '../config/schema.js';
import { MASTER_KEY_FILE } from '../crypto/keys/master-key.js';
import { isDomainError } from '../domain/shared/domain-error.js';
import type { OperationContext } from '../domain/shared/operation-context.js';
import { openServices } from '../main.js';
import type { Services } from '../services.js';

/** Where a CLI command prints: results on stdout, problems and notes on stderr. */
export interface Output {
  out(text: string): void;
  err(text: string): void;
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
    io.err(`understudy: ${error.code}: ${error.message}`);
    return 1;
  } finally {
    await opened.close();
  }
}

/** Left-aligned columns; line breaks and tabs inside a value become spaces so each row stays one line. */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const cells = [header, ...rows].map((row) => row.map((cell) => cell.replace(/[\r\n\t]+/g, ' ')));
  const widths = header.map((_, column) => Math.max(...cells.map((row) => (row[column] ?? '').length)));
  return cells.map((row) => row.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ').trimEnd()).join('\n');
}
