import { isDomainError } from '../common/domain-error.js';
import type { SsoImplicitRoleAssignment } from '../organizations/organization.js';
import { checkPrivateKey, generateSigningCertificate, parseCertificate, type ParsedCertificate } from '../../sso/x509.js';
import {
  type AssignmentInput,
  checkAttributeMapping,
  checkBrowserUrl,
  checkDisplayName,
  checkIdentityProvider,
  checkSetting,
  implicitAssignments,
} from './connections-validation.js';
import { ssoError } from './errors.js';
import type { SamlConnection, SsoCertificate } from './sso-connection.js';

/** Stytch's limit of verification certificates per SAML connection (rotation keeps old and new). */
export const MAX_VERIFICATION_CERTIFICATES = 5;
/** Ours: uploaded decryption keys kept per connection, for the same rotation. */
export const MAX_ENCRYPTION_KEYS = 5;
/** Stytch's documented default NameID format. */
export const DEFAULT_NAMEID_FORMAT = 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress';

/** sso.saml.updateConnection's fields, as the service takes them (absent: leave as is). */
export interface SamlUpdateInput {
  readonly idpEntityId?: string | undefined;
  readonly displayName?: string | undefined;
  readonly attributeMapping?: Readonly<Record<string, unknown>> | undefined;
  readonly x509Certificate?: string | undefined;
  readonly idpSsoUrl?: string | undefined;
  readonly connectionImplicitRoleAssignments?: readonly AssignmentInput[] | undefined;
  readonly groupImplicitRoleAssignments?: readonly AssignmentInput[] | undefined;
  readonly alternativeAudienceUri?: string | undefined;
  readonly identityProvider?: string | undefined;
  readonly signingPrivateKey?: string | undefined;
  readonly nameidFormat?: string | undefined;
  readonly alternativeAcsUrl?: string | undefined;
  readonly idpInitiatedAuthDisabled?: boolean | undefined;
  readonly samlEncryptionPrivateKey?: string | undefined;
  readonly allowGatewayCallback?: boolean | undefined;
}

/** The wire names of SamlUpdateInput's fields, for the audit trail (values never go there). */
const FIELD_NAMES: Readonly<Record<keyof SamlUpdateInput, string>> = {
  idpEntityId: 'idp_entity_id',
  displayName: 'display_name',
  attributeMapping: 'attribute_mapping',
  x509Certificate: 'x509_certificate',
  idpSsoUrl: 'idp_sso_url',
  connectionImplicitRoleAssignments: 'saml_connection_implicit_role_assignments',
  groupImplicitRoleAssignments: 'saml_group_implicit_role_assignments',
  alternativeAudienceUri: 'alternative_audience_uri',
  identityProvider: 'identity_provider',
  signingPrivateKey: 'signing_private_key',
  nameidFormat: 'nameid_format',
  alternativeAcsUrl: 'alternative_acs_url',
  idpInitiatedAuthDisabled: 'idp_initiated_auth_disabled',
  samlEncryptionPrivateKey: 'saml_encryption_private_key',
  allowGatewayCallback: 'allow_gateway_callback',
};

type SamlFields = Partial<Pick<SamlConnection, 'displayName' | 'identityProvider' | 'idpEntityId' | 'idpSsoUrl' | 'attributeMapping' | 'alternativeAudienceUri' | 'nameidFormat' | 'alternativeAcsUrl' | 'idpInitiatedAuthDisabled' | 'allowGatewayCallback'>>;

/** An update checked before its transaction: every value, and the crypto work (parsing, key generation) done. */
export interface PreparedSamlUpdate {
  readonly fields: SamlFields;
  readonly verificationCertificate?: ParsedCertificate;
  /** Our new signing certificate, for the private key the caller gave. */
  readonly signing?: ParsedCertificate & { readonly privateKeyPem: string };
  /**
   * The uploaded decryption key (PKCS#8 PEM) with a self-signed certificate for it, which our SP
   * metadata publishes so the IdP knows what to encrypt to.
   */
  readonly encryption?: ParsedCertificate & { readonly privateKeyPem: string };
  readonly assignments: { readonly connection?: SsoImplicitRoleAssignment[]; readonly group?: SsoImplicitRoleAssignment[] };
  /** The request fields sent, by their wire names. */
  readonly sent: string[];
}

export function checkIdpEntityId(value: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused.
  if (value === '' || value.length > 1024 || /[\u0000-\u001f\u007f]/.test(value)) throw ssoError('invalid_idp_entity_id');
  return value;
}

export function checkIdpSsoUrl(value: string): string {
  if (value === '') throw ssoError('saml_connection_idp_sso_url_invalid_format');
  return checkBrowserUrl(value, { invalid: 'saml_connection_idp_sso_url_invalid_format', notHttps: 'saml_connection_idp_sso_url_not_https' }, 'idp_sso_url');
}

/** Checks every value sent and does the update's crypto work; reads and writes nothing. */
export async function prepareSamlUpdate(connectionId: string, input: SamlUpdateInput, now: Date): Promise<PreparedSamlUpdate> {
  const fields: { -readonly [K in keyof SamlFields]: SamlFields[K] } = {};
  if (input.displayName !== undefined) fields.displayName = checkDisplayName(input.displayName);
  if (input.identityProvider !== undefined) fields.identityProvider = checkIdentityProvider(input.identityProvider);
  if (input.idpEntityId !== undefined) fields.idpEntityId = checkIdpEntityId(input.idpEntityId);
  if (input.idpSsoUrl !== undefined) fields.idpSsoUrl = checkIdpSsoUrl(input.idpSsoUrl);
  if (input.attributeMapping !== undefined) fields.attributeMapping = checkAttributeMapping(input.attributeMapping);
  if (input.alternativeAudienceUri !== undefined) fields.alternativeAudienceUri = checkSetting('alternative_audience_uri', input.alternativeAudienceUri);
  if (input.nameidFormat !== undefined) fields.nameidFormat = checkSetting('nameid_format', input.nameidFormat);
  if (input.alternativeAcsUrl !== undefined) {
    fields.alternativeAcsUrl =
      input.alternativeAcsUrl === '' ? '' : checkBrowserUrl(input.alternativeAcsUrl, { invalid: 'invalid_sso_connection_setting' }, 'alternative_acs_url');
  }
  if (input.idpInitiatedAuthDisabled !== undefined) fields.idpInitiatedAuthDisabled = input.idpInitiatedAuthDisabled;
  if (input.allowGatewayCallback !== undefined) fields.allowGatewayCallback = input.allowGatewayCallback;

  let verificationCertificate: ParsedCertificate | undefined;
  if (input.x509Certificate !== undefined) {
    verificationCertificate = parseCertificate(input.x509Certificate);
    if (verificationCertificate === undefined) throw ssoError('invalid_x509_certificate');
  }
  const signing =
    input.signingPrivateKey === undefined ? undefined : await generateSigningCertificate({ commonName: connectionId, now, privateKeyPem: input.signingPrivateKey });
  const encryption =
    input.samlEncryptionPrivateKey === undefined
      ? undefined
      : await generateSigningCertificate({ commonName: connectionId, now, privateKeyPem: checkEncryptionKey(input.samlEncryptionPrivateKey) });

  const assignments = {
    ...(input.connectionImplicitRoleAssignments !== undefined && {
      connection: implicitAssignments(connectionId, input.connectionImplicitRoleAssignments, 'saml_connection_implicit_role_assignments', false),
    }),
    ...(input.groupImplicitRoleAssignments !== undefined && {
      group: implicitAssignments(connectionId, input.groupImplicitRoleAssignments, 'saml_group_implicit_role_assignments', true),
    }),
  };
  const sent = (Object.keys(FIELD_NAMES) as (keyof SamlUpdateInput)[]).filter((key) => input[key] !== undefined).map((key) => FIELD_NAMES[key]);
  return {
    fields,
    ...(verificationCertificate !== undefined && { verificationCertificate }),
    ...(signing !== undefined && { signing }),
    ...(encryption !== undefined && { encryption }),
    assignments,
    sent,
  };
}

/** An uploaded decryption key: an RSA key (PKCS#1 or PKCS#8 PEM), refused with its own code. */
function checkEncryptionKey(text: string): string {
  try {
    return checkPrivateKey(text);
  } catch (error) {
    if (isDomainError(error) && error.code === 'saml_signing_private_key_invalid') {
      throw ssoError('saml_encryption_private_key_invalid', error.message.replace('signing_private_key', 'saml_encryption_private_key'));
    }
    throw error;
  }
}

/** Whether the connection holds what sign-in needs: the IdP's entity id and sign-in URL, and a certificate to verify it with. */
export function samlReady(connection: Pick<SamlConnection, 'idpEntityId' | 'idpSsoUrl'>, certificates: readonly SsoCertificate[]): boolean {
  return connection.idpEntityId !== '' && connection.idpSsoUrl !== '' && certificates.some((certificate) => certificate.purpose === 'verification');
}
