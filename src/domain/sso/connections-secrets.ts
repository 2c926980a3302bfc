import { decryptPrivateKey, encryptPrivateKey } from '../../crypto/keys/key-encryption.js';
import type { Random } from '../../platform/random.js';
import type { SsoConnectionSecrets } from './sso-connection.js';

/**
 * How a connection's secrets are sealed at rest with the master key (AES-256-GCM, key-encryption.ts),
 * for whoever must use them in clear later (the protocols: the OIDC client secret at the token
 * endpoint, our SAML signing key, an uploaded decryption key). The key id bound into each ciphertext
 * is the id of what owns it: the connection id for `sso_connections.sealed_secrets`, the certificate
 * id for `sso_certificates.sealed_private_key`. A ciphertext copied onto another row fails to open.
 */
export function sealConnectionSecrets(secrets: SsoConnectionSecrets, options: { masterKey: Buffer; connectionId: string; random: Random }): string {
  return encryptPrivateKey(JSON.stringify(secrets), { masterKey: options.masterKey, kid: options.connectionId, random: options.random });
}

/** The connection's secrets; `{}` when none were ever stored. */
export function openConnectionSecrets(sealed: string | null, options: { masterKey: Buffer; connectionId: string }): SsoConnectionSecrets {
  if (sealed === null) return {};
  return JSON.parse(decryptPrivateKey(sealed, { masterKey: options.masterKey, kid: options.connectionId })) as SsoConnectionSecrets;
}

export function sealCertificateKey(privateKeyPem: string, options: { masterKey: Buffer; certificateId: string; random: Random }): string {
  return encryptPrivateKey(privateKeyPem, { masterKey: options.masterKey, kid: options.certificateId, random: options.random });
}

export function openCertificateKey(sealed: string, options: { masterKey: Buffer; certificateId: string }): string {
  return decryptPrivateKey(sealed, { masterKey: options.masterKey, kid: options.certificateId });
}

/** What a private key is answered as (`encryption_private_keys[].private_key`): never the key. */
export const REDACTED_PRIVATE_KEY = 'REDACTED';

/**
 * How an OIDC client secret is answered: '' when none is set; otherwise a fixed mask, followed by
 * its last four characters when it is long enough (16 or more) for those to give away little, so an
 * admin can tell which secret is configured.
 */
export function maskClientSecret(secret: string | undefined): string {
  if (secret === undefined || secret === '') return '';
  return secret.length >= 16 ? `********${secret.slice(-4)}` : '********';
}
