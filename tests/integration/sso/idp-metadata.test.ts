import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IDP_MAX_BYTES, idpFetch } from '../../../src/sso/idp-http.js';
import { fetchIdpMetadata, parseIdpMetadata } from '../../../src/sso/saml-idp-metadata.js';
import { generateSigningCertificate } from '../../../src/sso/x509.js';

const REDIRECT = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect';
const POST = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST';
const MD = 'urn:oasis:names:tc:SAML:2.0:metadata';
const DS = 'http://www.w3.org/2000/09/xmldsig#';

// samlify's type declarations import @xmldom/xmldom's, which pull the browser's DOM library into the
// whole compilation (contradicting Node's fetch types); the little used here is typed at the import.
const samlify = (await import('samlify' as string)) as {
  IdentityProvider(settings: { entityID: string; signingCert: string; singleSignOnService: { Binding: string; Location: string }[]; singleLogoutService: { Binding: string; Location: string }[] }): { getMetadata(): string };
};

/** A local web server answering each path with its handler, counting the requests it got. */
async function startServer(routes: Record<string, (request: IncomingMessage, response: ServerResponse) => void>): Promise<{ url: string; hits: Map<string, number>; server: Server }> {
  const hits = new Map<string, number>();
  const server = createServer((request, response) => {
    const path = request.url ?? '/';
    hits.set(path, (hits.get(path) ?? 0) + 1);
    const handler = routes[path];
    if (handler === undefined) {
      response.statusCode = 404;
      response.end('not here');
      return;
    }
    handler(request, response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://localhost:${(server.address() as AddressInfo).port}`, hits, server };
}

function xml(body: string) {
  return (_request: IncomingMessage, response: ServerResponse) => {
    response.setHeader('content-type', 'application/samlmetadata+xml');
    response.end(body);
  };
}

function base64Of(pem: string): string {
  return pem.split('\n').filter((line) => line !== '' && !line.startsWith('-----')).join('');
}

describe('SAML IdP metadata', () => {
  let signing: { certificatePem: string };
  let rollover: { certificatePem: string };
  let encryption: { certificatePem: string };
  let samlifyMetadata: string;
  let site: Awaited<ReturnType<typeof startServer>>;
  const fetch = idpFetch({ allowPrivateAddresses: true });

  beforeAll(async () => {
    const now = new Date();
    signing = await generateSigningCertificate({ commonName: 'idp signing', now });
    rollover = await generateSigningCertificate({ commonName: 'idp rollover', now });
    encryption = await generateSigningCertificate({ commonName: 'idp encryption', now });
    // samlify acting as an IdP publishes its metadata the way IdPs do (POST listed first here).
    samlifyMetadata = samlify
      .IdentityProvider({
        entityID: 'https://idp.example.com/metadata',
        signingCert: signing.certificatePem,
        singleSignOnService: [
          { Binding: POST, Location: 'https://idp.example.com/sso/post' },
          { Binding: REDIRECT, Location: 'https://idp.example.com/sso/redirect' },
        ],
        singleLogoutService: [{ Binding: REDIRECT, Location: 'https://idp.example.com/slo' }],
      })
      .getMetadata();

    const entities = `<?xml version="1.0" encoding="UTF-8"?>
<md:EntitiesDescriptor xmlns:md="${MD}" xmlns:ds="${DS}">
  <md:EntityDescriptor entityID="https://sp.example.com">
    <md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
      <md:AssertionConsumerService Binding="${POST}" Location="https://sp.example.com/acs" index="0"/>
    </md:SPSSODescriptor>
  </md:EntityDescriptor>
  <md:EntitiesDescriptor>
    <md:EntityDescriptor entityID="  https://federation.example.org/idp  ">
      <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:1.1:protocol urn:oasis:names:tc:SAML:2.0:protocol">
        <md:KeyDescriptor use="encryption"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>${base64Of(encryption.certificatePem)}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
        <md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>
          ${base64Of(signing.certificatePem).replace(/(.{64})/g, '$1\n          ')}
        </ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
        <md:KeyDescriptor><ds:KeyInfo><ds:X509Data><ds:X509Certificate>${base64Of(rollover.certificatePem)}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
        <md:KeyDescriptor><ds:KeyInfo><ds:X509Data><ds:X509Certificate>${base64Of(signing.certificatePem)}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
        <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:SOAP" Location="https://federation.example.org/soap"/>
        <md:SingleSignOnService Binding="${POST}" Location="https://federation.example.org/sso"/>
      </md:IDPSSODescriptor>
    </md:EntityDescriptor>
  </md:EntitiesDescriptor>
</md:EntitiesDescriptor>`;

    const bomb = `<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<EntityDescriptor xmlns="${MD}" entityID="&lol3;"><IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"/></EntityDescriptor>`;

    site = await startServer({
      '/samlify': xml(samlifyMetadata),
      '/entities': xml(entities),
      '/bomb': xml(bomb),
      '/html': (_request, response) => {
        response.setHeader('content-type', 'text/html');
        response.end('<!doctype html><html><body><h1>Sign in</h1></body></html>');
      },
      '/slow': (_request, response) => {
        const timer = setTimeout(() => response.end(samlifyMetadata), 3_000);
        response.on('close', () => clearTimeout(timer));
      },
      '/huge': (_request, response) => {
        response.setHeader('content-type', 'application/xml');
        response.end(`<!-- ${'x'.repeat(IDP_MAX_BYTES)} -->${samlifyMetadata}`);
      },
      '/moved': (_request, response) => {
        response.statusCode = 302;
        response.setHeader('location', '/samlify');
        response.end();
      },
      '/error': (_request, response) => {
        response.statusCode = 500;
        response.end(samlifyMetadata);
      },
    });
  });

  afterAll(async () => {
    await new Promise((resolve) => site.server.close(resolve));
  });

  it("reads samlify's IdP metadata: entity id, the HTTP-Redirect sign-in URL, the signing certificate", async () => {
    const metadata = await fetchIdpMetadata(fetch, `${site.url}/samlify`);
    expect(metadata).toEqual({ entityId: 'https://idp.example.com/metadata', ssoUrl: 'https://idp.example.com/sso/redirect', certificates: [signing.certificatePem] });
  });

  it('finds the IdP inside nested EntitiesDescriptors: signing and unmarked keys, not encryption ones, each once; POST when there is no redirect', async () => {
    const metadata = await fetchIdpMetadata(fetch, `${site.url}/entities`);
    expect(metadata).toEqual({
      entityId: 'https://federation.example.org/idp',
      ssoUrl: 'https://federation.example.org/sso',
      certificates: [signing.certificatePem, rollover.certificatePem],
    });
  });

  it('refuses a DOCTYPE (an entity-expansion bomb) without expanding it', async () => {
    await expect(fetchIdpMetadata(fetch, `${site.url}/bomb`)).rejects.toMatchObject({ code: 'invalid_xml_from_saml_metadata_url', message: expect.stringContaining('DOCTYPE') });
  });

  it('refuses an HTML page', async () => {
    await expect(fetchIdpMetadata(fetch, `${site.url}/html`)).rejects.toMatchObject({ code: 'invalid_xml_from_saml_metadata_url' });
  });

  it('gives up on a slow answer', async () => {
    const impatient = idpFetch({ allowPrivateAddresses: true, timeoutMs: 300 });
    const started = performance.now();
    await expect(fetchIdpMetadata(impatient, `${site.url}/slow`)).rejects.toMatchObject({ code: 'invalid_saml_metadata_url', message: expect.stringContaining('no answer within') });
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it('refuses an answer larger than the size limit', async () => {
    await expect(fetchIdpMetadata(fetch, `${site.url}/huge`)).rejects.toMatchObject({ code: 'invalid_saml_metadata_url', message: expect.stringContaining(`larger than ${IDP_MAX_BYTES} bytes`) });
  });

  it('does not follow a redirect', async () => {
    const before = site.hits.get('/samlify') ?? 0;
    await expect(fetchIdpMetadata(fetch, `${site.url}/moved`)).rejects.toMatchObject({ code: 'invalid_saml_metadata_url', message: expect.stringContaining('HTTP 302') });
    expect(site.hits.get('/samlify') ?? 0).toBe(before);
  });

  it('refuses a non-2xx answer even when it carries metadata', async () => {
    await expect(fetchIdpMetadata(fetch, `${site.url}/error`)).rejects.toMatchObject({ code: 'invalid_saml_metadata_url', message: expect.stringContaining('HTTP 500') });
    await expect(fetchIdpMetadata(fetch, `${site.url}/nothing`)).rejects.toMatchObject({ code: 'invalid_saml_metadata_url', message: expect.stringContaining('HTTP 404') });
  });

  it('never asks a URL the SSRF rules refuse', async () => {
    const strict = idpFetch({ allowPrivateAddresses: false });
    const before = site.hits.get('/samlify') ?? 0;
    await expect(fetchIdpMetadata(strict, `${site.url}/samlify`)).rejects.toMatchObject({ code: 'invalid_saml_metadata_url', message: expect.stringContaining('https://') });
    await expect(fetchIdpMetadata(strict, 'https://127.0.0.1/metadata')).rejects.toMatchObject({ code: 'invalid_saml_metadata_url' });
    expect(site.hits.get('/samlify') ?? 0).toBe(before);
  });

  describe('documents that are metadata but lack what a connection needs', () => {
    const entity = (inner: string, entityId = 'https://idp.example.com') =>
      `<EntityDescriptor xmlns="${MD}" xmlns:ds="${DS}" entityID="${entityId}"><IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">${inner}</IDPSSODescriptor></EntityDescriptor>`;
    const key = (use: string) => `<KeyDescriptor${use}><ds:KeyInfo><ds:X509Data><ds:X509Certificate>${base64Of(signing.certificatePem)}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></KeyDescriptor>`;
    const sso = `<SingleSignOnService Binding="${REDIRECT}" Location="https://idp.example.com/sso"/>`;

    it('accepts the complete one (the cases below each remove one thing)', () => {
      expect(parseIdpMetadata(entity(key('') + sso))).toEqual({ entityId: 'https://idp.example.com', ssoUrl: 'https://idp.example.com/sso', certificates: [signing.certificatePem] });
    });

    it.each([
      ['no entity id', () => entity(key('') + sso, ' ')],
      ['no sign-in URL', () => entity(key(''))],
      ['only a SOAP sign-in URL', () => entity(`${key('')}<SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:SOAP" Location="https://idp.example.com/soap"/>`)],
      ['only an encryption certificate', () => entity(key(' use="encryption"') + sso)],
      ['a certificate that is not one', () => entity(`<KeyDescriptor><ds:KeyInfo><ds:X509Data><ds:X509Certificate>bm90IGEgY2VydGlmaWNhdGU=</ds:X509Certificate></ds:X509Data></ds:KeyInfo></KeyDescriptor>${sso}`)],
      ['a SAML 1.1 IdP only', () => entity(key('') + sso).replace('SAML:2.0:protocol', 'SAML:1.1:protocol')],
    ])('%s: saml_connection_metadata_invalid_format', (_case, document) => {
      expect(() => parseIdpMetadata(document())).toThrow(expect.objectContaining({ code: 'saml_connection_metadata_invalid_format' }));
    });

    it.each([
      ['not XML', () => 'hello'],
      ['broken XML', () => entity(key('') + sso).slice(0, -10)],
      ['XML of no namespace', () => entity(key('') + sso).replace(` xmlns="${MD}"`, '')],
      ['SP metadata', () => `<EntityDescriptor xmlns="${MD}" entityID="x"><SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"/></EntityDescriptor>`],
      ['an internal entity', () => `<!ENTITY x "y">${entity(key('') + sso)}`],
    ])('%s: invalid_xml_from_saml_metadata_url', (_case, document) => {
      expect(() => parseIdpMetadata(document())).toThrow(expect.objectContaining({ code: 'invalid_xml_from_saml_metadata_url' }));
    });
  });
});
