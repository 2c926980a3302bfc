import type { Dispatcher } from 'undici';
import { totpCode } from '../../../src/crypto/totp.js';

/** One console response as a browser would get it, without following redirects. */
export interface ConsoleResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  /** The Location header of a redirect, or null. */
  readonly location: string | null;
  /** Every Set-Cookie header line, as sent. */
  readonly setCookies: readonly string[];
}

/** Credentials as `understudy operators create` or OperatorsService.create hand them out. */
export interface OperatorLogin {
  readonly emailAddress: string;
  readonly password: string;
  readonly totpSecret: string | null;
}

/**
 * A minimal browser for the console: a cookie jar (path and expiry ignored, deletions honoured),
 * form posts as application/x-www-form-urlencoded, and no redirect following, so tests see each
 * 303 and its Location.
 */
export class ConsoleClient {
  readonly #baseUrl: string;
  readonly #dispatcher: Dispatcher | undefined;
  readonly #headers: Record<string, string>;
  readonly cookies = new Map<string, string>();

  /** `headers` go with every request, e.g. an X-Forwarded-For naming the client behind a trusted proxy. */
  constructor(baseUrl: string, options: { dispatcher?: Dispatcher; headers?: Record<string, string> } = {}) {
    this.#baseUrl = baseUrl;
    this.#dispatcher = options.dispatcher;
    this.#headers = options.headers ?? {};
  }

  get(path: string, headers: Record<string, string> = {}): Promise<ConsoleResponse> {
    return this.#send(path, { method: 'GET', headers });
  }

  /** Posts `fields` as a form; `_csrf` is sent only when given. */
  post(path: string, fields: Record<string, string>): Promise<ConsoleResponse> {
    return this.#send(path, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields).toString(),
    });
  }

  /** GETs `path` (expecting 200) and returns the `_csrf` value of its first form. */
  async csrfFrom(path: string): Promise<string> {
    const response = await this.get(path);
    if (response.status !== 200) throw new Error(`GET ${path} answered ${response.status}, expected 200`);
    const token = csrfIn(response.text);
    if (token === undefined) throw new Error(`GET ${path} has no _csrf field`);
    return token;
  }

  /** Step one: the sign-in page for the pre-session CSRF cookie and field, then the password form. */
  async submitPassword(emailAddress: string, password: string, next?: string): Promise<ConsoleResponse> {
    const csrf = await this.csrfFrom('/console/login');
    const query = next === undefined ? '' : `?next=${encodeURIComponent(next)}`;
    return this.post(`/console/login${query}`, { _csrf: csrf, email: emailAddress, password });
  }

  /** Step two: the TOTP page for the session-bound CSRF field, then the code. */
  async submitTotp(code: string, next?: string): Promise<ConsoleResponse> {
    const csrf = await this.csrfFrom('/console/login/totp');
    return this.post('/console/login/totp', { _csrf: csrf, code, ...(next !== undefined && { next }) });
  }

  /** Password, then (when the operator has one) a TOTP code for `at`; throws unless both steps redirect. */
  async signIn(login: OperatorLogin, at: Date): Promise<void> {
    const first = await this.submitPassword(login.emailAddress, login.password);
    if (first.status !== 303) throw new Error(`password step answered ${first.status}: ${first.text.slice(0, 500)}`);
    if (login.totpSecret === null) return;
    const second = await this.submitTotp(totpCode(login.totpSecret, at));
    if (second.status !== 303) throw new Error(`TOTP step answered ${second.status}: ${second.text.slice(0, 500)}`);
  }

  /** The sign-out form of a signed-in page. */
  async signOut(): Promise<ConsoleResponse> {
    const csrf = await this.csrfFrom('/console/organizations');
    return this.post('/console/logout', { _csrf: csrf });
  }

  async #send(path: string, init: RequestInit): Promise<ConsoleResponse> {
    const headers = new Headers(init.headers);
    for (const [name, value] of Object.entries(this.#headers)) if (!headers.has(name)) headers.set(name, value);
    if (this.cookies.size > 0) headers.set('cookie', [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; '));
    const response = await fetch(`${this.#baseUrl}${path}`, {
      ...init,
      headers,
      redirect: 'manual',
      ...(this.#dispatcher !== undefined && ({ dispatcher: this.#dispatcher } as RequestInit)),
    });
    const setCookies = response.headers.getSetCookie();
    for (const line of setCookies) this.#remember(line);
    return { status: response.status, headers: response.headers, text: await response.text(), location: response.headers.get('location'), setCookies };
  }

  #remember(line: string): void {
    const [pair = '', ...attributes] = line.split(';').map((part) => part.trim());
    const separator = pair.indexOf('=');
    const name = pair.slice(0, separator);
    const value = pair.slice(separator + 1);
    const isDeletion =
      value === '' ||
      attributes.some((attribute) => /^max-age=0$/i.test(attribute)) ||
      attributes.some((attribute) => /^expires=/i.test(attribute) && Date.parse(attribute.slice(8)) < Date.parse('2000-01-01'));
    if (isDeletion) this.cookies.delete(name);
    else this.cookies.set(name, value);
  }
}

/** The value of the first `_csrf` hidden field in a page. */
export function csrfIn(page: string): string | undefined {
  return /name="_csrf" value="([^"]*)"/.exec(page)?.[1];
}

/** The attributes of the Set-Cookie line for `name`, lower-cased, e.g. ['path=/console', 'httponly']. */
export function cookieAttributes(setCookies: readonly string[], name: string): string[] | undefined {
  const line = setCookies.find((candidate) => candidate.startsWith(`${name}=`));
  return line?.split(';').slice(1).map((part) => part.trim().toLowerCase());
}
