import type { B2BClient, Organization } from 'stytch';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { applyProjectRoles, openWriteProbe, startMemberSession, type StartedSession, type WriteProbe } from '../../support/member-session-cast.js';
import { expectStytchRejection } from '../../support/openapi.js';
import { startSdkTarget, type SdkTarget } from '../../support/sdk-targets.js';
import { STORES } from '../../support/stores.js';
import { mintSsoToken } from '../../support/sso-tokens.js';
import { uniqueSuffix } from '../../support/wire-formats.js';
import {
  activeSamlConnection,
  answer,
  createOrganization,
  idpKey,
  type IdpKey,
  idpMetadata,
  type IdpWebServer,
  ssoAuditEvents,
  startIdpWebServer,
} from './sso-connection-fixtures.js';

/**
 * Member sessions managing SSO connections: what gives roles needs `stytch.member`
 * `update.settings.roles` on top of the stytch.sso action (an implicit assignment the connection
 * does not hold, of the same kind; a change of what the connection trusts, which lets its author
 * sign in as any member), and lending a connection to another organization is the project's
 * backend's alone, the lender told and named in refusals.
 */
const DENIED = { status: 403, errorType: 'session_authorization_error' } as const;
const SSO_EDITOR: readonly (readonly [string, string])[] = [
  ['stytch.sso', 'create'],
  ['stytch.sso', 'update'],
  ['stytch.sso', 'delete'],
  ['stytch.sso', 'get'],
];
const TRUSTED_EDITOR = [...SSO_EDITOR, ['stytch.member', 'update.settings.roles']] as const;

for (const store of STORES) {
  describe(`client.sso with member sessions (${store.name})`, () => {
    let target: SdkTarget;
    let client: B2BClient;
    let probe: WriteProbe;
    let key: IdpKey;
    let idp: IdpWebServer;
    let organization: Organization;
    let editor: StartedSession;
    let trusted: StartedSession;
    let admin: StartedSession;
    const as = (session: StartedSession) => ({ authorization: { session_token: session.sessionToken } });

    beforeAll(async () => {
      target = await startSdkTarget(store.name, 'http');
      client = target.client;
      probe = await openWriteProbe(target.server);
      key = await idpKey();
      idp = await startIdpWebServer();
      organization = await createOrganization(client, 'Guarded');
      const roleFor = await applyProjectRoles(target.server, [SSO_EDITOR, TRUSTED_EDITOR]);
      const suffix = uniqueSuffix();
      const add = async (local: string, roles: string[]) =>
        (await client.organizations.members.create({ organization_id: organization.organization_id, email_address: `${local}-${suffix}@example.org`, roles })).member;
      editor = await startMemberSession(target.server, await add('editor', [roleFor(SSO_EDITOR)]));
      trusted = await startMemberSession(target.server, await add('trusted', [roleFor(TRUSTED_EDITOR)]));
      admin = await startMemberSession(target.server, await add('admin', ['stytch_admin']));
    });
    afterAll(async () => {
      await probe?.close();
      await idp?.stop();
      await target?.stop();
    });

    async function assignments(connectionId: string) {
      const listed = await client.sso.getConnections({ organization_id: organization.organization_id });
      const saml = listed.saml_connections.find((each) => each.connection_id === connectionId);
      if (saml !== undefined) return { connection: saml.saml_connection_implicit_role_assignments, group: saml.saml_group_implicit_role_assignments };
      const external = listed.external_connections.find((each) => each.connection_id === connectionId);
      return { connection: external?.external_connection_implicit_role_assignments, group: external?.external_group_implicit_role_assignments };
    }

    it('never turns a group’s role into everyone’s: a connection-wide entry is compared with connection-wide assignments only', async () => {
      const org = organization.organization_id;
      const saml = await activeSamlConnection(client, org, key);
      await client.sso.saml.updateConnection({ organization_id: org, connection_id: saml.connection_id, saml_group_implicit_role_assignments: [{ role_id: 'stytch_admin', group: 'admins' }] });
      // The group rides along in the connection-wide field (the schema lets extra properties through; the service drops them).
      const smuggled = [{ role_id: 'stytch_admin', group: 'admins' }];
      await probe.expectNothingWritten(() =>
        expectStytchRejection(client.sso.saml.updateConnection({ organization_id: org, connection_id: saml.connection_id, saml_connection_implicit_role_assignments: smuggled }, as(editor)), DENIED),
      );
      expect(await assignments(saml.connection_id)).toEqual({ connection: [], group: [{ role_id: 'stytch_admin', group: 'admins' }] });
      // The group assignment it holds, sent again as a group assignment, gives nothing new.
      const same = await client.sso.saml.updateConnection(
        { organization_id: org, connection_id: saml.connection_id, saml_group_implicit_role_assignments: [{ role_id: 'stytch_admin', group: 'admins' }], display_name: 'Same roles' },
        as(editor),
      );
      expect(same.connection?.display_name).toBe('Same roles');

      // The same through an external connection of the organization (the project's backend lends it).
      const lender = await createOrganization(client, 'Lender');
      const lent = await activeSamlConnection(client, lender.organization_id, key);
      const external = await client.sso.external.createConnection({
        organization_id: org,
        external_organization_id: lender.organization_id,
        external_connection_id: lent.connection_id,
        group_implicit_role_assignments: [{ role_id: 'stytch_admin', group: 'admins' }],
      });
      const externalId = external.connection?.connection_id ?? '';
      await probe.expectNothingWritten(() =>
        expectStytchRejection(
          client.sso.external.updateConnection({ organization_id: org, connection_id: externalId, external_connection_implicit_role_assignments: smuggled }, as(editor)),
          DENIED,
        ),
      );
      expect(await assignments(externalId)).toEqual({ connection: [], group: [{ role_id: 'stytch_admin', group: 'admins' }] });
      await client.sso.deleteConnection({ organization_id: org, connection_id: externalId });
      await client.sso.deleteConnection({ organization_id: lender.organization_id, connection_id: lent.connection_id });
    });

    it('decides again in the update’s transaction: an assignment removed while the call was authorized is not put back', async () => {
      const org = organization.organization_id;
      const saml = await activeSamlConnection(client, org, key, 'Raced');
      await client.sso.saml.updateConnection({ organization_id: org, connection_id: saml.connection_id, saml_connection_implicit_role_assignments: [{ role_id: 'stytch_admin' }] });
      const organizations = target.server.server.app.services.organizations;
      const stale = await organizations.get(org);
      // An admin takes the role away; the editor's call is authorized on the organization as it was read before.
      await client.sso.saml.updateConnection({ organization_id: org, connection_id: saml.connection_id, saml_connection_implicit_role_assignments: [] });
      const original = organizations.get.bind(organizations);
      const spy = vi.spyOn(organizations, 'get').mockImplementation(async (reference) => (reference === org ? stale : original(reference)));
      try {
        await probe.expectNothingWritten(() =>
          expectStytchRejection(
            client.sso.saml.updateConnection({ organization_id: org, connection_id: saml.connection_id, saml_connection_implicit_role_assignments: [{ role_id: 'stytch_admin' }] }, as(editor)),
            DENIED,
          ),
        );
        expect(spy).toHaveBeenCalled();
      } finally {
        spy.mockRestore();
      }
      expect((await assignments(saml.connection_id)).connection).toEqual([]);
    });

    it('needs update.settings.roles to change what a SAML connection trusts, pending or active; other fields need only stytch.sso update', async () => {
      const org = organization.organization_id;
      const saml = await activeSamlConnection(client, org, key, 'Trusted SAML');
      const attacker = await idpKey('attacker.example.com');
      idp.route('/attacker/metadata', answer(idpMetadata({ entityId: 'https://attacker.example.com', ssoUrl: 'https://attacker.example.com/sso', certificates: [attacker.certificatePem] })));
      const update = (fields: Record<string, unknown>) => () => client.sso.saml.updateConnection({ organization_id: org, connection_id: saml.connection_id, ...fields }, as(editor));
      const trustChanges: [string, () => Promise<unknown>][] = [
        ['x509_certificate', update({ x509_certificate: attacker.certificatePem })],
        ['idp_entity_id', update({ idp_entity_id: 'https://attacker.example.com' })],
        ['idp_sso_url', update({ idp_sso_url: 'https://attacker.example.com/sso' })],
        ['alternative_audience_uri', update({ alternative_audience_uri: 'https://attacker.example.com/audience' })],
        ['alternative_acs_url', update({ alternative_acs_url: 'https://attacker.example.com/acs' })],
        ['attribute_mapping groups', update({ attribute_mapping: { email: 'email', full_name: 'name', groups: 'department' } })],
        ['attribute_mapping email', update({ attribute_mapping: { email: 'nickname', full_name: 'name', groups: 'groups' } })],
        ['updateByURL', () => client.sso.saml.updateByURL({ organization_id: org, connection_id: saml.connection_id, metadata_url: `${idp.url}/attacker/metadata` }, as(editor))],
      ];
      for (const [field, call] of trustChanges) {
        await probe.expectNothingWritten(() => expectStytchRejection(call(), DENIED).then((error) => expect(error.error_message, field).toContain('stytch.member:update.settings.roles')));
      }
      const listed = (await client.sso.getConnections({ organization_id: org })).saml_connections.find((each) => each.connection_id === saml.connection_id);
      expect(listed).toMatchObject({ idp_entity_id: saml.idp_entity_id, idp_sso_url: 'https://idp.example.com/sso', attribute_mapping: { email: 'email', full_name: 'name', groups: 'groups' } });
      expect(listed?.verification_certificates.map((each) => each.certificate)).toEqual([key.certificatePem]);

      // What does not decide whom the connection believes needs only stytch.sso update.
      const renamed = await update({ display_name: 'Renamed', identity_provider: 'okta', nameid_format: 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent', attribute_mapping: { email: 'email', full_name: 'displayName', groups: 'groups' } })();
      expect(renamed).toMatchObject({ connection: { display_name: 'Renamed', attribute_mapping: { email: 'email', full_name: 'displayName', groups: 'groups' } } });

      // A pending connection becomes active by exactly these fields.
      const pending = (await client.sso.saml.createConnection({ organization_id: org, display_name: 'Editor’s own' }, as(editor))).connection?.connection_id ?? '';
      await probe.expectNothingWritten(() =>
        expectStytchRejection(client.sso.saml.updateConnection({ organization_id: org, connection_id: pending, idp_entity_id: 'https://attacker.example.com', idp_sso_url: 'https://attacker.example.com/sso', x509_certificate: attacker.certificatePem }, as(editor)), DENIED),
      );

      // With update.settings.roles, or the project secret, the same changes go through.
      const rotated = await client.sso.saml.updateConnection({ organization_id: org, connection_id: saml.connection_id, x509_certificate: attacker.certificatePem }, as(trusted));
      expect(rotated.connection?.verification_certificates).toHaveLength(2);
      const byUrl = await client.sso.saml.updateByURL({ organization_id: org, connection_id: pending, metadata_url: `${idp.url}/attacker/metadata` }, as(trusted));
      expect(byUrl.connection).toMatchObject({ status: 'active', idp_entity_id: 'https://attacker.example.com' });
      const bySecret = await client.sso.saml.updateConnection({ organization_id: org, connection_id: saml.connection_id, idp_sso_url: 'https://idp.example.com/sso2' });
      expect(bySecret.connection?.idp_sso_url).toBe('https://idp.example.com/sso2');
    });

    it('needs update.settings.roles to change what an OIDC connection trusts', async () => {
      const org = organization.organization_id;
      const created = await client.sso.oidc.createConnection({ organization_id: org, display_name: 'Trusted OIDC' });
      const connectionId = created.connection?.connection_id ?? '';
      const issuer = 'https://idp.example.com';
      const configured = await client.sso.oidc.updateConnection({
        organization_id: org,
        connection_id: connectionId,
        client_id: 'client',
        client_secret: 'secret-of-the-real-idp',
        issuer,
        authorization_url: `${issuer}/authorize`,
        token_url: `${issuer}/token`,
        jwks_url: `${issuer}/jwks`,
        userinfo_url: `${issuer}/userinfo`,
        attribute_mapping: { email: 'email', groups: 'groups' },
      });
      expect(configured.connection?.status).toBe('active');
      const attacker = 'https://attacker.example.com';
      const update = (fields: Record<string, unknown>) => () => client.sso.oidc.updateConnection({ organization_id: org, connection_id: connectionId, ...fields }, as(editor));
      const trustChanges = [
        update({ client_id: 'attacker-client' }),
        update({ client_secret: 'attacker-secret' }),
        update({ issuer: attacker, authorization_url: `${attacker}/authorize`, token_url: `${attacker}/token`, jwks_url: `${attacker}/jwks` }),
        update({ authorization_url: `${attacker}/authorize` }),
        update({ token_url: `${attacker}/token` }),
        update({ userinfo_url: `${attacker}/userinfo` }),
        update({ jwks_url: `${attacker}/jwks` }),
        update({ attribute_mapping: { email: 'email', groups: 'roles' } }),
      ];
      for (const call of trustChanges) await probe.expectNothingWritten(() => expectStytchRejection(call(), DENIED));
      const listed = (await client.sso.getConnections({ organization_id: org })).oidc_connections.find((each) => each.connection_id === connectionId);
      expect(listed).toMatchObject({ client_id: 'client', issuer, token_url: `${issuer}/token`, jwks_url: `${issuer}/jwks`, attribute_mapping: { email: 'email', groups: 'groups' } });

      const renamed = await update({ display_name: 'Renamed', custom_scopes: 'profile', identity_provider: 'okta' })();
      expect(renamed.connection).toMatchObject({ display_name: 'Renamed', custom_scopes: 'profile' });
      const trustedChange = await client.sso.oidc.updateConnection({ organization_id: org, connection_id: connectionId, client_id: 'rotated-client' }, as(trusted));
      expect(trustedChange.connection?.client_id).toBe('rotated-client');
    });

    it('lends a connection to another organization only at the project backend’s word, telling the lender when a borrowing starts and ends', async () => {
      const lender = await createOrganization(client, 'Owner');
      const lent = await activeSamlConnection(client, lender.organization_id, key, 'Owner IdP');
      const borrower = organization.organization_id;

      // Even an admin of the borrowing organization may not borrow another organization's IdP.
      await probe.expectNothingWritten(() =>
        expectStytchRejection(
          client.sso.external.createConnection({ organization_id: borrower, external_organization_id: lender.organization_id, external_connection_id: lent.connection_id }, as(admin)),
          DENIED,
        ).then((error) => expect(error.error_message).toContain('project secret')),
      );

      const external = await client.sso.external.createConnection({ organization_id: borrower, external_organization_id: lender.organization_id, external_connection_id: lent.connection_id });
      const externalId = external.connection?.connection_id ?? '';
      const borrowed = (await ssoAuditEvents(target.server, lender.organization_id)).filter((event) => event.type === 'sso.connection_borrowers_changed');
      expect(borrowed.map((event) => event.details)).toEqual([
        { connection_id: lent.connection_id, borrowing: 'started', borrowed_by_organization_id: borrower, borrowed_by_connection_id: externalId },
      ]);

      // The borrower's admin ends the borrowing; the lender is told.
      await client.sso.deleteConnection({ organization_id: borrower, connection_id: externalId }, as(admin));
      const ended = (await ssoAuditEvents(target.server, lender.organization_id)).filter((event) => event.type === 'sso.connection_borrowers_changed');
      expect(ended.map((event) => event.details.borrowing)).toEqual(['started', 'ended']);
      expect(ended[1]?.details).toMatchObject({ connection_id: lent.connection_id, borrowed_by_organization_id: borrower, borrowed_by_connection_id: externalId });
      expect((await client.sso.deleteConnection({ organization_id: lender.organization_id, connection_id: lent.connection_id })).connection_id).toBe(lent.connection_id);

      // A borrowing organization deleted ends its borrowing too, and the lender is told why.
      const second = await activeSamlConnection(client, lender.organization_id, key, 'Owner IdP 2');
      const departing = await createOrganization(client, 'Departing');
      const departingExternal = await client.sso.external.createConnection({ organization_id: departing.organization_id, external_organization_id: lender.organization_id, external_connection_id: second.connection_id });
      await client.organizations.delete({ organization_id: departing.organization_id });
      const last = (await ssoAuditEvents(target.server, lender.organization_id)).filter((event) => event.type === 'sso.connection_borrowers_changed').at(-1);
      expect(last?.details).toEqual({
        connection_id: second.connection_id,
        borrowing: 'ended',
        borrowed_by_organization_id: departing.organization_id,
        borrowed_by_connection_id: departingExternal.connection?.connection_id,
        why: 'borrowing_organization_deleted',
      });
      expect((await client.sso.deleteConnection({ organization_id: lender.organization_id, connection_id: second.connection_id })).connection_id).toBe(second.connection_id);
    });

    it('lets the lender’s admin delete a lent connection, which ends every borrowing of it: the borrowers’ external connections, settings and tokens go, and their admins are told', async () => {
      const lender = organization.organization_id;
      const lent = await activeSamlConnection(client, lender, key, 'Compromised IdP');
      const [first, second] = [await createOrganization(client, 'BorrowerB'), await createOrganization(client, 'BorrowerC')];
      const own = await activeSamlConnection(client, first.organization_id, key, 'B’s own IdP');
      const lend = async (borrower: Organization, extra: Record<string, unknown> = {}) =>
        (await client.sso.external.createConnection({ organization_id: borrower.organization_id, external_organization_id: lender, external_connection_id: lent.connection_id, ...extra })).connection
          ?.connection_id ?? '';
      const viaFirst = await lend(first, { connection_implicit_role_assignments: [{ role_id: 'stytch_admin' }], group_implicit_role_assignments: [{ role_id: 'stytch_admin', group: 'it' }] });
      const viaSecond = await lend(second);
      await client.organizations.update({
        organization_id: first.organization_id,
        sso_default_connection_id: viaFirst,
        sso_jit_provisioning: 'RESTRICTED',
        sso_jit_provisioning_allowed_connections: [viaFirst, own.connection_id],
      });
      const stored = async (organizationId: string) => (await target.server.server.store.organizations.findOrganization(organizationId))?.settings;
      expect((await stored(first.organization_id))?.ssoImplicitRoleAssignments.map((assignment) => assignment.connectionId)).toEqual([viaFirst, viaFirst]);
      // A token issued through B's external connection works until the connection goes; a second one is then refused.
      const signIn = (subject: string) => mintSsoToken(target.server, viaFirst, { subject, emailAddress: `${subject}-${uniqueSuffix()}@example.org` });
      expect((await client.sso.authenticate({ sso_token: (await signIn('before')).token })).member_authenticated).toBe(true);
      const pending = await signIn('after');

      const deleted = await client.sso.deleteConnection({ organization_id: lender, connection_id: lent.connection_id }, as(admin));
      expect(deleted.connection_id).toBe(lent.connection_id);

      const firstListed = await client.sso.getConnections({ organization_id: first.organization_id });
      expect(firstListed.external_connections).toEqual([]);
      expect(firstListed.saml_connections.map((connection) => connection.connection_id)).toEqual([own.connection_id]);
      expect((await client.sso.getConnections({ organization_id: second.organization_id })).external_connections).toEqual([]);
      const after = (await client.organizations.get({ organization_id: first.organization_id })).organization;
      expect(after.sso_default_connection_id ?? null).toBeNull();
      expect(after.sso_jit_provisioning_allowed_connections).toEqual([own.connection_id]);
      expect(after.sso_active_connections?.map((connection) => connection.connection_id)).toEqual([own.connection_id]);
      expect(JSON.stringify(await stored(first.organization_id))).not.toContain(viaFirst);
      expect(JSON.stringify(await stored(second.organization_id))).not.toContain(viaSecond);
      await expectStytchRejection(client.sso.authenticate({ sso_token: pending.token }), { status: 404, errorType: 'sso_token_not_found' });

      // Each borrowing organization's admins see why their connection went; the lender sees each borrowing end.
      for (const [borrower, external] of [
        [first, viaFirst],
        [second, viaSecond],
      ] as const) {
        const events = (await ssoAuditEvents(target.server, borrower.organization_id)).filter((event) => event.type === 'sso.connection_deleted');
        expect(events.map((event) => event.details)).toEqual([
          expect.objectContaining({ connection_id: external, kind: 'external', why: 'source_connection_deleted', source_connection_id: lent.connection_id, source_organization_id: lender }),
        ]);
      }
      const lenderEvents = (await ssoAuditEvents(target.server, lender)).filter((event) => JSON.stringify(event.details).includes(lent.connection_id));
      expect(lenderEvents.filter((event) => event.type === 'sso.connection_deleted').map((event) => event.details)).toEqual([expect.objectContaining({ connection_id: lent.connection_id, kind: 'saml' })]);
      const ended = lenderEvents.filter((event) => event.type === 'sso.connection_borrowers_changed' && event.details.borrowing === 'ended');
      expect(ended.map((event) => event.details).sort((a, b) => String(a.borrowed_by_connection_id).localeCompare(String(b.borrowed_by_connection_id)))).toEqual(
        [
          { connection_id: lent.connection_id, borrowing: 'ended', borrowed_by_organization_id: first.organization_id, borrowed_by_connection_id: viaFirst, why: 'source_connection_deleted' },
          { connection_id: lent.connection_id, borrowing: 'ended', borrowed_by_organization_id: second.organization_id, borrowed_by_connection_id: viaSecond, why: 'source_connection_deleted' },
        ].sort((a, b) => a.borrowed_by_connection_id.localeCompare(b.borrowed_by_connection_id)),
      );
    });
  });
}
