import type { AuditChainHead } from '../../domain/audit/audit-chain.js';
import type { AuditChainVerification, BrokenRecord } from '../../domain/audit/audit-chain-verifier.js';

/** A chain's head as the API, the CLI's --json and the published event show it. */
export function encodeChainHead(head: AuditChainHead) {
  return { chain_id: head.chainId, seq: head.seq, hash: head.hash, updated_at: head.updatedAt };
}

export function encodeBrokenRecord(broken: BrokenRecord) {
  return { chain_id: broken.chainId, seq: broken.seq, event_id: broken.eventId, problem: broken.problem };
}

/** A verification's outcome: valid, how many records were checked, and the first broken record (or null). */
export function encodeVerification(verification: AuditChainVerification) {
  return { valid: verification.valid, checked_records: verification.checkedRecords, broken: verification.broken === null ? null : encodeBrokenRecord(verification.broken) };
}
