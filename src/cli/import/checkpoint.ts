import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import type { ResumePoint } from './ndjson-lines.js';

/** What became of the lines of an import file, counted per outcome. */
export interface ImportCounts {
  /** Members that did not exist. */
  created: number;
  /** Members that existed and got the line's password or fields. */
  updated: number;
  /** Members that already had exactly what the line gives (a file imported again). */
  unchanged: number;
  /** Members whose password changed since it was migrated (a sign-in rehashed it, or a reset): left as they are. */
  kept: number;
  /** Lines refused (reported with their number and error_type). */
  failed: number;
}

export function noCounts(): ImportCounts {
  return { created: 0, updated: 0, unchanged: 0, kept: 0, failed: 0 };
}

/** How far an import got: every line up to `line` (`offset` bytes) is committed, with these counts. */
export interface Checkpoint extends ResumePoint {
  readonly counts: ImportCounts;
}

const FORMAT = 'understudy-import-members-checkpoint/1';

/** The checkpoint file beside the input, `<file>.progress`. */
export function checkpointPathOf(file: string): string {
  return `${file}.progress`;
}

export class CheckpointError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CheckpointError';
  }
}

/** The checkpoint at `path`, or undefined when there is none (no import of this file was left unfinished). */
export function readCheckpoint(path: string): Checkpoint | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  let value: Record<string, unknown>;
  try {
    value = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new CheckpointError(`${path} is not a checkpoint of understudy import (not JSON); remove it or run with --restart.`);
  }
  const counts = value.counts as Record<string, unknown> | undefined;
  const numbers = [value.offset, value.line, counts?.created, counts?.updated, counts?.unchanged, counts?.kept, counts?.failed];
  if (value.format !== FORMAT || typeof value.prefix_sha256 !== 'string' || !numbers.every((number) => Number.isSafeInteger(number) && (number as number) >= 0)) {
    throw new CheckpointError(`${path} is not a checkpoint of this version of understudy import; remove it or run with --restart.`);
  }
  return {
    offset: value.offset as number,
    line: value.line as number,
    prefixSha256: value.prefix_sha256,
    counts: {
      created: counts?.created as number,
      updated: counts?.updated as number,
      unchanged: counts?.unchanged as number,
      kept: counts?.kept as number,
      failed: counts?.failed as number,
    },
  };
}

/**
 * Writes the checkpoint whole or not at all (a temporary file renamed over it), so a process killed
 * while writing leaves the previous one. Called only after the batch's transaction committed: a
 * checkpoint never claims lines the database does not have. The opposite (committed, checkpoint not
 * yet written) is harmless: those lines are applied again, and find their members already there.
 */
export function writeCheckpoint(path: string, checkpoint: Checkpoint, writtenAt: string): void {
  // A fixed name: one left by a process killed while writing it is overwritten by the next run.
  const temporary = `${path}.tmp`;
  const body = {
    format: FORMAT,
    offset: checkpoint.offset,
    line: checkpoint.line,
    prefix_sha256: checkpoint.prefixSha256,
    counts: checkpoint.counts,
    written_at: writtenAt,
  };
  writeFileSync(temporary, `${JSON.stringify(body, null, 2)}\n`);
  renameSync(temporary, path);
}

/** The whole file was read: the next import of it starts from its first line again. */
export function removeCheckpoint(path: string): void {
  rmSync(path, { force: true });
}
