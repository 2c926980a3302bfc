import { Secret, TOTP } from 'otpauth';

/**
 * RFC 6238 TOTP (30 s steps, 6 digits, SHA-1: what every authenticator app speaks), through the
 * otpauth library. Time is always passed in, never read here (style rule 17).
 */
export function newTotpSecret(bytes: Buffer): string {
  return new Secret({ buffer: new Uint8Array(bytes).buffer }).base32;
}

function totpFor(secretBase32: string, label = 'operator', issuer = 'Understudy'): TOTP {
  return new TOTP({ issuer, label, algorithm: 'SHA1', digits: 6, period: 30, secret: Secret.fromBase32(secretBase32) });
}

/** The 30-second step a code matched, so a code can be refused when replayed; undefined when it matches none. */
export function verifyTotp(secretBase32: string, code: string, at: Date): number | undefined {
  if (!/^\d{6}$/.test(code)) return undefined;
  const delta = totpFor(secretBase32).validate({ token: code, timestamp: at.getTime(), window: 1 });
  return delta === null ? undefined : Math.floor(at.getTime() / 30_000) + delta;
}

export function totpCode(secretBase32: string, at: Date): string {
  return totpFor(secretBase32).generate({ timestamp: at.getTime() });
}

/** The otpauth:// URI an authenticator app scans or imports; the app lists it under `issuer` and `accountName`. */
export function totpUri(secretBase32: string, accountName: string, issuer = 'Understudy'): string {
  return totpFor(secretBase32, accountName, issuer).toString();
}
