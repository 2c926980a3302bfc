/**
 * The last JWT signed for each session, reused while the session's claims are unchanged and the
 * JWT has most of its life left, so `sessions.authenticate` signs at most about once a minute per
 * session instead of on every call. Per process and bounded; losing it only costs a signature.
 * An entry is about 1.5 KB (the JWT and a digest of its claims), so 20,000 entries stay under
 * 40 MB; with more sessions active within a JWT's reuse window, the excess are signed afresh.
 */
export class SessionJwtCache {
  readonly #entries = new Map<string, { claimsKey: string; jwt: string; expiresAtSeconds: number }>();
  readonly #capacity: number;

  constructor(capacity = 20_000) {
    this.#capacity = capacity;
  }

  /** A cached JWT for exactly these claims that stays valid at least `minimumLifetimeSeconds` more. */
  find(sessionId: string, claimsKey: string, nowSeconds: number, minimumLifetimeSeconds: number): string | undefined {
    const entry = this.#entries.get(sessionId);
    if (entry === undefined || entry.claimsKey !== claimsKey || entry.expiresAtSeconds - nowSeconds < minimumLifetimeSeconds) return undefined;
    return entry.jwt;
  }

  remember(sessionId: string, claimsKey: string, jwt: string, expiresAtSeconds: number): void {
    this.#entries.delete(sessionId);
    this.#entries.set(sessionId, { claimsKey, jwt, expiresAtSeconds });
    if (this.#entries.size > this.#capacity) {
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
  }

  forget(sessionId: string): void {
    this.#entries.delete(sessionId);
  }
}
