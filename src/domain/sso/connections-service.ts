import type { Clock } from '../../platform/clock.js';
import { toTimestamp } from '../../platform/clock.js';
import type { IdGenerator } from '../../platform/ids.js';
import type { Random } from '../../platform/random.js';
import { generateSigningCertificate, parseCertificate } from '../../sso/x509.js';
import { fetchIdpMetadata } from '../../sso/saml-idp-metadata.js';
import { discoverOidcEndpoints } from '../../sso/oidc-discovery.js';
import type { IdpFetch } from '../../sso/idp-http.js';
import type { AuditRecorder } from '../audit/audit-recorder.js';
import type { DomainEventHandler } from '../common/domain-events.js';
import { isDomainError } from '../common/domain-error.js';
import type { OperationContext } from '../common/operation-context.js';
import { FOR_UPDATE } from '../common/read-for-update.js';
import type { Transactional } from '../common/transactional.js';
import { organizationError } from '../organizations/errors.js';
import { checkSsoImplicitRoleIds } from '../organizations/implicit-roles.js';
import type { Organization, SsoImplicitRoleAssignment } from '../organizations/organization.js';
import type { StorePorts } from '../ports.js';
import { assignmentsOf, replaceAssignments, saveConnectionSettings, withoutConnection } from './connections-organization.js';
import { DISCOVERED_ENDPOINTS, type OidcFields, type OidcUpdateInput, oidcReady, prepareOidcUpdate } from './connections-oidc.js';
import {
  checkIdpEntityId,
  checkIdpSsoUrl,
  DEFAULT_NAMEID_FORMAT,
  MAX_ENCRYPTION_KEYS,
  MAX_VERIFICATION_CERTIFICATES,
  type PreparedSamlUpdate,
  prepareSamlUpdate,
  type SamlUpdateInput,
  samlReady,
} from './connections-saml.js';
import { maskClientSecret, openConnectionSecrets, sealCertificateKey, sealConnectionSecrets } from './connections-secrets.js';
import {
  assertGivesNoRoles,
  assertMayLend,
  type ChangeLimits,
  externalChange,
  type HeldByConnection,
  heldOf,
  METADATA_CHANGE,
  oidcChange,
  samlChange,
} from './connections-trust.js';
import { type AssignmentInput, checkBrowserUrl, checkDisplayName, checkFetchedUrl, checkIdentityProvider, implicitAssignments, mapsGroups } from './connections-validation.js';
import { ssoError } from './errors.js';
import type { ExternalConnection, OidcConnection, SamlConnection, SsoCertificate, SsoConnection, SsoConnectionKind } from './sso-connection.js';

/** Stytch's limit of SSO connections (of every kind) per organization. */
export const MAX_CONNECTIONS = 50;

type Ports = Pick<StorePorts, 'organizations' | 'sso' | 'audit' | 'rbac'>;

/** A connection as the API answers it, with what it is answered with. */
export type ConnectionView =
  | { readonly kind: 'saml'; readonly connection: SamlConnection; readonly certificates: readonly SsoCertificate[]; readonly assignments: readonly SsoImplicitRoleAssignment[] }
  | { readonly kind: 'oidc'; readonly connection: OidcConnection; readonly maskedClientSecret: string }
  | { readonly kind: 'external'; readonly connection: ExternalConnection; readonly assignments: readonly SsoImplicitRoleAssignment[] };
export type SamlView = Extract<ConnectionView, { kind: 'saml' }>;
export type OidcView = Extract<ConnectionView, { kind: 'oidc' }>;
export type ExternalView = Extract<ConnectionView, { kind: 'external' }>;

export interface CreateConnectionInput {
  readonly displayName?: string | undefined;
  readonly identityProvider?: string | undefined;
}

export interface CreateExternalInput {
  readonly externalOrganizationId: string;
  readonly externalConnectionId: string;
  readonly displayName?: string | undefined;
  readonly connectionImplicitRoleAssignments?: readonly AssignmentInput[] | undefined;
  readonly groupImplicitRoleAssignments?: readonly AssignmentInput[] | undefined;
}

export interface UpdateExternalInput {
  readonly displayName?: string | undefined;
  readonly connectionImplicitRoleAssignments?: readonly AssignmentInput[] | undefined;
  readonly groupImplicitRoleAssignments?: readonly AssignmentInput[] | undefined;
}

/** What a connection-changing transaction holds: the organization (locked) and the time. */
interface Locked {
  readonly tx: Ports;
  readonly organization: Organization;
  readonly at: string;
}

/**
 * The SSO connection-management API (docs/sso.md, "Connections"): SAML, OIDC and external
 * connections of an organization. Every change is one transaction that locks the organization row
 * first (read-for-update.ts), then the connection row, and records one audit event naming the
 * fields changed (never a value of a secret or key). Network work (IdP metadata, OIDC discovery)
 * and key generation happen before the transaction, so no lock is held while they run.
 *
 * A connection of another organization is answered exactly as an unknown one. A connection that
 * became active stays active: what sign-in needs cannot be emptied, and an active connection's
 * last verification certificate cannot be deleted; external connections, which borrow an active
 * connection, are therefore active for as long as they exist.
 */
export class SsoConnectionsService {
  readonly #store: Transactional<Ports>;
  readonly #clock: Clock;
  readonly #random: Random;
  readonly #ids: IdGenerator;
  readonly #audit: AuditRecorder;
  readonly #masterKey: Buffer;
  readonly #fetch: IdpFetch;
  readonly #allowPrivateAddresses: boolean;

  constructor(dependencies: {
    store: Transactional<Ports>;
    clock: Clock;
    random: Random;
    ids: IdGenerator;
    audit: AuditRecorder;
    masterKey: Buffer;
    /** The IdP fetch (idp-http.ts): the only way metadata and discovery documents are read. */
    fetch: IdpFetch;
    /** UNDERSTUDY_SSO_ALLOW_PRIVATE_ADDRESSES: the URLs the server fetches are checked with the fetch's rules when set. */
    allowPrivateAddresses: boolean;
  }) {
    this.#store = dependencies.store;
    this.#clock = dependencies.clock;
    this.#random = dependencies.random;
    this.#ids = dependencies.ids;
    this.#audit = dependencies.audit;
    this.#masterKey = dependencies.masterKey;
    this.#fetch = dependencies.fetch;
    this.#allowPrivateAddresses = dependencies.allowPrivateAddresses;
  }

  /** sso.getConnections: every connection of the organization, pending ones too, oldest first. */
  async getConnections(reference: string): Promise<{ saml: SamlView[]; oidc: OidcView[]; external: ExternalView[] }> {
    const organization = await this.#store.organizations.findOrganization(reference);
    if (organization === undefined) throw organizationError('organization_not_found');
    const connections = await this.#store.sso.listConnections(organization.organizationId);
    const samlIds = connections.filter((connection) => connection.kind === 'saml').map((connection) => connection.connectionId);
    const certificates = await this.#store.sso.listCertificatesOfConnections(samlIds);
    const views = await Promise.all(connections.map((connection) => this.#view(this.#store, organization, connection, certificates)));
    return {
      saml: views.filter((view): view is SamlView => view.kind === 'saml'),
      oidc: views.filter((view): view is OidcView => view.kind === 'oidc'),
      external: views.filter((view): view is ExternalView => view.kind === 'external'),
    };
  }

  /**
   * What a change of the connection is compared with when a member-session call is authorized
   * (connections-trust.ts); undefined when the organization has no such connection. Read without a
   * lock, outside the update's transaction: an update not granted role giving compares again there.
   */
  async heldBy(organization: Organization, connectionId: string): Promise<HeldByConnection | undefined> {
    const connection = await this.#store.sso.findConnection(connectionId);
    if (connection === undefined || connection.organizationId !== organization.organizationId) return undefined;
    return heldOf(organization, connection);
  }

  async createSaml(context: OperationContext, reference: string, input: CreateConnectionInput): Promise<SamlView> {
    const base = checkCreateInput(input);
    const connectionId = this.#ids.next('saml-connection');
    const now = this.#clock.now();
    const signing = await generateSigningCertificate({ commonName: connectionId, now });
    return this.#inTransaction(reference, async ({ tx, organization, at }) => {
      await assertRoomForAnother(tx, organization);
      const connection: SamlConnection = {
        kind: 'saml',
        connectionId,
        organizationId: organization.organizationId,
        status: 'pending',
        ...base,
        idpEntityId: '',
        idpSsoUrl: '',
        attributeMapping: {},
        alternativeAudienceUri: '',
        nameidFormat: DEFAULT_NAMEID_FORMAT,
        alternativeAcsUrl: '',
        idpInitiatedAuthDisabled: false,
        allowGatewayCallback: false,
        createdAt: at,
        updatedAt: at,
      };
      await tx.sso.insertConnection(connection, null);
      await this.#insertCertificate(tx, connection, 'signing', signing, signing.privateKeyPem, at);
      await saveConnectionSettings(tx, organization, organization.settings, at);
      await this.#record(tx, context, 'sso.connection_created', connection, { display_name: connection.displayName, identity_provider: connection.identityProvider });
      return this.#view(tx, organization, connection) as Promise<SamlView>;
    });
  }

  /**
   * `limits`: whether the caller may give roles (connections-trust.ts); a call that may not is
   * compared again here, on the locked organization and connection, with what it changes.
   */
  async updateSaml(context: OperationContext, reference: string, connectionId: string, input: SamlUpdateInput, limits: ChangeLimits): Promise<SamlView> {
    const prepared = await prepareSamlUpdate(connectionId, input, this.#clock.now());
    return this.#inTransaction(reference, async (locked) => {
      const current = await this.#lockConnection(locked, connectionId, 'saml');
      assertGivesNoRoles(limits, samlChange(input), heldOf(locked.organization, current));
      return this.#applySaml(locked, context, current, prepared);
    });
  }

  /**
   * sso.saml.updateByURL: the IdP's metadata sets the entity id, the sign-in URL (HTTP-Redirect
   * binding preferred) and the verification certificates, which become exactly those it lists
   * (a certificate kept keeps its id). Fetched before the transaction, and only for a connection
   * of the organization.
   */
  async updateSamlByUrl(context: OperationContext, reference: string, connectionId: string, metadataUrl: string, limits: ChangeLimits): Promise<SamlView> {
    await this.#assertOwnConnection(reference, connectionId, 'saml');
    // The metadata says which IdP to trust: always a change of trust (no held state makes it none).
    assertGivesNoRoles(limits, METADATA_CHANGE, undefined);
    const metadata = await fetchIdpMetadata(this.#fetch, metadataUrl);
    const idpEntityId = checkIdpEntityId(metadata.entityId);
    const idpSsoUrl = checkIdpSsoUrl(metadata.ssoUrl);
    const listed = metadata.certificates.map((pem) => parseCertificate(pem)).filter((parsed) => parsed !== undefined);
    if (listed.length === 0) throw ssoError('saml_connection_metadata_invalid_format');
    if (listed.length > MAX_VERIFICATION_CERTIFICATES) throw ssoError('too_many_sso_verification_certificates');
    return this.#inTransaction(reference, async (locked) => {
      const { tx, at } = locked;
      const current = await this.#lockConnection(locked, connectionId, 'saml');
      const held = (await tx.sso.listCertificates(connectionId)).filter((certificate) => certificate.purpose === 'verification');
      for (const certificate of held) {
        if (!listed.some((parsed) => parsed.certificatePem === certificate.certificate)) await tx.sso.deleteCertificate(connectionId, certificate.certificateId, 'verification');
      }
      for (const parsed of listed) {
        if (!held.some((certificate) => certificate.certificate === parsed.certificatePem)) await this.#insertCertificate(tx, current, 'verification', parsed, null, at);
      }
      const prepared: PreparedSamlUpdate = { fields: { idpEntityId, idpSsoUrl }, assignments: {}, sent: ['metadata_url'] };
      return this.#applySaml(locked, context, current, prepared);
    });
  }

  /** sso.saml.deleteVerificationCertificate: never the last one of an active connection. */
  async deleteVerificationCertificate(context: OperationContext, reference: string, connectionId: string, certificateId: string): Promise<string> {
    return this.#inTransaction(reference, async (locked) => {
      const { tx, at } = locked;
      const connection = await this.#lockConnection(locked, connectionId, 'saml');
      const verification = (await tx.sso.listCertificates(connectionId)).filter((certificate) => certificate.purpose === 'verification');
      if (!verification.some((certificate) => certificate.certificateId === certificateId)) throw ssoError('sso_verification_key_not_found');
      if (connection.status === 'active' && verification.length === 1) throw ssoError('cannot_delete_last_sso_verification_key');
      await tx.sso.deleteCertificate(connectionId, certificateId, 'verification');
      await tx.sso.replaceConnection({ ...connection, updatedAt: at });
      await this.#record(tx, context, 'sso.connection_updated', connection, { fields: ['verification_certificates'], deleted_certificate_id: certificateId });
      return certificateId;
    });
  }

  /** sso.saml.deleteEncryptionPrivateKey: an uploaded decryption key goes (assertions encrypted to it fail from then on). */
  async deleteEncryptionPrivateKey(context: OperationContext, reference: string, connectionId: string, privateKeyId: string): Promise<string> {
    return this.#inTransaction(reference, async (locked) => {
      const { tx, at } = locked;
      const connection = await this.#lockConnection(locked, connectionId, 'saml');
      if (!(await tx.sso.deleteCertificate(connectionId, privateKeyId, 'encryption'))) throw ssoError('saml_encryption_private_key_not_found');
      await tx.sso.replaceConnection({ ...connection, updatedAt: at });
      await this.#record(tx, context, 'sso.connection_updated', connection, { fields: ['encryption_private_keys'], deleted_private_key_id: privateKeyId });
      return privateKeyId;
    });
  }

  async createOidc(context: OperationContext, reference: string, input: CreateConnectionInput): Promise<OidcView> {
    const base = checkCreateInput(input);
    return this.#inTransaction(reference, async ({ tx, organization, at }) => {
      await assertRoomForAnother(tx, organization);
      const connection: OidcConnection = {
        kind: 'oidc',
        connectionId: this.#ids.next('oidc-connection'),
        organizationId: organization.organizationId,
        status: 'pending',
        ...base,
        clientId: '',
        issuer: '',
        authorizationUrl: '',
        tokenUrl: '',
        userinfoUrl: '',
        jwksUrl: '',
        customScopes: '',
        attributeMapping: {},
        createdAt: at,
        updatedAt: at,
      };
      await tx.sso.insertConnection(connection, null);
      await saveConnectionSettings(tx, organization, organization.settings, at);
      await this.#record(tx, context, 'sso.connection_created', connection, { display_name: connection.displayName, identity_provider: connection.identityProvider });
      return { kind: 'oidc', connection, maskedClientSecret: '' };
    });
  }

  /**
   * sso.oidc.updateConnection. When `issuer` is sent, the endpoints not sent with it are read from
   * the issuer's discovery document (before the transaction, only for a connection of the
   * organization); a document that cannot be read, or names another issuer, is invalid_issuer.
   */
  async updateOidc(context: OperationContext, reference: string, connectionId: string, input: OidcUpdateInput, limits: ChangeLimits): Promise<OidcView> {
    const prepared = prepareOidcUpdate(input, this.#allowPrivateAddresses);
    const fields: { -readonly [Key in keyof OidcFields]: OidcFields[Key] } = { ...prepared.fields };
    if (fields.issuer !== undefined && DISCOVERED_ENDPOINTS.some((endpoint) => fields[endpoint] === undefined)) {
      await this.#assertOwnConnection(reference, connectionId, 'oidc');
      const discovered = await this.#discover(fields.issuer);
      for (const endpoint of DISCOVERED_ENDPOINTS) if (fields[endpoint] === undefined) fields[endpoint] = discovered[endpoint];
    }
    return this.#inTransaction(reference, async (locked) => {
      const { tx, organization, at } = locked;
      const current = await this.#lockConnection(locked, connectionId, 'oidc');
      assertGivesNoRoles(limits, oidcChange(input), heldOf(organization, current));
      let secrets = openConnectionSecrets(await tx.sso.findSealedSecrets(connectionId), { masterKey: this.#masterKey, connectionId });
      if (prepared.clientSecret !== undefined) {
        secrets = { ...secrets, clientSecret: prepared.clientSecret };
        await tx.sso.setSealedSecrets(connectionId, sealConnectionSecrets(secrets, { masterKey: this.#masterKey, connectionId, random: this.#random }), at);
      }
      const merged: OidcConnection = { ...current, ...fields, updatedAt: at };
      const updated: OidcConnection = { ...merged, status: current.status === 'active' || oidcReady(merged, (secrets.clientSecret ?? '') !== '') ? 'active' : 'pending' };
      await tx.sso.replaceConnection(updated);
      await saveConnectionSettings(tx, organization, organization.settings, at);
      await this.#propagateIdentityProvider(tx, context, current, updated, at);
      await this.#record(tx, context, 'sso.connection_updated', updated, { fields: prepared.sent, ...statusChange(current, updated) });
      return { kind: 'oidc', connection: updated, maskedClientSecret: maskClientSecret(secrets.clientSecret) };
    });
  }

  /**
   * sso.external.createConnection: borrows an active SAML or OIDC connection of another
   * organization of the project. Its members then sign in through that connection's IdP into this
   * organization, with this organization's implicit roles.
   */
  async createExternal(context: OperationContext, reference: string, input: CreateExternalInput): Promise<ExternalView> {
    assertMayLend(context);
    if (input.displayName !== undefined) checkDisplayName(input.displayName);
    const connectionId = this.#ids.next('external-connection');
    const connectionAssignments = implicitAssignments(connectionId, input.connectionImplicitRoleAssignments ?? [], 'connection_implicit_role_assignments', false);
    const groupAssignments = implicitAssignments(connectionId, input.groupImplicitRoleAssignments ?? [], 'group_implicit_role_assignments', true);
    return this.#inTransaction(reference, async ({ tx, organization, at }) => {
      await assertRoomForAnother(tx, organization);
      const source = await this.#borrowable(tx, organization, input);
      if (groupAssignments.length > 0 && !mapsGroups(source.attributeMapping)) throw ssoError('saml_connection_attribute_mapping_missing_groups_key');
      await checkSsoImplicitRoleIds(tx, organization, [...connectionAssignments, ...groupAssignments].map((assignment) => assignment.roleId), 'connection_implicit_role_assignments');
      const connection: ExternalConnection = {
        kind: 'external',
        connectionId,
        organizationId: organization.organizationId,
        // The source is active, and an active connection stays so: so is this one.
        status: 'active',
        displayName: input.displayName ?? source.displayName,
        identityProvider: source.identityProvider,
        externalOrganizationId: source.organizationId,
        externalConnectionId: source.connectionId,
        createdAt: at,
        updatedAt: at,
      };
      await tx.sso.insertConnection(connection, null);
      const settings = replaceAssignments(organization.settings, connectionId, { connection: connectionAssignments, group: groupAssignments });
      const saved = await saveConnectionSettings(tx, organization, settings, at);
      await this.#record(tx, context, 'sso.connection_created', connection, {
        display_name: connection.displayName,
        external_organization_id: source.organizationId,
        external_connection_id: source.connectionId,
        fields: sentFields(input, { connectionImplicitRoleAssignments: 'connection_implicit_role_assignments', groupImplicitRoleAssignments: 'group_implicit_role_assignments' }),
      });
      await this.#recordBorrowing(tx, context, connection, 'started');
      return { kind: 'external', connection, assignments: assignmentsOfView(saved, connectionId) };
    });
  }

  async updateExternal(context: OperationContext, reference: string, connectionId: string, input: UpdateExternalInput, limits: ChangeLimits): Promise<ExternalView> {
    if (input.displayName !== undefined) checkDisplayName(input.displayName);
    const connectionAssignments =
      input.connectionImplicitRoleAssignments === undefined
        ? undefined
        : implicitAssignments(connectionId, input.connectionImplicitRoleAssignments, 'external_connection_implicit_role_assignments', false);
    const groupAssignments =
      input.groupImplicitRoleAssignments === undefined
        ? undefined
        : implicitAssignments(connectionId, input.groupImplicitRoleAssignments, 'external_group_implicit_role_assignments', true);
    return this.#inTransaction(reference, async (locked) => {
      const { tx, organization, at } = locked;
      const current = await this.#lockConnection(locked, connectionId, 'external');
      assertGivesNoRoles(limits, externalChange(input), heldOf(organization, current));
      if (groupAssignments !== undefined && groupAssignments.length > 0) {
        const source = await tx.sso.findConnection(current.externalConnectionId);
        if (source === undefined || source.kind === 'external' || !mapsGroups(source.attributeMapping)) throw ssoError('saml_connection_attribute_mapping_missing_groups_key');
      }
      await checkSsoImplicitRoleIds(tx, organization, [...(connectionAssignments ?? []), ...(groupAssignments ?? [])].map((assignment) => assignment.roleId), 'external_connection_implicit_role_assignments');
      const updated: ExternalConnection = { ...current, ...(input.displayName !== undefined && { displayName: input.displayName }), updatedAt: at };
      await tx.sso.replaceConnection(updated);
      const saved = await saveConnectionSettings(tx, organization, replaceAssignments(organization.settings, connectionId, { connection: connectionAssignments, group: groupAssignments }), at);
      await this.#record(tx, context, 'sso.connection_updated', updated, {
        fields: sentFields(input, {
          displayName: 'display_name',
          connectionImplicitRoleAssignments: 'external_connection_implicit_role_assignments',
          groupImplicitRoleAssignments: 'external_group_implicit_role_assignments',
        }),
      });
      return { kind: 'external', connection: updated, assignments: assignmentsOfView(saved, connectionId) };
    });
  }

  /**
   * sso.deleteConnection: the connection with its certificates, started sign-ins, unredeemed SSO
   * tokens and subject links; its implicit role assignments and its place in the JIT allow-list
   * go with it. Refused while it is the organization's default connection. Trust in a connection
   * is its owner's: deleting a SAML or OIDC connection ends every borrowing of it, so the external
   * connections other organizations made of it are deleted with it (#deleteBorrowers), each
   * organization told in its audit log, and the lender told each borrowing ended.
   */
  async deleteConnection(context: OperationContext, reference: string, connectionId: string): Promise<string> {
    return this.#inTransaction(reference, async (locked) => {
      const { tx, organization, at } = locked;
      // Locked: no external connection is made of it meanwhile (createExternal locks the source too).
      const connection = await this.#lockConnection(locked, connectionId, 'any');
      if (organization.settings.ssoDefaultConnectionId === connectionId) throw ssoError('cannot_delete_default_sso_connection');
      const borrowers = connection.kind === 'external' ? [] : await tx.sso.listConnectionsBorrowing(connectionId);
      const ended = await this.#deleteBorrowers(tx, context, borrowers, 'source_connection_deleted', organization.organizationId);
      await tx.sso.deleteConnection(connectionId);
      await saveConnectionSettings(tx, organization, withoutConnection(organization.settings, connectionId), at);
      await this.#record(tx, context, 'sso.connection_deleted', connection, { display_name: connection.displayName });
      if (connection.kind === 'external') await this.#recordBorrowing(tx, context, connection, 'ended');
      for (const external of ended) await this.#recordBorrowing(tx, context, external, 'ended', 'source_connection_deleted');
      return connectionId;
    });
  }

  /**
   * An organization's deletion takes its connections and everything of them, and the external
   * connections other organizations made of them (each recorded as deleted in its organization).
   * Inside the deletion's transaction; the deleted organization's row is locked already.
   */
  readonly organizationDeleted: DomainEventHandler<StorePorts, 'organization.deleted'> = async (tx, context, event) => {
    const sources = (await tx.sso.listConnections(event.organizationId)).filter((connection) => connection.kind !== 'external');
    // Locked first, so no external connection is made of them while their borrowers are found.
    for (const source of sources) await tx.sso.findConnection(source.connectionId, FOR_UPDATE);
    const borrowers = (await Promise.all(sources.map((source) => tx.sso.listConnectionsBorrowing(source.connectionId)))).flat();
    await this.#deleteBorrowers(tx, context, borrowers, 'external_organization_deleted', event.organizationId);
    // The organizations whose connections the deleted one borrowed are told the borrowing ended.
    for (const external of (await tx.sso.listConnections(event.organizationId)).filter((connection) => connection.kind === 'external')) {
      await this.#recordBorrowing(tx, context, external, 'ended', 'borrowing_organization_deleted');
    }
    await tx.sso.deleteConnectionsOfOrganization(event.organizationId);
  };

  /**
   * Deletes external connections of other organizations that borrow connections going away, with
   * what hangs off them (certificates, requests, tokens, subjects), each recorded as
   * `sso.connection_deleted` with `why` in its own organization, whose settings lose it (implicit
   * roles, JIT allow-list, default connection — a cascade cannot be refused —, active connections).
   * The caller holds its own organization's row (`lockedAlready`) and the borrowed connections'
   * rows. Borrowing organizations are locked in id order: two cascades reaching the same
   * organizations lock them alike (a rare deadlock with a borrower's own change is run again,
   * store.ts). Answers the external connections deleted (one its organization deleted meanwhile is
   * not).
   */
  async #deleteBorrowers(tx: Ports, context: OperationContext, borrowers: readonly SsoConnection[], why: string, lockedAlready: string): Promise<ExternalConnection[]> {
    const at = toTimestamp(this.#clock.now());
    const deleted: ExternalConnection[] = [];
    const organizationIds = [...new Set(borrowers.map((borrower) => borrower.organizationId))].filter((id) => id !== lockedAlready).sort();
    for (const organizationId of organizationIds) {
      const organization = await tx.organizations.findOrganization(organizationId, FOR_UPDATE);
      if (organization === undefined) continue;
      let settings = organization.settings;
      for (const borrower of borrowers.filter((each) => each.organizationId === organizationId)) {
        // Read again under the organization's lock: its own deletion or rename may have come first.
        const current = await tx.sso.findConnection(borrower.connectionId, FOR_UPDATE);
        if (current?.kind !== 'external' || current.organizationId !== organizationId) continue;
        await tx.sso.deleteConnection(current.connectionId);
        settings = withoutConnection(settings, current.connectionId);
        await this.#record(tx, context, 'sso.connection_deleted', current, {
          display_name: current.displayName,
          why,
          source_connection_id: current.externalConnectionId,
          source_organization_id: current.externalOrganizationId,
        });
        deleted.push(current);
      }
      await saveConnectionSettings(tx, organization, settings, at);
    }
    return deleted;
  }

  async #applySaml(locked: Locked, context: OperationContext, current: SamlConnection, prepared: PreparedSamlUpdate): Promise<SamlView> {
    const { tx, organization, at } = locked;
    const certificates = await tx.sso.listCertificates(current.connectionId);
    if (prepared.verificationCertificate !== undefined) {
      const verification = certificates.filter((certificate) => certificate.purpose === 'verification');
      // The same certificate sent again is already there: not a second copy.
      if (!verification.some((certificate) => certificate.certificate === prepared.verificationCertificate?.certificatePem)) {
        if (verification.length >= MAX_VERIFICATION_CERTIFICATES) throw ssoError('too_many_sso_verification_certificates');
        await this.#insertCertificate(tx, current, 'verification', prepared.verificationCertificate, null, at);
      }
    }
    if (prepared.signing !== undefined) {
      for (const certificate of certificates.filter((each) => each.purpose === 'signing')) await tx.sso.deleteCertificate(current.connectionId, certificate.certificateId, 'signing');
      await this.#insertCertificate(tx, current, 'signing', prepared.signing, prepared.signing.privateKeyPem, at);
    }
    if (prepared.encryption !== undefined) {
      if (certificates.filter((certificate) => certificate.purpose === 'encryption').length >= MAX_ENCRYPTION_KEYS) throw ssoError('too_many_saml_encryption_private_keys');
      await this.#insertCertificate(tx, current, 'encryption', prepared.encryption, prepared.encryption.privateKeyPem, at);
    }
    const merged: SamlConnection = { ...current, ...prepared.fields, updatedAt: at };
    const { connection: connectionAssignments, group: groupAssignments } = prepared.assignments;
    const groupsAfter = groupAssignments ?? assignmentsOf(organization, current.connectionId).group;
    if (groupsAfter.length > 0 && !mapsGroups(merged.attributeMapping)) throw ssoError('saml_connection_attribute_mapping_missing_groups_key');
    await checkSsoImplicitRoleIds(
      tx,
      organization,
      [...(connectionAssignments ?? []), ...(groupAssignments ?? [])].map((assignment) => assignment.roleId),
      connectionAssignments !== undefined ? 'saml_connection_implicit_role_assignments' : 'saml_group_implicit_role_assignments',
    );
    const after = await tx.sso.listCertificates(current.connectionId);
    const updated: SamlConnection = { ...merged, status: current.status === 'active' || samlReady(merged, after) ? 'active' : 'pending' };
    await tx.sso.replaceConnection(updated);
    const saved = await saveConnectionSettings(tx, organization, replaceAssignments(organization.settings, current.connectionId, prepared.assignments), at);
    await this.#propagateIdentityProvider(tx, context, current, updated, at);
    await this.#record(tx, context, 'sso.connection_updated', updated, { fields: prepared.sent, ...statusChange(current, updated) });
    return { kind: 'saml', connection: updated, certificates: after, assignments: assignmentsOfView(saved, updated.connectionId) };
  }

  /**
   * External connections show their source's identity provider in their organizations'
   * `sso_active_connections`: a change of it is carried to each, its organization locked (in id
   * order) after the source's. A rare deadlock with a borrower's own change is run again (store.ts).
   */
  async #propagateIdentityProvider(tx: Ports, context: OperationContext, before: SsoConnection, after: SsoConnection, at: string): Promise<void> {
    if (before.identityProvider === after.identityProvider) return;
    const borrowers = await tx.sso.listConnectionsBorrowing(after.connectionId);
    for (const organizationId of [...new Set(borrowers.map((borrower) => borrower.organizationId))].sort()) {
      const organization = await tx.organizations.findOrganization(organizationId, FOR_UPDATE);
      if (organization === undefined) continue;
      for (const borrower of borrowers.filter((each) => each.organizationId === organizationId)) {
        const current = await tx.sso.findConnection(borrower.connectionId, FOR_UPDATE);
        if (current === undefined) continue;
        await tx.sso.replaceConnection({ ...current, identityProvider: after.identityProvider, updatedAt: at });
        await this.#record(tx, context, 'sso.connection_updated', current, { fields: ['identity_provider'], why: 'external_connection_updated' });
      }
      await saveConnectionSettings(tx, organization, organization.settings, at);
    }
  }

  /** The connection an external connection may borrow: an active SAML or OIDC one of another organization, not borrowed here already. */
  async #borrowable(tx: Ports, organization: Organization, input: CreateExternalInput): Promise<SamlConnection | OidcConnection> {
    const external = input.externalOrganizationId === '' ? undefined : await tx.organizations.findOrganization(input.externalOrganizationId);
    if (external?.organizationId === organization.organizationId) throw ssoError('external_organization_id_same_as_organization_id');
    // Locked: a deletion of the source waits for this transaction (or this one finds it gone).
    const source = input.externalConnectionId === '' ? undefined : await tx.sso.findConnection(input.externalConnectionId, FOR_UPDATE);
    if (external === undefined || source === undefined || source.organizationId !== external.organizationId || source.kind === 'external') {
      throw ssoError('external_connection_id_not_found');
    }
    if (source.status !== 'active') throw ssoError('external_connection_not_active');
    const own = await tx.sso.listConnections(organization.organizationId);
    if (own.some((connection) => connection.kind === 'external' && connection.externalConnectionId === source.connectionId)) throw ssoError('duplicate_external_sso_connection');
    return source;
  }

  /** Runs `work` in one transaction holding the organization `reference` names, locked. */
  async #inTransaction<T>(reference: string, work: (locked: Locked) => Promise<T>): Promise<T> {
    return this.#store.transaction(async (tx) => {
      const organization = await tx.organizations.findOrganization(reference, FOR_UPDATE);
      if (organization === undefined) throw organizationError('organization_not_found');
      return work({ tx, organization, at: toTimestamp(this.#clock.now()) });
    });
  }

  /** The organization's connection of this kind, locked; another organization's answers as an unknown one. */
  async #lockConnection<Kind extends SsoConnectionKind | 'any'>(
    locked: Locked,
    connectionId: string,
    kind: Kind,
  ): Promise<Kind extends SsoConnectionKind ? Extract<SsoConnection, { kind: Kind }> : SsoConnection> {
    const connection = await locked.tx.sso.findConnection(connectionId, FOR_UPDATE);
    if (connection === undefined || connection.organizationId !== locked.organization.organizationId || (kind !== 'any' && connection.kind !== kind)) {
      throw notFound(kind);
    }
    return connection as Kind extends SsoConnectionKind ? Extract<SsoConnection, { kind: Kind }> : SsoConnection;
  }

  /** Before network work: the connection is the organization's (checked again, locked, in the transaction). */
  async #assertOwnConnection(reference: string, connectionId: string, kind: 'saml' | 'oidc'): Promise<void> {
    const organization = await this.#store.organizations.findOrganization(reference);
    if (organization === undefined) throw organizationError('organization_not_found');
    const connection = await this.#store.sso.findConnection(connectionId);
    if (connection === undefined || connection.organizationId !== organization.organizationId || connection.kind !== kind) throw notFound(kind);
  }

  /** The issuer's endpoints, each checked as if it had been sent (a discovery document is the IdP's word, not ours). */
  async #discover(issuer: string): Promise<Record<(typeof DISCOVERED_ENDPOINTS)[number], string>> {
    const endpoints = await discoverOidcEndpoints(this.#fetch, issuer);
    const refuse = (error: unknown): never => {
      throw isDomainError(error) ? ssoError('invalid_issuer', `The issuer's discovery document gives an endpoint that is refused: ${error.message}`) : error;
    };
    try {
      checkBrowserUrl(endpoints.authorizationUrl, { invalid: 'oidc_connection_authorization_url_invalid_format' }, 'authorization_endpoint');
      checkFetchedUrl(endpoints.tokenUrl, 'oidc_connection_token_url_invalid_format', 'token_endpoint', this.#allowPrivateAddresses);
      checkFetchedUrl(endpoints.jwksUrl, 'oidc_connection_jwks_url_invalid_format', 'jwks_uri', this.#allowPrivateAddresses);
      if (endpoints.userinfoUrl !== '') checkFetchedUrl(endpoints.userinfoUrl, 'oidc_connection_userinfo_url_invalid_format', 'userinfo_endpoint', this.#allowPrivateAddresses);
    } catch (error) {
      refuse(error);
    }
    return endpoints;
  }

  async #insertCertificate(
    tx: Ports,
    connection: SsoConnection,
    purpose: SsoCertificate['purpose'],
    parsed: { readonly certificatePem: string; readonly issuer: string; readonly expiresAt: string | null },
    privateKeyPem: string | null,
    at: string,
  ): Promise<void> {
    const certificateId = this.#ids.next(purpose === 'verification' ? 'saml-verification-key' : purpose === 'signing' ? 'saml-signing-key' : 'saml-encryption-key');
    await tx.sso.insertCertificate({
      certificateId,
      connectionId: connection.connectionId,
      organizationId: connection.organizationId,
      purpose,
      certificate: parsed.certificatePem,
      sealedPrivateKey: privateKeyPem === null ? null : sealCertificateKey(privateKeyPem, { masterKey: this.#masterKey, certificateId, random: this.#random }),
      issuer: parsed.issuer,
      createdAt: at,
      expiresAt: parsed.expiresAt,
    });
  }

  async #view(ports: Pick<StorePorts, 'sso'>, organization: Organization, connection: SsoConnection, certificates?: readonly SsoCertificate[]): Promise<ConnectionView> {
    switch (connection.kind) {
      case 'saml': {
        const own = (certificates ?? (await ports.sso.listCertificates(connection.connectionId))).filter((certificate) => certificate.connectionId === connection.connectionId);
        return { kind: 'saml', connection, certificates: own, assignments: assignmentsOfView(organization, connection.connectionId) };
      }
      case 'oidc': {
        const secrets = openConnectionSecrets(await ports.sso.findSealedSecrets(connection.connectionId), { masterKey: this.#masterKey, connectionId: connection.connectionId });
        return { kind: 'oidc', connection, maskedClientSecret: maskClientSecret(secrets.clientSecret) };
      }
      case 'external':
        return { kind: 'external', connection, assignments: assignmentsOfView(organization, connection.connectionId) };
    }
  }

  async #record(tx: Ports, context: OperationContext, type: 'sso.connection_created' | 'sso.connection_updated' | 'sso.connection_deleted', connection: SsoConnection, details: Record<string, unknown>): Promise<void> {
    await this.#audit.record(tx.audit, context, {
      type,
      organizationId: connection.organizationId,
      details: { connection_id: connection.connectionId, kind: connection.kind, ...details },
    });
  }

  /**
   * The lending organization's own record of an external connection starting or ending to borrow
   * one of its connections: who borrows it is its business (their members sign in with its IdP's
   * word).
   */
  async #recordBorrowing(tx: Ports, context: OperationContext, external: SsoConnection, borrowing: 'started' | 'ended', why?: string): Promise<void> {
    if (external.kind !== 'external') return;
    await this.#audit.record(tx.audit, context, {
      type: 'sso.connection_borrowers_changed',
      organizationId: external.externalOrganizationId,
      details: {
        connection_id: external.externalConnectionId,
        borrowing,
        borrowed_by_organization_id: external.organizationId,
        borrowed_by_connection_id: external.connectionId,
        ...(why !== undefined && { why }),
      },
    });
  }
}

function checkCreateInput(input: CreateConnectionInput): { displayName: string; identityProvider: string } {
  return {
    displayName: checkDisplayName(input.displayName ?? ''),
    identityProvider: checkIdentityProvider(input.identityProvider === undefined || input.identityProvider === '' ? 'generic' : input.identityProvider),
  };
}

/** Counted under the organization's lock, which every connection create holds: the limit is exact. */
async function assertRoomForAnother(tx: Ports, organization: Organization): Promise<void> {
  if ((await tx.sso.listConnections(organization.organizationId)).length >= MAX_CONNECTIONS) throw ssoError('too_many_sso_connections');
}

function notFound(kind: SsoConnectionKind | 'any') {
  return ssoError(kind === 'saml' ? 'saml_connection_not_found' : kind === 'oidc' ? 'oidc_connection_not_found' : 'sso_connection_not_found');
}

function assignmentsOfView(organization: Organization, connectionId: string): SsoImplicitRoleAssignment[] {
  const { connection, group } = assignmentsOf(organization, connectionId);
  return [...connection, ...group];
}

function statusChange(before: SsoConnection, after: SsoConnection): Record<string, unknown> {
  return before.status === after.status ? {} : { status: after.status };
}

function sentFields<Input extends object>(input: Input, names: Partial<Record<keyof Input, string>>): string[] {
  return (Object.keys(names) as (keyof Input)[]).filter((key) => input[key] !== undefined).map((key) => names[key] as string);
}
