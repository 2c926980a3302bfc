import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { B2BClient, type Member, type Organization } from 'stytch';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createExampleApp } from '../../examples/b2b-email-sign-in/app.mjs';
import { totpCode } from '../../src/crypto/totp.js';
import { publicTokenOf } from '../../src/domain/projects/public-token.js';
import { allTypes } from '../../src/domain/redirect-urls/redirect-url.js';
import { type OidcIdp, startOidcIdp } from '../support/oidc-idp.js';
import { type SamlIdp, startSamlIdp } from '../support/saml-idp.js';
import { STORES } from '../support/stores.js';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { collectPageErrors, HAS_CHROMIUM, launchBrowser, screenshot, visibleText } from './support/browser.js';

const PASSWORD = 'correct horse battery staple';
/** Acme's members at its OpenID provider: Ada is already a member of Acme; Grace is not, yet. */
const ADA = { email: 'ada@acme.example', password: PASSWORD, name: 'Ada Lovelace' };
const GRACE = { email: 'grace@acme.example', password: PASSWORD, name: 'Grace Hopper' };
/** Globex's members at its SAML IdP; Linus is in the group Globex makes admins. */
const LINUS = { email: 'linus@globex.example', password: PASSWORD, name: 'Linus Torvalds', groups: ['globex-admins', 'engineering'] };
const MARGARET = { email: 'margaret@globex.example', password: PASSWORD, name: 'Margaret Hamilton', groups: ['engineering'] };
/** Secure Co requires MFA of every member; Barbara signs in through its SAML IdP. */
const BARBARA = { email: 'barbara@secure.example', password: PASSWORD, name: 'Barbara Liskov', groups: [] };

/**
 * The example customer app (examples/b2b-email-sign-in) signing members in through their
 * organization's identity provider, in Chromium, as a member does it: the app's "Sign in with SSO"
 * form, the IdP's OWN sign-in page (a real OpenID provider, oidc-provider, and a real SAML IdP,
 * samlify, each in this process with its own users, tests/support/oidc-idp.ts and saml-idp.ts), the
 * email address and password typed there, and back through Understudy to the app's signed-in page.
 * The connections are made with the official SDK, as a customer's admin page would make them; the
 * app talks to Understudy only through its own SDK client, and the browser reaches Understudy only
 * through its public start URL and callback.
 */
// Each test walks a browser through the app, Understudy and an IdP, several pages each.
vi.setConfig({ testTimeout: 90_000 });

describe.skipIf(!HAS_CHROMIUM).each(STORES)('example app: members sign in with SSO (OIDC and SAML), in Chromium ($name; needs /usr/bin/chromium)', ({ name: store }) => {
  let server: TestServer;
  let oidcIdp: OidcIdp;
  let samlIdp: SamlIdp;
  let app: Server;
  let appUrl: string;
  let browser: Browser;
  let acme: Organization;
  let globex: Organization;
  let secure: Organization;
  let ada: Member;
  let acmeOidcConnectionId: string;
  let globexConnectionId: string;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    // The app's address is part of its redirect URL, so its port is bound first.
    app = createServer();
    await new Promise<void>((resolve, reject) => {
      app.once('error', reject);
      app.listen(0, '127.0.0.1', () => resolve());
    });
    appUrl = `http://localhost:${(app.address() as AddressInfo).port}`;
    server = await startTestServer({ store, config: { redirectUrls: [{ url: `${appUrl}/authenticate`, types: allTypes(true) }] } });
    const sdk = server.client;
    oidcIdp = await startOidcIdp({ users: [ADA, GRACE] });
    samlIdp = await startSamlIdp({ users: [LINUS, MARGARET, BARBARA] });

    acme = (await sdk.organizations.create({ organization_name: 'Acme', organization_slug: 'acme' })).organization;
    ada = (await sdk.organizations.members.create({ organization_id: acme.organization_id, email_address: ADA.email, name: ADA.name })).member;
    globex = (await sdk.organizations.create({ organization_name: 'Globex', organization_slug: 'globex' })).organization;
    secure = (await sdk.organizations.create({ organization_name: 'Secure Co', organization_slug: 'secure-co', mfa_policy: 'REQUIRED_FOR_ALL' })).organization;

    // Acme: OpenID Connect, set up as its admin would: create, register the redirect URL at the IdP, then the client.
    acmeOidcConnectionId = await oidcConnection(acme, 'Acme Okta');
    // Acme has a SAML connection too, so the app asks which one.
    await samlConnection(acme, 'Acme Entra ID', []);
    // Globex: SAML only; its IdP's group `globex-admins` makes a member an admin.
    globexConnectionId = await samlConnection(globex, 'Globex SAML', [{ group: 'globex-admins', role_id: 'stytch_admin' }]);
    await samlConnection(secure, 'Secure Co SAML', []);

    const client = new B2BClient({ project_id: server.projectId, secret: server.secret, env: `${server.baseUrl}/` });
    // The public token as Understudy prints it; browsers reach Understudy at the same address as the app's SDK.
    const example = createExampleApp({ client, appUrl, sso: { url: server.baseUrl, publicToken: publicTokenOf(server.projectId) } });
    app.on('request', (request, response) => example.emit('request', request, response));
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await Promise.all(contexts.map((context) => context.close()));
    await browser?.close();
    if (app?.listening) {
      app.closeAllConnections();
      await new Promise<void>((resolve) => app.close(() => resolve()));
    }
    await oidcIdp?.stop();
    await samlIdp?.stop();
    await server?.stop();
  });

  async function oidcConnection(organization: Organization, displayName: string): Promise<string> {
    const { connection } = await server.client.sso.oidc.createConnection({ organization_id: organization.organization_id, display_name: displayName });
    expect(connection?.status).toBe('pending');
    const clientId = `understudy-${organization.organization_slug}`;
    const clientSecret = `secret-of-${organization.organization_slug}-at-the-idp`;
    oidcIdp.registerClient({ clientId, clientSecret, redirectUris: [connection?.redirect_url as string] });
    const updated = await server.client.sso.oidc.updateConnection({
      organization_id: organization.organization_id,
      connection_id: connection?.connection_id as string,
      issuer: oidcIdp.issuer,
      client_id: clientId,
      client_secret: clientSecret,
    });
    expect(updated.connection?.status).toBe('active');
    return connection?.connection_id as string;
  }

  async function samlConnection(organization: Organization, displayName: string, groupRoles: { group: string; role_id: string }[]): Promise<string> {
    const { connection } = await server.client.sso.saml.createConnection({ organization_id: organization.organization_id, display_name: displayName });
    const connectionId = connection?.connection_id as string;
    // The IdP learns Understudy's entity id, ACS URL and request-signing certificate (it then
    // accepts only AuthnRequests signed with it), as an IdP admin would enter them.
    const signingCertificatePem = connection?.signing_certificates[0]?.certificate;
    expect(signingCertificatePem).toMatch(/^-----BEGIN CERTIFICATE-----/);
    samlIdp.registerServiceProvider({ entityId: connection?.audience_uri as string, acsUrl: connection?.acs_url as string, signingCertificatePem });
    const updated = await server.client.sso.saml.updateConnection({
      organization_id: organization.organization_id,
      connection_id: connectionId,
      idp_entity_id: samlIdp.entityId,
      idp_sso_url: samlIdp.ssoUrl,
      x509_certificate: samlIdp.certificatePem,
      attribute_mapping: { email: 'email', first_name: 'firstName', last_name: 'lastName', groups: 'groups' },
      saml_group_implicit_role_assignments: groupRoles,
    });
    expect(updated.connection?.status).toBe('active');
    return connectionId;
  }

  async function newPage(): Promise<{ page: Page; errors: string[] }> {
    const context = await browser.newContext({ viewport: { width: 1000, height: 900 } });
    contexts.push(context);
    // Generous: the SAML IdP compiles its schema validator (WebAssembly) at its first request, which a loaded machine makes slow.
    context.setDefaultTimeout(25_000);
    const errors = collectPageErrors(context);
    return { page: await context.newPage(), errors };
  }

  /** The app's "Sign in with SSO" form, for an organization by slug. */
  async function chooseSso(page: Page, organization: string): Promise<void> {
    await page.goto(`${appUrl}/`);
    const form = page.locator('form[action="/login/sso"]');
    await form.getByLabel('Organization (slug or ID)').fill(organization);
    await form.getByRole('button', { name: 'Continue with SSO' }).click();
  }

  /** Waits for the IdP's own sign-in page (on the IdP's origin) and signs in there as a member would. */
  async function signInAtIdp(page: Page, idpOrigin: string, user: { email: string; password: string }): Promise<void> {
    await page.waitForURL((url) => url.origin === idpOrigin);
    await page.locator('input[name="email"]').fill(user.email);
    await page.locator('input[name="password"]').fill(user.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
  }

  async function expectSignedIn(page: Page, expected: { name: string; email: string; organization: Organization; factor: string; memberId?: string }): Promise<string> {
    await page.waitForURL(`${appUrl}/`);
    expect(await visibleText(page.locator('h1'))).toBe('Signed in');
    expect(await visibleText(page.locator('body'))).toContain(`Welcome, ${expected.name}.`);
    const details = await visibleText(page.locator('dl'));
    expect(details).toContain(expected.email);
    expect(details).toContain(`${expected.organization.organization_name} (${expected.organization.organization_slug})`);
    expect(details).toContain(expected.factor);
    const memberId = /Member\s+(member-\S+) \(active\)/.exec(details)?.[1];
    expect(memberId, details).toBeDefined();
    if (expected.memberId !== undefined) expect(memberId).toBe(expected.memberId);
    return memberId as string;
  }

  /** The signed-in page's "Roles" row. */
  function sessionRoles(page: Page): Promise<string> {
    return visibleText(page.locator('dt:text-is("Roles") + dd'));
  }

  function originOf(url: string): string {
    return new URL(url).origin;
  }

  it('OIDC: Ada picks Acme’s OpenID provider, is refused there for a wrong password, then signs in there and lands signed in to Acme; the token does not work twice', async () => {
    const { page, errors } = await newPage();
    await chooseSso(page, 'acme');
    // Acme has two active connections: the app asks which.
    await page.waitForURL(`${appUrl}/login/sso`);
    expect(await visibleText(page.locator('h1'))).toBe('Sign in with SSO');
    expect(await page.locator('form[action="/login/sso"] button').allInnerTexts()).toEqual(['Acme Okta (generic)', 'Acme Entra ID (generic)']);
    await screenshot(page, 'example-sso-choose-connection');
    const started = page.waitForRequest((request) => request.url().startsWith(`${server.baseUrl}/v1/public/sso/start?`));
    await page.getByRole('button', { name: /^Acme Okta/ }).click();

    // The browser went to Understudy's start URL with the connection, the public token, the app's
    // redirect URLs and a PKCE challenge; the verifier stayed in an HttpOnly cookie of the app.
    const start = new URL((await started).url());
    const verifier = (await page.context().cookies(appUrl)).find((cookie) => cookie.name === 'example_sso_pkce');
    expect(verifier).toMatchObject({ httpOnly: true, sameSite: 'Lax' });
    expect(Object.fromEntries(start.searchParams)).toEqual({
      connection_id: acmeOidcConnectionId,
      public_token: publicTokenOf(server.projectId),
      login_redirect_url: `${appUrl}/authenticate`,
      signup_redirect_url: `${appUrl}/authenticate`,
      pkce_code_challenge: createHash('sha256').update(verifier?.value as string).digest('base64url'),
    });

    const idp = originOf(oidcIdp.issuer);
    await signInAtIdp(page, idp, { email: ADA.email, password: 'not her password' });
    // The IdP's own page again, with its own error; nobody is signed in at Acme.
    await page.waitForLoadState();
    expect(originOf(page.url())).toBe(idp);
    expect(await visibleText(page.getByRole('alert'))).toBe('Wrong email or password.');
    expect(await page.locator('input[name="password"]').count()).toBe(1);
    await screenshot(page, 'example-sso-oidc-wrong-password');
    expect((await server.client.sessions.get({ organization_id: acme.organization_id, member_id: ada.member_id })).member_sessions).toEqual([]);

    let tokenUrl = '';
    page.on('request', (request) => {
      if (request.url().startsWith(`${appUrl}/authenticate?`)) tokenUrl = request.url();
    });
    await page.locator('input[name="email"]').fill(ADA.email);
    await page.locator('input[name="password"]').fill(ADA.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expectSignedIn(page, { name: ADA.name, email: ADA.email, organization: acme, factor: 'sso (sso_oidc)', memberId: ada.member_id });
    await screenshot(page, 'example-sso-oidc-signed-in');

    // The browser came back with an SSO token on the app's redirect URL; the verifier was used and forgotten.
    expect(new URL(tokenUrl).searchParams.get('stytch_token_type')).toBe('sso');
    expect((await page.context().cookies(appUrl)).map((cookie) => cookie.name)).not.toContain('example_sso_pkce');
    const { member_sessions: sessions } = await server.client.sessions.get({ organization_id: acme.organization_id, member_id: ada.member_id });
    expect(sessions.map((session) => session.authentication_factors.map((factor) => [factor.type, factor.delivery_method]))).toEqual([[['sso', 'sso_oidc']]]);
    expect(sessions[0]?.authentication_factors[0]?.oidc_sso_factor?.provider_id).toBe(acmeOidcConnectionId);

    // The same link again: spent, the app shows Understudy's refusal.
    const again = await page.goto(tokenUrl);
    expect(again?.status()).toBe(404);
    expect(await visibleText(page.locator('h1'))).toBe('That did not work');
    expect(await visibleText(page.locator('.muted code'))).toBe('sso_token_not_found');
    expect(errors).toEqual([`404 ${tokenUrl}`]);
  });

  it('OIDC, just in time: Grace, unknown to Acme, signs in at the IdP and is created as a member with the name the IdP gave', async () => {
    const { page, errors } = await newPage();
    await chooseSso(page, acme.organization_id);
    await page.getByRole('button', { name: /^Acme Okta/ }).click();
    await signInAtIdp(page, originOf(oidcIdp.issuer), GRACE);
    const memberId = await expectSignedIn(page, { name: GRACE.name, email: GRACE.email, organization: acme, factor: 'sso (sso_oidc)' });
    await screenshot(page, 'example-sso-oidc-jit-signed-in');

    const { member } = await server.client.organizations.members.get({ organization_id: acme.organization_id, member_id: memberId });
    expect(member).toMatchObject({ email_address: GRACE.email, name: GRACE.name, status: 'active', email_address_verified: true });
    expect(member.sso_registrations.map((registration) => registration.connection_id)).toEqual([acmeOidcConnectionId]);
    expect(errors).toEqual([]);
  });

  it('SAML: Linus signs in through Globex’s IdP (its only connection, so no choice) and his IdP group makes him an admin in this session', async () => {
    const { page, errors } = await newPage();
    await chooseSso(page, 'globex');
    await signInAtIdp(page, originOf(samlIdp.ssoUrl), LINUS);
    const memberId = await expectSignedIn(page, { name: LINUS.name, email: LINUS.email, organization: globex, factor: 'sso (sso_saml)' });
    const roles = (await sessionRoles(page)).split(', ').sort();
    expect(roles).toEqual(['stytch_admin', 'stytch_member']);
    await screenshot(page, 'example-sso-saml-signed-in');

    const { member } = await server.client.organizations.members.get({ organization_id: globex.organization_id, member_id: memberId });
    expect(member).toMatchObject({ email_address: LINUS.email, name: LINUS.name, status: 'active' });
    expect(member.roles.find((role) => role.role_id === 'stytch_admin')?.sources.map((source) => source.type)).toEqual(['sso_connection_group']);
    expect(errors).toEqual([]);
  });

  it('SAML: Margaret, not in the admins group, signs in to Globex as a plain member', async () => {
    const { page, errors } = await newPage();
    await chooseSso(page, 'globex');
    await signInAtIdp(page, originOf(samlIdp.ssoUrl), MARGARET);
    await expectSignedIn(page, { name: MARGARET.name, email: MARGARET.email, organization: globex, factor: 'sso (sso_saml)' });
    expect(await sessionRoles(page)).toBe('stytch_member');
    expect(errors).toEqual([]);
  });

  it('SAML with MFA required: after the IdP, Barbara sets up an authenticator app and signs in with both factors', async () => {
    const { page, errors } = await newPage();
    await chooseSso(page, 'secure-co');
    await signInAtIdp(page, originOf(samlIdp.ssoUrl), BARBARA);
    await page.waitForURL(new RegExp(`^${escapeRegExp(appUrl)}/authenticate\\?`));
    expect(await visibleText(page.locator('h1'))).toBe('Set up your authenticator app');
    const secret = (await visibleText(page.locator('#totp-secret'))).trim();
    await page.getByLabel('6-digit code from your authenticator app').fill(totpCode(secret, new Date()));
    await page.getByRole('button', { name: 'Verify and sign in' }).click();
    await expectSignedIn(page, { name: BARBARA.name, email: BARBARA.email, organization: secure, factor: 'sso (sso_saml), totp (authenticator_app)' });
    await screenshot(page, 'example-sso-saml-mfa-signed-in');
    expect(errors).toEqual([]);
  });

  it('PKCE: the SSO token, taken to another browser, is refused there (no verifier); the browser that started the sign-in then signs in with it', async () => {
    const { page, errors } = await newPage();
    // The IdP's page posts the SAML response to Understudy's ACS; hold Understudy's answer (the redirect
    // to the app with the token), as if the token had been read off the way.
    let tokenUrl = '';
    const acs = (url: URL) => url.href.startsWith(`${server.baseUrl}/v1/b2b/sso/callback/`);
    await page.route(acs, async (route) => {
      const answer = await route.fetch({ maxRedirects: 0 });
      tokenUrl = answer.headers().location ?? '';
      await route.fulfill({ status: 200, contentType: 'text/html', body: '<h1>Held</h1>' });
    });
    await chooseSso(page, 'globex');
    await signInAtIdp(page, originOf(samlIdp.ssoUrl), MARGARET);
    await page.waitForURL(acs);
    expect(await visibleText(page.locator('h1'))).toBe('Held');
    expect(tokenUrl.startsWith(`${appUrl}/authenticate?stytch_token_type=sso&token=`)).toBe(true);

    const { page: elsewhere } = await newPage();
    const refused = await elsewhere.goto(tokenUrl);
    expect(refused?.status()).toBe(400);
    expect(await visibleText(elsewhere.locator('.muted code'))).toBe('pkce_expected_code_verifier');
    await screenshot(elsewhere, 'example-sso-token-in-another-browser');
    await elsewhere.goto(`${appUrl}/`);
    expect(await visibleText(elsewhere.locator('h1'))).toBe('Sign in');

    await page.goto(tokenUrl);
    await expectSignedIn(page, { name: MARGARET.name, email: MARGARET.email, organization: globex, factor: 'sso (sso_saml)' });
    expect(errors).toEqual([]);
  });

  it('a connection deleted while the member is at the IdP: Understudy refuses the answer, nobody is signed in, and the app then finds no connection', async () => {
    const { page, errors } = await newPage();
    await chooseSso(page, 'globex');
    await page.waitForURL((url) => url.origin === originOf(samlIdp.ssoUrl));
    // Globex's admin removes the connection meanwhile.
    await server.client.sso.deleteConnection({ organization_id: globex.organization_id, connection_id: globexConnectionId });
    await signInAtIdp(page, originOf(samlIdp.ssoUrl), MARGARET);
    await page.waitForURL((url) => url.origin === originOf(server.baseUrl));
    const refusal = JSON.parse(await visibleText(page.locator('body'))) as { error_type: string; status_code: number };
    expect(refusal).toMatchObject({ error_type: 'sso_connection_not_found', status_code: 404 });
    await screenshot(page, 'example-sso-connection-deleted');
    expect(errors).toEqual([expect.stringMatching(new RegExp(`^404 ${escapeRegExp(server.baseUrl)}/v1/b2b/sso/callback/`))]);
    await page.goto(`${appUrl}/`);
    expect(await visibleText(page.locator('h1'))).toBe('Sign in');

    // The organization lists no connection any more, so the app has none to start.
    expect((await server.client.organizations.get({ organization_id: globex.organization_id })).organization.sso_active_connections).toEqual([]);
    await chooseSso(page, 'globex');
    expect(await visibleText(page.getByRole('alert'))).toBe('Globex has no active SSO connection. Sign in another way.');
  });
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
