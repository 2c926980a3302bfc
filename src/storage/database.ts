import type { Generated } from 'kysely';
/**
 * Row types of every table, shared by both dialects. Timestamps are RFC 3339 text (they sort as
 * text and read back identically on SQLite and PostgreSQL); booleans are 0/1 integers; JSON
 * documents are text. One query layer serves both databases that way.
 */
export interface Database {
  projects: ProjectRow;
  organizations: OrganizationRow;
  organization_domains: OrganizationDomainRow;
  members: MemberRow;
  audit_events: AuditEventRow;
  audit_chain_heads: AuditChainHeadRow;
  audit_chain_published_heads: AuditChainPublishedHeadRow;
  sessions: SessionRow;
  intermediate_sessions: IntermediateSessionRow;
  email_credentials: EmailCredentialRow;
  signing_keys: SigningKeyRow;
  impersonation_tokens: ImpersonationTokenRow;
  impersonated_sessions: ImpersonatedSessionRow;
  impersonation_policies: ImpersonationPolicyRow;
  impersonation_access_grants: ImpersonationAccessGrantRow;
  impersonation_end_links: ImpersonationEndLinkRow;
  webhook_endpoints: WebhookEndpointRow;
  webhook_outbox: WebhookOutboxRow;
  webhook_deliveries: WebhookDeliveryRow;
  operators: OperatorRow;
  console_sessions: ConsoleSessionRow;
  rate_limit_counters: RateLimitCounterRow;
  mail_outbox: MailOutboxRow;
  redirect_urls: RedirectUrlRow;
  member_passwords: MemberPasswordRow;
  password_failures: PasswordFailureRow;
  member_totps: MemberTotpRow;
  member_recovery_codes: MemberRecoveryCodeRow;
  mfa_sms_codes: MfaSmsCodeRow;
  sms_outbox: SmsOutboxRow;
  rbac_policy_versions: RbacPolicyVersionRow;
  sso_connections: SsoConnectionRow;
  sso_certificates: SsoCertificateRow;
  sso_requests: SsoRequestRow;
  sso_tokens: SsoTokenRow;
  sso_assertions: SsoAssertionRow;
  sso_subjects: SsoSubjectRow;
}

export interface ProjectRow {
  project_id: string;
  secret_digest: string;
  created_at: string;
}

export interface OrganizationRow {
  organization_id: string;
  organization_name: string;
  organization_slug: string;
  organization_logo_url: string;
  organization_external_id: string | null;
  trusted_metadata: string;
  settings: string;
  created_at: string;
  updated_at: string;
}

/** Allowed and claimed email domains, one row each, so searches by domain use an index. */
export interface OrganizationDomainRow {
  organization_id: string;
  kind: 'allowed' | 'claimed';
  domain: string;
}

export interface MemberRow {
  member_id: string;
  organization_id: string;
  email_address: string;
  email_address_verified: number;
  status: string;
  name: string;
  external_id: string | null;
  is_breakglass: number;
  mfa_phone_number: string;
  mfa_phone_number_verified: number;
  mfa_enrolled: number;
  default_mfa_method: string;
  assigned_roles: string;
  /** JSON: connection id → the groups its IdP last asserted (0017). */
  sso_groups: string;
  /** JSON list of the member's SSO registrations as answered on the wire (0020). */
  sso_registrations: string;
  trusted_metadata: string;
  untrusted_metadata: string;
  retired_email_addresses: string;
  member_password_id: string;
  totp_registration_id: string;
  is_locked: number;
  lock_created_at: string | null;
  lock_expires_at: string | null;
  created_at: string;
  updated_at: string;
}

export interface AuditEventRow {
  event_id: string;
  type: string;
  occurred_at: string;
  request_id: string;
  actor: string;
  organization_id: string | null;
  member_id: string | null;
  impersonator_id: string | null;
  client_ip: string | null;
  user_agent: string | null;
  details: string;
  /** The tamper-evident chain (0019): null on events that join none (src/domain/audit/audit-chain.ts). */
  chain_id: string | null;
  chain_seq: number | null;
  prev_hash: string | null;
  hash: string | null;
}

/** One row per audit chain: its newest record's seq and hash, locked by whoever appends to it (0019). */
export interface AuditChainHeadRow {
  chain_id: string;
  seq: number;
  hash: string;
  updated_at: string;
}

/** Each chain's furthest published head (ChainHeadPublisher): what the next publication leaves out when unchanged. */
export interface AuditChainPublishedHeadRow {
  chain_id: string;
  seq: number;
  hash: string;
}

export interface SessionRow {
  member_session_id: string;
  token_lookup_id: string;
  /** base64url SHA-256 of the whole token; the token itself is never stored. */
  token_digest: string;
  member_id: string;
  organization_id: string;
  started_at: string;
  last_accessed_at: string;
  expires_at: string;
  revoked_at: string | null;
  authentication_factors: string;
  custom_claims: string;
  attributes: string;
  roles: string;
}

/** A sign-in waiting for its MFA step: the token only as lookup id and digest, like a session's. */
export interface IntermediateSessionRow {
  intermediate_session_id: string;
  token_lookup_id: string;
  /** base64url SHA-256 of the whole token; the token itself is never stored. */
  token_digest: string;
  /** Null for a discovery intermediate session, which belongs to an email address alone. */
  organization_id: string | null;
  member_id: string | null;
  email_address: string;
  authentication_factors: string;
  created_at: string;
  expires_at: string;
  consumed_at: string | null;
}

/** A magic link or one-time code: never the token or code, only its lookup id (links) and digest. */
export interface EmailCredentialRow {
  credential_id: string;
  kind: string;
  purpose: string;
  organization_id: string | null;
  member_id: string | null;
  email_address: string;
  lookup_id: string | null;
  /** base64url SHA-256 of the token, or of the credential id and the code. */
  digest: string;
  pkce_code_challenge: string | null;
  created_at: string;
  expires_at: string;
  consumed_at: string | null;
  failed_attempts: Generated<number>;
}

export interface SigningKeyRow {
  kid: string;
  public_jwk: string;
  /** The private JWK sealed with AES-256-GCM under the master key. */
  sealed_private_jwk: string;
  created_at: string;
  active_from: string;
  active_until: string | null;
  published_until: string | null;
}

/** A minted impersonation token: only its lookup id and digest, never the token. */
export interface ImpersonationTokenRow {
  token_id: string;
  token_lookup_id: string;
  token_digest: string;
  organization_id: string;
  member_id: string;
  impersonator_id: string;
  impersonator_email_address: string;
  reason: string;
  created_at: string;
  expires_at: string;
  redeemed_at: string | null;
  member_session_id: string | null;
  /** Null only on rows written before migration 0006 set it. */
  member_email_address: string | null;
  revoked_at: string | null;
  grant_id: string | null;
  kind: string;
  permission_mask: string | null;
}

/** One impersonated session's life: who, why, and how it ended. */
export interface ImpersonatedSessionRow {
  member_session_id: string;
  token_id: string;
  organization_id: string;
  member_id: string;
  impersonator_id: string;
  impersonator_email_address: string;
  reason: string;
  started_at: string;
  expires_at: string;
  ended_at: string | null;
  end_reason: string | null;
  grant_id: string | null;
  kind: string;
  permission_mask: string | null;
}

export interface ImpersonationPolicyRow {
  organization_id: string;
  /** Written beside access_mode: 0 exactly when the mode is `off`. */
  enabled: number;
  redirect_url: string | null;
  updated_at: string;
  /** open | by_grant | off; null only on rows written before migration 0018 and not yet filled. */
  access_mode: string | null;
  /** off | members | members_and_admins; null means the default (members). */
  delegated_impersonation: string | null;
  notify_member: number;
  notify_admins: number;
  chosen_by_organization: number;
}

export interface ImpersonationAccessGrantRow {
  grant_id: string;
  organization_id: string;
  status: string;
  member_ids: string | null;
  duration_minutes: number;
  reason: string;
  requested_by: string;
  requested_at: string;
  opened_by: string | null;
  opened_at: string | null;
  expires_at: string | null;
  closed_by: string | null;
  closed_at: string | null;
}

export interface ImpersonationEndLinkRow {
  link_id: string;
  lookup_id: string;
  digest: string;
  member_session_id: string;
  organization_id: string;
  member_id: string;
  created_at: string;
  expires_at: string;
  used_at: string | null;
}

export interface WebhookEndpointRow {
  endpoint_id: string;
  organization_id: string | null;
  url: string;
  description: string;
  secret_sealed: string;
  created_at: string;
  disabled_at: string | null;
}

export interface WebhookOutboxRow {
  event_id: string;
  enqueued_at: string;
}

export interface WebhookDeliveryRow {
  delivery_id: string;
  endpoint_id: string;
  event_id: string;
  event_type: string;
  organization_id: string | null;
  payload: string;
  status: string;
  attempts: number;
  next_attempt_at: string | null;
  last_attempt_at: string | null;
  last_status_code: number | null;
  last_error: string | null;
  created_at: string;
  delivered_at: string | null;
}

export interface OperatorRow {
  operator_id: string;
  email_address: string;
  name: string;
  role: string;
  /** argon2id encoded hash. */
  password_hash: string;
  /** TOTP secret sealed with AES-256-GCM under the master key. */
  sealed_totp_secret: string | null;
  last_totp_step: number | string | null;
  failed_attempts: number;
  locked_until: string | null;
  disabled_at: string | null;
  created_at: string;
  updated_at: string;
}

export interface ConsoleSessionRow {
  console_session_id: string;
  token_lookup_id: string;
  token_digest: string;
  operator_id: string;
  created_at: string;
  last_seen_at: string;
  expires_at: string;
  totp_verified_at: string | null;
  revoked_at: string | null;
}

/** One fixed window's count for one limit and key (a client address or a project id; never a token). */
export interface RateLimitCounterRow {
  bucket: string;
  key: string;
  window_start: string;
  expires_at: string;
  count: number;
}

/**
 * A message sent or kept (newest 1,000). Link, code and bodies only in outbox mode (no SMTP: a
 * development setting); with SMTP only the delivery status.
 */
export interface MailOutboxRow {
  message_id: string;
  mode: string;
  status: string;
  template: string;
  locale: string;
  recipient: string;
  /** The recipient in lower case, for lookups by address. */
  recipient_key: string;
  subject: string;
  organization_id: string | null;
  member_id: string | null;
  request_id: string;
  expires_at: string;
  link: string | null;
  code: string | null;
  text_body: string | null;
  html_body: string | null;
  attempts: number;
  last_reply: string | null;
  created_at: string;
  updated_at: string;
}

/** One type a redirect URL (added in the console or the CLI) is allowed for; at most one default per type. */
export interface RedirectUrlRow {
  url: string;
  type: string;
  is_default: number;
  created_at: string;
  updated_at: string;
}

/** A member's password: our argon2id hash, or one migrated from another system until first sign-in. */
export interface MemberPasswordRow {
  member_password_id: string;
  member_id: string;
  organization_id: string;
  hash_type: string;
  hash: string;
  /** JSON of the migrated hash's configuration (salts, parameters); null when the hash says it all. */
  hash_config: string | null;
  created_at: string;
  updated_at: string;
}

/** Consecutive wrong passwords for an address in an organization, and its lock. */
export interface PasswordFailureRow {
  organization_id: string;
  email_address: string;
  failed_attempts: number;
  locked_at: string | null;
  lock_expires_at: string | null;
  updated_at: string;
}

/** A member's authenticator-app registration: `pending` until its first code, then `active`. */
export interface MemberTotpRow {
  totp_id: string;
  member_id: string;
  organization_id: string;
  /** The base32 secret sealed with AES-256-GCM under the master key. */
  sealed_secret: string;
  status: string;
  created_at: string;
  /** When a pending registration lapses; null once active. */
  expires_at: string | null;
  activated_at: string | null;
  /** The newest 30-second step accepted (bigint on PostgreSQL: read back as a string or number). */
  last_used_step: string | number | bigint | null;
}

/** One recovery code of a registration, sealed; spent once. */
export interface MemberRecoveryCodeRow {
  recovery_code_id: string;
  totp_id: string;
  member_id: string;
  organization_id: string;
  sealed_code: string;
  position: number;
  created_at: string;
  used_at: string | null;
}

/** The one live SMS code of a member: only its digest. */
export interface MfaSmsCodeRow {
  sms_code_id: string;
  member_id: string;
  organization_id: string;
  phone_number: string;
  digest: string;
  failed_attempts: number;
  created_at: string;
  expires_at: string;
  consumed_at: string | null;
}

/** One SMS sent: the message itself in outbox mode, only its delivery status with a provider. */
export interface SmsOutboxRow {
  message_id: string;
  mode: string;
  status: string;
  template: string;
  locale: string;
  recipient: string;
  organization_id: string | null;
  member_id: string | null;
  request_id: string;
  expires_at: string;
  code: string | null;
  text_body: string | null;
  attempts: number;
  last_reply: string | null;
  created_at: string;
  updated_at: string;
}

/** One version of the project's RBAC policy: the policy in its domain form, as JSON. */
export interface RbacPolicyVersionRow {
  version: number;
  policy: string;
  source: 'file' | 'console' | 'cli';
  created_at: string;
}

/** An organization's SSO connection (0020); `settings` is the kind's own fields as JSON. */
export interface SsoConnectionRow {
  connection_id: string;
  organization_id: string;
  kind: string;
  status: string;
  display_name: string;
  identity_provider: string;
  settings: string;
  /** JSON of SsoConnectionSecrets sealed with the master key, or null. */
  sealed_secrets: string | null;
  created_at: string;
  updated_at: string;
}

export interface SsoCertificateRow {
  certificate_id: string;
  connection_id: string;
  organization_id: string;
  purpose: string;
  certificate: string;
  sealed_private_key: string | null;
  issuer: string;
  created_at: string;
  expires_at: string | null;
}

/** A started SSO sign-in waiting for the IdP (lookup id and digest of its state token only). */
export interface SsoRequestRow {
  request_id: string;
  lookup_id: string;
  digest: string;
  connection_id: string;
  sign_in_connection_id: string;
  organization_id: string;
  kind: string;
  purpose: string;
  protocol_request_id: string;
  nonce: string;
  login_redirect_url: string;
  signup_redirect_url: string;
  pkce_code_challenge: string;
  operator_id: string;
  created_at: string;
  expires_at: string;
  consumed_at: string | null;
  /** JSON of SsoTestResult, or null. */
  test_result: string | null;
}

/** An SSO token for sso.authenticate (lookup id and digest only); `proof` is JSON of SsoProof. */
export interface SsoTokenRow {
  token_id: string;
  lookup_id: string;
  digest: string;
  organization_id: string;
  connection_id: string;
  proof: string;
  pkce_code_challenge: string;
  created_at: string;
  expires_at: string;
  consumed_at: string | null;
}

export interface SsoAssertionRow {
  connection_id: string;
  assertion_id: string;
  expires_at: string;
}

export interface SsoSubjectRow {
  connection_id: string;
  external_id: string;
  organization_id: string;
  member_id: string;
  registration_id: string;
}
