import type { Browser, BrowserContext } from 'playwright-core';
import type { Organization } from 'stytch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sealConnectionSecrets } from '../../src/domain/sso/connections-secrets.js';
import type { OidcConnection } from '../../src/domain/sso/sso-connection.js';
import { ssoCallbackUrl } from '../../src/domain/sso/sso-urls.js';
import { ManualClock, toTimestamp } from '../../src/platform/clock.js';
import { cryptoRandom } from '../../src/platform/random.js';
import { type OidcIdp, startOidcIdp } from '../support/oidc-idp.js';
import { TEST_MASTER_KEY } from '../support/test-constants.js';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { collectPageErrors, type ConsoleOperator, createOperator, HAS_CHROMIUM, launchBrowser, screenshot, signIn, visibleText } from './support/browser.js';

const TESTER = { sub: 'idp-user-7', email: 'it-tester@acme.example', password: 'tester password 1', name: 'Ivy Tester', groups: ['it', 'sso-admins'] };

/**
 * "Test this connection" in Chromium, end to end: the operator's button, the IdP's own sign-in page
 * (a real OpenID provider, tests/support/oidc-idp.ts), and back to the console's result page. The
 * browser meets the IdP at `localhost` and the console at `127.0.0.1`, two sites, so the way back is
 * a cross-site redirect chain on which the console's SameSite=Strict cookie is not sent, as with any
 * real IdP.
 */
describe.skipIf(!HAS_CHROMIUM)('console: test an SSO connection, in Chromium (needs /usr/bin/chromium)', () => {
  // The real time: the IdP's ID token is checked against the server's clock.
  const clock = new ManualClock(new Date());
  let server: TestServer;
  let idp: OidcIdp;
  let browser: Browser;
  let support: ConsoleOperator;
  let acme: Organization;
  let connectionId: string;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    server = await startTestServer({ clock });
    idp = await startOidcIdp({ users: [TESTER] });
    const services = server.server.app.services;
    support = await createOperator(services, 'support', 'sso-tester');
    acme = (await server.client.organizations.create({ organization_name: 'Acme Anvils', organization_slug: 'acme-anvils' })).organization;
    connectionId = services.ids.next('oidc-connection');
    const at = toTimestamp(clock.now());
    const connection: OidcConnection = {
      connectionId,
      organizationId: acme.organization_id,
      kind: 'oidc',
      status: 'active',
      displayName: 'Acme IdP',
      identityProvider: 'generic',
      createdAt: at,
      updatedAt: at,
      clientId: 'understudy-acme',
      issuer: idp.issuer,
      // The browser's half at another site than the console's (localhost, not 127.0.0.1); the server's half as published.
      authorizationUrl: idp.endpoints.authorizationUrl.replace('//127.0.0.1:', '//localhost:'),
      tokenUrl: idp.endpoints.tokenUrl,
      userinfoUrl: idp.endpoints.userinfoUrl,
      jwksUrl: idp.endpoints.jwksUrl,
      customScopes: 'groups',
      attributeMapping: {},
    };
    const sealed = sealConnectionSecrets({ clientSecret: 'acme-client-secret' }, { masterKey: Buffer.from(TEST_MASTER_KEY, 'base64'), connectionId, random: cryptoRandom });
    await server.server.store.sso.insertConnection(connection, sealed);
    idp.registerClient({ clientId: 'understudy-acme', clientSecret: 'acme-client-secret', redirectUris: [ssoCallbackUrl(services.publicOrigin.url, connectionId)] });
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await Promise.all(contexts.map((context) => context.close()));
    await browser?.close();
    await idp?.stop();
    await server?.stop();
  });

  it("tests the connection: the IdP's sign-in page, then what the IdP asserted, with no member created", async () => {
    const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
    contexts.push(context);
    context.setDefaultTimeout(10_000);
    const errors = collectPageErrors(context);
    const page = await context.newPage();

    await signIn(page, server.baseUrl, clock, support);
    await page.goto(`${server.baseUrl}/console/organizations/${acme.organization_id}`);
    await page.getByRole('link', { name: 'SSO connections' }).click();
    await page.waitForURL(/\/sso$/);
    const card = page.locator('section.card', { has: page.getByRole('heading', { name: /Acme IdP/ }) });
    expect(await visibleText(card)).toContain(`Redirect URL\n${ssoCallbackUrl(server.server.app.services.publicOrigin.url, connectionId)}`);
    await screenshot(page, 'console-sso-connections');

    await card.getByRole('button', { name: 'Test this connection' }).click();
    await page.waitForURL((url) => url.host.startsWith('localhost:'));
    await page.locator('input[name="email"]').fill(TESTER.email);
    await page.locator('input[name="password"]').fill(TESTER.password);
    await page.getByRole('button', { name: 'Sign in' }).click();

    await page.waitForURL(/\/console\/organizations\/[^/]+\/sso\/[^/]+\/tests\/[^/?]+\?continued=1$/);
    await page.getByRole('heading', { name: 'What the identity provider asserted' }).waitFor();
    const result = await visibleText(page.locator('main'));
    expect(result).toContain('Accepted');
    expect(result).toContain(`Subject\n${TESTER.sub}`);
    expect(result).toContain(`Email address\n${TESTER.email}`);
    expect(result).toContain(`Name\n${TESTER.name}`);
    expect(result).toContain('Groups\nit, sso-admins');
    expect(result).toContain('A test creates no member, session or token.');
    await screenshot(page, 'console-sso-test-result');

    const members = await server.client.organizations.members.search({ organization_ids: [acme.organization_id] });
    expect(members.members).toEqual([]);
    expect(errors).toEqual([]);
  });
});
