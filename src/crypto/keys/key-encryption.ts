import { createCipheriv, createDecipheriv } from 'node:crypto';
import type { Random } from '../../platform/random.js';

/**
 * AES-256-GCM for private keys at rest. The key id is bound as additional data, so a ciphertext
 * copied onto another key's row fails to decrypt instead of swapping keys.
 */
export function encryptPrivateKey(plaintext: string, options: { masterKey: Buffer; kid: string; random: Random }): string {
  const iv = options.random.bytes(12);
  const cipher = createCipheriv('aes-256-gcm', options.masterKey, iv);
  cipher.setAAD(Buffer.from(options.kid, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return ['v1', iv.toString('base64url'), ciphertext.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.');
}

export function decryptPrivateKey(sealed: string, options: { masterKey: Buffer; kid: string }): string {
  const [version, iv, ciphertext, tag] = sealed.split('.');
  if (version !== 'v1' || iv === undefined || ciphertext === undefined || tag === undefined) throw new Error('unknown private key format');
  // A fixed tag length: without it Node accepts a truncated tag and checks only its first bytes (down to 4).
  const decipher = createDecipheriv('aes-256-gcm', options.masterKey, Buffer.from(iv, 'base64url'), { authTagLength: 16 });
  decipher.setAAD(Buffer.from(options.kid, 'utf8'));
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
}
