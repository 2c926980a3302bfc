import { sharedError } from '../common/errors.js';
import { headsDigest, type PublishedHead } from './audit-chain.js';

/** One publication of the chains' heads as a copy kept outside the database holds it. */
export interface Publication {
  /** The digest of every chain's head when it was made (headsDigest). */
  readonly digest: string;
  /** The digest of the publication before it, whose heads it leaves out when unchanged; null for a full list. */
  readonly changedSince: string | null;
  readonly heads: readonly PublishedHead[];
}

const HASH = /^[0-9a-f]{64}$/;
const MAX_SEQ = 2147483647;

/**
 * Reads one publication from the JSON kept of it: the `audit chain heads` log line
 * ({chains, digest, changed_since, heads, …}), the body of an `audit.chain_head_published` webhook
 * ({type, timestamp, data: {details: {digest, changed_since, heads}}}), or `understudy audit heads --json`
 * ({heads, digest}, a full list). `where` names it in a refusal (bad_request).
 */
export function publicationOf(json: unknown, where: string): Publication {
  const details = isObject(json) && isObject(json.data) && isObject(json.data.details) ? json.data.details : json;
  const refuse = (why: string) => sharedError('bad_request', `${where} is not a publication of the audit chain heads: ${why}.`);
  if (!isObject(details)) throw refuse('it is not a JSON object');
  const { digest, changed_since: changedSince, heads } = details;
  if (typeof digest !== 'string' || !HASH.test(digest)) throw refuse('it has no digest (64 lower-case hex digits)');
  if (changedSince !== undefined && changedSince !== null && (typeof changedSince !== 'string' || !HASH.test(changedSince))) throw refuse('changed_since is neither null nor a digest');
  if (!Array.isArray(heads)) throw refuse('it has no heads list');
  const read = heads.map((head: unknown, index): PublishedHead => {
    if (!isObject(head)) throw refuse(`heads[${index}] is not an object`);
    const { chain_id: chainId, seq, hash } = head;
    if (typeof chainId !== 'string' || chainId === '') throw refuse(`heads[${index}].chain_id is not a chain id`);
    if (typeof seq !== 'number' || !Number.isInteger(seq) || seq < 1 || seq > MAX_SEQ) throw refuse(`heads[${index}].seq is not a seq from 1`);
    if (typeof hash !== 'string' || !HASH.test(hash)) throw refuse(`heads[${index}].hash is not a SHA-256 hash in 64 lower-case hex digits`);
    return { chainId, seq, hash };
  });
  return { digest, changedSince: changedSince ?? null, heads: read };
}

/**
 * The heads a series of publications vouches for, oldest first, checked against their digests: a
 * full list (changedSince null) must give its own digest; a list of changes must follow the
 * publication before it (its changedSince is that one's digest), and the heads published up to it
 * (the latest per chain) must give its digest. Anything else is refused (bad_request), never
 * half-used: a copy that does not add up proves nothing.
 *
 * What it answers is, per chain, the head of the highest seq any of them published: every record up
 * to it links to the next, so one record checked at that seq covers the earlier ones. A chain a
 * later full list leaves out is still answered, so a chain deleted from the database shows.
 */
export function publishedExpectations(publications: readonly (Publication & { readonly where: string })[]): PublishedHead[] {
  const latest = new Map<string, PublishedHead>();
  const furthest = new Map<string, PublishedHead>();
  let previous: { digest: string; where: string } | undefined;
  for (const publication of publications) {
    const { where } = publication;
    if (publication.changedSince === null) {
      if (headsDigest(publication.heads) !== publication.digest) throw sharedError('bad_request', `${where}: its digest is not the digest of its heads; the copy was changed.`);
      // What later lists of changes build on; the heads published before it are still checked (furthest).
      latest.clear();
    } else if (previous === undefined) {
      throw sharedError(
        'bad_request',
        `${where} lists only the heads that changed since the publication of digest ${publication.changedSince}: give the publications before it too, oldest first, back to a full list (changed_since null, or \`understudy audit heads --json\`).`,
      );
    } else if (publication.changedSince !== previous.digest) {
      throw sharedError('bad_request', `${where} follows the publication of digest ${publication.changedSince}, but ${previous.where} ends at ${previous.digest}: a publication between them is missing.`);
    }
    for (const head of publication.heads) {
      latest.set(head.chainId, head);
      const before = furthest.get(head.chainId);
      if (before === undefined || head.seq > before.seq) furthest.set(head.chainId, head);
    }
    if (publication.changedSince !== null && headsDigest([...latest.values()]) !== publication.digest) {
      throw sharedError(
        'bad_request',
        `${where}: its digest is not the digest of the heads published up to it (the latest of each chain). The copy was changed, or a chain published before was gone or cut back in the database when it was made: verify with the publications before it alone to see which.`,
      );
    }
    previous = { digest: publication.digest, where };
  }
  return [...furthest.values()].sort((a, b) => (a.chainId < b.chainId ? -1 : a.chainId > b.chainId ? 1 : 0));
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
