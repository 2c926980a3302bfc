import { sha256Hex } from '../../crypto/sha256-hex.js';
import type { AuditEvent } from './audit-event.js';

/**
 * Which events join a tamper-evident chain: the impersonation trail (every `impersonation.` event,
 * access grants included), operators' own events (`operator.`), webhook endpoint changes, and
 * everything an operator did in the console. One chain per organization, plus the project's chain
 * for events of no organization, so chaining never makes unrelated organizations wait for each other.
 * Verification reports an event of these kinds that is in no chain (audit-chain-verifier.ts), so a
 * change of this rule comes with a migration that chains the events it newly covers.
 */
export function isChainedEvent(event: Pick<AuditEvent, 'type' | 'actor'>): boolean {
  return event.type.startsWith('impersonation.') || event.type.startsWith('operator.') || event.type.startsWith('webhook.') || event.actor.type === 'operator';
}

/** The chain an event joins: its organization's, or the project's (`project`) when it has none. */
export function chainIdOf(event: Pick<AuditEvent, 'organizationId'>): string {
  return event.organizationId ?? PROJECT_CHAIN;
}

export const PROJECT_CHAIN = 'project';

/** The `prev_hash` of a chain's first record, and the hash of a chain with no records. */
export const GENESIS_HASH = '0'.repeat(64);

/** Names the serialization below; a new one would get a new name, and old records keep theirs. */
export const CHAIN_HASH_VERSION = 'understudy-audit-chain-v1';

/**
 * A chained record as the database stores it: the JSON columns (`actor`, `details`) as their stored
 * text, so verifying a record hashes exactly the bytes that were hashed when it was written and never
 * depends on how JSON is written out.
 */
export interface ChainedAuditRecord {
  readonly chainId: string;
  readonly seq: number;
  readonly prevHash: string;
  readonly hash: string;
  readonly eventId: string;
  readonly type: string;
  readonly occurredAt: string;
  readonly requestId: string;
  readonly actorJson: string;
  readonly organizationId: string | null;
  readonly memberId: string | null;
  readonly impersonatorId: string | null;
  readonly clientIp: string | null;
  readonly userAgent: string | null;
  readonly detailsJson: string;
}

/**
 * A record's hash: SHA-256, as 64 lower-case hex digits, of the version name followed by each field
 * on a line of its own, in this order: chain id, seq (decimal), previous hash, event id, type,
 * occurred at, request id, actor (stored JSON text), organization id, member id, impersonator id,
 * client IP, user agent, details (stored JSON text). A field is written `<length>:<text>` with its
 * length in UTF-8 bytes, or `-` when null, so no text can pass for another split of the fields
 * (docs/impersonation.md, "Tamper-evident audit", tells it to outside verifiers).
 */
export function chainHash(record: Omit<ChainedAuditRecord, 'hash'>): string {
  const fields: readonly (string | null)[] = [
    record.chainId,
    String(record.seq),
    record.prevHash,
    record.eventId,
    record.type,
    record.occurredAt,
    record.requestId,
    record.actorJson,
    record.organizationId,
    record.memberId,
    record.impersonatorId,
    record.clientIp,
    record.userAgent,
    record.detailsJson,
  ];
  const text = [CHAIN_HASH_VERSION, ...fields.map((field) => (field === null ? '-' : `${Buffer.byteLength(field, 'utf8')}:${field}`))].join('\n');
  return sha256Hex(text);
}

/** A chain's newest record, as the head row keeps it: what an appender locks, and what is published. */
export interface AuditChainHead {
  readonly chainId: string;
  readonly seq: number;
  readonly hash: string;
  readonly updatedAt: string;
}

/** A chain's head as one publication named it (ChainHeadPublisher), or as a published copy names it. */
export interface PublishedHead {
  readonly chainId: string;
  readonly seq: number;
  readonly hash: string;
}

/**
 * One digest of every chain's head: SHA-256 (hex) of the lines `<chain_id>:<seq>:<hash>`, sorted
 * (by UTF-16 code units, as JavaScript sorts) and joined with `\n`, without a final newline. Who
 * keeps a published digest and its heads can check both against each other.
 */
export function headsDigest(heads: readonly Pick<AuditChainHead, 'chainId' | 'seq' | 'hash'>[]): string {
  const lines = heads.map((head) => `${head.chainId}:${head.seq}:${head.hash}`).sort();
  return sha256Hex(lines.join('\n'));
}
