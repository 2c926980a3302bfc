import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair } from 'jose';
import { escapeHtml } from '../../src/console/html.js';

/*
 * A real OpenID provider for tests: oidc-provider (panva's certified OP) on 127.0.0.1, in the test
 * process, with its own users and its own login page. Use:
 *
 *   const idp = await startOidcIdp({ users: [{ sub: 'ann-1', email: 'ann@acme.com', password: 'pw', name: 'Ann', groups: ['eng'] }] });
 *   // Configure the connection with idp.issuer and idp.endpoints; register Understudy as a client
 *   // once the connection (and so its redirect URL) exists:
 *   idp.registerClient({ clientId: 'understudy', clientSecret: 's3cret', redirectUris: [redirectUrl] });
 *   ... // a browser goes to the authorization URL, signs in on the login page, and is sent back
 *   await idp.stop();
 *
 * The login page (GET at the interaction URL) is a form with `<input name="email">`,
 * `<input name="password" type="password">` and `<button type="submit">Sign in</button>`; a wrong
 * email or password shows the page again (200) with an error (`<p role="alert">`). Consent is given
 * at once for registered clients (the browser passes through a consent redirect without a page).
 * PKCE (S256) is required; clients authenticate at the token endpoint with client_secret_basic.
 * Claims: `sub`, `email` and `email_verified` (scope `email`), `name` (scope `profile`), `groups`
 * (scope `groups`: a connection's custom_scopes must ask for it). They are in the ID token and at
 * userinfo.
 */

export interface OidcIdpUser {
  /** The IdP's stable id of the user; `user-<email>` (lower case) when omitted. */
  readonly sub?: string;
  readonly email: string;
  readonly password: string;
  readonly name: string;
  readonly groups?: readonly string[];
  /** The `email_verified` claim; true when omitted. */
  readonly emailVerified?: boolean;
}

export interface OidcIdp {
  /** `http://127.0.0.1:<port>`: the `iss` of its tokens. */
  readonly issuer: string;
  readonly endpoints: { readonly authorizationUrl: string; readonly tokenUrl: string; readonly userinfoUrl: string; readonly jwksUrl: string };
  /** Lets a client (a connection's client_id and client_secret) sign people in, sent back to one of `redirectUris`. */
  registerClient(client: { clientId: string; clientSecret: string; redirectUris: readonly string[] }): void;
  /** Adds (or replaces, by `sub`) a user who can sign in. */
  addUser(user: OidcIdpUser): void;
  stop(): Promise<void>;
}

/** What the code here uses of oidc-provider, which ships no type declarations. */
interface Provider {
  callback(): RequestListener;
  interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<Interaction>;
  interactionFinished(req: IncomingMessage, res: ServerResponse, result: object, options?: { mergeWithLastSubmission?: boolean }): Promise<void>;
  Grant: GrantClass;
}
interface Interaction {
  readonly uid: string;
  readonly grantId?: string;
  readonly prompt: { readonly name: string; readonly details: { missingOIDCScope?: string[]; missingOIDCClaims?: string[]; missingResourceScopes?: Record<string, string[]> } };
  readonly params: Record<string, unknown> & { client_id: string };
  readonly session?: { readonly accountId: string };
}
interface Grant {
  addOIDCScope(scope: string): void;
  addOIDCClaims(claims: string[]): void;
  addResourceScope(indicator: string, scope: string): void;
  save(): Promise<string>;
}
interface GrantClass {
  new (properties: { accountId: string; clientId: string }): Grant;
  find(id: string): Promise<Grant | undefined>;
}
type ProviderClass = new (issuer: string, configuration: object) => Provider;

let providerClass: Promise<ProviderClass> | undefined;

/**
 * oidc-provider warns at import on Node.js before 22 ("Unsupported runtime"); it runs fine on 20,
 * which Understudy supports, so the warning is kept out of test output.
 */
function loadProvider(): Promise<ProviderClass> {
  providerClass ??= (async () => {
    const warn = console.warn;
    console.warn = (...args: unknown[]) => {
      if (typeof args[0] === 'string' && args[0].includes('oidc-provider WARNING: Unsupported runtime')) return;
      warn(...args);
    };
    try {
      return ((await import('oidc-provider' as string)) as { default: ProviderClass }).default;
    } finally {
      console.warn = warn;
    }
  })();
  return providerClass;
}

export async function startOidcIdp(options: { users?: readonly OidcIdpUser[] } = {}): Promise<OidcIdp> {
  const Provider = await loadProvider();
  const users = new Map<string, OidcIdpUser & { sub: string }>();
  const add = (user: OidcIdpUser) => users.set(subjectOf(user), { ...user, sub: subjectOf(user) });
  for (const user of options.users ?? []) add(user);
  const clients = new Map<string, Record<string, unknown>>();

  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const signingKey = { ...(await exportJWK(privateKey)), kid: 'test-idp-1', alg: 'RS256', use: 'sig' };

  const provider = new Provider(issuer, {
    adapter: memoryAdapter(clients),
    jwks: { keys: [signingKey] },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    findAccount: async (_ctx: unknown, sub: string) => {
      const user = users.get(sub);
      if (user === undefined) return undefined;
      return {
        accountId: sub,
        claims: async () => ({ sub, email: user.email, email_verified: user.emailVerified ?? true, name: user.name, groups: [...(user.groups ?? [])] }),
      };
    },
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'], groups: ['groups'] },
    // Claims in the ID token too (not only at userinfo), as most enterprise IdPs answer.
    conformIdTokenClaims: false,
    pkce: { required: () => true },
    features: { devInteractions: { enabled: false } },
    interactions: { url: async (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
    clientBasedCORS: () => false,
    ttl: { AccessToken: 600, AuthorizationCode: 60, IdToken: 600, Interaction: 600, Session: 600, Grant: 600 },
    renderError: async (ctx: { type: string; body: string }, out: Record<string, string>) => {
      ctx.type = 'html';
      ctx.body = page('Error', `<p role="alert">${escapeHtml(out.error ?? 'error')}: ${escapeHtml(out.error_description ?? '')}</p>`);
    },
  });
  const oidcCallback = provider.callback();

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (req.url?.startsWith('/interaction/') === true) {
      interaction(provider, users, req, res).catch((error: unknown) => {
        res.statusCode = 500;
        res.end(page('Error', `<p role="alert">${escapeHtml(String(error))}</p>`));
      });
      return;
    }
    oidcCallback(req, res);
  });

  return {
    issuer,
    endpoints: { authorizationUrl: `${issuer}/auth`, tokenUrl: `${issuer}/token`, userinfoUrl: `${issuer}/me`, jwksUrl: `${issuer}/jwks` },
    registerClient({ clientId, clientSecret, redirectUris }) {
      clients.set(clientId, {
        client_id: clientId,
        client_secret: clientSecret,
        redirect_uris: [...redirectUris],
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
      });
    },
    addUser: add,
    stop: () => stopServer(server),
  };
}

function subjectOf(user: OidcIdpUser): string {
  return user.sub ?? `user-${user.email.toLowerCase()}`;
}

/** The login page (GET), its form (POST), and consent, given at once. */
async function interaction(provider: Provider, users: ReadonlyMap<string, OidcIdpUser & { sub: string }>, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const details = await provider.interactionDetails(req, res);
  if (details.prompt.name === 'consent') {
    const accountId = details.session?.accountId;
    if (accountId === undefined) throw new Error('consent without a signed-in account');
    const grant = (details.grantId === undefined ? undefined : await provider.Grant.find(details.grantId)) ?? new provider.Grant({ accountId, clientId: details.params.client_id });
    const missing = details.prompt.details;
    if (missing.missingOIDCScope !== undefined) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    if (missing.missingOIDCClaims !== undefined) grant.addOIDCClaims(missing.missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) grant.addResourceScope(indicator, scopes.join(' '));
    await provider.interactionFinished(req, res, { consent: { grantId: await grant.save() } }, { mergeWithLastSubmission: true });
    return;
  }
  if (req.method !== 'POST') return sendHtml(res, 200, loginPage(details.uid, ''));
  const form = new URLSearchParams(await readBody(req));
  const email = form.get('email') ?? '';
  const user = [...users.values()].find((each) => each.email.toLowerCase() === email.trim().toLowerCase());
  if (user === undefined || !sameText(user.password, form.get('password') ?? '')) {
    return sendHtml(res, 200, loginPage(details.uid, 'Wrong email or password.', email));
  }
  await provider.interactionFinished(req, res, { login: { accountId: user.sub } }, { mergeWithLastSubmission: false });
}

function loginPage(uid: string, error: string, email = ''): string {
  return page(
    'Sign in to the test IdP',
    `${error === '' ? '' : `<p role="alert">${escapeHtml(error)}</p>`}
<form method="post" action="/interaction/${escapeHtml(uid)}">
<label>Email <input name="email" type="email" value="${escapeHtml(email)}" autocomplete="username"></label>
<label>Password <input name="password" type="password" autocomplete="current-password"></label>
<button type="submit">Sign in</button>
</form>`,
  );
}

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head><body><h1>${escapeHtml(title)}</h1>${body}</body></html>`;
}

function sendHtml(res: ServerResponse, status: number, html: string): void {
  res.statusCode = status;
  res.setHeader('content-type', 'text/html; charset=utf-8');
  res.setHeader('cache-control', 'no-store');
  res.end(html);
}

function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function stopServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve, reject) => server.close((error) => (error === undefined ? resolve() : reject(error))));
}

/**
 * oidc-provider's storage, in memory and per provider: clients come from `clients` (registered once
 * a connection exists, after the provider started); everything else (sessions, interactions, codes,
 * tokens, grants) is kept here until it expires.
 */
function memoryAdapter(clients: ReadonlyMap<string, Record<string, unknown>>): (model: string) => object {
  const entries = new Map<string, { payload: Record<string, unknown>; expiresAt: number }>();
  const sessionsByUid = new Map<string, string>();
  const live = (key: string) => {
    const entry = entries.get(key);
    if (entry === undefined || entry.expiresAt <= Date.now()) return undefined;
    return entry.payload;
  };
  return (model) => ({
    async upsert(id: string, payload: Record<string, unknown>, expiresIn?: number) {
      entries.set(`${model}:${id}`, { payload, expiresAt: expiresIn === undefined ? Number.POSITIVE_INFINITY : Date.now() + expiresIn * 1000 });
      if (model === 'Session' && typeof payload.uid === 'string') sessionsByUid.set(payload.uid, id);
    },
    async find(id: string) {
      if (model === 'Client') return clients.get(id);
      return live(`${model}:${id}`);
    },
    async findByUid(uid: string) {
      const id = sessionsByUid.get(uid);
      return id === undefined ? undefined : live(`Session:${id}`);
    },
    async findByUserCode() {
      return undefined;
    },
    async consume(id: string) {
      const payload = live(`${model}:${id}`);
      if (payload !== undefined) payload.consumed = Math.floor(Date.now() / 1000);
    },
    async destroy(id: string) {
      entries.delete(`${model}:${id}`);
    },
    async revokeByGrantId(grantId: string) {
      for (const [key, entry] of entries) if (entry.payload.grantId === grantId) entries.delete(key);
    },
  });
}
