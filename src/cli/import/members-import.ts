import type { RbacPolicyService } from '../../domain/rbac/policy-service.js';
import { isDomainError } from '../../domain/common/domain-error.js';
import type { OperationContext } from '../../domain/common/operation-context.js';
import type { Transactional } from '../../domain/common/transactional.js';
import { UniqueConstraintError } from '../../domain/common/unique-constraint-error.js';
import { sharedError } from '../../domain/common/errors.js';
import { checkAssignedRoles } from '../../domain/members/member.js';
import type { SearchQuery } from '../../domain/common/search.js';
import { organizationError } from '../../domain/organizations/errors.js';
import type { Organization } from '../../domain/organizations/organization.js';
import type { PasswordHashing } from '../../domain/passwords/password-hashing.js';
import type { MigrationPorts, PasswordMigration } from '../../domain/passwords/password-migration.js';
import { type Checkpoint, type ImportCounts, noCounts } from './checkpoint.js';
import { type BatchMembers, batchPorts, memberKey } from './batch-ports.js';
import { existingMemberOutcome } from './existing-member.js';
import { decodeMemberLine, isLineFailure, type LineFailure, lineFailure, MAX_LINE_BYTES, type MemberLine } from './member-line.js';
import { digestOfPrefix, type FileLine, NdjsonLines } from './ndjson-lines.js';

export interface ImportOptions {
  /** Lines per transaction (and per checkpoint). */
  readonly batchSize: number;
  /** Stop at the first line that cannot be imported, instead of reporting it and going on. */
  readonly strict: boolean;
  /** Where an earlier run of this file stopped; from the first line when undefined. */
  readonly resume: Checkpoint | undefined;
}

/** What the import tells its caller as it goes. */
export interface ImportListener {
  /** A line that cannot be imported (reported at once, or when its batch commits). */
  failed(failure: LineFailure): void;
  /** A batch committed: everything up to `checkpoint.line` is in the database. Write the checkpoint now. */
  committed(checkpoint: Checkpoint): void;
}

export interface ImportResult {
  readonly counts: ImportCounts;
  /** The last line read. */
  readonly line: number;
  /** With --strict, the line the import stopped at; everything before it is committed. */
  readonly stoppedAt: LineFailure | undefined;
}

/** A line ready to write, with its organization found. */
interface ReadyLine extends MemberLine {
  readonly organization: Organization;
  /** Byte offset of the line's start: where an import stopped at it (--strict) starts again. */
  readonly start: number;
}

/** The lines read since the last checkpoint. */
interface Batch {
  readonly ready: ReadyLine[];
  failed: number;
  lines: number;
  /** The last line read and the offset just past it. */
  line: number;
  end: number;
}

/** Where a checkpoint puts the next run's start. */
interface Point {
  readonly line: number;
  readonly end: number;
  readonly prefixSha256: string;
}

/** A line passwords.migrate refused inside a batch's transaction: the batch is rolled back and run again without it. */
class LineRefused extends Error {
  readonly failure: LineFailure;

  constructor(failure: LineFailure) {
    super(failure.message);
    this.failure = failure;
  }
}

/** Concurrent creations of the same address (a sign-up beside the import) make a batch run again; this many times at most. */
const RACE_RETRIES = 3;
/** Organizations remembered by reference; a file naming more than this is read with some lookups twice. */
const ORGANIZATIONS_REMEMBERED = 10_000;

/**
 * Imports members from an NDJSON file, one passwords.migrate per line (src/cli/import/member-line.ts
 * says what a line holds). Lines are decoded and checked outside any transaction (no hashing: the
 * hash is stored as given and replaced at the member's first sign-in), then written `batchSize` at a
 * time, each batch in one transaction, after which the listener writes the checkpoint. A batch
 * that committed without its checkpoint is applied again on resume and changes nothing: every line
 * finds its member (unique per organization and address) already as it would make it.
 */
export class MembersImport {
  readonly #store: Transactional<MigrationPorts>;
  readonly #migration: Pick<PasswordMigration, 'migrateMember'>;
  readonly #hashing: Pick<PasswordHashing, 'checkMigratedHash'>;
  readonly #rbacPolicy: Pick<RbacPolicyService, 'rolesOf'>;
  readonly #context: OperationContext;
  readonly #organizations = new Map<string, Organization | undefined>();

  constructor(dependencies: {
    store: Transactional<MigrationPorts>;
    migration: Pick<PasswordMigration, 'migrateMember'>;
    hashing: Pick<PasswordHashing, 'checkMigratedHash'>;
    /** The roles lines may assign (checked before a batch opens its transaction). */
    rbacPolicy: Pick<RbacPolicyService, 'rolesOf'>;
    context: OperationContext;
  }) {
    this.#store = dependencies.store;
    this.#migration = dependencies.migration;
    this.#hashing = dependencies.hashing;
    this.#rbacPolicy = dependencies.rbacPolicy;
    this.#context = dependencies.context;
  }

  async run(path: string, options: ImportOptions, listener: ImportListener): Promise<ImportResult> {
    const reader = new NdjsonLines(path, { maxLineBytes: MAX_LINE_BYTES });
    const counts = { ...(options.resume?.counts ?? noCounts()) };
    let batch = emptyBatch(options.resume?.line ?? 0, options.resume?.offset ?? 0);

    /**
     * Commits the batch, then has the checkpoint written at `point`. Under --strict a line refused in
     * the transaction ends the import: the checkpoint is then its start, so once fixed it is read
     * first next time. Returns that line.
     */
    const flush = async (point: () => Promise<Point>): Promise<LineFailure | undefined> => {
      const written = await this.#write(batch.ready, options.strict);
      addCounts(counts, written.counts);
      counts.failed += batch.failed;
      const stop = options.strict ? written.failures[0] : undefined;
      if (stop === undefined) counts.failed += written.failures.length;
      const at = stop === undefined ? await point() : await pointBefore(path, stop.number, batch.ready);
      listener.committed({ offset: at.end, line: at.line, prefixSha256: at.prefixSha256, counts: { ...counts } });
      for (const failure of stop === undefined ? written.failures : [stop]) listener.failed(failure);
      if (stop !== undefined) counts.failed += 1;
      batch = emptyBatch(at.line, at.end);
      return stop;
    };

    for await (const fileLine of reader.lines(options.resume)) {
      const start = { line: batch.line, end: batch.end };
      const failure = await this.#take(batch, fileLine, start.end);
      if (failure !== undefined && options.strict) {
        // Lines before it are committed; the checkpoint is its start.
        const stop = await flush(async () => ({ ...start, prefixSha256: await digestOfPrefix(path, start.end) }));
        if (stop === undefined) {
          listener.failed(failure);
          counts.failed += 1;
        }
        return { counts, line: fileLine.number, stoppedAt: stop ?? failure };
      }
      if (failure !== undefined) {
        listener.failed(failure);
        batch.failed += 1;
      }
      batch.lines += 1;
      batch.line = fileLine.number;
      batch.end = fileLine.end;
      if (batch.lines >= options.batchSize) {
        const end = { line: batch.line, end: batch.end, prefixSha256: reader.prefixSha256() };
        const stop = await flush(async () => end);
        if (stop !== undefined) return { counts, line: fileLine.number, stoppedAt: stop };
      }
    }
    const last = batch.line;
    if (batch.lines > 0) {
      const end = { line: batch.line, end: batch.end, prefixSha256: reader.prefixSha256() };
      const stop = await flush(async () => end);
      if (stop !== undefined) return { counts, line: last, stoppedAt: stop };
    }
    return { counts, line: last, stoppedAt: undefined };
  }

  /** Decodes a line into the batch; the failure when it cannot be imported. */
  async #take(batch: Batch, fileLine: FileLine, start: number): Promise<LineFailure | undefined> {
    if (fileLine.text === undefined) {
      const message = fileLine.problem === 'too_long' ? `The line is longer than ${MAX_LINE_BYTES} bytes.` : 'The line is not UTF-8 text.';
      return lineFailure(fileLine.number, sharedError(fileLine.problem === 'too_long' ? 'request_body_too_large' : 'invalid_json', message));
    }
    const decoded = decodeMemberLine(fileLine.number, fileLine.text, this.#hashing);
    if (decoded === undefined) return undefined;
    if (isLineFailure(decoded)) return decoded;
    const organization = await this.#organization(decoded.organizationReference);
    if (organization === undefined) return lineFailure(fileLine.number, organizationError('organization_not_found'));
    if (decoded.fields.roles !== undefined) {
      try {
        checkAssignedRoles(decoded.fields.roles, await this.#rbacPolicy.rolesOf(organization));
      } catch (error) {
        if (!isDomainError(error)) throw error;
        return lineFailure(fileLine.number, error);
      }
    }
    batch.ready.push({ ...decoded, organization, start });
    return undefined;
  }

  /**
   * Writes the lines in one transaction. A line passwords.migrate refuses rolls the transaction
   * back; it runs again without that line (under --strict, without it and every line after it).
   */
  async #write(lines: readonly ReadyLine[], strict: boolean): Promise<{ counts: ImportCounts; failures: LineFailure[] }> {
    const refused = new Map<number, LineFailure>();
    let races = 0;
    for (;;) {
      const stop = strict && refused.size > 0 ? Math.min(...refused.keys()) : Number.POSITIVE_INFINITY;
      try {
        const counts = await this.#store.transaction(async (tx) => {
          const counts = noCounts();
          const members = await existingMembers(tx, lines);
          const ports = batchPorts(tx, members);
          for (const line of lines) {
            if (line.number >= stop) break;
            if (!refused.has(line.number)) counts[await this.#apply(ports, line, members)] += 1;
          }
          return counts;
        });
        return { counts, failures: [...refused.values()].sort((a, b) => a.number - b.number) };
      } catch (error) {
        if (error instanceof LineRefused) this.#refuse(refused, error.failure, lines);
        // A member created beside the import between its lookup and insert: the next run finds it.
        else if (error instanceof UniqueConstraintError && error.field === 'email_address' && races < RACE_RETRIES) races += 1;
        else throw error;
      }
    }
  }

  /** Writes one line in the batch's ports; `members` holds the batch's members, and gets the ones the line writes. */
  async #apply(tx: MigrationPorts, line: ReadyLine, members: BatchMembers): Promise<'created' | 'updated' | 'unchanged' | 'kept'> {
    const { organizationId } = line.organization;
    const key = memberKey(organizationId, line.emailAddress);
    const existing = members.has(key) ? members.get(key) : await tx.members.findMemberByEmail(organizationId, line.emailAddress);
    if (existing !== undefined && existing !== null) {
      const stored = existing.memberPasswordId === '' ? undefined : await tx.passwords.findPassword(existing.memberId);
      const outcome = existingMemberOutcome(existing, stored, line);
      if (outcome !== 'update') return outcome;
    }
    try {
      const migrated = await this.#migration.migrateMember(tx, this.#context, { organizationId, emailAddress: line.emailAddress, ...line.fields, hash: line.hash });
      // A later line of the batch with the same address finds this member.
      members.set(key, migrated.member);
      return migrated.memberCreated ? 'created' : 'updated';
    } catch (error) {
      if (isDomainError(error)) throw new LineRefused(lineFailure(line.number, error));
      throw error;
    }
  }

  /**
   * Records a refused line. An organization gone since the batch was read (deleted meanwhile)
   * refuses every line of the batch that names it at once, rather than one rerun of the batch each.
   */
  #refuse(refused: Map<number, LineFailure>, failure: LineFailure, lines: readonly ReadyLine[]): void {
    refused.set(failure.number, failure);
    if (failure.code !== 'organization_not_found') return;
    const gone = lines.find((line) => line.number === failure.number)?.organization.organizationId;
    for (const line of lines) {
      if (line.organization.organizationId !== gone) continue;
      refused.set(line.number, { ...failure, number: line.number });
      this.#organizations.delete(line.organizationReference);
    }
  }

  async #organization(reference: string): Promise<Organization | undefined> {
    if (this.#organizations.has(reference)) return this.#organizations.get(reference);
    const organization = await this.#store.organizations.findOrganization(reference);
    if (this.#organizations.size >= ORGANIZATIONS_REMEMBERED) this.#organizations.clear();
    this.#organizations.set(reference, organization);
    return organization;
  }
}

/** The checkpoint just before line `number` of the batch: its start, with the digest of the bytes before it. */
async function pointBefore(path: string, number: number, lines: readonly ReadyLine[]): Promise<Point> {
  const line = lines.find((ready) => ready.number === number);
  if (line === undefined) throw new Error(`line ${number} is not in the batch`);
  return { line: number - 1, end: line.start, prefixSha256: await digestOfPrefix(path, line.start) };
}

/**
 * The live members the batch's lines name, read in the batch's transaction with one search per
 * organization rather than a lookup per line (most lines of a first import find no one).
 */
async function existingMembers(tx: MigrationPorts, lines: readonly ReadyLine[]): Promise<BatchMembers> {
  const addresses = new Map<string, Set<string>>();
  for (const line of lines) {
    const organizationId = line.organization.organizationId;
    const set = addresses.get(organizationId) ?? new Set<string>();
    set.add(line.emailAddress);
    addresses.set(organizationId, set);
  }
  const members: BatchMembers = new Map();
  for (const [organizationId, emails] of addresses) {
    // Deleted members share addresses with live ones, so a page may hold more rows than addresses.
    const limit = emails.size * 4;
    const query: SearchQuery = { operator: 'AND', filters: [{ name: 'member_emails', type: 'string[]', value: [...emails] }] };
    const { rows } = await tx.members.searchMembers([organizationId], query, { limit, after: null });
    // Too many rows: these addresses are looked up one by one instead.
    if (rows.length > limit) continue;
    for (const email of emails) members.set(memberKey(organizationId, email), null);
    for (const member of rows) if (member.status !== 'deleted') members.set(memberKey(organizationId, member.emailAddress), member);
  }
  return members;
}

function emptyBatch(line: number, end: number): Batch {
  return { ready: [], failed: 0, lines: 0, line, end };
}

function addCounts(into: ImportCounts, from: ImportCounts): void {
  into.created += from.created;
  into.updated += from.updated;
  into.unchanged += from.unchanged;
  into.kept += from.kept;
}
