import { expect } from 'vitest';
import { publicTokenOf } from '../../../src/domain/projects/public-token.js';
import type { SamlIdp, SamlIdpUser } from '../../support/saml-idp.js';
import type { TestServer } from '../../support/test-server.js';

/*
 * Shared steps of the SAML suites: a connection set up with the official SDK for the test IdP
 * (tests/support/saml-idp.ts), and a browser's walk from Understudy's start URL through the IdP's
 * login page and its self-posting form to the ACS.
 */

export const PASSWORD = 'correct horse battery staple';

/** What the IdP asserts, mapped as the SDK docs suggest. */
export const ATTRIBUTE_MAPPING = { email: 'email', first_name: 'firstName', last_name: 'lastName', groups: 'groups' };

export interface SamlSetup {
  readonly organizationId: string;
  readonly connectionId: string;
  /** The ACS URL, which is also the audience URI and our entity id. */
  readonly acsUrl: string;
  readonly signingCertificatePem: string;
}

/** A new organization (JIT provisioning for every address: members sign up through the IdP). */
export async function createOrganization(server: TestServer, slug: string): Promise<string> {
  const created = await server.client.organizations.create({ organization_name: `Org ${slug}`, organization_slug: slug, sso_jit_provisioning: 'ALL_ALLOWED' });
  return created.organization.organization_id;
}

/**
 * A SAML connection of the organization for the IdP, set up as an admin would with the official SDK:
 * created (Understudy makes its signing certificate), registered at the IdP under its ACS URL and
 * audience with that certificate, then given the IdP's entity id, sign-in URL and certificate.
 */
export async function createSamlConnection(
  server: TestServer,
  idp: SamlIdp,
  organizationId: string,
  extra: { readonly idp_initiated_auth_disabled?: boolean; readonly saml_group_implicit_role_assignments?: { group: string; role_id: string }[] } = {},
): Promise<SamlSetup> {
  const created = await server.client.sso.saml.createConnection({ organization_id: organizationId, display_name: 'Test SAML IdP', identity_provider: 'generic' });
  const connection = created.connection;
  const connectionId = connection?.connection_id ?? '';
  const acsUrl = connection?.acs_url ?? '';
  expect(connection?.audience_uri).toBe(acsUrl);
  const signingCertificatePem = connection?.signing_certificates[0]?.certificate ?? '';
  expect(signingCertificatePem).toContain('BEGIN CERTIFICATE');
  idp.registerServiceProvider({ entityId: acsUrl, acsUrl, signingCertificatePem });
  const updated = await server.client.sso.saml.updateConnection({
    organization_id: organizationId,
    connection_id: connectionId,
    idp_entity_id: idp.entityId,
    idp_sso_url: idp.ssoUrl,
    x509_certificate: idp.certificatePem,
    attribute_mapping: ATTRIBUTE_MAPPING,
    ...extra,
  });
  expect(updated.connection?.status).toBe('active');
  return { organizationId, connectionId, acsUrl, signingCertificatePem };
}

/** GET or form POST without following redirects. */
export async function visit(url: string, form?: Record<string, string>): Promise<{ status: number; location: string | undefined; body: string; headers: Headers }> {
  const response = await fetch(url, {
    method: form === undefined ? 'GET' : 'POST',
    redirect: 'manual',
    ...(form !== undefined && { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form).toString() }),
  });
  return { status: response.status, location: response.headers.get('location') ?? undefined, body: await response.text(), headers: response.headers };
}

/** Understudy's start URL for the connection: answers where the browser goes (the IdP's sign-in, carrying the AuthnRequest). */
export async function startSignIn(server: TestServer, connectionId: string, query: Record<string, string> = {}): Promise<URL> {
  const url = new URL('/v1/public/sso/start', server.baseUrl);
  url.searchParams.set('connection_id', connectionId);
  url.searchParams.set('public_token', publicTokenOf(server.projectId));
  for (const [name, value] of Object.entries(query)) url.searchParams.set(name, value);
  const started = await visit(url.href);
  expect(started.status).toBe(302);
  return new URL(started.location ?? '');
}

/** The first form of an HTML page: where it posts and its fields (hidden and visible), as a browser would submit it. */
export function formOf(html: string, base: string): { action: string; fields: Record<string, string> } {
  const form = /<form\b[^>]*\baction="([^"]*)"[^>]*>([\s\S]*?)<\/form>/.exec(html);
  if (form === null) throw new Error(`no form on the page: ${html}`);
  const fields: Record<string, string> = {};
  for (const input of (form[2] ?? '').matchAll(/<input\b[^>]*>/g)) {
    const name = /\bname="([^"]*)"/.exec(input[0])?.[1];
    if (name !== undefined) fields[decode(name)] = decode(/\bvalue="([^"]*)"/.exec(input[0])?.[1] ?? '');
  }
  return { action: new URL(decode(form[1] ?? ''), base).href, fields };
}

function decode(text: string): string {
  return text.replace(/&#(\d+);/g, (_entity, code: string) => String.fromCharCode(Number(code))).replace(/&amp;/g, '&').replace(/&quot;/g, '"');
}

/** What the IdP's page posts to the ACS once the user signed in. */
export interface AcsPost {
  readonly action: string;
  readonly SAMLResponse: string;
  readonly RelayState: string;
}

/** At the IdP: its login page for the AuthnRequest in `idpUrl`, the user's credentials typed in, and the self-posting form it answers with. */
export async function signInAtIdp(idpUrl: URL, user: Pick<SamlIdpUser, 'email' | 'password'>): Promise<AcsPost> {
  const login = await visit(idpUrl.href);
  expect(login.status, login.body).toBe(200);
  expect(login.body).toContain('<input name="password" type="password"');
  const loginForm = formOf(login.body, idpUrl.href);
  const answered = await visit(loginForm.action, { ...loginForm.fields, email: user.email, password: user.password });
  expect(answered.status, answered.body).toBe(200);
  const post = formOf(answered.body, loginForm.action);
  return { action: post.action, SAMLResponse: post.fields.SAMLResponse ?? '', RelayState: post.fields.RelayState ?? '' };
}

/** The form post to the ACS, as the IdP's page makes it. */
export async function postToAcs(action: string, form: { SAMLResponse: string; RelayState?: string }): Promise<{ status: number; location: string | undefined; body: string; headers: Headers }> {
  return visit(action, { SAMLResponse: form.SAMLResponse, ...(form.RelayState !== undefined && { RelayState: form.RelayState }) });
}

/** The whole walk: start, sign in at the IdP, post to the ACS; answers the ACS's answer and what was posted. */
export async function signInThroughIdp(
  server: TestServer,
  connectionId: string,
  user: Pick<SamlIdpUser, 'email' | 'password'>,
  query: Record<string, string> = {},
): Promise<{ acs: Awaited<ReturnType<typeof postToAcs>>; post: AcsPost }> {
  const post = await signInAtIdp(await startSignIn(server, connectionId, query), user);
  return { acs: await postToAcs(post.action, post), post };
}

/** The SSO token on the redirect URL the ACS answered with. */
export function tokenOf(location: string | undefined): string {
  const url = new URL(location ?? '');
  expect(url.searchParams.get('stytch_token_type')).toBe('sso');
  return url.searchParams.get('token') ?? '';
}

/** The decoded XML of a SAMLResponse, and back. */
export function xmlOf(samlResponse: string): string {
  return Buffer.from(samlResponse, 'base64').toString('utf8');
}

export function base64Of(xml: string): string {
  return Buffer.from(xml, 'utf8').toString('base64');
}
