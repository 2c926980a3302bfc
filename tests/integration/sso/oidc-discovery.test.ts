import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { idpFetch } from '../../../src/sso/idp-http.js';
import { discoverOidcEndpoints } from '../../../src/sso/oidc-discovery.js';

const DISCOVERY = '/.well-known/openid-configuration';

// oidc-provider ships no type declarations; the little used here is typed at the import.
const { default: Provider } = (await import('oidc-provider' as string)) as { default: new (issuer: string, configuration: object) => { callback(): RequestListener } };

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://localhost:${(server.address() as AddressInfo).port}`;
}

describe('OIDC discovery', () => {
  const fetch = idpFetch({ allowPrivateAddresses: true });
  let provider: { server: Server; issuer: string };
  let site: { server: Server; url: string; documents: Map<string, { status?: number; body: string }> };

  beforeAll(async () => {
    // A real OpenID provider answers its own discovery document.
    const providerServer = createServer();
    const issuer = await listen(providerServer);
    providerServer.on('request', new Provider(issuer, { clients: [] }).callback());
    provider = { server: providerServer, issuer };

    const documents = new Map<string, { status?: number; body: string }>();
    const server = createServer((request, response) => {
      const document = documents.get(request.url ?? '');
      response.statusCode = document === undefined ? 404 : (document.status ?? 200);
      response.end(document?.body ?? 'not found');
    });
    site = { server, url: await listen(server), documents };
    const good = (issuer: string) => ({
      issuer,
      authorization_endpoint: `${issuer}/authorize`,
      token_endpoint: `${issuer}/token`,
      userinfo_endpoint: `${issuer}/userinfo`,
      jwks_uri: `${issuer}/jwks`,
    });
    const at = (path: string, body: unknown, status?: number) => documents.set(`${path}${DISCOVERY}`, { body: typeof body === 'string' ? body : JSON.stringify(body), status });
    at('/tenant', good(`${site.url}/tenant`));
    at('/slash', { ...good(`${site.url}/slash`), issuer: `${site.url}/slash/` });
    at('/mismatch', good('https://attacker.example.com'));
    at('/html', '<!doctype html><title>Sign in</title>');
    at('/array', '[]');
    at('/no-userinfo', { ...good(`${site.url}/no-userinfo`), userinfo_endpoint: undefined });
    at('/no-jwks', { ...good(`${site.url}/no-jwks`), jwks_uri: undefined });
    at('/script', { ...good(`${site.url}/script`), authorization_endpoint: 'javascript:alert(1)' });
    at('/relative', { ...good(`${site.url}/relative`), token_endpoint: '/token' });
    at('/failing', good(`${site.url}/failing`), 503);
    at('/moved', good(`${site.url}/moved`), 301);
  });

  afterAll(async () => {
    await Promise.all([provider.server, site.server].map((server) => new Promise((resolve) => server.close(resolve))));
  });

  it("reads a real OpenID provider's endpoints", async () => {
    expect(await discoverOidcEndpoints(fetch, provider.issuer)).toEqual({
      authorizationUrl: `${provider.issuer}/auth`,
      tokenUrl: `${provider.issuer}/token`,
      userinfoUrl: `${provider.issuer}/me`,
      jwksUrl: `${provider.issuer}/jwks`,
    });
  });

  it('reads an issuer with a path', async () => {
    expect(await discoverOidcEndpoints(fetch, `${site.url}/tenant`)).toMatchObject({ authorizationUrl: `${site.url}/tenant/authorize`, jwksUrl: `${site.url}/tenant/jwks` });
  });

  it('compares the issuer exactly, trailing slash included', async () => {
    expect(await discoverOidcEndpoints(fetch, `${site.url}/slash/`)).toMatchObject({ tokenUrl: `${site.url}/slash/token` });
    await expect(discoverOidcEndpoints(fetch, `${site.url}/tenant/`)).rejects.toMatchObject({ code: 'invalid_issuer', message: expect.stringContaining('another issuer') });
  });

  it('refuses a document naming another issuer', async () => {
    await expect(discoverOidcEndpoints(fetch, `${site.url}/mismatch`)).rejects.toMatchObject({ code: 'invalid_issuer', message: expect.stringContaining('https://attacker.example.com') });
  });

  it('refuses what is not a JSON object', async () => {
    await expect(discoverOidcEndpoints(fetch, `${site.url}/html`)).rejects.toMatchObject({ code: 'invalid_issuer', message: expect.stringContaining('not JSON') });
    await expect(discoverOidcEndpoints(fetch, `${site.url}/array`)).rejects.toMatchObject({ code: 'invalid_issuer', message: expect.stringContaining('not a JSON object') });
  });

  it('takes a missing userinfo endpoint as none, but needs the others, absolute and http(s)', async () => {
    expect(await discoverOidcEndpoints(fetch, `${site.url}/no-userinfo`)).toMatchObject({ userinfoUrl: '' });
    await expect(discoverOidcEndpoints(fetch, `${site.url}/no-jwks`)).rejects.toMatchObject({ code: 'invalid_issuer', message: expect.stringContaining('jwks_uri') });
    await expect(discoverOidcEndpoints(fetch, `${site.url}/script`)).rejects.toMatchObject({ code: 'invalid_issuer', message: expect.stringContaining('authorization_endpoint') });
    await expect(discoverOidcEndpoints(fetch, `${site.url}/relative`)).rejects.toMatchObject({ code: 'invalid_issuer', message: expect.stringContaining('token_endpoint') });
  });

  it('refuses a non-2xx answer, a redirect included', async () => {
    await expect(discoverOidcEndpoints(fetch, `${site.url}/failing`)).rejects.toMatchObject({ code: 'invalid_issuer', message: expect.stringContaining('HTTP 503') });
    await expect(discoverOidcEndpoints(fetch, `${site.url}/moved`)).rejects.toMatchObject({ code: 'invalid_issuer', message: expect.stringContaining('HTTP 301') });
    await expect(discoverOidcEndpoints(fetch, `${site.url}/none`)).rejects.toMatchObject({ code: 'invalid_issuer', message: expect.stringContaining('HTTP 404') });
  });

  it('refuses an issuer the SSRF rules do not allow, without asking it', async () => {
    await expect(discoverOidcEndpoints(idpFetch({ allowPrivateAddresses: false }), `${site.url}/tenant`)).rejects.toMatchObject({ code: 'invalid_issuer', message: expect.stringContaining('could not be fetched') });
    await expect(discoverOidcEndpoints(fetch, 'not a url')).rejects.toMatchObject({ code: 'invalid_issuer', message: expect.stringContaining('is not a URL') });
  });
});
