import { createPrivateKey, X509Certificate } from 'node:crypto';
import type { B2BClient } from 'stytch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectStytchRejection, expectToMatchResponseSchema } from '../../support/openapi.js';
import { startSdkTarget, type SdkTarget } from '../../support/sdk-targets.js';
import { STORES } from '../../support/stores.js';
import { idPattern } from '../../support/wire-formats.js';
import {
  activeSamlConnection,
  answer,
  createOrganization,
  EXTERNAL,
  EXTERNAL_CONNECTION,
  idpKey,
  type IdpKey,
  type IdpWebServer,
  OIDC,
  OIDC_CONNECTION,
  SAML,
  SAML_CONNECTION,
  SAML_ENCRYPTION_KEY,
  SAML_VERIFICATION_CERTIFICATE,
  SSO,
  SSO_CONNECTION,
  ssoAuditEvents,
  startIdpWebServer,
} from './sso-connection-fixtures.js';

/**
 * `client.sso.*` connection management through the official SDK: SAML, OIDC and external
 * connections, each answer validated against the contract, and what they do to the organization
 * object (`sso_active_connections`, the default connection, JIT provisioning, search).
 */
const ORGANIZATION = '/v1/b2b/organizations/{organization_id}';
const ORGANIZATIONS_SEARCH = '/v1/b2b/organizations/search';

for (const store of STORES) {
  describe(`client.sso connections (${store.name})`, () => {
    let target: SdkTarget;
    let client: B2BClient;
    let key: IdpKey;
    let rotated: IdpKey;
    let idp: IdpWebServer;

    beforeAll(async () => {
      target = await startSdkTarget(store.name, 'http');
      client = target.client;
      [key, rotated] = await Promise.all([idpKey('idp.example.com'), idpKey('idp-rotated.example.com')]);
      idp = await startIdpWebServer();
    });
    afterAll(async () => {
      await idp?.stop();
      await target?.stop();
    });

    it('creates a pending SAML connection with our signing certificate and its callback URLs, and activates it once the IdP is described', async () => {
      const organization = await createOrganization(client);
      const created = await client.sso.saml.createConnection({ organization_id: organization.organization_slug, display_name: 'Acme Okta', identity_provider: 'okta' });
      expectToMatchResponseSchema('post', SAML, created);
      const connection = created.connection;
      if (connection === undefined) throw new Error('no connection');
      expect(connection.connection_id).toMatch(idPattern('saml-connection'));
      expect(connection).toMatchObject({
        organization_id: organization.organization_id,
        status: 'pending',
        display_name: 'Acme Okta',
        identity_provider: 'okta',
        idp_entity_id: '',
        idp_sso_url: '',
        verification_certificates: [],
        encryption_private_keys: [],
        idp_initiated_auth_disabled: false,
        allow_gateway_callback: false,
        nameid_format: 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress',
      });
      const callback = `${target.server.baseUrl}/v1/b2b/sso/callback/${connection.connection_id}`;
      expect(connection.acs_url).toBe(callback);
      expect(connection.audience_uri).toBe(callback);
      expect(connection.signing_certificates).toHaveLength(1);
      const signing = new X509Certificate(connection.signing_certificates[0]?.certificate ?? '');
      expect(signing.subject).toContain(connection.connection_id);
      expect(signing.publicKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
      expect(connection.signing_certificates[0]?.certificate_id).toMatch(idPattern('saml-signing-key'));

      // Not active before the IdP's entity id, sign-in URL and a certificate are all there.
      const partial = await client.sso.saml.updateConnection({
        organization_id: organization.organization_id,
        connection_id: connection.connection_id,
        idp_entity_id: 'https://idp.example.com/entity',
        idp_sso_url: 'https://idp.example.com/sso',
      });
      expectToMatchResponseSchema('put', SAML_CONNECTION, partial);
      expect(partial.connection?.status).toBe('pending');
      expect((await client.organizations.get({ organization_id: organization.organization_id })).organization.sso_active_connections).toEqual([]);

      const active = await client.sso.saml.updateConnection({ organization_id: organization.organization_id, connection_id: connection.connection_id, x509_certificate: key.certificatePem });
      expectToMatchResponseSchema('put', SAML_CONNECTION, active);
      expect(active.connection?.status).toBe('active');
      expect(active.connection?.verification_certificates).toHaveLength(1);
      expect(active.connection?.verification_certificates[0]).toMatchObject({ certificate: key.certificatePem, issuer: 'CN=idp.example.com' });
      expect(active.connection?.verification_certificates[0]?.certificate_id).toMatch(idPattern('saml-verification-key'));
      // Fields not sent are kept.
      expect(active.connection).toMatchObject({ idp_entity_id: 'https://idp.example.com/entity', idp_sso_url: 'https://idp.example.com/sso', display_name: 'Acme Okta' });

      const fetched = await client.organizations.get({ organization_id: organization.organization_id });
      expectToMatchResponseSchema('get', ORGANIZATION, fetched);
      expect(fetched.organization.sso_active_connections).toEqual([{ connection_id: connection.connection_id, display_name: 'Acme Okta', identity_provider: 'okta' }]);

      const listed = await client.sso.getConnections({ organization_id: organization.organization_id });
      expectToMatchResponseSchema('get', SSO, listed);
      expect(listed.saml_connections.map((each) => each.connection_id)).toEqual([connection.connection_id]);
      expect(listed.oidc_connections).toEqual([]);
      expect(listed.external_connections).toEqual([]);

      const events = await ssoAuditEvents(target.server, organization.organization_id);
      expect(events.map((event) => event.type)).toEqual(['sso.connection_created', 'sso.connection_updated', 'sso.connection_updated']);
      expect(events[2]?.details).toMatchObject({ connection_id: connection.connection_id, fields: ['x509_certificate'], status: 'active' });
      expect(JSON.stringify(events)).not.toContain('BEGIN CERTIFICATE');
    });

    it('keeps up to five verification certificates, adds an identical one once, and never deletes the last one of an active connection', async () => {
      const organization = await createOrganization(client);
      const connection = await activeSamlConnection(client, organization.organization_id, key);
      const connectionId = connection.connection_id;
      const again = await client.sso.saml.updateConnection({ organization_id: organization.organization_id, connection_id: connectionId, x509_certificate: key.certificatePem });
      expect(again.connection?.verification_certificates).toHaveLength(1);
      const both = await client.sso.saml.updateConnection({ organization_id: organization.organization_id, connection_id: connectionId, x509_certificate: rotated.certificatePem });
      const verification = both.connection?.verification_certificates ?? [];
      expect(verification.map((certificate) => certificate.certificate).sort()).toEqual([key.certificatePem, rotated.certificatePem].sort());
      const first = verification.find((certificate) => certificate.certificate === key.certificatePem);
      const second = verification.find((certificate) => certificate.certificate === rotated.certificatePem);
      if (first === undefined || second === undefined) throw new Error('two certificates expected');

      const removed = await client.sso.saml.deleteVerificationCertificate({ organization_id: organization.organization_id, connection_id: connectionId, certificate_id: first.certificate_id });
      expectToMatchResponseSchema('delete', SAML_VERIFICATION_CERTIFICATE, removed);
      expect(removed.certificate_id).toBe(first.certificate_id);
      await expectStytchRejection(
        client.sso.saml.deleteVerificationCertificate({ organization_id: organization.organization_id, connection_id: connectionId, certificate_id: first.certificate_id }),
        { status: 404, errorType: 'sso_verification_key_not_found' },
      );
      await expectStytchRejection(
        client.sso.saml.deleteVerificationCertificate({ organization_id: organization.organization_id, connection_id: connectionId, certificate_id: second.certificate_id }),
        { status: 400, errorType: 'cannot_delete_last_sso_verification_key' },
      );
      // A signing certificate is not a verification certificate.
      await expectStytchRejection(
        client.sso.saml.deleteVerificationCertificate({ organization_id: organization.organization_id, connection_id: connectionId, certificate_id: connection.signing_certificates[0]?.certificate_id ?? '' }),
        { status: 404, errorType: 'sso_verification_key_not_found' },
      );

      const more = await Promise.all([1, 2, 3, 4, 5].map((index) => idpKey(`idp-${index}.example.com`)));
      for (const extra of more.slice(0, 4)) await client.sso.saml.updateConnection({ organization_id: organization.organization_id, connection_id: connectionId, x509_certificate: extra.certificatePem });
      await expectStytchRejection(
        client.sso.saml.updateConnection({ organization_id: organization.organization_id, connection_id: connectionId, x509_certificate: more[4]?.certificatePem ?? '', display_name: 'Not applied' }),
        { status: 400, errorType: 'too_many_sso_verification_certificates' },
      );
      const listed = await client.sso.getConnections({ organization_id: organization.organization_id });
      expect(listed.saml_connections[0]?.verification_certificates).toHaveLength(5);
      expect(listed.saml_connections[0]?.display_name).toBe('Okta');
    });

    it('sets every SAML setting, maps groups before group roles, replaces its signing key and keeps encryption keys redacted', async () => {
      const organization = await createOrganization(client);
      const connection = await activeSamlConnection(client, organization.organization_id, key);
      const connectionId = connection.connection_id;
      const own = { organization_id: organization.organization_id, connection_id: connectionId };

      await expectStytchRejection(
        client.sso.saml.updateConnection({ ...own, attribute_mapping: { email: 'email' }, saml_group_implicit_role_assignments: [{ role_id: 'stytch_admin', group: 'admins' }] }),
        { status: 400, errorType: 'saml_connection_attribute_mapping_missing_groups_key' },
      );
      const updated = await client.sso.saml.updateConnection({
        ...own,
        display_name: 'Entra',
        identity_provider: 'microsoft-entra',
        alternative_audience_uri: 'https://old.example.com/saml/audience',
        alternative_acs_url: 'https://old.example.com/saml/acs',
        nameid_format: 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent',
        idp_initiated_auth_disabled: true,
        allow_gateway_callback: true,
        saml_connection_implicit_role_assignments: [{ role_id: 'stytch_admin' }, { role_id: 'stytch_admin' }],
        saml_group_implicit_role_assignments: [{ role_id: 'stytch_admin', group: 'admins' }],
      });
      expectToMatchResponseSchema('put', SAML_CONNECTION, updated);
      expect(updated.connection).toMatchObject({
        display_name: 'Entra',
        identity_provider: 'microsoft-entra',
        alternative_audience_uri: 'https://old.example.com/saml/audience',
        alternative_acs_url: 'https://old.example.com/saml/acs',
        nameid_format: 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent',
        idp_initiated_auth_disabled: true,
        allow_gateway_callback: true,
        attribute_mapping: { email: 'email', full_name: 'name', groups: 'groups' },
        saml_connection_implicit_role_assignments: [{ role_id: 'stytch_admin' }],
        saml_group_implicit_role_assignments: [{ role_id: 'stytch_admin', group: 'admins' }],
      });
      // The roles live in the organization's settings: session roles read them from there.
      const stored = await target.server.server.store.organizations.findOrganization(organization.organization_id);
      expect(stored?.settings.ssoImplicitRoleAssignments).toEqual([
        { connectionId, roleId: 'stytch_admin' },
        { connectionId, roleId: 'stytch_admin', group: 'admins' },
      ]);
      // With group roles in place, the groups key cannot go.
      await expectStytchRejection(client.sso.saml.updateConnection({ ...own, attribute_mapping: { email: 'email' } }), {
        status: 400,
        errorType: 'saml_connection_attribute_mapping_missing_groups_key',
      });
      // Sending one kind replaces that kind only.
      const cleared = await client.sso.saml.updateConnection({ ...own, saml_connection_implicit_role_assignments: [] });
      expect(cleared.connection?.saml_connection_implicit_role_assignments).toEqual([]);
      expect(cleared.connection?.saml_group_implicit_role_assignments).toEqual([{ role_id: 'stytch_admin', group: 'admins' }]);
      expect((await client.organizations.get({ organization_id: organization.organization_id })).organization.sso_active_connections).toEqual([
        { connection_id: connectionId, display_name: 'Entra', identity_provider: 'microsoft-entra' },
      ]);

      const customer = await idpKey('customer-signing.example.com');
      const resigned = await client.sso.saml.updateConnection({ ...own, signing_private_key: pkcs1(customer.privateKeyPem) });
      expectToMatchResponseSchema('put', SAML_CONNECTION, resigned);
      const signing = resigned.connection?.signing_certificates ?? [];
      expect(signing).toHaveLength(1);
      expect(signing[0]?.certificate_id).not.toBe(connection.signing_certificates[0]?.certificate_id);
      expect(new X509Certificate(signing[0]?.certificate ?? '').publicKey.export({ type: 'spki', format: 'pem' })).toBe(
        new X509Certificate(customer.certificatePem).publicKey.export({ type: 'spki', format: 'pem' }),
      );

      const encrypting = await idpKey('decryption.example.com');
      const withKey = await client.sso.saml.updateConnection({ ...own, saml_encryption_private_key: encrypting.privateKeyPem });
      expectToMatchResponseSchema('put', SAML_CONNECTION, withKey);
      const keys = withKey.connection?.encryption_private_keys ?? [];
      expect(keys).toHaveLength(1);
      expect(keys[0]?.private_key).toBe('REDACTED');
      expect(keys[0]?.private_key_id).toMatch(idPattern('saml-encryption-key'));
      const raw = JSON.stringify(await client.sso.getConnections({ organization_id: organization.organization_id }));
      expect(raw).not.toContain('PRIVATE KEY');
      const keyId = keys[0]?.private_key_id ?? '';
      const deleted = await client.sso.saml.deleteEncryptionPrivateKey({ ...own, private_key_id: keyId });
      expectToMatchResponseSchema('delete', SAML_ENCRYPTION_KEY, deleted);
      expect(deleted.private_key_id).toBe(keyId);
      await expectStytchRejection(client.sso.saml.deleteEncryptionPrivateKey({ ...own, private_key_id: keyId }), { status: 404, errorType: 'saml_encryption_private_key_not_found' });

      // Keys are sealed at rest: no row holds one in clear.
      const certificates = await target.server.server.store.sso.listCertificates(connectionId);
      expect(certificates.every((certificate) => certificate.sealedPrivateKey === null || !certificate.sealedPrivateKey.includes('PRIVATE KEY'))).toBe(true);
      const audit = JSON.stringify(await ssoAuditEvents(target.server, organization.organization_id));
      expect(audit).not.toContain('PRIVATE KEY');
      expect(audit).toContain('signing_private_key');
    });

    it('creates and configures an OIDC connection from its issuer’s discovery document, never answering the client secret', async () => {
      const organization = await createOrganization(client);
      const issuer = idp.url;
      idp.route(
        '/.well-known/openid-configuration',
        answer(
          JSON.stringify({
            issuer,
            authorization_endpoint: `${issuer}/authorize`,
            token_endpoint: `${issuer}/token`,
            userinfo_endpoint: `${issuer}/userinfo`,
            jwks_uri: `${issuer}/jwks`,
          }),
          'application/json',
        ),
      );
      const created = await client.sso.oidc.createConnection({ organization_id: organization.organization_id, display_name: 'Okta OIDC' });
      expectToMatchResponseSchema('post', OIDC, created);
      const connection = created.connection;
      if (connection === undefined) throw new Error('no connection');
      expect(connection.connection_id).toMatch(idPattern('oidc-connection'));
      expect(connection).toMatchObject({ status: 'pending', identity_provider: 'generic', client_id: '', client_secret: '', issuer: '', custom_scopes: '' });
      expect(connection.redirect_url).toBe(`${target.server.baseUrl}/v1/b2b/sso/callback/${connection.connection_id}`);

      const secret = 'client-secret-abcdefghijklmnop-7890';
      const updated = await client.sso.oidc.updateConnection({
        organization_id: organization.organization_id,
        connection_id: connection.connection_id,
        client_id: 'understudy-client',
        client_secret: secret,
        issuer,
        custom_scopes: ' groups   offline_access ',
        attribute_mapping: { email: 'email', groups: 'groups' },
        identity_provider: 'okta',
      });
      expectToMatchResponseSchema('put', OIDC_CONNECTION, updated);
      expect(updated.connection).toMatchObject({
        status: 'active',
        client_id: 'understudy-client',
        client_secret: '********7890',
        issuer,
        authorization_url: `${issuer}/authorize`,
        token_url: `${issuer}/token`,
        userinfo_url: `${issuer}/userinfo`,
        jwks_url: `${issuer}/jwks`,
        custom_scopes: 'groups offline_access',
        attribute_mapping: { email: 'email', groups: 'groups' },
        identity_provider: 'okta',
      });
      const listed = await client.sso.getConnections({ organization_id: organization.organization_id });
      expectToMatchResponseSchema('get', SSO, listed);
      expect(listed.oidc_connections[0]?.client_secret).toBe('********7890');
      expect(JSON.stringify(listed)).not.toContain(secret);
      // Sealed at rest, and never in the audit trail.
      const sealed = await target.server.server.store.sso.findSealedSecrets(connection.connection_id);
      expect(sealed).not.toBeNull();
      expect(sealed).not.toContain(secret);
      const audit = JSON.stringify(await ssoAuditEvents(target.server, organization.organization_id));
      expect(audit).not.toContain(secret);
      expect(audit).toContain('client_secret');

      // Endpoints sent with the issuer are kept as sent; a short secret shows no characters.
      const explicit = await client.sso.oidc.updateConnection({
        organization_id: organization.organization_id,
        connection_id: connection.connection_id,
        issuer,
        authorization_url: 'https://login.example.com/authorize',
        token_url: `${issuer}/token2`,
        jwks_url: `${issuer}/jwks2`,
        userinfo_url: '',
        client_secret: 'short',
      });
      expect(explicit.connection).toMatchObject({ authorization_url: 'https://login.example.com/authorize', token_url: `${issuer}/token2`, userinfo_url: '', client_secret: '********' });
      // An active connection's required values cannot be emptied.
      await expectStytchRejection(client.sso.oidc.updateConnection({ organization_id: organization.organization_id, connection_id: connection.connection_id, client_id: '' }), {
        status: 400,
        errorType: 'oidc_connection_client_id_required',
      });
      expect((await client.organizations.get({ organization_id: organization.organization_id })).organization.sso_active_connections).toEqual([
        { connection_id: connection.connection_id, display_name: 'Okta OIDC', identity_provider: 'okta' },
      ]);
    });

    it('refuses an issuer whose discovery document names another issuer, changing nothing', async () => {
      const organization = await createOrganization(client);
      idp.route('/liar/.well-known/openid-configuration', answer(JSON.stringify({ issuer: 'https://someone-else.example.com', authorization_endpoint: 'https://a', token_endpoint: 'https://b', jwks_uri: 'https://c' }), 'application/json'));
      const created = await client.sso.oidc.createConnection({ organization_id: organization.organization_id });
      const connectionId = created.connection?.connection_id ?? '';
      await expectStytchRejection(
        client.sso.oidc.updateConnection({ organization_id: organization.organization_id, connection_id: connectionId, issuer: `${idp.url}/liar`, client_id: 'kept-out' }),
        { status: 400, errorType: 'invalid_issuer' },
      );
      await expectStytchRejection(
        client.sso.oidc.updateConnection({ organization_id: organization.organization_id, connection_id: connectionId, issuer: `${idp.url}/nothing-here` }),
        { status: 400, errorType: 'invalid_issuer' },
      );
      const listed = await client.sso.getConnections({ organization_id: organization.organization_id });
      expect(listed.oidc_connections[0]).toMatchObject({ issuer: '', client_id: '', status: 'pending' });
    });

    it('lends an active connection to another organization as an external connection, and lists it with its roles', async () => {
      const owner = await createOrganization(client, 'Owner');
      const borrower = await createOrganization(client, 'Borrower');
      const source = await activeSamlConnection(client, owner.organization_id, key, 'Owner IdP');
      const pending = (await client.sso.oidc.createConnection({ organization_id: owner.organization_id })).connection?.connection_id ?? '';

      await expectStytchRejection(
        client.sso.external.createConnection({ organization_id: borrower.organization_id, external_organization_id: owner.organization_id, external_connection_id: pending }),
        { status: 400, errorType: 'external_connection_not_active' },
      );
      await expectStytchRejection(
        client.sso.external.createConnection({ organization_id: owner.organization_id, external_organization_id: owner.organization_slug, external_connection_id: source.connection_id }),
        { status: 400, errorType: 'external_organization_id_same_as_organization_id' },
      );
      // The connection must be the named organization's.
      const third = await createOrganization(client, 'Third');
      await expectStytchRejection(
        client.sso.external.createConnection({ organization_id: borrower.organization_id, external_organization_id: third.organization_id, external_connection_id: source.connection_id }),
        { status: 404, errorType: 'external_connection_id_not_found' },
      );

      const created = await client.sso.external.createConnection({
        organization_id: borrower.organization_id,
        external_organization_id: owner.organization_slug,
        external_connection_id: source.connection_id,
        display_name: 'Borrowed Okta',
        connection_implicit_role_assignments: [{ role_id: 'stytch_admin' }],
        group_implicit_role_assignments: [{ role_id: 'stytch_admin', group: 'engineering' }],
      });
      expectToMatchResponseSchema('post', EXTERNAL, created);
      const external = created.connection;
      if (external === undefined) throw new Error('no connection');
      expect(external.connection_id).toMatch(idPattern('external-connection'));
      expect(external).toEqual({
        organization_id: borrower.organization_id,
        connection_id: external.connection_id,
        external_organization_id: owner.organization_id,
        external_connection_id: source.connection_id,
        display_name: 'Borrowed Okta',
        status: 'active',
        external_connection_implicit_role_assignments: [{ role_id: 'stytch_admin' }],
        external_group_implicit_role_assignments: [{ role_id: 'stytch_admin', group: 'engineering' }],
      });
      await expectStytchRejection(
        client.sso.external.createConnection({ organization_id: borrower.organization_id, external_organization_id: owner.organization_id, external_connection_id: source.connection_id }),
        { status: 400, errorType: 'duplicate_external_sso_connection' },
      );

      const updated = await client.sso.external.updateConnection({
        organization_id: borrower.organization_id,
        connection_id: external.connection_id,
        display_name: 'Renamed',
        external_connection_implicit_role_assignments: [],
      });
      expectToMatchResponseSchema('put', EXTERNAL_CONNECTION, updated);
      expect(updated.connection).toMatchObject({ display_name: 'Renamed', external_connection_implicit_role_assignments: [], external_group_implicit_role_assignments: [{ role_id: 'stytch_admin', group: 'engineering' }] });

      const listed = await client.sso.getConnections({ organization_id: borrower.organization_id });
      expectToMatchResponseSchema('get', SSO, listed);
      expect(listed.external_connections).toEqual([updated.connection]);
      expect((await client.organizations.get({ organization_id: borrower.organization_id })).organization.sso_active_connections).toEqual([
        { connection_id: external.connection_id, display_name: 'Renamed', identity_provider: 'okta' },
      ]);
      // The source's identity provider is what the borrower's organization shows.
      await client.sso.saml.updateConnection({ organization_id: owner.organization_id, connection_id: source.connection_id, identity_provider: 'onelogin' });
      expect((await client.organizations.get({ organization_id: borrower.organization_id })).organization.sso_active_connections).toEqual([
        { connection_id: external.connection_id, display_name: 'Renamed', identity_provider: 'onelogin' },
      ]);

      // The borrowing organization may end the borrowing itself.
      const removed = await client.sso.deleteConnection({ organization_id: borrower.organization_id, connection_id: external.connection_id });
      expectToMatchResponseSchema('delete', SSO_CONNECTION, removed);
      expect(removed.connection_id).toBe(external.connection_id);
      const after = await client.organizations.get({ organization_id: borrower.organization_id });
      expect(after.organization.sso_active_connections).toEqual([]);
      const settings = (await target.server.server.store.organizations.findOrganization(borrower.organization_id))?.settings;
      expect(settings?.ssoImplicitRoleAssignments).toEqual([]);
      const deletedSource = await client.sso.deleteConnection({ organization_id: owner.organization_id, connection_id: source.connection_id });
      expect(deletedSource.connection_id).toBe(source.connection_id);
      expect(await target.server.server.store.sso.listCertificates(source.connection_id)).toEqual([]);
    });

    it('deletes an organization’s connections with it, and the external connections other organizations made of them', async () => {
      const owner = await createOrganization(client, 'Leaving');
      const borrower = await createOrganization(client, 'Staying');
      const source = await activeSamlConnection(client, owner.organization_id, key);
      const external = (
        await client.sso.external.createConnection({
          organization_id: borrower.organization_id,
          external_organization_id: owner.organization_id,
          external_connection_id: source.connection_id,
          connection_implicit_role_assignments: [{ role_id: 'stytch_admin' }],
        })
      ).connection;
      await client.organizations.update({ organization_id: borrower.organization_id, sso_jit_provisioning: 'RESTRICTED', sso_jit_provisioning_allowed_connections: [external?.connection_id ?? ''] });
      await client.organizations.delete({ organization_id: owner.organization_id });
      expect(await target.server.server.store.sso.findConnection(source.connection_id)).toBeUndefined();
      expect(await target.server.server.store.sso.listCertificates(source.connection_id)).toEqual([]);
      const listed = await client.sso.getConnections({ organization_id: borrower.organization_id });
      expect(listed.external_connections).toEqual([]);
      const after = await client.organizations.get({ organization_id: borrower.organization_id });
      expect(after.organization).toMatchObject({ sso_active_connections: [], sso_jit_provisioning_allowed_connections: [] });
      const events = await ssoAuditEvents(target.server, borrower.organization_id);
      expect(events.filter((event) => event.type === 'sso.connection_deleted').map((event) => event.details)).toEqual([
        expect.objectContaining({ connection_id: external?.connection_id, why: 'external_organization_deleted' }),
      ]);
    });

    it('takes the organization’s own connections as sso_default_connection_id and JIT connections, and finds organizations by them', async () => {
      const organization = await createOrganization(client);
      const other = await createOrganization(client);
      const saml = await activeSamlConnection(client, organization.organization_id, key);
      const oidc = (await client.sso.oidc.createConnection({ organization_id: organization.organization_id })).connection?.connection_id ?? '';
      const foreign = await activeSamlConnection(client, other.organization_id, key);

      await expectStytchRejection(client.organizations.update({ organization_id: organization.organization_id, sso_default_connection_id: foreign.connection_id }), {
        status: 400,
        errorType: 'invalid_sso_default_connection_id',
      });
      await expectStytchRejection(client.organizations.update({ organization_id: organization.organization_id, sso_jit_provisioning_allowed_connections: [saml.connection_id, foreign.connection_id] }), {
        status: 400,
        errorType: 'invalid_connection_for_jit_provisioning',
      });
      await expectStytchRejection(client.organizations.update({ organization_id: organization.organization_id, sso_jit_provisioning: 'RESTRICTED' }), {
        status: 400,
        errorType: 'invalid_restricted_sso_setting',
      });
      await expectStytchRejection(client.organizations.create({ organization_name: 'Nope', sso_jit_provisioning: 'RESTRICTED' }), { status: 400, errorType: 'invalid_restricted_sso_setting' });
      // A new organization has no connections: not even its creator's other organization's.
      await expectStytchRejection(client.organizations.create({ organization_name: 'Nope', sso_default_connection_id: saml.connection_id } as never), {
        status: 400,
        errorType: 'invalid_sso_default_connection_id',
      });

      const updated = await client.organizations.update({
        organization_id: organization.organization_id,
        sso_default_connection_id: saml.connection_id,
        sso_jit_provisioning: 'RESTRICTED',
        sso_jit_provisioning_allowed_connections: [saml.connection_id, oidc],
      });
      expectToMatchResponseSchema('put', ORGANIZATION, updated);
      expect(updated.organization).toMatchObject({ sso_default_connection_id: saml.connection_id, sso_jit_provisioning: 'RESTRICTED', sso_jit_provisioning_allowed_connections: [saml.connection_id, oidc] });

      await expectStytchRejection(client.sso.deleteConnection({ organization_id: organization.organization_id, connection_id: saml.connection_id }), {
        status: 400,
        errorType: 'cannot_delete_default_sso_connection',
      });
      // Deleting a JIT connection takes it off the list.
      await client.sso.deleteConnection({ organization_id: organization.organization_id, connection_id: oidc });
      expect((await client.organizations.get({ organization_id: organization.organization_id })).organization.sso_jit_provisioning_allowed_connections).toEqual([saml.connection_id]);

      const search = async (operands: { filter_name: string; filter_value: unknown }[]) => {
        const response = await client.organizations.search({ query: { operator: 'AND', operands: [{ filter_name: 'organization_ids', filter_value: [organization.organization_id, other.organization_id] }, ...operands] } as never });
        expectToMatchResponseSchema('post', ORGANIZATIONS_SEARCH, response);
        return response.organizations.map((each) => each.organization_id).sort();
      };
      expect(await search([{ filter_name: 'sso_connection_id', filter_value: saml.connection_id }])).toEqual([organization.organization_id]);
      expect(await search([{ filter_name: 'has_active_sso_connection', filter_value: true }])).toEqual([organization.organization_id, other.organization_id].sort());
      await client.sso.deleteConnection({ organization_id: other.organization_id, connection_id: foreign.connection_id });
      expect(await search([{ filter_name: 'has_active_sso_connection', filter_value: false }])).toEqual([other.organization_id]);

      const cleared = await client.organizations.update({ organization_id: organization.organization_id, sso_default_connection_id: '' });
      expect(cleared.organization.sso_default_connection_id).toBeNull();
    });
  });
}

/** A PKCS#8 RSA key as PKCS#1 (`BEGIN RSA PRIVATE KEY`), the form Stytch documents for signing_private_key. */
function pkcs1(pkcs8Pem: string): string {
  return createPrivateKey(pkcs8Pem).export({ type: 'pkcs1', format: 'pem' }).toString();
}
