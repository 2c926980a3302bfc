import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { expect } from 'vitest';
import type { OidcConnection } from '../../../src/domain/sso/sso-connection.js';
import { ssoCallbackUrl } from '../../../src/domain/sso/sso-urls.js';
import { publicTokenOf } from '../../../src/domain/projects/public-token.js';
import type { OidcIdp } from '../../support/oidc-idp.js';
import type { TestServer } from '../../support/test-server.js';

/*
 * Shared steps of the OIDC sign-in suites: a connection set up for an identity provider, and a
 * browser's walk from Understudy's start URL through the IdP's login page back to the callback.
 */

/** What the connection is told besides its client: the issuer (its endpoints discovered) or endpoints given outright. */
export interface IdpSettings {
  readonly issuer: string;
  readonly authorizationUrl?: string;
  readonly tokenUrl?: string;
  readonly userinfoUrl?: string;
  readonly jwksUrl?: string;
  readonly customScopes?: string;
  readonly attributeMapping?: Readonly<Record<string, string>>;
}

/** The IdP's issuer (endpoints from its discovery document), asking the `groups` scope; `extra` adds or overrides. */
export function settingsOf(idp: OidcIdp, extra: Partial<IdpSettings> = {}): IdpSettings {
  return { issuer: idp.issuer, customScopes: 'groups', ...extra };
}

/** A new organization. */
export async function createOrganization(server: TestServer, slug: string): Promise<string> {
  const created = await server.client.organizations.create({ organization_name: `Org ${slug}`, organization_slug: slug });
  return created.organization.organization_id;
}

/**
 * An OIDC connection of the organization for the IdP, set up as an admin would with the official
 * SDK: created, registered at the IdP under its redirect URL, then given its client and issuer
 * (the endpoints Understudy discovers). Active once done.
 */
export async function createOidcConnection(server: TestServer, idp: OidcIdp, organizationId: string, settings: IdpSettings = settingsOf(idp)): Promise<OidcConnection> {
  const created = await server.client.sso.oidc.createConnection({ organization_id: organizationId, display_name: 'Test OIDC IdP', identity_provider: 'generic' });
  const connectionId = created.connection?.connection_id ?? '';
  const redirectUrl = created.connection?.redirect_url ?? '';
  expect(redirectUrl).toBe(ssoCallbackUrl(server.baseUrl, connectionId));
  const clientId = `understudy-${connectionId.slice(-12)}`;
  const clientSecret = randomBytes(24).toString('base64url');
  idp.registerClient({ clientId, clientSecret, redirectUris: [redirectUrl] });
  const updated = await server.client.sso.oidc.updateConnection({
    organization_id: organizationId,
    connection_id: connectionId,
    client_id: clientId,
    client_secret: clientSecret,
    ...wireSettings(settings),
  });
  expect(updated.connection?.status).toBe('active');
  return storedConnection(server, connectionId);
}

/** Changes the connection's IdP settings with sso.oidc.updateConnection. */
export async function updateOidcConnection(server: TestServer, connection: OidcConnection, settings: Partial<IdpSettings>): Promise<OidcConnection> {
  await server.client.sso.oidc.updateConnection({ organization_id: connection.organizationId, connection_id: connection.connectionId, ...wireSettings(settings) });
  return storedConnection(server, connection.connectionId);
}

function wireSettings(settings: Partial<IdpSettings>): Record<string, unknown> {
  const wire: Record<string, unknown> = {
    issuer: settings.issuer,
    authorization_url: settings.authorizationUrl,
    token_url: settings.tokenUrl,
    userinfo_url: settings.userinfoUrl,
    jwks_url: settings.jwksUrl,
    custom_scopes: settings.customScopes,
    attribute_mapping: settings.attributeMapping,
  };
  return Object.fromEntries(Object.entries(wire).filter(([, value]) => value !== undefined));
}

async function storedConnection(server: TestServer, connectionId: string): Promise<OidcConnection> {
  const connection = await server.server.store.sso.findConnection(connectionId);
  if (connection?.kind !== 'oidc') throw new Error('the OIDC connection is not stored');
  return connection;
}

/** GET without following redirects; the answer's Location, if any. */
export async function visit(url: string, init: RequestInit = {}): Promise<{ status: number; location: string | undefined; body: string; headers: Headers }> {
  const response = await fetch(url, { ...init, redirect: 'manual' });
  return { status: response.status, location: response.headers.get('location') ?? undefined, body: await response.text(), headers: response.headers };
}

/** Understudy's start URL for the connection: answers where the browser goes (the IdP's authorization URL). */
export async function startSignIn(server: TestServer, connectionId: string, query: Record<string, string> = {}): Promise<URL> {
  const url = new URL('/v1/public/sso/start', server.baseUrl);
  url.searchParams.set('connection_id', connectionId);
  url.searchParams.set('public_token', publicTokenOf(server.projectId));
  for (const [name, value] of Object.entries(query)) url.searchParams.set(name, value);
  const started = await visit(url.href);
  expect(started.status).toBe(302);
  return new URL(started.location ?? '');
}

/**
 * A browser at the IdP: keeps its cookies (by name and path, as a browser would) and follows its
 * redirects until one leaves the IdP.
 */
export class IdpBrowser {
  readonly #origin: string;
  readonly #cookies = new Map<string, { name: string; value: string; path: string }>();

  constructor(issuer: string) {
    this.#origin = new URL(issuer).origin;
  }

  async request(url: string, init: { method?: string; form?: Record<string, string> } = {}): Promise<{ status: number; location: string | undefined; body: string }> {
    const target = new URL(url);
    const headers = new Headers();
    const cookie = [...this.#cookies.values()]
      .filter((each) => target.pathname.startsWith(each.path))
      .map((each) => `${each.name}=${each.value}`)
      .join('; ');
    if (cookie !== '') headers.set('cookie', cookie);
    let body: string | undefined;
    if (init.form !== undefined) {
      headers.set('content-type', 'application/x-www-form-urlencoded');
      body = new URLSearchParams(init.form).toString();
    }
    const response = await fetch(target, { method: init.method ?? (body === undefined ? 'GET' : 'POST'), headers, body, redirect: 'manual' });
    for (const line of response.headers.getSetCookie()) this.#remember(line);
    const location = response.headers.get('location');
    return { status: response.status, location: location === null ? undefined : new URL(location, target).href, body: await response.text() };
  }

  /** Follows the IdP's redirects from `url`; the last answer at the IdP, or the first redirect away from it. */
  async follow(url: string, init: { method?: string; form?: Record<string, string> } = {}): Promise<{ status: number; location: string | undefined; body: string; url: string }> {
    let current = url;
    let answer = await this.request(current, init);
    for (let hops = 0; hops < 10; hops += 1) {
      if (answer.location === undefined || new URL(answer.location).origin !== this.#origin) return { ...answer, url: current };
      current = answer.location;
      answer = await this.request(current);
    }
    throw new Error('too many redirects at the IdP');
  }

  #remember(line: string): void {
    const [pair = '', ...attributes] = line.split(';').map((part) => part.trim());
    const separator = pair.indexOf('=');
    const name = pair.slice(0, separator);
    const value = pair.slice(separator + 1);
    const attribute = (key: string) => attributes.find((each) => each.toLowerCase().startsWith(`${key}=`))?.slice(key.length + 1);
    const path = attribute('path') ?? '/';
    const expires = attribute('expires');
    const gone = attribute('max-age') === '0' || (expires !== undefined && new Date(expires).getTime() <= Date.now()) || value === '';
    if (gone) this.#cookies.delete(`${name};${path}`);
    else this.#cookies.set(`${name};${path}`, { name, value, path });
  }
}

/** The login page's form action, after checking the page has the fields a person fills in. */
export function loginForm(html: string, pageUrl: string): string {
  expect(html).toContain('<input name="email"');
  expect(html).toMatch(/<input name="password" type="password"/);
  expect(html).toContain('<button type="submit">Sign in</button>');
  const action = /<form method="post" action="([^"]+)"/.exec(html)?.[1];
  if (action === undefined) throw new Error('the login page has no form');
  return new URL(action.replaceAll('&#38;', '&'), pageUrl).href;
}

/**
 * A person signs in at the IdP from the authorization URL: the login page, the credentials, consent,
 * and the IdP's redirect back to Understudy's callback, which is returned (not followed).
 */
export async function signInAtIdp(idp: OidcIdp, authorizationUrl: URL, credentials: { email: string; password: string }): Promise<URL> {
  const browser = new IdpBrowser(idp.issuer);
  const login = await browser.follow(authorizationUrl.href);
  expect(login.status).toBe(200);
  const signedIn = await browser.follow(loginForm(login.body, login.url), { form: credentials });
  if (signedIn.location === undefined) throw new Error(`the IdP did not send the browser back: ${signedIn.status} ${signedIn.body.slice(0, 300)}`);
  return new URL(signedIn.location);
}

/** What the scripted token endpoint answers next: the ID token's claims, how it is signed, and userinfo. */
export interface ScriptedAnswer {
  readonly claims: Record<string, unknown>;
  /** Signed with a key the JWKS does not hold (same `kid`). */
  readonly foreignKey?: boolean;
  /** One character of the signature changed after signing. */
  readonly tamper?: boolean;
  /** Not signed at all (`alg: none`). */
  readonly unsigned?: boolean;
  /** The userinfo endpoint's answer; the ID token's claims when omitted. */
  readonly userinfo?: Record<string, unknown>;
}

/** A request the scripted endpoints received. */
export interface ScriptedRequest {
  readonly path: string;
  readonly authorization: string;
  readonly form: URLSearchParams;
}

export interface ScriptedIdp {
  readonly tokenUrl: string;
  readonly jwksUrl: string;
  readonly userinfoUrl: string;
  readonly requests: ScriptedRequest[];
  /** Sets the next answers; undefined: the token endpoint refuses every code (`invalid_grant`). */
  answer(next: ScriptedAnswer | undefined): void;
  stop(): Promise<void>;
}

/**
 * A token endpoint (with its JWKS and userinfo) that answers whatever ID token a test scripts, signed
 * with jose: what a hostile or broken IdP could send back for a code. The attack suites point a
 * connection's token_url, jwks_url and userinfo_url at it; sign-ins of the happy path use the real IdP.
 */
export async function startScriptedIdp(): Promise<ScriptedIdp> {
  const trusted = await generateKeyPair('RS256');
  const foreign = await generateKeyPair('RS256');
  const publicJwk = { ...(await exportJWK(trusted.publicKey)), kid: 'scripted-1', alg: 'RS256', use: 'sig' };
  const requests: ScriptedRequest[] = [];
  let next: ScriptedAnswer | undefined;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      void (async () => {
        const path = new URL(req.url ?? '/', 'http://scripted.invalid').pathname;
        requests.push({ path, authorization: req.headers.authorization ?? '', form: new URLSearchParams(Buffer.concat(chunks).toString('utf8')) });
        const json = (status: number, body: unknown) => {
          res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
          res.end(JSON.stringify(body));
        };
        if (path === '/jwks') return json(200, { keys: [publicJwk] });
        if (next === undefined) return json(400, { error: 'invalid_grant' });
        if (path === '/me') return json(200, next.userinfo ?? next.claims);
        if (path !== '/token') return json(404, { error: 'not_found' });
        let idToken = await new SignJWT(next.claims).setProtectedHeader({ alg: 'RS256', kid: 'scripted-1' }).sign(next.foreignKey === true ? foreign.privateKey : trusted.privateKey);
        if (next.unsigned === true) {
          const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
          idToken = `${part({ alg: 'none' })}.${part(next.claims)}.`;
        }
        if (next.tamper === true) {
          const last = idToken.at(-2) === 'A' ? 'B' : 'A';
          idToken = `${idToken.slice(0, -2)}${last}${idToken.at(-1)}`;
        }
        return json(200, { access_token: 'scripted-access-token', token_type: 'Bearer', expires_in: 300, id_token: idToken });
      })();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return {
    tokenUrl: `${url}/token`,
    jwksUrl: `${url}/jwks`,
    userinfoUrl: `${url}/me`,
    requests,
    answer(answer) {
      next = answer;
    },
    stop: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** An ID token's usual claims for a sign-in: right issuer, audience, nonce, times; `overrides` change or drop (undefined) any. */
export function idTokenClaims(connection: OidcConnection, nonce: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  const claims: Record<string, unknown> = {
    iss: connection.issuer,
    aud: connection.clientId,
    sub: 'scripted-subject-1',
    nonce,
    iat: now,
    exp: now + 300,
    email: 'mallory@acme.com',
    email_verified: true,
    name: 'Mallory',
    ...overrides,
  };
  for (const [name, value] of Object.entries(claims)) if (value === undefined) delete claims[name];
  return claims;
}
