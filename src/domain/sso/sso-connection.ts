/**
 * An organization's SSO connection: how its members sign in through their company's identity
 * provider (IdP). SAML and OIDC connections speak to an IdP themselves; an external connection
 * borrows another organization's SAML or OIDC connection (Stytch's "external SSO connections").
 *
 * A connection is `pending` until it holds what sign-in needs (SAML: the IdP's entity id, sign-in
 * URL and a verification certificate; OIDC: client id and secret, issuer and endpoints), then
 * `active`. Only active connections start sign-ins.
 *
 * SSO implicit role assignments are not kept here: they live in the organization's settings
 * (`ssoImplicitRoleAssignments`, by connection id), which session roles are computed from; a
 * connection's response reads its own from there.
 */
export type SsoConnectionKind = 'saml' | 'oidc' | 'external';
export type SsoConnectionStatus = 'pending' | 'active';

/** Stytch's `identity_provider` values; `generic` when the IdP is none of the named ones. */
export const IDENTITY_PROVIDERS = [
  'classlink',
  'cyberark',
  'duo',
  'generic',
  'google-workspace',
  'jumpcloud',
  'keycloak',
  'miniorange',
  'microsoft-entra',
  'okta',
  'onelogin',
  'pingfederate',
  'rippling',
  'salesforce',
  'shibboleth',
] as const;
export type IdentityProvider = (typeof IDENTITY_PROVIDERS)[number];

/**
 * Which IdP attribute (SAML attribute name, or OIDC claim) holds each member field. Keys Stytch
 * documents: `email`, `first_name`, `last_name`, `full_name` (or `name`), `groups`; any other key is
 * copied into the registration's `sso_attributes` under its own name.
 */
export type AttributeMapping = Readonly<Record<string, string>>;

interface ConnectionBase {
  readonly connectionId: string;
  readonly organizationId: string;
  readonly status: SsoConnectionStatus;
  readonly displayName: string;
  readonly identityProvider: string;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface SamlSettings {
  readonly idpEntityId: string;
  readonly idpSsoUrl: string;
  readonly attributeMapping: AttributeMapping;
  /** Accepted as an assertion's audience besides the connection's own audience URI ('' for none). */
  readonly alternativeAudienceUri: string;
  /** The NameID format asked of the IdP ('' lets the IdP choose). */
  readonly nameidFormat: string;
  /** Accepted as an assertion's recipient besides the connection's own ACS URL ('' for none). */
  readonly alternativeAcsUrl: string;
  /** Refuse responses the IdP sends unasked (no InResponseTo); off by default, as at Stytch. */
  readonly idpInitiatedAuthDisabled: boolean;
  readonly allowGatewayCallback: boolean;
}

export interface OidcSettings {
  readonly clientId: string;
  readonly issuer: string;
  readonly authorizationUrl: string;
  readonly tokenUrl: string;
  readonly userinfoUrl: string;
  readonly jwksUrl: string;
  /** Space-separated scopes asked besides `openid email profile`. */
  readonly customScopes: string;
  readonly attributeMapping: AttributeMapping;
}

export interface ExternalSettings {
  /** The organization whose connection this one borrows, and that connection. */
  readonly externalOrganizationId: string;
  readonly externalConnectionId: string;
}

export type SamlConnection = ConnectionBase & { readonly kind: 'saml' } & SamlSettings;
export type OidcConnection = ConnectionBase & { readonly kind: 'oidc' } & OidcSettings;
export type ExternalConnection = ConnectionBase & { readonly kind: 'external' } & ExternalSettings;
export type SsoConnection = SamlConnection | OidcConnection | ExternalConnection;

/** Secrets a connection holds, sealed at rest with the master key (never answered in clear). */
export interface SsoConnectionSecrets {
  /** OIDC: the client secret the IdP issued, sent to its token endpoint. */
  readonly clientSecret?: string;
}

/**
 * A certificate of a SAML connection:
 * - `verification`: the IdP's, that its responses must be signed with (`verification_certificates`);
 * - `signing`: ours, generated with the connection, that we sign AuthnRequests with and publish in
 *   our metadata (`signing_certificates`); its private key is sealed;
 * - `encryption`: a private key the customer uploaded, that the IdP encrypts assertions to
 *   (`encryption_private_keys`); sealed, and answered only as its certificate-less id.
 */
export type SsoCertificatePurpose = 'verification' | 'signing' | 'encryption';

export interface SsoCertificate {
  readonly certificateId: string;
  readonly connectionId: string;
  readonly organizationId: string;
  readonly purpose: SsoCertificatePurpose;
  /** PEM; '' for an encryption key uploaded without a certificate. */
  readonly certificate: string;
  /** The private key sealed with the master key (`signing`, `encryption`); null for `verification`. */
  readonly sealedPrivateKey: string | null;
  /** The certificate's issuer (its subject, for a self-signed one); '' when there is none. */
  readonly issuer: string;
  readonly createdAt: string;
  /** The certificate's notAfter (RFC 3339); null when there is no certificate. */
  readonly expiresAt: string | null;
}
