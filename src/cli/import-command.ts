import { accessSync, constants, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/load.js';
import { isDomainError } from '../domain/common/domain-error.js';
import type { OperationContext } from '../domain/common/operation-context.js';
import { openServices } from '../main.js';
import { systemClock, toTimestamp } from '../platform/clock.js';
import { type Output, printable, parsedOrUsage } from './cli-support.js';
import { CheckpointError, checkpointPathOf, readCheckpoint, removeCheckpoint, writeCheckpoint } from './import/checkpoint.js';
import { MembersImport } from './import/members-import.js';
import { FileChangedError } from './import/ndjson-lines.js';
import { countsText, ProgressReport } from './import/progress-report.js';
import { UsageError } from './keys-command.js';

/** `understudy import members`: members and their migrated password hashes, in bulk, from an NDJSON file. */
export const IMPORT_USAGE = `Usage: understudy import members --file <members.ndjson> [options] [--config <file>]

  Creates or updates one member per line, with the password hash their old system kept (stored
  as given, replaced by argon2id at the member's first sign-in). A line has the fields of
  passwords.migrate: organization_id, email_address, hash, hash_type, the hash type's config,
  name, roles, trusted_metadata, untrusted_metadata, external_id; without hash and hash_type the
  member is imported without a password.

  --file <path>       The NDJSON file, one member per line.
  --batch-size <n>    Lines per transaction and checkpoint (default 1000, from 1 to 10000).
  --strict            Stop at the first line that cannot be imported (default: report it and go on).
  --restart           Start from the first line, ignoring <file>.progress.

  Progress is written to <file>.progress after every batch: run the same command again after an
  interruption and it goes on after the last batch committed. Importing a file again changes
  nothing (its members are counted unchanged), and a member who signed in or set a new password
  since keeps it. Exit status 1 when any line could not be imported. See docs/import.md.`;

export interface ImportArguments {
  readonly help: boolean;
  readonly config: string | undefined;
  readonly file: string;
  readonly batchSize: number;
  readonly strict: boolean;
  readonly restart: boolean;
}

const DEFAULT_BATCH_SIZE = 1000;
const MAX_BATCH_SIZE = 10_000;

/** Checks the arguments before anything is opened; `argv` starts with `import members`. */
export function parseImportArguments(argv: readonly string[]): ImportArguments {
  const { positionals, values } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      config: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
      file: { type: 'string' },
      'batch-size': { type: 'string' },
      strict: { type: 'boolean' },
      restart: { type: 'boolean' },
    },
  });
  const help = values.help === true;
  const what = positionals[1];
  if (what === undefined && !help) throw new UsageError('Missing what to import: `understudy import members --file <members.ndjson>`.');
  if (what !== undefined && what !== 'members') throw new UsageError(`Unknown import "${what}"; only \`import members\` exists.`);
  if (positionals.length > 2) throw new UsageError(`Unexpected argument "${positionals[2]}".`);
  const file = values.file ?? '';
  if (file === '' && !help) throw new UsageError('--file is required: the NDJSON file of members.');
  const batchText = values['batch-size'] ?? String(DEFAULT_BATCH_SIZE);
  const batchSize = /^\d+$/.test(batchText) ? Number(batchText) : Number.NaN;
  if (!(batchSize >= 1 && batchSize <= MAX_BATCH_SIZE)) throw new UsageError(`--batch-size must be a whole number from 1 to ${MAX_BATCH_SIZE} (got "${batchText}").`);
  return { help, config: values.config, file, batchSize, strict: values.strict === true, restart: values.restart === true };
}

/** Where the import writes: results and notes (Output), and the progress stream (stderr: a terminal gets one line rewritten in place). */
export type ImportOutput = Output & { readonly progress: { write(text: string): unknown; readonly isTTY?: boolean } };

export async function runImportCli(argv: readonly string[], io: ImportOutput): Promise<number> {
  const parsed = parsedOrUsage(() => parseImportArguments(argv), IMPORT_USAGE, io);
  if ('exitCode' in parsed) return parsed.exitCode;
  const args = parsed.args;
  if (args.help) {
    io.out(IMPORT_USAGE);
    return 0;
  }
  const file = resolve(args.file);
  const problem = unreadable(file);
  if (problem !== undefined) {
    io.err(`understudy: ${printable(problem)}`);
    return 1;
  }
  const checkpointPath = checkpointPathOf(file);
  if (args.restart) removeCheckpoint(checkpointPath);
  let resume: ReturnType<typeof readCheckpoint>;
  try {
    resume = readCheckpoint(checkpointPath);
  } catch (error) {
    if (!(error instanceof CheckpointError)) throw error;
    io.err(`understudy: ${printable(error.message)}`);
    return 1;
  }
  const config = loadConfig({ configFile: args.config });
  // First-start credentials go to stderr, with the progress; stdout has only the summary.
  const opened = await openServices(config, { announce: io.err });
  try {
    const { services, store } = opened;
    const context: OperationContext = { requestId: services.ids.next('request-id'), actor: { type: 'cli' } };
    if (resume !== undefined) {
      io.err(`Resuming after line ${resume.line} (${printable(checkpointPath)}; --restart starts from the first line).`);
    }
    const importer = new MembersImport({
      store,
      migration: services.passwordMigration,
      hashing: services.passwordHashing,
      rbacPolicy: services.rbacPolicy,
      context,
    });
    const progress = new ProgressReport({ write: (text) => io.progress.write(text), terminal: io.progress.isTTY === true, now: () => performance.now(), firstLine: resume?.line ?? 0 });
    const result = await importer.run(file, { batchSize: args.batchSize, strict: args.strict, resume }, {
      failed: (failure) => progress.failed(failure),
      committed: (checkpoint) => {
        writeCheckpoint(checkpointPath, checkpoint, toTimestamp(systemClock.now()));
        progress.committed(checkpoint.line, checkpoint.counts);
      },
    });
    progress.finish();
    if (result.stoppedAt === undefined) removeCheckpoint(checkpointPath);
    const seconds = progress.elapsedSeconds();
    const lines = [
      `Imported members from ${printable(file)}: ${result.line} lines, ${countsText(result.counts)}; ${seconds.toFixed(1)} s, ${progress.rate(result.line)} lines/s.`,
      `Audit events of this run carry request_id ${context.requestId}.`,
    ];
    if (resume !== undefined) lines.push(`The counts include the run(s) before, which imported lines 1 to ${resume.line}.`);
    if (result.stoppedAt !== undefined) {
      lines.push(
        `Stopped at line ${result.stoppedAt.number} (--strict): every line before it is imported. Fix it and run the same command again to continue from it.`,
      );
    } else if (result.counts.failed > 0) {
      lines.push(`${result.counts.failed} line(s) could not be imported (listed on stderr with their error_type); fix them and import the file again.`);
    }
    io.out(lines.join('\n'));
    return result.stoppedAt === undefined && result.counts.failed === 0 ? 0 : 1;
  } catch (error) {
    if (error instanceof FileChangedError) {
      io.err(`understudy: ${printable(file)} changed since ${printable(checkpointPath)} was written: ${error.message}. Run with --restart to import it from the first line (members already imported are counted unchanged).`);
      return 1;
    }
    if (!isDomainError(error)) throw error;
    io.err(`understudy: ${error.code}: ${printable(error.message)}`);
    return 1;
  } finally {
    await opened.close();
  }
}

/** Why the file cannot be imported (missing, not a file, or its directory takes no checkpoint), or undefined. */
function unreadable(file: string): string | undefined {
  try {
    if (!statSync(file).isFile()) return `${file} is not a file.`;
    accessSync(file, constants.R_OK);
  } catch (error) {
    return `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}.`;
  }
  try {
    accessSync(dirname(file), constants.W_OK);
  } catch {
    return `cannot write the checkpoint ${checkpointPathOf(file)}: the directory ${dirname(file)} is not writable.`;
  }
  return undefined;
}
