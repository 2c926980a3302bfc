import type { ExpectedRecord } from '../../domain/audit/audit-chain-verifier.js';
import { publicationOf, publishedExpectations } from '../../domain/audit/published-heads.js';
import { objectSchema, str } from '../json-schema.js';
import { extensionOperation } from '../operation.js';
import { encodeVerification } from './chain-wire.js';

interface Body {
  /** One chain only: an organization id, or `project`. Every chain when absent. */
  readonly chain_id?: string;
  /** Heads published earlier: the record at each seq must still have that hash. */
  readonly expect?: readonly { readonly chain_id: string; readonly seq: number; readonly hash: string }[];
  /**
   * Publications kept outside the database, oldest first (or one): each `{ digest, changed_since, heads }`
   * as logged and sent, read and checked by published-heads.ts.
   */
  readonly published?: unknown;
}

const expectedSchema = objectSchema(
  { chain_id: str, seq: { type: 'integer', minimum: 1, maximum: 2147483647 }, hash: { type: 'string', pattern: '^[0-9a-f]{64}$' } },
  ['chain_id', 'seq', 'hash'],
);

const bodySchema = {
  ...objectSchema({ chain_id: str, expect: { type: 'array', items: expectedSchema, maxItems: 1000 }, published: { type: ['object', 'array'] } } satisfies Record<keyof Body, unknown>),
  // No body at all verifies every chain.
  type: ['object', 'null'],
};

/**
 * impersonation.audit.chain.verify (our extension): recomputes every record of the audit chains (or
 * one) and answers whether they are intact, and the first broken record when not. The project's
 * credentials only: member-session headers are refused (no memberAuthorization). One runs at a time
 * in a process (AuditChainVerifier): another meanwhile gets 429 `too_many_requests` with Retry-After.
 */
export default extensionOperation<Body | null>({
  name: 'impersonation.audit.chain.verify',
  method: 'POST',
  url: '/v1/b2b/impersonation/audit/chain/verify',
  schema: { body: bodySchema },
  async handle({ body }, { auditChain }) {
    const expected: ExpectedRecord[] = (body?.expect ?? []).map((entry) => ({ chainId: entry.chain_id, seq: entry.seq, hash: entry.hash }));
    const chainId = body?.chain_id;
    const published = publishedOf(body?.published).filter((head) => chainId === undefined || head.chainId === chainId);
    return encodeVerification(await auditChain.verify({ chainId, expected: [...published, ...expected] }));
  },
});

function publishedOf(given: unknown): ExpectedRecord[] {
  if (given === undefined) return [];
  const list = Array.isArray(given) ? given : [given];
  const whereOf = (index: number) => (Array.isArray(given) ? `published[${index}]` : 'published');
  return publishedExpectations(list.map((document, index) => ({ ...publicationOf(document, whereOf(index)), where: whereOf(index) })));
}
