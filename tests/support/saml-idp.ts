import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { inflateRawSync } from 'node:zlib';
import { generateSigningCertificate } from '../../src/sso/x509.js';
import { escapeHtml } from '../../src/console/html.js';

/*
 * A real SAML 2.0 identity provider for tests: samlify's IdentityProvider on 127.0.0.1, in the test
 * process, with its own users, its own login page and its own signing certificate (generated at
 * start). Use:
 *
 *   const idp = await startSamlIdp({ users: [{ email: 'ann@acme.com', password: 'pw', name: 'Ann Lee', groups: ['eng'] }] });
 *   // Once the connection exists: tell the IdP about Understudy (entity id = audience URI, ACS URL;
 *   // with our signing certificate, AuthnRequests must be signed with it), then configure the
 *   // connection with idp.entityId, idp.ssoUrl and idp.certificatePem.
 *   idp.registerServiceProvider({ entityId: connection.audience_uri, acsUrl: connection.acs_url, signingCertificatePem });
 *   ... // a browser goes to /v1/public/sso/start, signs in on the IdP's page, and is posted back
 *   await idp.stop();
 *
 * The sign-in (GET at `ssoUrl`, HTTP-Redirect binding) parses and schema-validates the AuthnRequest,
 * checks its signature when the service provider was registered with a signing certificate, and its
 * ACS URL against the registered one (else 400, a plain page). It shows a form with
 * `<input name="email">`, `<input name="password" type="password">` and
 * `<button type="submit">Sign in</button>`; wrong credentials show it again (401) with
 * `<p role="alert">`. On success the page is a form that posts itself (script) to the ACS URL with
 * `SAMLResponse` and `RelayState` (a "Continue" button without script).
 *
 * Responses: NameID = the user's email (emailAddress format) unless the user has a `nameId`;
 * attributes `email`, `firstName` and `lastName` (the name split at its first space),
 * `displayName` (the whole name) and `groups` (one value per group); the assertion is signed
 * (RSA-SHA256), the Response is not; valid for 5 minutes. `issueResponse` makes one without a
 * browser, with overrides for attack tests (unsigned, another key, another audience…).
 */

export interface SamlIdpUser {
  readonly email: string;
  readonly password: string;
  readonly name: string;
  readonly groups?: readonly string[];
  /** The NameID; the email address when omitted. */
  readonly nameId?: string;
}

/** A key pair and its self-signed certificate (PEM), e.g. a key the connection does not trust. */
export interface SamlKeyPair {
  readonly privateKeyPem: string;
  readonly certificatePem: string;
}

/** How `issueResponse` departs from what the sign-in page would send. */
export interface SamlResponseOptions {
  /** Who signed in (a user's email); the first user when omitted. */
  readonly user?: string;
  /** The registered service provider (its entity id) the response is for; the last registered when omitted. */
  readonly serviceProvider?: string;
  /** The AuthnRequest answered; omitted: none (an IdP-initiated response). */
  readonly inResponseTo?: string;
  /** Replaces the SubjectConfirmationData's InResponseTo only (the Response's stays `inResponseTo`). */
  readonly subjectInResponseTo?: string;
  readonly audience?: string;
  /** SubjectConfirmationData's Recipient; the ACS URL when omitted. */
  readonly recipient?: string;
  /** The Response's Destination; the ACS URL when omitted, none when ''. */
  readonly destination?: string;
  readonly issuer?: string;
  readonly nameId?: string;
  readonly notBefore?: Date;
  /** Conditions' and SubjectConfirmationData's NotOnOrAfter; 5 minutes from now when omitted. */
  readonly notOnOrAfter?: Date;
  readonly status?: string;
  readonly assertionId?: string;
  /** Attributes instead of the user's (every value a string list). */
  readonly attributes?: Readonly<Record<string, readonly string[]>>;
  /** What is signed: `assertion` (the default), `response`, `both` or `none`. */
  readonly sign?: 'assertion' | 'response' | 'both' | 'none';
  /** Signs with this key instead of the IdP's. */
  readonly signingKey?: SamlKeyPair;
  /** Encrypts the assertion (after signing it) to this certificate (PEM). */
  readonly encryptTo?: string;
}

export interface SamlIdp {
  readonly entityId: string;
  /** Where AuthnRequests go (HTTP-Redirect binding); the login page. */
  readonly ssoUrl: string;
  readonly metadataUrl: string;
  readonly metadataXml: string;
  /** The IdP's signing certificate (PEM): the connection's verification certificate. */
  readonly certificatePem: string;
  /** Lets a service provider (a connection) sign people in here. */
  registerServiceProvider(sp: { entityId: string; acsUrl: string; signingCertificatePem?: string }): void;
  /** A SAMLResponse (base64, as posted to the ACS), for tests that post it themselves. */
  issueResponse(options?: SamlResponseOptions): Promise<string>;
  stop(): Promise<void>;
}

/** What the code here uses of samlify, loaded without its type declarations (they pull the browser's DOM types into the whole compilation). */
interface Samlify {
  setSchemaValidator(validator: { validate(xml: string): Promise<unknown> }): void;
  IdentityProvider(settings: Record<string, unknown>): SamlifyIdp;
  ServiceProvider(settings: Record<string, unknown>): SamlifyEntity;
  SamlLib: { replaceTagsByValue(xml: string, tags: Record<string, string | undefined>): string };
}
// biome-ignore lint/suspicious/noEmptyInterface: an opaque samlify entity.
interface SamlifyEntity {}
interface SamlifyIdp extends SamlifyEntity {
  parseLoginRequest(sp: SamlifyEntity, binding: 'redirect', request: { query: Record<string, string>; octetString: string }): Promise<{ extract: { request?: Record<string, string> } }>;
  createLoginResponse(
    sp: SamlifyEntity,
    requestInfo: object,
    binding: 'post',
    user: object,
    options: { customTagReplacement: (template: string) => { id: string; context: string }; encryptThenSign?: boolean },
  ): Promise<{ context: string }>;
  getMetadata(): string;
}

const requireCjs = createRequire(import.meta.url);
const samlify = requireCjs('samlify') as Samlify;
const xmllint = requireCjs('@authenio/samlify-node-xmllint') as { validate(xml: string): Promise<unknown> };
samlify.setSchemaValidator({
  // xmllint (compiled from C) writes an empty line to stdout at every run; it validates synchronously.
  validate(xml) {
    const write = process.stdout.write;
    process.stdout.write = (() => true) as typeof process.stdout.write;
    try {
      return xmllint.validate(xml);
    } finally {
      process.stdout.write = write;
    }
  },
});

const POST = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST';
const REDIRECT = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect';
const EMAIL_FORMAT = 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress';
const UNSPECIFIED_FORMAT = 'urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified';
const SUCCESS = 'urn:oasis:names:tc:SAML:2.0:status:Success';
const LIFETIME_MS = 5 * 60_000;

/** samlify's default login response template, with the AuthnStatement and attributes it leaves out. */
const RESPONSE_TEMPLATE =
  '<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="{ID}" Version="2.0" IssueInstant="{IssueInstant}" Destination="{Destination}" InResponseTo="{InResponseTo}">' +
  '<saml:Issuer>{Issuer}</saml:Issuer><samlp:Status><samlp:StatusCode Value="{StatusCode}"/></samlp:Status>' +
  '<saml:Assertion xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xs="http://www.w3.org/2001/XMLSchema" ID="{AssertionID}" Version="2.0" IssueInstant="{IssueInstant}">' +
  '<saml:Issuer>{Issuer}</saml:Issuer>' +
  '<saml:Subject><saml:NameID Format="{NameIDFormat}">{NameID}</saml:NameID><saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer">' +
  '<saml:SubjectConfirmationData NotOnOrAfter="{NotOnOrAfter}" Recipient="{Recipient}" InResponseTo="{SubjectInResponseTo}"/></saml:SubjectConfirmation></saml:Subject>' +
  '<saml:Conditions NotBefore="{NotBefore}" NotOnOrAfter="{NotOnOrAfter}"><saml:AudienceRestriction><saml:Audience>{Audience}</saml:Audience></saml:AudienceRestriction></saml:Conditions>' +
  '<saml:AuthnStatement AuthnInstant="{IssueInstant}" SessionIndex="{SessionIndex}"><saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>' +
  '{AttributeStatement}</saml:Assertion></samlp:Response>';

interface RegisteredSp {
  readonly entityId: string;
  readonly acsUrl: string;
  readonly signingCertificatePem: string | undefined;
}

interface PendingSignIn {
  readonly sp: RegisteredSp;
  readonly requestId: string;
  readonly relayState: string;
}

export async function startSamlIdp(options: { users: readonly SamlIdpUser[] }): Promise<SamlIdp> {
  const users = [...options.users];
  const key = await newSamlKeyPair('Understudy test SAML IdP');
  const serviceProviders = new Map<string, RegisteredSp>();
  const pending = new Map<string, PendingSignIn>();
  let origin = '';

  const identityProvider = (overrides: { key?: SamlKeyPair; wantAuthnRequestsSigned?: boolean; encrypt?: boolean } = {}): SamlifyIdp =>
    samlify.IdentityProvider({
      entityID: `${origin}/metadata`,
      signingCert: (overrides.key ?? key).certificatePem,
      privateKey: (overrides.key ?? key).privateKeyPem,
      singleSignOnService: [{ Binding: REDIRECT, Location: `${origin}/sso` }],
      // Not served; samlify warns without one.
      singleLogoutService: [{ Binding: REDIRECT, Location: `${origin}/slo` }],
      nameIDFormat: [EMAIL_FORMAT],
      wantAuthnRequestsSigned: overrides.wantAuthnRequestsSigned ?? false,
      isAssertionEncrypted: overrides.encrypt ?? false,
    });

  const serviceProvider = (sp: RegisteredSp, settings: Record<string, unknown> = {}): SamlifyEntity =>
    samlify.ServiceProvider({
      entityID: sp.entityId,
      assertionConsumerService: [{ Binding: POST, Location: sp.acsUrl }],
      ...(sp.signingCertificatePem !== undefined && { signingCert: sp.signingCertificatePem, authnRequestsSigned: true }),
      wantAssertionsSigned: true,
      ...settings,
    });

  async function respond(responseOptions: SamlResponseOptions): Promise<string> {
    const sp = responseOptions.serviceProvider === undefined ? [...serviceProviders.values()].at(-1) : serviceProviders.get(responseOptions.serviceProvider);
    if (sp === undefined) throw new Error('issueResponse: no such service provider registered');
    const user = responseOptions.user === undefined ? users[0] : users.find((candidate) => candidate.email === responseOptions.user);
    if (user === undefined) throw new Error('issueResponse: no such user');
    const sign = responseOptions.sign ?? 'assertion';
    const now = new Date();
    const nameId = responseOptions.nameId ?? user.nameId ?? user.email;
    const notOnOrAfter = (responseOptions.notOnOrAfter ?? new Date(now.getTime() + LIFETIME_MS)).toISOString();
    const tags: Record<string, string | undefined> = {
      ID: newId(),
      AssertionID: responseOptions.assertionId ?? newId(),
      IssueInstant: now.toISOString(),
      Destination: responseOptions.destination === '' ? undefined : (responseOptions.destination ?? sp.acsUrl),
      InResponseTo: responseOptions.inResponseTo,
      SubjectInResponseTo: responseOptions.subjectInResponseTo ?? responseOptions.inResponseTo,
      Issuer: responseOptions.issuer ?? `${origin}/metadata`,
      StatusCode: responseOptions.status ?? SUCCESS,
      NameIDFormat: nameId.includes('@') ? EMAIL_FORMAT : UNSPECIFIED_FORMAT,
      NameID: nameId,
      NotBefore: (responseOptions.notBefore ?? now).toISOString(),
      NotOnOrAfter: notOnOrAfter,
      Recipient: responseOptions.recipient ?? sp.acsUrl,
      Audience: responseOptions.audience ?? sp.entityId,
      SessionIndex: newId(),
    };
    const attributes = responseOptions.attributes ?? attributesOf(user);
    const xml = samlify.SamlLib.replaceTagsByValue(RESPONSE_TEMPLATE, tags).replace('{AttributeStatement}', attributeStatement(attributes));
    const encrypt = responseOptions.encryptTo !== undefined;
    // samlify signs the assertion when the SP wants it signed, and the Response when it wants
    // messages signed or not assertions; an unsigned response is a signed one with its signature cut off.
    const spSettings = {
      assertion: { wantAssertionsSigned: true },
      both: { wantAssertionsSigned: true, wantMessageSigned: true },
      response: { wantAssertionsSigned: false },
      none: { wantAssertionsSigned: false },
    }[sign];
    const { context } = await identityProvider({ ...(responseOptions.signingKey !== undefined && { key: responseOptions.signingKey }), encrypt }).createLoginResponse(
      serviceProvider(sp, { ...spSettings, ...(encrypt && { encryptCert: responseOptions.encryptTo }) }),
      {},
      'post',
      { email: user.email },
      { customTagReplacement: () => ({ id: tags.ID as string, context: xml }), encryptThenSign: sign === 'none' || sign === 'response' },
    );
    if (sign !== 'none') return context;
    const signed = Buffer.from(context, 'base64').toString('utf8');
    return Buffer.from(signed.replace(/<ds:Signature[\s\S]*?<\/ds:Signature>/, ''), 'utf8').toString('base64');
  }

  async function signInPage(request: IncomingMessage, response: ServerResponse, url: URL): Promise<void> {
    const samlRequest = url.searchParams.get('SAMLRequest');
    if (samlRequest === null) return page(response, 400, 'No SAMLRequest', '<p role="alert">This page is reached from a service provider.</p>');
    let issuer: string;
    try {
      issuer = /<(?:\w+:)?Issuer[^>]*>([^<]+)<\//.exec(inflateRawSync(Buffer.from(samlRequest, 'base64')).toString('utf8'))?.[1] ?? '';
    } catch {
      return page(response, 400, 'Bad SAMLRequest', '<p role="alert">The SAMLRequest could not be read.</p>');
    }
    const sp = serviceProviders.get(issuer);
    if (sp === undefined) return page(response, 400, 'Unknown service provider', `<p role="alert">${escapeHtml(issuer)} is not registered here.</p>`);
    const query = Object.fromEntries(url.searchParams);
    let parsed: { extract: { request?: Record<string, string> } };
    try {
      parsed = await identityProvider({ wantAuthnRequestsSigned: sp.signingCertificatePem !== undefined }).parseLoginRequest(serviceProvider(sp), 'redirect', {
        query,
        octetString: octetStringOf(request.url ?? ''),
      });
    } catch (error) {
      return page(response, 400, 'AuthnRequest refused', `<p role="alert">${escapeHtml(String(error))}</p>`);
    }
    const acsUrl = parsed.extract.request?.assertionConsumerServiceUrl ?? parsed.extract.request?.assertionConsumerServiceURL;
    if (acsUrl !== undefined && acsUrl !== sp.acsUrl) return page(response, 400, 'AuthnRequest refused', '<p role="alert">The ACS URL is not the registered one.</p>');
    const pendingId = randomBytes(16).toString('hex');
    pending.set(pendingId, { sp, requestId: parsed.extract.request?.id ?? '', relayState: url.searchParams.get('RelayState') ?? '' });
    return page(response, 200, 'Sign in', loginForm(pendingId, ''));
  }

  async function signIn(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const form = new URLSearchParams(await readBody(request));
    const pendingId = form.get('request') ?? '';
    const signInRequest = pending.get(pendingId);
    if (signInRequest === undefined) return page(response, 400, 'Sign-in expired', '<p role="alert">Start again from your application.</p>');
    const user = users.find((candidate) => candidate.email === form.get('email') && candidate.password === form.get('password'));
    if (user === undefined) return page(response, 401, 'Sign in', loginForm(pendingId, 'Wrong email or password.'));
    pending.delete(pendingId);
    const samlResponse = await respond({ user: user.email, serviceProvider: signInRequest.sp.entityId, inResponseTo: signInRequest.requestId });
    return page(response, 200, 'Signing you in', postForm(signInRequest.sp.acsUrl, samlResponse, signInRequest.relayState));
  }

  const server: Server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', origin);
    const handled =
      url.pathname === '/sso' && request.method === 'GET'
        ? signInPage(request, response, url)
        : url.pathname === '/sso' && request.method === 'POST'
          ? signIn(request, response)
          : url.pathname === '/metadata' && request.method === 'GET'
            ? Promise.resolve(void response.writeHead(200, { 'content-type': 'application/samlmetadata+xml' }).end(identityProvider().getMetadata()))
            : Promise.resolve(page(response, 404, 'Not found', ''));
    handled.catch((error: unknown) => {
      if (!response.headersSent) page(response, 500, 'Error', `<p role="alert">${escapeHtml(String(error))}</p>`);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    entityId: `${origin}/metadata`,
    ssoUrl: `${origin}/sso`,
    metadataUrl: `${origin}/metadata`,
    metadataXml: identityProvider().getMetadata(),
    certificatePem: key.certificatePem,
    registerServiceProvider(sp) {
      serviceProviders.set(sp.entityId, { entityId: sp.entityId, acsUrl: sp.acsUrl, signingCertificatePem: sp.signingCertificatePem });
    },
    issueResponse: (responseOptions = {}) => respond(responseOptions),
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A new RSA-2048 key and self-signed certificate. */
export async function newSamlKeyPair(commonName: string): Promise<SamlKeyPair> {
  const generated = await generateSigningCertificate({ commonName, now: new Date(Date.now() - 60_000) });
  return { privateKeyPem: generated.privateKeyPem, certificatePem: generated.certificatePem };
}

function newId(): string {
  return `_${randomBytes(16).toString('hex')}`;
}

function attributesOf(user: SamlIdpUser): Record<string, string[]> {
  const space = user.name.indexOf(' ');
  return {
    email: [user.email],
    firstName: [space < 0 ? user.name : user.name.slice(0, space)],
    lastName: [space < 0 ? '' : user.name.slice(space + 1)],
    displayName: [user.name],
    groups: [...(user.groups ?? [])],
  };
}

function attributeStatement(attributes: Readonly<Record<string, readonly string[]>>): string {
  const entries = Object.entries(attributes).filter(([, values]) => values.length > 0);
  if (entries.length === 0) return '';
  const attributeXml = entries.map(
    ([name, values]) =>
      `<saml:Attribute Name="${escapeHtml(name)}" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:basic">${values
        .map((value) => `<saml:AttributeValue xsi:type="xs:string">${escapeHtml(value)}</saml:AttributeValue>`)
        .join('')}</saml:Attribute>`,
  );
  return `<saml:AttributeStatement>${attributeXml.join('')}</saml:AttributeStatement>`;
}

/** What the HTTP-Redirect binding signs: the raw (still URL-encoded) SAMLRequest, RelayState and SigAlg, in that order. */
function octetStringOf(requestUrl: string): string {
  const query = requestUrl.includes('?') ? requestUrl.slice(requestUrl.indexOf('?') + 1) : '';
  const parts = query.split('&');
  return ['SAMLRequest', 'RelayState', 'SigAlg']
    .map((name) => parts.find((part) => part.startsWith(`${name}=`)))
    .filter((part): part is string => part !== undefined)
    .join('&');
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function loginForm(pendingId: string, error: string): string {
  return `<h1>Sign in</h1>${error === '' ? '' : `<p role="alert">${escapeHtml(error)}</p>`}
<form method="post" action="/sso">
<input type="hidden" name="request" value="${escapeHtml(pendingId)}">
<label>Email <input name="email" type="email" autocomplete="username"></label>
<label>Password <input name="password" type="password" autocomplete="current-password"></label>
<button type="submit">Sign in</button>
</form>`;
}

function postForm(acsUrl: string, samlResponse: string, relayState: string): string {
  return `<form method="post" action="${escapeHtml(acsUrl)}">
<input type="hidden" name="SAMLResponse" value="${escapeHtml(samlResponse)}">
<input type="hidden" name="RelayState" value="${escapeHtml(relayState)}">
<noscript><button type="submit">Continue</button></noscript>
</form>
<script>document.forms[0].submit()</script>`;
}

function page(response: ServerResponse, status: number, title: string, body: string): void {
  response.writeHead(status, { 'content-type': 'text/html; charset=utf-8' });
  response.end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head><body>${body}</body></html>`);
}

