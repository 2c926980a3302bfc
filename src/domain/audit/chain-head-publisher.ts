import type { IdGenerator } from '../../platform/ids.js';
import type { Transactional } from '../common/transactional.js';
import { headsDigest, type AuditChainHead } from './audit-chain.js';
import type { AuditRecorder } from './audit-recorder.js';
import type { AuditChainStore } from './audit-chain-store.js';
import type { AuditStore } from './audit-store.js';

/**
 * What one publication said, as the log line and the event's details write it: the number of chains,
 * the digest of every chain's head, the digest of the publication before (null for the first, which
 * lists every head) and the heads that changed since then.
 */
export interface PublishedHeads {
  readonly chains: number;
  readonly digest: string;
  readonly changed_since: string | null;
  readonly heads: readonly { readonly chain_id: string; readonly seq: number; readonly hash: string }[];
}

/**
 * Publishes the chains' heads (docs/impersonation.md, "Tamper-evident audit"): an
 * `audit.chain_head_published` event of no organization, actor `system`, which is not chained itself
 * and goes to the project's webhook endpoints, so copies of the heads live outside the database. A
 * copy taken before a rewrite of history proves it (`understudy audit verify --published`).
 *
 * Each publication carries the digest of every head but lists only the heads that moved since the
 * one before (the first lists them all), so its size follows the organizations that had chained
 * events since, not the number of organizations. The union of the published heads, the latest per
 * chain, is the full list, and each publication's digest checks it.
 *
 * Nothing is published when the heads are what the last publication said. Every serving process runs
 * the timer; the check and the event share one transaction under a lock (AuditChainStore.lockHeadPublication),
 * so when several share a PostgreSQL database the first publishes and the others find nothing new.
 */
export class ChainHeadPublisher {
  readonly #store: Transactional<{ readonly audit: AuditStore; readonly auditChains: AuditChainStore }>;
  readonly #audit: AuditRecorder;
  readonly #ids: IdGenerator;

  constructor(dependencies: { store: Transactional<{ readonly audit: AuditStore; readonly auditChains: AuditChainStore }>; audit: AuditRecorder; ids: IdGenerator }) {
    this.#store = dependencies.store;
    this.#audit = dependencies.audit;
    this.#ids = dependencies.ids;
  }

  /** The heads published now, or undefined when nothing changed since the last publication. */
  async publish(): Promise<PublishedHeads | undefined> {
    return this.#store.transaction(async (tx) => {
      await tx.auditChains.lockHeadPublication();
      const heads = await tx.auditChains.listChainHeads();
      const digest = headsDigest(heads);
      const last = await tx.auditChains.latestEventOfType('audit.chain_head_published', null);
      if (last !== undefined && last.details.digest === digest) return undefined;
      const changedSince = last === undefined || typeof last.details.digest !== 'string' ? null : last.details.digest;
      const published = new Map((await tx.auditChains.listPublishedHeads()).map((head) => [head.chainId, head]));
      // With no publication before it to follow, a publication lists every head: it is a full list on its own.
      const changed = changedSince === null ? heads : heads.filter((head) => published.get(head.chainId)?.seq !== head.seq || published.get(head.chainId)?.hash !== head.hash);
      await tx.auditChains.markPublished(changed);
      const outcome: PublishedHeads = { chains: heads.length, digest, changed_since: changedSince, heads: changed.map(publishedHead) };
      await this.#audit.record(
        tx.audit,
        { requestId: this.#ids.next('request-id'), actor: { type: 'system' } },
        { type: 'audit.chain_head_published', organizationId: null, details: { digest, changed_since: changedSince, heads: outcome.heads } },
      );
      return outcome;
    });
  }
}

function publishedHead(head: AuditChainHead): { chain_id: string; seq: number; hash: string } {
  return { chain_id: head.chainId, seq: head.seq, hash: head.hash };
}
