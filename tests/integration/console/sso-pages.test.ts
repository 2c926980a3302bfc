import type { Organization } from 'stytch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OperationContext } from '../../../src/domain/common/operation-context.js';
import { ssoError } from '../../../src/domain/sso/errors.js';
import type { SsoCertificate, SsoConnection } from '../../../src/domain/sso/sso-connection.js';
import { ssoTestResultPath } from '../../../src/domain/sso/sso-flows.js';
import type { SsoProof } from '../../../src/domain/sso/sso-request.js';
import { sealConnectionSecrets } from '../../../src/domain/sso/connections-secrets.js';
import { toTimestamp } from '../../../src/platform/clock.js';
import { cryptoRandom } from '../../../src/platform/random.js';
import { parseOpaqueToken } from '../../../src/crypto/opaque-token.js';
import { generateSigningCertificate } from '../../../src/sso/x509.js';
import { STORES } from '../../support/stores.js';
import { TEST_MASTER_KEY } from '../../support/test-constants.js';
import type { ConsoleClient } from './console-client.js';
import { CONSOLE_START, type ConsoleHarness, type CreatedOperator, startConsoleHarness } from './console-harness.js';

const DAY = 86_400_000;
const IDP = 'https://idp.example.com';
const CLIENT_SECRET = 'oidc-client-secret-never-shown-0123456789';
const CALLBACK: OperationContext = { requestId: 'request-id-test-00000000-0000-4000-8000-0000000000d1', actor: { type: 'system' } };

/** A connection to insert: its id made when not given, its times the suite's start. */
type NewConnection = SsoConnection extends infer Each ? (Each extends SsoConnection ? Omit<Each, 'connectionId' | 'createdAt' | 'updatedAt'> & { connectionId?: string | undefined } : never) : never;

/** The text of an HTML attribute value as the console escapes it. */
function unescapeHtml(text: string): string {
  return text.replace(/&#(\d+);/g, (_match, code: string) => String.fromCharCode(Number(code)));
}

/** The URL the "test started" page sends the browser to. */
function navigateTarget(page: string): string {
  const href = /<a class="button" href="([^"]*)" data-navigate/.exec(page)?.[1];
  if (href === undefined) throw new Error(`no data-navigate link in: ${page.slice(0, 2000)}`);
  return unescapeHtml(href);
}

/** A certificate that is real (issuer, key) and expires at `expiresAt`. */
async function certificateExpiring(expiresAt: Date, commonName: string) {
  const issued = new Date(expiresAt.getTime());
  issued.setUTCFullYear(issued.getUTCFullYear() - 10);
  return generateSigningCertificate({ commonName, now: issued });
}

describe.each(STORES)('console SSO pages on $name', (factory) => {
  let harness: ConsoleHarness;
  let acme: Organization;
  let other: Organization;
  let admin: CreatedOperator;
  let support: CreatedOperator;
  let viewer: CreatedOperator;
  let adminBrowser: ConsoleClient;
  let supportBrowser: ConsoleClient;
  let viewerBrowser: ConsoleClient;
  let saml: SsoConnection;
  let oidc: SsoConnection;
  let pendingOidc: SsoConnection;
  let external: SsoConnection;
  let otherSaml: SsoConnection;
  const certificateIds: Record<'soon' | 'expired' | 'signing', string> = { soon: '', expired: '', signing: '' };

  const store = () => harness.server.server.store;
  const services = () => harness.server.server.app.services;
  const ssoPage = (organization: Organization) => `/console/organizations/${organization.organization_id}/sso`;
  const testAction = (organization: Organization, connection: SsoConnection) => `${ssoPage(organization)}/${connection.connectionId}/test`;

  async function insert(connection: NewConnection, secrets?: string): Promise<SsoConnection> {
    const prefix = connection.kind === 'saml' ? 'saml-connection' : connection.kind === 'oidc' ? 'oidc-connection' : 'external-connection';
    const connectionId = connection.connectionId ?? services().ids.next(prefix);
    const full = { ...connection, connectionId, createdAt: CONSOLE_START, updatedAt: CONSOLE_START } as SsoConnection;
    const sealed = secrets === undefined ? null : sealConnectionSecrets({ clientSecret: secrets }, { masterKey: Buffer.from(TEST_MASTER_KEY, 'base64'), connectionId, random: cryptoRandom });
    await store().sso.insertConnection(full, sealed);
    return full;
  }

  async function insertCertificate(connection: SsoConnection, purpose: SsoCertificate['purpose'], generated: { certificatePem: string; issuer: string; expiresAt: string }): Promise<string> {
    const certificateId = services().ids.next(purpose === 'verification' ? 'saml-verification-key' : purpose === 'signing' ? 'saml-signing-key' : 'saml-encryption-key');
    await store().sso.insertCertificate({
      certificateId,
      connectionId: connection.connectionId,
      organizationId: connection.organizationId,
      purpose,
      certificate: generated.certificatePem,
      sealedPrivateKey: null,
      issuer: generated.issuer,
      createdAt: CONSOLE_START,
      expiresAt: generated.expiresAt,
    });
    return certificateId;
  }

  /** Starts a test as `browser` (through the console's form) and answers the URL it sends the browser to. */
  async function startTest(browser: ConsoleClient, organization: Organization, connection: SsoConnection): Promise<URL> {
    const response = await browser.post(testAction(organization, connection), { _csrf: await browser.csrfFrom(ssoPage(organization)) });
    expect(response.status, response.text.slice(0, 1000)).toBe(200);
    return new URL(navigateTarget(response.text));
  }

  beforeAll(async () => {
    harness = await startConsoleHarness({ store: factory.name });
    const client = harness.server.client;
    acme = (await client.organizations.create({ organization_name: 'Acme <SSO>', organization_slug: `acme-sso-${factory.name}` })).organization;
    other = (await client.organizations.create({ organization_name: 'Other Co', organization_slug: `other-sso-${factory.name}` })).organization;
    const base = { organizationId: acme.organization_id, identityProvider: 'okta' };
    saml = await insert({
      ...base,
      kind: 'saml',
      status: 'active',
      displayName: 'Okta <b>SAML</b>',
      idpEntityId: `${IDP}/entity`,
      idpSsoUrl: `${IDP}/saml/sso`,
      attributeMapping: { email: 'mail', groups: 'memberOf' },
      alternativeAudienceUri: '',
      nameidFormat: 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress',
      alternativeAcsUrl: '',
      idpInitiatedAuthDisabled: true,
      allowGatewayCallback: false,
    });
    const start = new Date(CONSOLE_START);
    certificateIds.soon = await insertCertificate(saml, 'verification', await certificateExpiring(new Date(start.getTime() + 20 * DAY), 'Okta Soon'));
    certificateIds.expired = await insertCertificate(saml, 'verification', await certificateExpiring(new Date(start.getTime() - DAY), 'Okta Old'));
    certificateIds.signing = await insertCertificate(saml, 'signing', await generateSigningCertificate({ commonName: 'Understudy SP', now: start }));
    oidc = await insert(
      {
        ...base,
        identityProvider: 'microsoft-entra',
        kind: 'oidc',
        status: 'active',
        displayName: 'Entra',
        clientId: 'entra-client-id',
        issuer: `${IDP}/oidc`,
        authorizationUrl: `${IDP}/oidc/authorize`,
        tokenUrl: `${IDP}/oidc/token`,
        userinfoUrl: `${IDP}/oidc/userinfo`,
        jwksUrl: `${IDP}/oidc/jwks`,
        customScopes: '',
        attributeMapping: {},
      },
      CLIENT_SECRET,
    );
    pendingOidc = await insert({
      ...base,
      identityProvider: 'generic',
      kind: 'oidc',
      status: 'pending',
      displayName: 'Half done',
      clientId: 'half-client',
      issuer: '',
      authorizationUrl: '',
      tokenUrl: '',
      userinfoUrl: '',
      jwksUrl: '',
      customScopes: '',
      attributeMapping: {},
    });
    otherSaml = await insert({ ...(saml as SsoConnection & { kind: 'saml' }), connectionId: undefined, organizationId: other.organization_id, displayName: 'Other SAML' });
    await insertCertificate(otherSaml, 'verification', await generateSigningCertificate({ commonName: 'Other IdP', now: start }));
    external = await insert({
      organizationId: other.organization_id,
      identityProvider: 'okta',
      kind: 'external',
      status: 'active',
      displayName: 'Acme via external',
      externalOrganizationId: acme.organization_id,
      externalConnectionId: saml.connectionId,
    });

    [admin, support, viewer] = [await harness.createOperator('admin'), await harness.createOperator('support'), await harness.createOperator('viewer')];
    [adminBrowser, supportBrowser, viewerBrowser] = [await harness.signedIn(admin), await harness.signedIn(support), await harness.signedIn(viewer)];
  });

  afterAll(() => harness?.stop());

  it("links an organization's page to its SSO connections", async () => {
    const page = await viewerBrowser.get(`/console/organizations/${acme.organization_id}`);
    expect(page.text).toContain(`href="${ssoPage(acme)}"`);
  });

  it('lists each connection: kind, name, identity provider, status, and the URL to give the IdP', async () => {
    const page = await supportBrowser.get(ssoPage(acme));
    expect(page.status).toBe(200);
    const origin = services().publicOrigin.url;
    expect(page.text).toContain('Okta &#60;b&#62;SAML&#60;/b&#62;');
    expect(page.text).not.toContain('<b>SAML</b>');
    expect(page.text).toContain(`<code>${origin}/v1/b2b/sso/callback/${saml.connectionId}</code>`);
    expect(page.text).toContain(`<code>${origin}/v1/b2b/sso/saml/metadata/${saml.connectionId}</code>`);
    expect(page.text).toContain(`<code>${IDP}/saml/sso</code>`);
    expect(page.text).toContain(`<code>${origin}/v1/b2b/sso/callback/${oidc.connectionId}</code>`);
    expect(page.text).toContain('<code>entra-client-id</code>');
    expect(page.text).toContain(`<code>${IDP}/oidc</code>`);
    expect(page.text).toContain('microsoft-entra');
    const cards = page.text.split('<section class="card"').slice(2);
    expect(cards).toHaveLength(3);
    const card = (connection: SsoConnection) => cards.find((each) => each.includes(`id="connection-${connection.connectionId}"`)) ?? '';
    expect(card(saml)).toMatch(/SAML<\/span> <span class="badge ok">active<\/span>/);
    expect(card(oidc)).toMatch(/OIDC<\/span> <span class="badge ok">active<\/span>/);
    expect(card(pendingOidc)).toMatch(/OIDC<\/span> <span class="badge ">pending<\/span>/);
    expect(card(pendingOidc)).toContain('sign-in needs the issuer, the endpoints');
    expect(card(pendingOidc)).toContain('A test needs an active connection.');
    // The borrowing organization is shown on the source.
    expect(card(saml)).toContain(`Borrowed by</dt><dd><a href="${ssoPage(other)}"><code>${other.organization_id}</code></a> (<code>${external.connectionId}</code>)`);
  });

  it("never shows an OIDC connection's client secret", async () => {
    const page = await adminBrowser.get(ssoPage(acme));
    const sealed = await store().sso.findSealedSecrets(oidc.connectionId);
    expect(sealed).not.toBeNull();
    expect(page.text).not.toContain(CLIENT_SECRET);
    expect(page.text).not.toContain(CLIENT_SECRET.slice(-4));
    expect(page.text).not.toContain(sealed ?? 'unreachable');
  });

  it('shows each certificate with its issuer and expiry, flagging the expired and the soon expiring', async () => {
    const page = await viewerBrowser.get(ssoPage(acme));
    const row = (certificateId: string) => page.text.split('<tr>').find((each) => each.includes(certificateId)) ?? '';
    expect(row(certificateIds.soon)).toContain('CN=Okta Soon');
    expect(row(certificateIds.soon)).toContain(`${toTimestamp(new Date(Date.parse(CONSOLE_START) + 20 * DAY))} <span class="badge warn">expires in 20 days</span>`);
    expect(row(certificateIds.expired)).toContain('CN=Okta Old');
    expect(row(certificateIds.expired)).toContain('<span class="badge warn">expired</span>');
    expect(row(certificateIds.signing)).toContain('CN=Understudy SP');
    expect(row(certificateIds.signing)).toContain('2036-03-02T09:00:00Z');
    expect(row(certificateIds.signing)).not.toContain('badge warn');
  });

  it('shows an external connection with its source', async () => {
    const page = await viewerBrowser.get(ssoPage(other));
    const card = page.text.split('<section class="card"').find((each) => each.includes(external.connectionId)) ?? '';
    expect(card).toContain('External</span>');
    expect(card).toContain(`Source connection</dt><dd><a href="${ssoPage(acme)}">Okta &#60;b&#62;SAML&#60;/b&#62;</a> (<code>${saml.connectionId}</code>, SAML, okta) of <code>${acme.organization_id}</code>`);
  });

  it('offers viewers no test, and refuses their forged post (with a valid CSRF token) before starting anything', async () => {
    const page = await viewerBrowser.get(ssoPage(acme));
    expect(page.text).not.toContain('/test"');
    expect(page.text).toContain('Your role can view connections but not test them.');
    const response = await viewerBrowser.post(testAction(acme, saml), { _csrf: await viewerBrowser.csrfFrom(ssoPage(acme)) });
    expect(response.status).toBe(403);
    expect(response.text).not.toContain(IDP);
  });

  it('refuses a test post without the CSRF token', async () => {
    const response = await supportBrowser.post(testAction(acme, saml), {});
    expect(response.status).toBe(403);
    expect(response.text).not.toContain(IDP);
  });

  it("starts a SAML test: the browser goes on to the IdP's sign-in URL with an AuthnRequest", async () => {
    const page = await supportBrowser.get(ssoPage(acme));
    expect(page.text).toContain(`action="${testAction(acme, saml)}"`);
    const location = await startTest(supportBrowser, acme, saml);
    expect(`${location.origin}${location.pathname}`).toBe(`${IDP}/saml/sso`);
    expect(location.searchParams.get('SAMLRequest')).toBeTruthy();
    expect(location.searchParams.get('RelayState')).toBeTruthy();
  });

  it("starts an OIDC test: the browser goes on to the IdP's authorization endpoint", async () => {
    const location = await startTest(adminBrowser, acme, oidc);
    expect(`${location.origin}${location.pathname}`).toBe(`${IDP}/oidc/authorize`);
    expect(location.searchParams.get('client_id')).toBe('entra-client-id');
    expect(location.searchParams.get('redirect_uri')).toBe(`${services().publicOrigin.url}/v1/b2b/sso/callback/${oidc.connectionId}`);
    expect(location.searchParams.get('state')).toBeTruthy();
  });

  it('refuses to test a pending connection, and one of another organization', async () => {
    const csrf = await supportBrowser.csrfFrom(ssoPage(acme));
    const pending = await supportBrowser.post(testAction(acme, pendingOidc), { _csrf: csrf });
    expect(pending.status).toBe(400);
    expect(pending.text).toContain('not active yet');
    const foreign = await supportBrowser.post(testAction(acme, otherSaml), { _csrf: csrf });
    expect(foreign.status).toBe(404);
    expect(foreign.text).not.toContain(IDP);
  });

  it("shows what the IdP asserted after an accepted answer, and creates no member, session or token", async () => {
    const location = await startTest(supportBrowser, acme, oidc);
    const state = location.searchParams.get('state') ?? '';
    const before = await harness.auditEvents();
    const proof: SsoProof = {
      protocol: 'oidc',
      connectionId: oidc.connectionId,
      subject: 'entra|00u<1>',
      emailAddress: 'tester@acme.example',
      name: 'Test <Person>',
      groups: ['engineering', 'admins'],
      attributes: { department: 'R&D', roles: ['one', 'two'] },
    };
    const next = await services().ssoFlows.finish(CALLBACK, { connectionId: oidc.connectionId, kind: 'oidc', state, verify: async () => ({ proof }) });
    expect(next).toMatch(new RegExp(`^${ssoTestResultPath(acme.organization_id, oidc.connectionId, 'sso-request-').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    expect(next).not.toContain('token=');

    const result = await supportBrowser.get(next);
    expect(result.status).toBe(200);
    expect(result.text).toContain('Accepted');
    expect(result.text).toContain('<code>entra|00u&#60;1&#62;</code>');
    expect(result.text).toContain('tester@acme.example');
    expect(result.text).toContain('Test &#60;Person&#62;');
    expect(result.text).toContain('<code>engineering</code>, <code>admins</code>');
    expect(result.text).toContain('<td><code>department</code></td><td>R&#38;D</td>');
    expect(result.text).toContain('<td><code>roles</code></td><td>one<br>two</td>');

    const written = (await harness.auditEvents()).slice(before.length);
    expect(written.map((event) => event.type)).toEqual(['sso.connection_tested']);
    expect(written[0]?.details).toMatchObject({ outcome: 'success', operator_id: support.operatorId, connection_id: oidc.connectionId });
    const members = await services().members.search({ organizationIds: [acme.organization_id], query: { operator: 'AND', operands: [] }, limit: 10 });
    expect(members.items).toEqual([]);
  });

  it('shows why a refused answer was refused', async () => {
    const location = await startTest(adminBrowser, acme, saml);
    const next = await services().ssoFlows.finish(CALLBACK, {
      connectionId: saml.connectionId,
      kind: 'saml',
      state: location.searchParams.get('RelayState') ?? '',
      verify: async () => {
        throw ssoError('invalid_signature_saml_response');
      },
    });
    const result = await adminBrowser.get(next);
    expect(result.status).toBe(200);
    expect(result.text).toContain('Refused');
    expect(result.text).toContain('<code>invalid_signature_saml_response</code>');
    expect(result.text).toContain('does not verify against the connection&#39;s verification certificates');
  });

  it('says when the IdP has not answered yet, and when the test lapsed', async () => {
    const location = await startTest(adminBrowser, acme, oidc);
    const request = await requestOf(location.searchParams.get('state') ?? '');
    const path = ssoTestResultPath(acme.organization_id, oidc.connectionId, request);
    expect((await adminBrowser.get(path)).text).toContain('No answer from the identity provider yet.');
    harness.clock.advance(11 * 60_000);
    try {
      expect((await adminBrowser.get(path)).text).toContain('never answered this test, and it has lapsed');
    } finally {
      harness.clock.set(CONSOLE_START);
    }
  });

  it("shows a test's result only to its operator, under its own organization and connection", async () => {
    const location = await startTest(supportBrowser, acme, oidc);
    const request = await requestOf(location.searchParams.get('state') ?? '');
    expect((await supportBrowser.get(ssoTestResultPath(acme.organization_id, oidc.connectionId, request))).status).toBe(200);
    for (const [browser, path] of [
      [adminBrowser, ssoTestResultPath(acme.organization_id, oidc.connectionId, request)],
      [supportBrowser, ssoTestResultPath(other.organization_id, oidc.connectionId, request)],
      [supportBrowser, ssoTestResultPath(acme.organization_id, saml.connectionId, request)],
      [supportBrowser, ssoTestResultPath(acme.organization_id, oidc.connectionId, 'sso-request-test-00000000-0000-4000-8000-000000000000')],
    ] as const) {
      const response = await browser.get(path);
      expect(response.status, path).toBe(404);
      expect(response.text).not.toContain(request);
    }
  });

  it('sends a browser back from the IdP without its session cookie on from the console itself, then to sign-in', async () => {
    const location = await startTest(supportBrowser, acme, oidc);
    const request = await requestOf(location.searchParams.get('state') ?? '');
    const path = ssoTestResultPath(acme.organization_id, oidc.connectionId, request);
    const cookieless = harness.browser();
    const bounce = await cookieless.get(path);
    expect(bounce.status).toBe(200);
    expect(bounce.text).toContain(`href="${path}?continued=1" data-navigate`);
    expect(bounce.text).not.toContain(`<code>${request}</code>`);
    expect(bounce.text).not.toContain('No answer from the identity provider');
    expect(bounce.text).not.toContain('Sign out');
    const second = await cookieless.get(`${path}?continued=1`);
    expect(second.status).toBe(303);
    expect(second.location).toBe(`/console/login?next=${encodeURIComponent(`${path}?continued=1`)}`);
  });

  /** The id of the test request whose state (OIDC) or RelayState (SAML) token this is. */
  async function requestOf(state: string): Promise<string> {
    const lookupId = parseOpaqueToken(state)?.lookupId ?? '';
    const request = await store().sso.findRequestByLookupId(lookupId);
    if (request === undefined) throw new Error('no request for this state');
    return request.requestId;
  }
});
