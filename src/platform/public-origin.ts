/**
 * Where browsers reach this server: UNDERSTUDY_PUBLIC_URL when set, otherwise the address the server
 * listens on (known once it listens). SSO needs it for the URLs identity providers send browsers back
 * to (the SAML ACS URL and audience, the OIDC redirect URL), which must be stable: set
 * UNDERSTUDY_PUBLIC_URL in production, or every connection's URLs change with the listening port.
 */
export class PublicOrigin {
  readonly #configured: string | undefined;
  #listening: string | undefined;

  constructor(configured: string | undefined) {
    this.#configured = configured?.replace(/\/+$/, '');
  }

  /** Told by the server once it listens (`http://127.0.0.1:8080`). */
  setListening(url: string): void {
    this.#listening = url.replace(/\/+$/, '');
  }

  /** The origin (scheme, host, port; no trailing slash). */
  get url(): string {
    const url = this.#configured ?? this.#listening;
    if (url === undefined) throw new Error('the public URL is not known before the server listens; set UNDERSTUDY_PUBLIC_URL');
    return url;
  }
}
