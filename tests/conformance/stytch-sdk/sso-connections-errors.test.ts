import type { B2BClient, Organization } from 'stytch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyProjectRoles, openWriteProbe, startMemberSession, type WriteProbe } from '../../support/member-session-cast.js';
import { expectStytchRejection, expectToMatchResponseSchema } from '../../support/openapi.js';
import { startSdkTarget, type SdkTarget } from '../../support/sdk-targets.js';
import { STORES } from '../../support/stores.js';
import { uniqueSuffix } from '../../support/wire-formats.js';
import { activeSamlConnection, createOrganization, idpKey, type IdpKey, SAML, SSO } from './sso-connection-fixtures.js';

/**
 * `client.sso.*` refused with Stytch's error types, each refusal proved to have written nothing:
 * another organization's connection, unknown ids, bad certificates, URLs, identity providers and
 * roles, the connection limit, and member sessions without the stytch.sso permission.
 */
const SAML_NOT_FOUND = { status: 404, errorType: 'saml_connection_not_found' } as const;
const OIDC_NOT_FOUND = { status: 404, errorType: 'oidc_connection_not_found' } as const;
const SSO_NOT_FOUND = { status: 404, errorType: 'sso_connection_not_found' } as const;
const DENIED = { status: 403, errorType: 'session_authorization_error' } as const;
const OTHER_TENANT = { status: 403, errorType: 'session_authorization_tenancy_error' } as const;

for (const store of STORES) {
  describe(`client.sso connection errors (${store.name})`, () => {
    let target: SdkTarget;
    let client: B2BClient;
    let probe: WriteProbe;
    let key: IdpKey;
    /** An organization with one connection of each kind, whose ids the other organization tries. */
    let victim: Organization;
    let victimSaml: string;
    let victimOidc: string;
    let victimExternal: string;
    let victimCertificate: string;
    let attacker: Organization;

    beforeAll(async () => {
      target = await startSdkTarget(store.name, 'http');
      client = target.client;
      probe = await openWriteProbe(target.server);
      key = await idpKey();
      victim = await createOrganization(client, 'Victim');
      attacker = await createOrganization(client, 'Attacker');
      const saml = await activeSamlConnection(client, victim.organization_id, key);
      victimSaml = saml.connection_id;
      victimCertificate = saml.verification_certificates[0]?.certificate_id ?? '';
      victimOidc = (await client.sso.oidc.createConnection({ organization_id: victim.organization_id })).connection?.connection_id ?? '';
      const lender = await createOrganization(client, 'Lender');
      const lent = await activeSamlConnection(client, lender.organization_id, key);
      victimExternal =
        (await client.sso.external.createConnection({ organization_id: victim.organization_id, external_organization_id: lender.organization_id, external_connection_id: lent.connection_id }))
          .connection?.connection_id ?? '';
    });
    afterAll(async () => {
      await probe?.close();
      await target?.stop();
    });

    it('answers another organization’s connection ids exactly as unknown ones, for every operation, writing nothing', async () => {
      const org = attacker.organization_id;
      const cases: [() => Promise<unknown>, { status: number; errorType: string }][] = [
        [() => client.sso.saml.updateConnection({ organization_id: org, connection_id: victimSaml, display_name: 'taken' }), SAML_NOT_FOUND],
        [() => client.sso.saml.updateConnection({ organization_id: org, connection_id: 'saml-connection-test-00000000-0000-4000-8000-000000000000' }), SAML_NOT_FOUND],
        [() => client.sso.saml.updateConnection({ organization_id: victim.organization_id, connection_id: victimOidc, display_name: 'wrong kind' }), SAML_NOT_FOUND],
        [() => client.sso.saml.updateByURL({ organization_id: org, connection_id: victimSaml, metadata_url: 'https://idp.example.com/metadata' }), SAML_NOT_FOUND],
        [() => client.sso.saml.deleteVerificationCertificate({ organization_id: org, connection_id: victimSaml, certificate_id: victimCertificate }), SAML_NOT_FOUND],
        [() => client.sso.saml.deleteEncryptionPrivateKey({ organization_id: org, connection_id: victimSaml, private_key_id: 'saml-encryption-key-test-x' }), SAML_NOT_FOUND],
        [() => client.sso.oidc.updateConnection({ organization_id: org, connection_id: victimOidc, client_id: 'taken' }), OIDC_NOT_FOUND],
        [() => client.sso.oidc.updateConnection({ organization_id: org, connection_id: victimOidc, issuer: 'https://idp.example.com' }), OIDC_NOT_FOUND],
        [() => client.sso.external.updateConnection({ organization_id: org, connection_id: victimExternal, display_name: 'taken' }), SSO_NOT_FOUND],
        [() => client.sso.deleteConnection({ organization_id: org, connection_id: victimSaml }), SSO_NOT_FOUND],
        [() => client.sso.deleteConnection({ organization_id: org, connection_id: victimExternal }), SSO_NOT_FOUND],
        [() => client.sso.deleteConnection({ organization_id: org, connection_id: 'nope' }), SSO_NOT_FOUND],
        [() => client.sso.getConnections({ organization_id: 'organization-test-00000000-0000-4000-8000-000000000000' }), { status: 404, errorType: 'organization_not_found' }],
        [() => client.sso.saml.createConnection({ organization_id: 'no-such-organization' }), { status: 404, errorType: 'organization_not_found' }],
      ];
      for (const [call, expected] of cases) await probe.expectNothingWritten(() => expectStytchRejection(call(), expected));
      const listed = await client.sso.getConnections({ organization_id: victim.organization_id });
      expect(listed.saml_connections[0]).toMatchObject({ connection_id: victimSaml, display_name: 'Okta', status: 'active' });
      expect(listed.saml_connections[0]?.verification_certificates).toHaveLength(1);
      expect(listed.oidc_connections[0]).toMatchObject({ connection_id: victimOidc, client_id: '' });
      expect(listed.external_connections.map((each) => each.connection_id)).toEqual([victimExternal]);
    });

    it('refuses bad certificates, URLs, identity providers, names, mappings, keys and roles, writing nothing', async () => {
      const org = victim.organization_id;
      const saml = (fields: Record<string, unknown>) => () => client.sso.saml.updateConnection({ organization_id: org, connection_id: victimSaml, ...fields });
      const oidc = (fields: Record<string, unknown>) => () => client.sso.oidc.updateConnection({ organization_id: org, connection_id: victimOidc, ...fields });
      const weak = (await import('node:crypto')).generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
      const ec = (await import('node:crypto')).generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
      const cases: [() => Promise<unknown>, string][] = [
        [saml({ x509_certificate: 'not a certificate' }), 'invalid_x509_certificate'],
        [saml({ x509_certificate: `${key.certificatePem}${key.certificatePem}` }), 'invalid_x509_certificate'],
        [saml({ idp_sso_url: 'not a url' }), 'saml_connection_idp_sso_url_invalid_format'],
        [saml({ idp_sso_url: 'javascript:alert(1)' }), 'saml_connection_idp_sso_url_invalid_format'],
        [saml({ idp_sso_url: 'http://idp.example.com/sso' }), 'saml_connection_idp_sso_url_not_https'],
        [saml({ idp_sso_url: '' }), 'saml_connection_idp_sso_url_invalid_format'],
        [saml({ idp_entity_id: '' }), 'invalid_idp_entity_id'],
        [saml({ identity_provider: 'myspace' }), 'invalid_sso_idp'],
        [saml({ display_name: 'x'.repeat(257) }), 'invalid_display_name'],
        [saml({ attribute_mapping: { email: { nested: 'no' } } }), 'saml_connection_no_nested_keys_in_attribute_mapping'],
        [saml({ signing_private_key: 'not a key' }), 'saml_signing_private_key_invalid'],
        [saml({ signing_private_key: weak }), 'saml_signing_private_key_invalid'],
        [saml({ signing_private_key: ec }), 'saml_signing_private_key_invalid'],
        [saml({ saml_encryption_private_key: 'not a key' }), 'saml_encryption_private_key_invalid'],
        [saml({ saml_connection_implicit_role_assignments: [{ role_id: 'no-such-role' }] }), 'invalid_rbac_role_id'],
        [saml({ saml_connection_implicit_role_assignments: [{ role_id: 'stytch_member' }] }), 'cannot_assign_default_rbac_role_id'],
        [saml({ alternative_acs_url: 'ftp://old.example.com' }), 'invalid_sso_connection_setting'],
        [oidc({ issuer: 'not a url' }), 'oidc_connection_issuer_url_invalid_format'],
        [oidc({ issuer: 'http://idp.example.com' }), 'oidc_connection_issuer_url_invalid_format'],
        [oidc({ authorization_url: 'http://idp.example.com/authorize' }), 'oidc_connection_authorization_url_invalid_format'],
        [oidc({ token_url: 'https://user:pass@idp.example.com/token' }), 'oidc_connection_token_url_invalid_format'],
        [oidc({ jwks_url: 'nope' }), 'oidc_connection_jwks_url_invalid_format'],
        [oidc({ userinfo_url: 'file:///etc/passwd' }), 'oidc_connection_userinfo_url_invalid_format'],
        [oidc({ client_secret: 's'.repeat(1025) }), 'client_secret_too_long'],
        [oidc({ client_secret: '' }), 'oidc_connection_client_secret_required'],
        [oidc({ identity_provider: '' }), 'invalid_sso_idp'],
        [() => client.sso.oidc.createConnection({ organization_id: org, identity_provider: 'friendster' }), 'invalid_sso_idp'],
        [() => client.sso.saml.createConnection({ organization_id: org, display_name: 'x'.repeat(257) }), 'invalid_display_name'],
      ];
      for (const [call, errorType] of cases) await probe.expectNothingWritten(() => expectStytchRejection(call(), { status: 400, errorType }));
    });

    it('allows at most 50 connections to an organization', async () => {
      const organization = await createOrganization(client, 'Crowded');
      for (let index = 0; index < 50; index += 1) await client.sso.oidc.createConnection({ organization_id: organization.organization_id, display_name: `Connection ${index}` });
      await probe.expectNothingWritten(() =>
        expectStytchRejection(client.sso.saml.createConnection({ organization_id: organization.organization_id }), { status: 400, errorType: 'too_many_sso_connections' }),
      );
      const listed = await client.sso.getConnections({ organization_id: organization.organization_id });
      expect(listed.oidc_connections).toHaveLength(50);
    });

    it('lets member sessions manage connections only with the stytch.sso action the call needs, in their own organization', async () => {
      const server = target.server;
      const roleFor = await applyProjectRoles(server, [[['stytch.sso', 'get']], [['stytch.sso', 'create'], ['stytch.sso', 'update'], ['stytch.sso', 'delete']]]);
      const suffix = uniqueSuffix();
      const add = async (local: string, roles: string[]) =>
        (await client.organizations.members.create({ organization_id: victim.organization_id, email_address: `${local}-${suffix}@example.org`, roles })).member;
      const plain = await startMemberSession(server, await add('plain', []));
      const reader = await startMemberSession(server, await add('reader', [roleFor([['stytch.sso', 'get']])]));
      const editor = await startMemberSession(server, await add('editor', [roleFor([['stytch.sso', 'create'], ['stytch.sso', 'update'], ['stytch.sso', 'delete']])]));
      const admin = await startMemberSession(server, await add('admin', ['stytch_admin']));
      const as = (session: { sessionToken: string }) => ({ authorization: { session_token: session.sessionToken } });
      const org = victim.organization_id;

      await probe.expectNothingWritten(() => expectStytchRejection(client.sso.getConnections({ organization_id: org }, as(plain)), DENIED));
      await probe.expectNothingWritten(() => expectStytchRejection(client.sso.saml.createConnection({ organization_id: org }, as(reader)), DENIED));
      await probe.expectNothingWritten(() => expectStytchRejection(client.sso.deleteConnection({ organization_id: org, connection_id: victimOidc }, as(reader)), DENIED));
      await probe.expectNothingWritten(() => expectStytchRejection(client.sso.getConnections({ organization_id: attacker.organization_id }, as(admin)), OTHER_TENANT));
      // Implicit roles give roles: the editor may change the connection, but not hand out stytch_admin through it.
      await probe.expectNothingWritten(() =>
        expectStytchRejection(client.sso.saml.updateConnection({ organization_id: org, connection_id: victimSaml, saml_connection_implicit_role_assignments: [{ role_id: 'stytch_admin' }] }, as(editor)), DENIED),
      );

      const read = await client.sso.getConnections({ organization_id: victim.organization_slug }, as(reader));
      expectToMatchResponseSchema('get', SSO, read);
      expect(read.saml_connections.map((each) => each.connection_id)).toEqual([victimSaml]);
      const created = await client.sso.saml.createConnection({ organization_id: org, display_name: 'By the editor' }, as(editor));
      expectToMatchResponseSchema('post', SAML, created);
      const renamed = await client.sso.saml.updateConnection({ organization_id: org, connection_id: created.connection?.connection_id ?? '', display_name: 'Renamed' }, as(editor));
      expect(renamed.connection?.display_name).toBe('Renamed');
      const withRoles = await client.sso.saml.updateConnection(
        { organization_id: org, connection_id: created.connection?.connection_id ?? '', saml_connection_implicit_role_assignments: [{ role_id: 'stytch_admin' }] },
        as(admin),
      );
      expect(withRoles.connection?.saml_connection_implicit_role_assignments).toEqual([{ role_id: 'stytch_admin' }]);
      // Sending the assignments it already has gives nobody anything new.
      const same = await client.sso.saml.updateConnection(
        { organization_id: org, connection_id: created.connection?.connection_id ?? '', saml_connection_implicit_role_assignments: [{ role_id: 'stytch_admin' }], display_name: 'Same roles' },
        as(editor),
      );
      expect(same.connection?.display_name).toBe('Same roles');
      const deleted = await client.sso.deleteConnection({ organization_id: org, connection_id: created.connection?.connection_id ?? '' }, as(editor));
      expect(deleted.connection_id).toBe(created.connection?.connection_id);
    });
  });
}
