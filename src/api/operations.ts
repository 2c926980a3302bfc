import type { ExtensionOperation, StytchOperation } from './operation.js';
import sessionsAuthenticate from './sessions/authenticate.js';
import sessionsGet from './sessions/get.js';
import sessionsGetJwks from './sessions/get-jwks.js';
import sessionsRevoke from './sessions/revoke.js';
import sessionsExchange from './sessions/exchange.js';
import organizationsCreate from './organizations/create.js';
import organizationsDelete from './organizations/delete.js';
import organizationsDeleteExternalId from './organizations/delete-external-id.js';
import organizationsGet from './organizations/get.js';
import organizationsMetrics from './organizations/metrics.js';
import organizationsSearch from './organizations/search.js';
import organizationsUpdate from './organizations/update.js';
import organizationsMembersCreate from './organizations/members/create.js';
import organizationsMembersDangerouslyGet from './organizations/members/dangerously-get.js';
import organizationsMembersDelete from './organizations/members/delete.js';
import organizationsMembersDeleteExternalId from './organizations/members/delete-external-id.js';
import organizationsMembersDeleteMFAPhoneNumber from './organizations/members/delete-mfa-phone-number.js';
import organizationsMembersDeleteTOTP from './organizations/members/delete-totp.js';
import totpsCreate from './totps/create.js';
import totpsAuthenticate from './totps/authenticate.js';
import totpsMigrate from './totps/migrate.js';
import recoveryCodesRecover from './recovery-codes/recover.js';
import recoveryCodesGet from './recovery-codes/get.js';
import recoveryCodesRotate from './recovery-codes/rotate.js';
import organizationsMembersGet from './organizations/members/get.js';
import organizationsMembersReactivate from './organizations/members/reactivate.js';
import organizationsMembersSearch from './organizations/members/search.js';
import organizationsMembersUpdate from './organizations/members/update.js';
import rbacOrganizationsGetOrgPolicy from './rbac/organizations/get-org-policy.js';
import rbacOrganizationsSetOrgPolicy from './rbac/organizations/set-org-policy.js';
import rbacPolicy from './rbac/policy.js';
import impersonationAudit from './impersonation/audit.js';
import impersonationAuthenticate from './impersonation/authenticate.js';
import impersonationMint from './impersonation/mint.js';
import impersonationPoliciesGet from './impersonation/policies/get.js';
import impersonationPoliciesSet from './impersonation/policies/set.js';
import impersonationSessionsList from './impersonation/sessions/list.js';
import impersonationSessionsRevoke from './impersonation/sessions/revoke.js';
import impersonationTokensRevoke from './impersonation/tokens/revoke.js';
import { accessGrantOperations } from './impersonation/grants/index.js';
import { impersonationHistoryOperations } from './impersonation/history/index.js';
import { webhookOperations } from './webhooks/index.js';
import { auditChainOperations } from './audit/index.js';
import magicLinksAuthenticate from './magic-links/authenticate.js';
import magicLinksEmailInvite from './magic-links/email/invite.js';
import magicLinksEmailLoginOrSignup from './magic-links/email/login-or-signup.js';
import otpsEmailAuthenticate from './otps/email/authenticate.js';
import otpsEmailLoginOrSignup from './otps/email/login-or-signup.js';
import otpsSmsSend from './otps/sms/send.js';
import otpsSmsAuthenticate from './otps/sms/authenticate.js';
import magicLinksEmailDiscoverySend from './magic-links/email/discovery/send.js';
import magicLinksDiscoveryAuthenticate from './magic-links/discovery/authenticate.js';
import otpsEmailDiscoverySend from './otps/email/discovery/send.js';
import otpsEmailDiscoveryAuthenticate from './otps/email/discovery/authenticate.js';
import discoveryOrganizationsList from './discovery/organizations/list.js';
import discoveryIntermediateSessionsExchange from './discovery/intermediate-sessions/exchange.js';
import discoveryOrganizationsCreate from './discovery/organizations/create.js';
import passwordsAuthenticate from './passwords/authenticate.js';
import passwordsStrengthCheck from './passwords/strength-check.js';
import passwordsMigrate from './passwords/migrate.js';
import passwordsExistingPasswordReset from './passwords/existing-password/reset.js';
import passwordsSessionsReset from './passwords/sessions/reset.js';
import passwordsEmailRequireReset from './passwords/email/require-reset.js';
import organizationsMembersDeletePassword from './organizations/members/delete-password.js';
import passwordsEmailResetStart from './passwords/email/reset-start.js';
import passwordsEmailReset from './passwords/email/reset.js';
import passwordsDiscoveryAuthenticate from './passwords/discovery/authenticate.js';
import passwordsDiscoveryEmailResetStart from './passwords/discovery/email/reset-start.js';
import passwordsDiscoveryEmailReset from './passwords/discovery/email/reset.js';
import ssoAuthenticate from './sso/authenticate.js';
import ssoGetConnections from './sso/get-connections.js';
import ssoDeleteConnection from './sso/delete-connection.js';
import ssoSamlCreateConnection from './sso/saml/create-connection.js';
import ssoSamlUpdateConnection from './sso/saml/update-connection.js';
import ssoSamlUpdateByURL from './sso/saml/update-by-url.js';
import ssoSamlDeleteVerificationCertificate from './sso/saml/delete-verification-certificate.js';
import ssoSamlDeleteEncryptionPrivateKey from './sso/saml/delete-encryption-private-key.js';
import ssoOidcCreateConnection from './sso/oidc/create-connection.js';
import ssoOidcUpdateConnection from './sso/oidc/update-connection.js';
import ssoExternalCreateConnection from './sso/external/create-connection.js';
import ssoExternalUpdateConnection from './sso/external/update-connection.js';
import healthHealthz from './health/healthz.js';
import healthReadyz from './health/readyz.js';

/**
 * The one table of what Understudy answers. Every Stytch operation of the contract that is not
 * listed here answers 501 not_implemented (register-operations.ts), and docs/compatibility.md's
 * matrix is rendered from this list. Adding an operation is adding its module and one line here.
 */
export const STYTCH_OPERATIONS: readonly StytchOperation[] = [
  // organizations
  organizationsCreate,
  organizationsSearch,
  organizationsGet,
  organizationsUpdate,
  organizationsDelete,
  organizationsMetrics,
  organizationsDeleteExternalId,
  // organizations.members
  organizationsMembersCreate,
  organizationsMembersGet,
  organizationsMembersDangerouslyGet,
  organizationsMembersSearch,
  organizationsMembersUpdate,
  organizationsMembersDelete,
  organizationsMembersReactivate,
  organizationsMembersDeleteExternalId,
  organizationsMembersDeleteMFAPhoneNumber,
  organizationsMembersDeleteTOTP,
  // rbac
  rbacPolicy,
  rbacOrganizationsGetOrgPolicy,
  rbacOrganizationsSetOrgPolicy,
  // impersonation
  impersonationAuthenticate,
  // sessions
  sessionsAuthenticate,
  sessionsGet,
  sessionsGetJwks,
  sessionsRevoke,
  sessionsExchange,
  // magic links
  magicLinksEmailLoginOrSignup,
  magicLinksEmailInvite,
  magicLinksAuthenticate,
  magicLinksEmailDiscoverySend,
  magicLinksDiscoveryAuthenticate,
  // otps
  otpsEmailLoginOrSignup,
  otpsEmailAuthenticate,
  otpsEmailDiscoverySend,
  otpsEmailDiscoveryAuthenticate,
  otpsSmsSend,
  otpsSmsAuthenticate,
  // discovery
  discoveryOrganizationsList,
  discoveryIntermediateSessionsExchange,
  discoveryOrganizationsCreate,
  // passwords (organization-scoped)
  passwordsAuthenticate,
  passwordsStrengthCheck,
  passwordsMigrate,
  passwordsExistingPasswordReset,
  passwordsSessionsReset,
  passwordsEmailRequireReset,
  organizationsMembersDeletePassword,
  // passwords: resets by email, discovery
  passwordsEmailResetStart,
  passwordsEmailReset,
  passwordsDiscoveryAuthenticate,
  passwordsDiscoveryEmailResetStart,
  passwordsDiscoveryEmailReset,
  // TOTP and recovery codes (second factors)
  totpsCreate,
  totpsAuthenticate,
  totpsMigrate,
  recoveryCodesRecover,
  recoveryCodesGet,
  recoveryCodesRotate,
  // sso: sign-in
  ssoAuthenticate,
  // sso: connections
  ssoGetConnections,
  ssoDeleteConnection,
  ssoSamlCreateConnection,
  ssoSamlUpdateConnection,
  ssoSamlUpdateByURL,
  ssoSamlDeleteVerificationCertificate,
  ssoSamlDeleteEncryptionPrivateKey,
  ssoOidcCreateConnection,
  ssoOidcUpdateConnection,
  ssoExternalCreateConnection,
  ssoExternalUpdateConnection,
  // Each module is a StytchOperation of its own operation id, whose handler takes that operation's
  // request types; the table holds them under the common type, and register-operations.ts gives each
  // handler only requests its own operation's generated schema has validated.
] as readonly StytchOperation[];

/** Our operations beside Stytch's (docs/impersonation.md, docs/configuration.md): not in the contract. */
export const EXTENSION_OPERATIONS: readonly ExtensionOperation[] = [
  // health
  healthHealthz,
  healthReadyz,
  // impersonation
  impersonationMint,
  impersonationPoliciesGet,
  impersonationPoliciesSet,
  impersonationSessionsList,
  impersonationSessionsRevoke,
  impersonationTokensRevoke,
  impersonationAudit,
  ...accessGrantOperations,
  ...impersonationHistoryOperations,
  ...webhookOperations,
  ...auditChainOperations,
  // As above: each handler's types are the ones its own module's schema guarantees.
] as readonly ExtensionOperation[];
