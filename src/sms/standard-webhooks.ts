import { createHmac } from 'node:crypto';

/** The prefix of a Standard Webhooks signing secret; the base64 key follows it. */
const SECRET_PREFIX = 'whsec_';

/** The signing key in a `whsec_…` secret, or undefined when the text is not one (24 to 64 bytes, as the spec advises). */
export function webhookSigningKey(secret: string): Buffer | undefined {
  if (!secret.startsWith(SECRET_PREFIX)) return undefined;
  const encoded = secret.slice(SECRET_PREFIX.length);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded) || encoded.length % 4 !== 0) return undefined;
  const key = Buffer.from(encoded, 'base64');
  return key.length >= 24 && key.length <= 64 ? key : undefined;
}

/**
 * The `webhook-signature` header of the Standard Webhooks spec: `v1,` and the base64 HMAC-SHA256,
 * under the key, of `<webhook-id>.<webhook-timestamp>.<body>`.
 */
export function webhookSignature(key: Buffer, messageId: string, timestampSeconds: number, body: string): string {
  return `v1,${createHmac('sha256', key).update(`${messageId}.${timestampSeconds}.${body}`).digest('base64')}`;
}
