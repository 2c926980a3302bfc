import type { B2BClient } from 'stytch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openWriteProbe, type WriteProbe } from '../../support/member-session-cast.js';
import { expectStytchRejection, expectToMatchResponseSchema } from '../../support/openapi.js';
import { startSdkTarget, type SdkTarget } from '../../support/sdk-targets.js';
import { STORES } from '../../support/stores.js';
import { answer, createOrganization, idpKey, type IdpKey, idpMetadata, type IdpWebServer, SAML_BY_URL, startIdpWebServer } from './sso-connection-fixtures.js';

/**
 * `client.sso.saml.updateByURL` against an IdP web server on loopback: real metadata, and the
 * answers the IdP fetch refuses (too slow, too large, not metadata, an address not allowed), each
 * refusal writing nothing.
 */
const METADATA_URL_REFUSED = { status: 400, errorType: 'invalid_saml_metadata_url' } as const;

for (const store of STORES) {
  describe(`client.sso.saml.updateByURL (${store.name})`, () => {
    let target: SdkTarget;
    let client: B2BClient;
    let idp: IdpWebServer;
    let probe: WriteProbe;
    let key: IdpKey;
    let rotated: IdpKey;

    beforeAll(async () => {
      target = await startSdkTarget(store.name, 'http');
      client = target.client;
      idp = await startIdpWebServer();
      probe = await openWriteProbe(target.server);
      [key, rotated] = await Promise.all([idpKey('metadata-idp.example.com'), idpKey('metadata-idp-2.example.com')]);
    });
    afterAll(async () => {
      await probe?.close();
      await idp?.stop();
      await target?.stop();
    });

    async function pendingConnection(): Promise<{ organizationId: string; connectionId: string }> {
      const organization = await createOrganization(client, 'Metadata');
      const created = await client.sso.saml.createConnection({ organization_id: organization.organization_id, display_name: 'From metadata' });
      return { organizationId: organization.organization_id, connectionId: created.connection?.connection_id ?? '' };
    }

    it('takes the entity id, the HTTP-Redirect sign-in URL and the signing certificates from the metadata, and activates the connection', async () => {
      const { organizationId, connectionId } = await pendingConnection();
      idp.route('/app/metadata', answer(idpMetadata({ entityId: 'http://www.okta.com/exk123', ssoUrl: 'https://acme.okta.com/app/sso/saml', certificates: [key.certificatePem] })));
      const updated = await client.sso.saml.updateByURL({ organization_id: organizationId, connection_id: connectionId, metadata_url: `${idp.url}/app/metadata` });
      expectToMatchResponseSchema('put', SAML_BY_URL, updated);
      expect(updated.connection).toMatchObject({
        status: 'active',
        idp_entity_id: 'http://www.okta.com/exk123',
        idp_sso_url: 'https://acme.okta.com/app/sso/saml/redirect',
        display_name: 'From metadata',
      });
      expect(updated.connection?.verification_certificates.map((certificate) => certificate.certificate)).toEqual([key.certificatePem]);
      const kept = updated.connection?.verification_certificates[0]?.certificate_id;
      expect((await client.organizations.get({ organization_id: organizationId })).organization.sso_active_connections.map((each) => each.connection_id)).toEqual([connectionId]);

      // The IdP rotates: the certificates become those the metadata lists, a certificate kept keeping its id.
      idp.route('/app/metadata', answer(idpMetadata({ entityId: 'http://www.okta.com/exk123', ssoUrl: 'https://acme.okta.com/app/sso/saml', certificates: [key.certificatePem, rotated.certificatePem] })));
      const both = await client.sso.saml.updateByURL({ organization_id: organizationId, connection_id: connectionId, metadata_url: `${idp.url}/app/metadata` });
      expect(both.connection?.verification_certificates.find((certificate) => certificate.certificate === key.certificatePem)?.certificate_id).toBe(kept);
      expect(both.connection?.verification_certificates).toHaveLength(2);
      idp.route('/app/metadata', answer(idpMetadata({ entityId: 'http://www.okta.com/exk123', ssoUrl: 'https://acme.okta.com/app/sso/saml', certificates: [rotated.certificatePem] })));
      const only = await client.sso.saml.updateByURL({ organization_id: organizationId, connection_id: connectionId, metadata_url: `${idp.url}/app/metadata` });
      expect(only.connection?.verification_certificates.map((certificate) => certificate.certificate)).toEqual([rotated.certificatePem]);
      expect(only.connection?.status).toBe('active');
    });

    it('refuses an answer that is not SAML metadata, or metadata without what a connection needs', async () => {
      const { organizationId, connectionId } = await pendingConnection();
      const byUrl = (path: string) => client.sso.saml.updateByURL({ organization_id: organizationId, connection_id: connectionId, metadata_url: `${idp.url}${path}` });
      idp.route('/html', answer('<html><body>Sign in</body></html>', 'text/html'));
      idp.route('/garbage', answer('{"not": "xml"}', 'application/json'));
      idp.route('/doctype', answer('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="&e;"/>'));
      idp.route('/no-certificate', answer(idpMetadata({ entityId: 'https://idp.example.com', ssoUrl: 'https://idp.example.com/sso', certificates: [] })));
      idp.route('/plain-http-sso', answer(idpMetadata({ entityId: 'https://idp.example.com', ssoUrl: 'http://idp.example.com/sso', certificates: [key.certificatePem] })));
      await probe.expectNothingWritten(() => expectStytchRejection(byUrl('/html'), { status: 400, errorType: 'invalid_xml_from_saml_metadata_url' }));
      await probe.expectNothingWritten(() => expectStytchRejection(byUrl('/garbage'), { status: 400, errorType: 'invalid_xml_from_saml_metadata_url' }));
      await probe.expectNothingWritten(() => expectStytchRejection(byUrl('/doctype'), { status: 400, errorType: 'invalid_xml_from_saml_metadata_url' }));
      await probe.expectNothingWritten(() => expectStytchRejection(byUrl('/no-certificate'), { status: 400, errorType: 'saml_connection_metadata_invalid_format' }));
      await probe.expectNothingWritten(() => expectStytchRejection(byUrl('/plain-http-sso'), { status: 400, errorType: 'saml_connection_idp_sso_url_not_https' }));
      await probe.expectNothingWritten(() => expectStytchRejection(byUrl('/missing'), METADATA_URL_REFUSED));
      await probe.expectNothingWritten(() =>
        expectStytchRejection(client.sso.saml.updateByURL({ organization_id: organizationId, connection_id: connectionId, metadata_url: 'ftp://idp.example.com/metadata' }), METADATA_URL_REFUSED),
      );
      const listed = await client.sso.getConnections({ organization_id: organizationId });
      expect(listed.saml_connections[0]).toMatchObject({ status: 'pending', idp_entity_id: '', verification_certificates: [] });
    });

    it('gives up on an IdP that answers too slowly or too much', async () => {
      const { organizationId, connectionId } = await pendingConnection();
      const held: (() => void)[] = [];
      idp.route('/slow', (_request, response) => {
        const timer = setTimeout(() => response.writeHead(200).end(idpMetadata({ entityId: 'https://idp.example.com', ssoUrl: 'https://idp.example.com/sso', certificates: [key.certificatePem] })), 7_000);
        held.push(() => clearTimeout(timer));
      });
      idp.route('/huge', (_request, response) => {
        response.writeHead(200, { 'content-type': 'application/xml' });
        response.end(`<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="x"><!--${'x'.repeat(2 * 1024 * 1024)}--></md:EntityDescriptor>`);
      });
      const byUrl = (path: string) => client.sso.saml.updateByURL({ organization_id: organizationId, connection_id: connectionId, metadata_url: `${idp.url}${path}` });
      const started = performance.now();
      await probe.expectNothingWritten(() => expectStytchRejection(byUrl('/slow'), METADATA_URL_REFUSED));
      const waited = performance.now() - started;
      for (const release of held) release();
      expect(waited).toBeGreaterThan(4_500);
      expect(waited).toBeLessThan(6_900);
      await probe.expectNothingWritten(() => expectStytchRejection(byUrl('/huge'), METADATA_URL_REFUSED));
    }, 20_000);
  });

  describe(`client.sso IdP URLs where private addresses are not allowed (${store.name})`, () => {
    let target: SdkTarget;
    let idp: IdpWebServer;

    beforeAll(async () => {
      target = await startSdkTarget(store.name, 'http', { config: { ssoAllowPrivateAddresses: false } });
      idp = await startIdpWebServer();
    });
    afterAll(async () => {
      await idp?.stop();
      await target?.stop();
    });

    it('refuses a loopback metadata URL or issuer before fetching it', async () => {
      const key = await idpKey();
      idp.route('/metadata', answer(idpMetadata({ entityId: 'https://idp.example.com', ssoUrl: 'https://idp.example.com/sso', certificates: [key.certificatePem] })));
      const client = target.client;
      const organization = await createOrganization(client, 'Private');
      const saml = (await client.sso.saml.createConnection({ organization_id: organization.organization_id })).connection?.connection_id ?? '';
      const oidc = (await client.sso.oidc.createConnection({ organization_id: organization.organization_id })).connection?.connection_id ?? '';
      for (const url of [`${idp.url}/metadata`, 'https://127.0.0.1/metadata', 'https://169.254.169.254/latest/meta-data', 'https://localhost/metadata']) {
        await expectStytchRejection(client.sso.saml.updateByURL({ organization_id: organization.organization_id, connection_id: saml, metadata_url: url }), METADATA_URL_REFUSED);
      }
      await expectStytchRejection(client.sso.oidc.updateConnection({ organization_id: organization.organization_id, connection_id: oidc, issuer: 'https://10.0.0.1' }), {
        status: 400,
        errorType: 'oidc_connection_issuer_url_invalid_format',
      });
      expect(idp.hits).toEqual([]);
    });
  });
}
