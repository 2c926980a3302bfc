import type { AuditChainHead, ChainedAuditRecord, PublishedHead } from './audit-chain.js';
import type { AuditEvent, AuditEventType } from './audit-event.js';

/**
 * Reading the tamper-evident chains (audit-chain.ts), for verification and publication. Appending to
 * them is AuditStore.appendEvent's, in the transaction of the change the event records.
 */
export interface AuditChainStore {
  /** Every chain's head row (or the one chain's), by chain id; empty when none. */
  listChainHeads(chainId?: string): Promise<AuditChainHead[]>;
  /** Every chain that has records (or the one chain), by chain id, with the highest seq among its records. */
  chainExtents(chainId?: string): Promise<{ chainId: string; lastSeq: number }[]>;
  /** Up to `limit` records of the chain with `afterSeq` < seq <= `throughSeq`, in seq order. */
  readChain(chainId: string, page: { afterSeq: number; throughSeq: number; limit: number }): Promise<ChainedAuditRecord[]>;
  /**
   * Up to `limit` events that are in no chain, by event id after `afterEventId`; only the given
   * organization's (null: events of no organization) when `organizationId` is not undefined.
   */
  listUnchainedEvents(filter: { organizationId?: string | null | undefined }, page: { limit: number; afterEventId: string | null }): Promise<AuditEvent[]>;
  /** The newest event of this type (by event id) of the organization (null: of none), or undefined when there is none. */
  latestEventOfType(type: AuditEventType, organizationId: string | null): Promise<AuditEvent | undefined>;
  /** Each chain's furthest published head (or the one chain's), by chain id: what publication compares with, and what verify checks. */
  listPublishedHeads(chainId?: string): Promise<PublishedHead[]>;
  /**
   * Records these heads as published. A chain's row only moves forward (to a higher seq): a chain cut
   * back in the database goes on being checked against the furthest head it had when published.
   */
  markPublished(heads: readonly PublishedHead[]): Promise<void>;
  /**
   * Inside a transaction: waits until no other transaction holds it (PostgreSQL: a transaction-scoped
   * advisory lock; SQLite transactions hold the write lock already), so processes sharing a database
   * publish chain heads one after the other.
   */
  lockHeadPublication(): Promise<void>;
}
