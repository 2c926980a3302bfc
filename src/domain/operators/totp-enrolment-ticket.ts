import { decryptPrivateKey, encryptPrivateKey } from '../../crypto/keys/key-encryption.js';
import { textDigest } from '../../crypto/secret-digest.js';
import type { Random } from '../../platform/random.js';

/**
 * A new TOTP secret waiting for its first code, carried by the confirmation form instead of being
 * stored: sealed with the master key (AES-256-GCM) and bound, as additional data, to the operator,
 * the console session that started it, its expiry and the secret it replaces. So only the server
 * can mint one (a stolen cookie cannot choose the secret), it opens only in that session before it
 * expires, and once the replacement is written the bound secret has changed and it opens no more.
 */
export interface TicketBinding {
  readonly operatorId: string;
  readonly consoleSessionId: string;
  /** The sealed secret the new one replaces, as stored now; null when the operator has none. */
  readonly currentSealed: string | null;
}

const VERSION = 't1';

export function sealEnrolmentTicket(secret: string, binding: TicketBinding, expiresAt: Date, keys: { masterKey: Buffer; random: Random }): string {
  const expires = String(expiresAt.getTime());
  return [VERSION, expires, encryptPrivateKey(secret, { masterKey: keys.masterKey, random: keys.random, kid: additionalData(binding, expires) })].join('.');
}

/** The secret, or undefined when the ticket is malformed, tampered with, of another binding, or expired at `now`. */
export function openEnrolmentTicket(ticket: string, binding: TicketBinding, now: Date, masterKey: Buffer): { secret: string; expiresAt: Date } | undefined {
  const [version, expires, ...sealed] = ticket.split('.');
  if (version !== VERSION || expires === undefined || !/^\d{1,15}$/.test(expires)) return undefined;
  const expiresAt = new Date(Number(expires));
  if (now.getTime() >= expiresAt.getTime()) return undefined;
  try {
    return { secret: decryptPrivateKey(sealed.join('.'), { masterKey, kid: additionalData(binding, expires) }), expiresAt };
  } catch {
    return undefined;
  }
}

function additionalData(binding: TicketBinding, expires: string): string {
  // A digest of the current secret: binds it without putting even its sealed form into the ticket.
  const current = binding.currentSealed === null ? 'none' : textDigest(binding.currentSealed);
  return ['operator-totp-enrolment', binding.operatorId, binding.consoleSessionId, expires, current].join(':');
}
