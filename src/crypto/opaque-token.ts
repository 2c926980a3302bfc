import { hash, timingSafeEqual } from 'node:crypto';
import type { Random } from '../platform/random.js';

/**
 * Opaque bearer tokens (session tokens, later impersonation tokens): 44 URL-safe characters, the
 * length and alphabet of Stytch's session tokens. The first 12 characters are a random lookup id
 * stored in clear and indexed; the rest is a 192-bit secret. Only the SHA-256 digest of the whole
 * token is stored, and the digest is compared in constant time after the lookup (style rule 15),
 * so a database read never reveals a usable token and lookups never compare secrets.
 */
export interface OpaqueToken {
  readonly token: string;
  readonly lookupId: string;
  readonly digest: Buffer;
}

const LOOKUP_ID_BYTES = 9;
const SECRET_BYTES = 24;
const TOKEN = /^[A-Za-z0-9_-]{44}$/;

export function createOpaqueToken(random: Random): OpaqueToken {
  const token = Buffer.concat([random.bytes(LOOKUP_ID_BYTES), random.bytes(SECRET_BYTES)]).toString('base64url');
  return { token, lookupId: token.slice(0, 12), digest: digestToken(token) };
}

/** The lookup id and digest of a presented token, or undefined when it cannot be one of ours. */
export function parseOpaqueToken(token: string): { lookupId: string; digest: Buffer } | undefined {
  if (!TOKEN.test(token)) return undefined;
  return { lookupId: token.slice(0, 12), digest: digestToken(token) };
}

export function digestToken(token: string): Buffer {
  // The one-shot `hash` skips the Hash object a `createHash` chain builds: this runs on every authentication.
  return hash('sha256', token, 'buffer');
}

export function digestsMatch(presented: Buffer, stored: Buffer): boolean {
  return presented.length === stored.length && timingSafeEqual(presented, stored);
}

/**
 * The stored record a presented token names, or undefined when it names none: found by the token's
 * lookup id, then accepted only if the stored digest matches the presented token's (constant time).
 * Every kind of opaque token (sessions, intermediate sessions, impersonation tokens, console
 * sessions) is resolved here, so none can skip the digest comparison.
 */
export async function findByOpaqueToken<Found>(
  presented: string | undefined,
  find: (lookupId: string) => Promise<Found | undefined>,
  storedDigest: (found: Found) => Buffer,
): Promise<Found | undefined> {
  const parsed = presented === undefined ? undefined : parseOpaqueToken(presented);
  if (parsed === undefined) return undefined;
  const found = await find(parsed.lookupId);
  return found !== undefined && digestsMatch(parsed.digest, storedDigest(found)) ? found : undefined;
}
