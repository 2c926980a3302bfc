import { createPrivateKey, createPublicKey, type KeyObject, webcrypto, X509Certificate } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { ssoError } from '../domain/sso/errors.js';
import { toTimestamp } from '../platform/clock.js';

// @peculiar/x509 looks its WebCrypto up here; Node's is the one every key in this file lives in.
x509.cryptoProvider.set(webcrypto as unknown as ReturnType<typeof x509.cryptoProvider.get>);

/** Stytch refuses longer private keys with `private_key_too_long`. */
export const MAX_PRIVATE_KEY_CHARS = 16_384;
/** Weaker RSA keys are refused: an AuthnRequest or metadata signed with one could be forged. */
const MIN_RSA_BITS = 2048;
/** A certificate text longer than this is no single certificate an IdP would hand out. */
const MAX_CERTIFICATE_CHARS = 65_536;
const SIGNING_YEARS = 10;

const RSA_SHA256 = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } as const;

export interface ParsedCertificate {
  /** The certificate as PEM, in one canonical layout (64-character lines, one trailing newline). */
  readonly certificatePem: string;
  /** Its issuer's distinguished name, RDNs joined by ", " (its subject, when self-signed). */
  readonly issuer: string;
  /** Its notAfter, RFC 3339 without milliseconds. */
  readonly expiresAt: string;
}

/**
 * A self-signed RSA-2048 / SHA-256 certificate valid from `now` for ten years: what a SAML
 * connection signs its AuthnRequests with and publishes in its metadata. With `privateKeyPem` (a
 * customer's own key) the certificate is for that key; otherwise a new key is generated.
 */
export async function generateSigningCertificate(input: { commonName: string; now: Date; privateKeyPem?: string }): Promise<ParsedCertificate & { privateKeyPem: string }> {
  const keys = input.privateKeyPem === undefined ? await generateKeys() : await importKeys(checkPrivateKey(input.privateKeyPem));
  const notAfter = new Date(input.now.getTime());
  notAfter.setUTCFullYear(notAfter.getUTCFullYear() + SIGNING_YEARS);
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    // Given as a typed value: a name string (or plain JSON string) would be parsed for `,`, `"` and `\`.
    name: new x509.Name([{ CN: [{ utf8String: input.commonName }] }]),
    notBefore: input.now,
    notAfter,
    signingAlgorithm: RSA_SHA256,
    keys,
    extensions: [new x509.BasicConstraintsExtension(false, undefined, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true)],
  });
  const parsed = parseCertificate(certificate.toString('pem'));
  if (parsed === undefined) throw new Error('a generated certificate did not parse');
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  return { ...parsed, privateKeyPem: pem('PRIVATE KEY', pkcs8) };
}

/**
 * One X.509 certificate, as PEM or as the bare base64 DER that SAML metadata carries (whitespace
 * anywhere is ignored), normalized; undefined for anything else, including several certificates.
 */
export function parseCertificate(text: string): ParsedCertificate | undefined {
  if (text.length > MAX_CERTIFICATE_CHARS) return undefined;
  const trimmed = text.trim();
  let base64: string;
  if (trimmed.startsWith('-----')) {
    const match = /^-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]+)-----END CERTIFICATE-----$/.exec(trimmed);
    if (match?.[1] === undefined) return undefined;
    base64 = match[1];
  } else {
    base64 = trimmed;
  }
  base64 = base64.replace(/\s+/g, '');
  if (base64 === '' || !/^[A-Za-z0-9+/]+={0,2}$/.test(base64) || base64.length % 4 !== 0) return undefined;
  const der = Buffer.from(base64, 'base64');
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(der);
  } catch {
    return undefined;
  }
  // Node parses the first certificate of a DER stream: trailing bytes would be a second one (or junk).
  if (!certificate.raw.equals(der)) return undefined;
  const expires = new Date(certificate.validTo);
  if (Number.isNaN(expires.getTime())) return undefined;
  return {
    certificatePem: pem('CERTIFICATE', certificate.raw),
    issuer: certificate.issuer.split('\n').filter((part) => part !== '').join(', '),
    expiresAt: toTimestamp(expires),
  };
}

/**
 * An RSA private key in PEM (PKCS#1 `RSA PRIVATE KEY` or PKCS#8 `PRIVATE KEY`, unencrypted, at least
 * 2048 bits), answered as PKCS#8 PEM; refused with `saml_signing_private_key_invalid` (or
 * `private_key_too_long`) otherwise.
 */
export function checkPrivateKey(text: string): string {
  if (text.length > MAX_PRIVATE_KEY_CHARS) throw ssoError('private_key_too_long');
  const trimmed = text.trim();
  if (!/^-----BEGIN (RSA )?PRIVATE KEY-----[A-Za-z0-9+/=\s]+-----END (RSA )?PRIVATE KEY-----$/.test(trimmed)) {
    throw ssoError('saml_signing_private_key_invalid');
  }
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: trimmed, format: 'pem' });
  } catch {
    throw ssoError('saml_signing_private_key_invalid');
  }
  if (key.asymmetricKeyType !== 'rsa') throw ssoError('saml_signing_private_key_invalid', 'signing_private_key must be an RSA private key (not EC, Ed25519 or RSA-PSS).');
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits < MIN_RSA_BITS) throw ssoError('saml_signing_private_key_invalid', `signing_private_key must be an RSA key of at least ${MIN_RSA_BITS} bits (this one has ${bits}).`);
  return key.export({ type: 'pkcs8', format: 'pem' }).toString();
}

async function generateKeys(): Promise<webcrypto.CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey({ ...RSA_SHA256, modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]) }, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
}

async function importKeys(pkcs8Pem: string): Promise<webcrypto.CryptoKeyPair> {
  const privateKey = createPrivateKey(pkcs8Pem);
  const pkcs8 = privateKey.export({ type: 'pkcs8', format: 'der' });
  const spki = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
  return {
    privateKey: (await webcrypto.subtle.importKey('pkcs8', pkcs8, RSA_SHA256, true, ['sign'])) as webcrypto.CryptoKey,
    publicKey: (await webcrypto.subtle.importKey('spki', spki, RSA_SHA256, true, ['verify'])) as webcrypto.CryptoKey,
  };
}

function pem(label: string, der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}
