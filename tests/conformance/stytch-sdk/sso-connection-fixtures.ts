import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { B2BClient, Organization } from 'stytch';
import type { AuditEvent } from '../../../src/domain/audit/audit-event.js';
import { generateSigningCertificate } from '../../../src/sso/x509.js';
import type { TestServer } from '../../support/test-server.js';
import { expectToMatchResponseSchema } from '../../support/openapi.js';
import { uniqueSuffix } from '../../support/wire-formats.js';

/** Setup of the SSO connection suites: organizations, IdP certificates and keys, a local IdP web server. */

export const SSO = '/v1/b2b/sso/{organization_id}';
export const SSO_CONNECTION = '/v1/b2b/sso/{organization_id}/connections/{connection_id}';
export const SAML = '/v1/b2b/sso/saml/{organization_id}';
export const SAML_CONNECTION = '/v1/b2b/sso/saml/{organization_id}/connections/{connection_id}';
export const SAML_BY_URL = '/v1/b2b/sso/saml/{organization_id}/connections/{connection_id}/url';
export const SAML_VERIFICATION_CERTIFICATE = '/v1/b2b/sso/saml/{organization_id}/connections/{connection_id}/verification_certificates/{certificate_id}';
export const SAML_ENCRYPTION_KEY = '/v1/b2b/sso/saml/{organization_id}/connections/{connection_id}/encryption_private_keys/{private_key_id}';
export const OIDC = '/v1/b2b/sso/oidc/{organization_id}';
export const OIDC_CONNECTION = '/v1/b2b/sso/oidc/{organization_id}/connections/{connection_id}';
export const EXTERNAL = '/v1/b2b/sso/external/{organization_id}';
export const EXTERNAL_CONNECTION = '/v1/b2b/sso/external/{organization_id}/connections/{connection_id}';

export async function createOrganization(client: B2BClient, label = 'SSO'): Promise<Organization> {
  const suffix = uniqueSuffix();
  const response = await client.organizations.create({ organization_name: `${label} ${suffix}`, organization_slug: `${label.toLowerCase()}-${suffix}` });
  return response.organization;
}

/** An IdP's key and self-signed certificate (as an IdP's admin would download it). */
export interface IdpKey {
  readonly certificatePem: string;
  readonly privateKeyPem: string;
}

export async function idpKey(name = 'idp.example.com'): Promise<IdpKey> {
  const made = await generateSigningCertificate({ commonName: name, now: new Date() });
  return { certificatePem: made.certificatePem, privateKeyPem: made.privateKeyPem };
}

/** The base64 body of a PEM certificate, as SAML metadata carries it. */
export function certificateBody(pem: string): string {
  return pem.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '');
}

/** A SAML IdP's metadata document, as Okta or Entra serve it. */
export function idpMetadata(options: { entityId: string; ssoUrl: string; certificates: readonly string[] }): string {
  const keys = options.certificates
    .map(
      (pem) => `
    <md:KeyDescriptor use="signing">
      <ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:X509Data><ds:X509Certificate>${certificateBody(pem)}</ds:X509Certificate></ds:X509Data></ds:KeyInfo>
    </md:KeyDescriptor>`,
    )
    .join('');
  return `<?xml version="1.0" encoding="UTF-8"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="${options.entityId}">
  <md:IDPSSODescriptor WantAuthnRequestsSigned="false" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">${keys}
    <md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress</md:NameIDFormat>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="${options.ssoUrl}/post"/>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="${options.ssoUrl}/redirect"/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>`;
}

/** A local web server standing in for an IdP: each path answers as its handler says. */
export interface IdpWebServer {
  readonly url: string;
  /** Requests seen, by path. */
  readonly hits: string[];
  route(path: string, handler: (request: IncomingMessage, response: ServerResponse) => void): void;
  stop(): Promise<void>;
}

export async function startIdpWebServer(): Promise<IdpWebServer> {
  const routes = new Map<string, (request: IncomingMessage, response: ServerResponse) => void>();
  const hits: string[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const server: Server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    hits.push(path);
    const handler = routes.get(path);
    if (handler === undefined) {
      response.writeHead(404).end('not found');
      return;
    }
    handler(request, response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    hits,
    route(path, handler) {
      routes.set(path, handler);
    },
    async stop() {
      for (const timer of timers) clearTimeout(timer);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Answers `body` with this content type. */
export function answer(body: string, contentType = 'application/xml') {
  return (_request: IncomingMessage, response: ServerResponse) => {
    response.writeHead(200, { 'content-type': contentType }).end(body);
  };
}

/** Creates a SAML connection made active with an IdP certificate; checks each answer against the contract. */
export async function activeSamlConnection(client: B2BClient, organizationId: string, key: IdpKey, displayName = 'Okta') {
  const created = await client.sso.saml.createConnection({ organization_id: organizationId, display_name: displayName, identity_provider: 'okta' });
  expectToMatchResponseSchema('post', SAML, created);
  const connectionId = created.connection?.connection_id ?? '';
  const updated = await client.sso.saml.updateConnection({
    organization_id: organizationId,
    connection_id: connectionId,
    idp_entity_id: `https://idp.example.com/${connectionId}`,
    idp_sso_url: 'https://idp.example.com/sso',
    x509_certificate: key.certificatePem,
    attribute_mapping: { email: 'email', full_name: 'name', groups: 'groups' },
  });
  expectToMatchResponseSchema('put', SAML_CONNECTION, updated);
  if (updated.connection === undefined) throw new Error('no connection answered');
  return updated.connection;
}

/** The organization's SSO audit events (sso.*), oldest first. */
export async function ssoAuditEvents(server: TestServer, organizationId: string): Promise<AuditEvent[]> {
  const events = await server.server.store.audit.listEvents({ organizationId, limit: 500 });
  return events.filter((event) => event.type.startsWith('sso.')).reverse();
}
