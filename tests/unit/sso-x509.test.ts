import { createPrivateKey, createPublicKey, generateKeyPairSync, webcrypto, X509Certificate } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { describe, expect, it } from 'vitest';
import { checkPrivateKey, generateSigningCertificate, parseCertificate } from '../../src/sso/x509.js';

const NOW = new Date('2026-03-04T05:06:07.890Z');

function rejectionCode(action: () => unknown): string | undefined {
  try {
    action();
  } catch (error) {
    return (error as { code?: string }).code;
  }
  return undefined;
}

function rsaKey(bits: number, type: 'pkcs1' | 'pkcs8') {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: bits });
  return privateKey.export({ type, format: 'pem' }).toString();
}

describe('generateSigningCertificate', () => {
  it('makes a self-signed RSA-2048 SHA-256 certificate valid from now for ten years, with its PKCS#8 key', async () => {
    const generated = await generateSigningCertificate({ commonName: 'Understudy SSO', now: NOW });
    const certificate = new X509Certificate(generated.certificatePem);
    expect(certificate.subject).toBe('CN=Understudy SSO');
    expect(generated.issuer).toBe('CN=Understudy SSO');
    expect(new Date(certificate.validFrom).toISOString()).toBe('2026-03-04T05:06:07.000Z');
    expect(new Date(certificate.validTo).toISOString()).toBe('2036-03-04T05:06:07.000Z');
    expect(generated.expiresAt).toBe('2036-03-04T05:06:07Z');
    expect(certificate.verify(certificate.publicKey)).toBe(true);
    expect(certificate.publicKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
    expect(new x509.X509Certificate(generated.certificatePem).signatureAlgorithm).toMatchObject({ name: 'RSASSA-PKCS1-v1_5', hash: { name: 'SHA-256' } });
    expect(generated.privateKeyPem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    expect(certificate.checkPrivateKey(createPrivateKey(generated.privateKeyPem))).toBe(true);
  });

  it('keeps a common name with DN syntax in it one attribute value', async () => {
    const generated = await generateSigningCertificate({ commonName: 'Acme, O=Evil "x"', now: NOW });
    const name = new x509.X509Certificate(generated.certificatePem).subjectName;
    expect(name.getField('CN')).toEqual(['Acme, O=Evil "x"']);
    expect(name.getField('O')).toEqual([]);
  });

  it('makes a new key each time', async () => {
    const first = await generateSigningCertificate({ commonName: 'a', now: NOW });
    const second = await generateSigningCertificate({ commonName: 'a', now: NOW });
    expect(first.privateKeyPem).not.toBe(second.privateKeyPem);
  });

  it.each(['pkcs1', 'pkcs8'] as const)('certifies a given %s key', async (type) => {
    const privateKeyPem = rsaKey(2048, type);
    const generated = await generateSigningCertificate({ commonName: 'Customer key', now: NOW, privateKeyPem });
    const certificate = new X509Certificate(generated.certificatePem);
    expect(certificate.publicKey.export({ type: 'spki', format: 'pem' })).toBe(createPublicKey(privateKeyPem).export({ type: 'spki', format: 'pem' }));
    expect(certificate.verify(certificate.publicKey)).toBe(true);
    expect(generated.privateKeyPem).toBe(createPrivateKey(privateKeyPem).export({ type: 'pkcs8', format: 'pem' }));
  });

  it('refuses a bad given key', async () => {
    await expect(generateSigningCertificate({ commonName: 'x', now: NOW, privateKeyPem: 'not a key' })).rejects.toMatchObject({ code: 'saml_signing_private_key_invalid' });
    await expect(generateSigningCertificate({ commonName: 'x', now: NOW, privateKeyPem: 'x'.repeat(16_385) })).rejects.toMatchObject({ code: 'private_key_too_long' });
  });
});

describe('checkPrivateKey', () => {
  it('answers an RSA key, PKCS#1 or PKCS#8, as PKCS#8 PEM', () => {
    const pkcs1 = rsaKey(2048, 'pkcs1');
    expect(pkcs1).toContain('BEGIN RSA PRIVATE KEY');
    const normalized = checkPrivateKey(`\n  ${pkcs1}\n`);
    expect(normalized).toMatch(/^-----BEGIN PRIVATE KEY-----\n[\s\S]+\n-----END PRIVATE KEY-----\n$/);
    expect(createPublicKey(normalized).export({ type: 'spki', format: 'pem' })).toBe(createPublicKey(pkcs1).export({ type: 'spki', format: 'pem' }));
    expect(checkPrivateKey(normalized)).toBe(normalized);
  });

  it('refuses what is no usable RSA private key', () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const encrypted = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'pw' }).toString();
    const publicKey = createPublicKey(rsaKey(2048, 'pkcs8')).export({ type: 'spki', format: 'pem' }).toString();
    const certificate = new X509Certificate(rsaCertificatePem).toString();
    for (const text of ['', 'garbage', ec, encrypted, publicKey, certificate, rsaKey(1024, 'pkcs8'), `${rsaKey(2048, 'pkcs8')}${rsaKey(2048, 'pkcs8')}`]) {
      expect(rejectionCode(() => checkPrivateKey(text))).toBe('saml_signing_private_key_invalid');
    }
  });

  it('refuses a key longer than 16384 characters before parsing it', () => {
    const padded = rsaKey(2048, 'pkcs8').replace('\n', `${'\n'.repeat(16_384)}`);
    expect(rejectionCode(() => checkPrivateKey(padded))).toBe('private_key_too_long');
  });
});

describe('parseCertificate', () => {
  it('normalizes a PEM certificate and reads its issuer and expiry', () => {
    const parsed = parseCertificate(`\r\n${rsaCertificatePem.replaceAll('\n', '\r\n')}  `);
    expect(parsed).toEqual({ certificatePem: rsaCertificatePem, issuer: 'C=US, O=Example IdP, CN=idp.example.com', expiresAt: '2035-01-01T00:00:00Z' });
  });

  it('takes the bare base64 DER that SAML metadata carries, whitespace anywhere', () => {
    const base64 = rsaCertificatePem.split('\n').slice(1, -2).join('');
    const spread = base64.replace(/(.{10})/g, '$1 \n\t');
    expect(parseCertificate(spread)?.certificatePem).toBe(rsaCertificatePem);
  });

  it('answers undefined for anything but one certificate', () => {
    const base64 = rsaCertificatePem.split('\n').slice(1, -2).join('');
    const der = Buffer.from(base64, 'base64');
    for (const text of [
      '',
      'hello',
      `${rsaCertificatePem}${rsaCertificatePem}`,
      Buffer.concat([der, der]).toString('base64'),
      Buffer.concat([der, Buffer.from([0])]).toString('base64'),
      der.subarray(0, der.length - 1).toString('base64'),
      rsaKey(2048, 'pkcs8'),
      `${rsaCertificatePem}trailing`,
      rsaCertificatePem.replace('CERTIFICATE', 'X509 CRL'),
      'A'.repeat(70_000),
    ]) {
      expect(parseCertificate(text)).toBeUndefined();
    }
  });
});

/** A certificate whose issuer has several RDNs, as a CA-issued one has, valid until 2035. */
const rsaCertificatePem = await (async () => {
  const keys = (await webcrypto.subtle.generateKey({ name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]) }, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    name: 'C=US, O=Example IdP, CN=idp.example.com',
    notBefore: new Date('2025-01-01T00:00:00Z'),
    notAfter: new Date('2035-01-01T00:00:00Z'),
    keys,
    signingAlgorithm: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
  });
  return `${certificate.toString('pem').replaceAll('\r\n', '\n').trim()}\n`;
})();
