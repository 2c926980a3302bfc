import { setImmediate as nextTurn } from 'node:timers/promises';
import { chainHash, GENESIS_HASH, headsDigest, isChainedEvent, PROJECT_CHAIN, type AuditChainHead, type ChainedAuditRecord } from './audit-chain.js';
import type { AuditChainStore } from './audit-chain-store.js';
import { auditError } from './errors.js';
import { rateLimitError } from '../rate-limits/errors.js';

/**
 * What is wrong with the first broken record of a chain:
 * - `edited`: its content no longer gives its hash;
 * - `missing_record_before`: its seq is not the next one (a record before it was deleted, or the chain does not start at 1);
 * - `out_of_order`: it does not link to the record before it (records were reordered, or the one before it was replaced with a rehashed copy);
 * - `head_mismatch`: the chain's head row does not name its last record (records after it were deleted without moving the head, or added without it);
 * - `unchained`: an event the rule chains (isChainedEvent) that is in no chain (written or taken out of its chain behind Understudy's back);
 * - `not_as_published`: the record at a published head's seq is not the one whose hash was published, or there is none (history was rewritten, cut back, or the chain deleted).
 */
export type ChainProblem = 'edited' | 'missing_record_before' | 'out_of_order' | 'head_mismatch' | 'unchained' | 'not_as_published';

export interface BrokenRecord {
  readonly chainId: string;
  /** Null for an event in no chain, or a head naming a seq no record has. */
  readonly seq: number | null;
  /** Null where no record stands at that place. */
  readonly eventId: string | null;
  readonly problem: ChainProblem;
}

/** A head published earlier (`chain:seq:hash`): the chain must still have a record at that seq, with that hash. */
export interface ExpectedRecord {
  readonly chainId: string;
  readonly seq: number;
  readonly hash: string;
}

export interface ChainReport {
  readonly chainId: string;
  /** Records checked and found sound, from seq 1 on. */
  readonly records: number;
  readonly head: AuditChainHead | null;
  readonly broken: BrokenRecord | null;
}

export interface AuditChainVerification {
  readonly valid: boolean;
  readonly checkedRecords: number;
  /** The first of `problems`, or null when there is none. */
  readonly broken: BrokenRecord | null;
  /** Each broken chain's first broken record (by chain id), then each failed expectation, then the first event in no chain. */
  readonly problems: readonly BrokenRecord[];
  readonly chains: readonly ChainReport[];
}

/** Records read at once: memory stays bounded whatever a chain's length. */
const PAGE = 1000;
/** What a verification refused because another runs is told to wait: a walk of a few million records takes about that long. */
export const AUDIT_CHAIN_VERIFY_RETRY_AFTER_SECONDS = 30;

/**
 * Checks the tamper-evident chains (audit-chain.ts): every record's hash recomputed from its stored
 * fields, seqs contiguous from 1, each record linked to the one before it, the head row naming the
 * last record, and no event the rule chains left outside a chain. A page at a time, each page on a
 * new turn of the event loop, so a serving process goes on answering while a long chain is checked.
 *
 * Appends go on meanwhile: the extents are read before the heads, and each chain is walked up to the
 * head read, so a record appended later is neither required nor counted (an append commits its record
 * and its head together, so no committed record can be past a head read after it).
 *
 * Besides the heads given (published copies kept outside), each chain is checked against the furthest
 * head published from this database (AuditChainStore.listPublishedHeads): a weak check, since whoever
 * can change the chains can change that table too, but it catches a chain cut back or deleted by
 * someone who did not.
 *
 * One verification runs at a time in a process (a walk reads every record): another asked for
 * meanwhile is refused with `too_many_requests` and a Retry-After.
 */
export class AuditChainVerifier {
  readonly #store: { readonly auditChains: AuditChainStore };
  readonly #page: number;
  #running = false;

  constructor(dependencies: { store: { readonly auditChains: AuditChainStore }; pageSize?: number }) {
    this.#store = dependencies.store;
    this.#page = dependencies.pageSize ?? PAGE;
  }

  /** Every chain's head, by chain id, and the digest publication signs off (headsDigest). */
  async heads(): Promise<{ heads: AuditChainHead[]; digest: string }> {
    const heads = await this.#store.auditChains.listChainHeads();
    return { heads, digest: headsDigest(heads) };
  }

  /**
   * Every chain, or only `chainId` (an organization id, or `project`): `audit_chain_not_found` when it
   * has no records and no head and no head of it was published or is expected.
   */
  async verify(options: { chainId?: string | undefined; expected?: readonly ExpectedRecord[] | undefined } = {}): Promise<AuditChainVerification> {
    if (this.#running) {
      throw rateLimitError(
        AUDIT_CHAIN_VERIFY_RETRY_AFTER_SECONDS,
        `Too many requests have been made: an audit chain verification is running already, and one runs at a time. Retry after ${AUDIT_CHAIN_VERIFY_RETRY_AFTER_SECONDS} seconds.`,
      );
    }
    this.#running = true;
    try {
      return await this.#verify(options);
    } finally {
      this.#running = false;
    }
  }

  async #verify(options: { chainId?: string | undefined; expected?: readonly ExpectedRecord[] | undefined }): Promise<AuditChainVerification> {
    const store = this.#store.auditChains;
    const extents = new Map((await store.chainExtents(options.chainId)).map((extent) => [extent.chainId, extent.lastSeq]));
    const heads = new Map((await store.listChainHeads(options.chainId)).map((head) => [head.chainId, head]));
    const chainIds = [...new Set([...extents.keys(), ...heads.keys()])].sort();
    const expectations = new Map<string, ExpectedRecord>();
    for (const expected of [...(options.expected ?? []), ...(await store.listPublishedHeads(options.chainId))]) expectations.set(`${expected.chainId}:${expected.seq}:${expected.hash}`, expected);
    // A chain that was published is not unknown: deleted, it is reported as not as published.
    const published = [...expectations.values()].some((expected) => expected.chainId === options.chainId);
    if (options.chainId !== undefined && chainIds.length === 0 && !published) throw auditError('audit_chain_not_found');
    const chains: ChainReport[] = [];
    for (const chainId of chainIds) chains.push(await this.#walk(chainId, heads.get(chainId), extents.get(chainId)));
    const problems: BrokenRecord[] = chains.flatMap((chain) => (chain.broken === null ? [] : [chain.broken]));
    let checked = 0;
    for (const expected of expectations.values()) {
      const [record] = await store.readChain(expected.chainId, { afterSeq: expected.seq - 1, throughSeq: expected.seq, limit: 1 });
      if (record === undefined || record.hash !== expected.hash) problems.push({ chainId: expected.chainId, seq: expected.seq, eventId: record?.eventId ?? null, problem: 'not_as_published' });
      checked += 1;
      if (checked % this.#page === 0) await nextTurn();
    }
    const outside = await this.#firstUnchained(options.chainId);
    if (outside !== undefined) problems.push(outside);
    return {
      valid: problems.length === 0,
      checkedRecords: chains.reduce((sum, chain) => sum + chain.records, 0),
      broken: problems[0] ?? null,
      problems,
      chains,
    };
  }

  async #walk(chainId: string, head: AuditChainHead | undefined, lastSeq: number | undefined): Promise<ChainReport> {
    const store = this.#store.auditChains;
    const through = head?.seq ?? lastSeq ?? 0;
    const report = (records: number, broken: BrokenRecord | null): ChainReport => ({ chainId, records, head: head ?? null, broken });
    let records = 0;
    let previousHash = GENESIS_HASH;
    let last: ChainedAuditRecord | undefined;
    for (;;) {
      const page = await store.readChain(chainId, { afterSeq: records, throughSeq: through, limit: this.#page });
      for (const record of page) {
        const problem = problemOf(record, records + 1, previousHash);
        if (problem !== undefined) return report(records, { chainId, seq: record.seq, eventId: record.eventId, problem });
        records += 1;
        previousHash = record.hash;
        last = record;
      }
      if (page.length < this.#page) break;
      await nextTurn();
    }
    if (head === undefined) return report(records, { chainId, seq: last?.seq ?? null, eventId: last?.eventId ?? null, problem: 'head_mismatch' });
    if (head.seq !== records || head.hash !== previousHash) {
      return report(records, { chainId, seq: head.seq, eventId: head.seq === records ? (last?.eventId ?? null) : null, problem: 'head_mismatch' });
    }
    if (lastSeq !== undefined && lastSeq > head.seq) {
      const [beyond] = await store.readChain(chainId, { afterSeq: head.seq, throughSeq: lastSeq, limit: 1 });
      return report(records, { chainId, seq: beyond?.seq ?? lastSeq, eventId: beyond?.eventId ?? null, problem: 'head_mismatch' });
    }
    return report(records, null);
  }

  /** The first event (by id) the rule chains that is in no chain: the chain's organization's only, when one chain is verified. */
  async #firstUnchained(chainId: string | undefined): Promise<BrokenRecord | undefined> {
    const organizationId = chainId === undefined ? undefined : chainId === PROJECT_CHAIN ? null : chainId;
    let after: string | null = null;
    for (;;) {
      const page = await this.#store.auditChains.listUnchainedEvents({ organizationId }, { limit: this.#page, afterEventId: after });
      const found = page.find((event) => isChainedEvent(event));
      if (found !== undefined) return { chainId: found.organizationId ?? PROJECT_CHAIN, seq: null, eventId: found.eventId, problem: 'unchained' };
      if (page.length < this.#page) return undefined;
      after = page[page.length - 1]?.eventId ?? null;
      await nextTurn();
    }
  }
}

/** The first thing wrong with a record expected at `seq` after a record whose hash is `previousHash`. */
function problemOf(record: ChainedAuditRecord, seq: number, previousHash: string): ChainProblem | undefined {
  if (record.seq !== seq) return 'missing_record_before';
  if (record.prevHash !== previousHash) return 'out_of_order';
  if (chainHash(record) !== record.hash) return 'edited';
  return undefined;
}

/** A sentence for people (the CLI and the console). */
export function describeProblem(broken: BrokenRecord): string {
  const where = broken.seq === null ? `event ${broken.eventId ?? ''}` : `seq ${broken.seq}${broken.eventId === null ? '' : ` (event ${broken.eventId})`}`;
  const what: Record<ChainProblem, string> = {
    edited: 'its content no longer matches its hash: the record was edited',
    missing_record_before: 'it is not the next record of the chain: a record before it is missing',
    out_of_order: 'it does not link to the record before it: records were reordered, or the one before it was replaced',
    head_mismatch: "the chain's head does not name its last record: records at the end were deleted without moving the head, or added without moving it",
    unchained: 'it should be in its chain but is in none: it was written or taken out of the chain outside Understudy',
    not_as_published: 'the record at this seq is not the one whose hash was published, or there is none: the history was rewritten, cut back or deleted',
  };
  return `chain ${broken.chainId}, ${where}: ${what[broken.problem]}`;
}
