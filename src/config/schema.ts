import type { Argon2idParameters } from '../domain/passwords/password-hashing.js';
import type { PasswordSettings } from '../domain/passwords/password-settings.js';
import type { RedirectUrl } from '../domain/redirect-urls/redirect-url.js';
import type { SmsProviderSettings } from '../sms/sms-settings.js';

/**
 * Every configuration key in one place (style rule 20): its environment variable, its key in the
 * optional JSON config file, its default and a one-line doc. `docs/configuration.md`
 * is checked against this list by a unit test.
 */
export interface ConfigKey {
  readonly env: string;
  readonly file: string;
  readonly default?: string;
  readonly doc: string;
}

export const CONFIG_KEYS = {
  host: { env: 'UNDERSTUDY_HOST', file: 'host', default: '127.0.0.1', doc: 'Address to listen on.' },
  port: { env: 'UNDERSTUDY_PORT', file: 'port', default: '8080', doc: 'TCP port to listen on (0 picks a free one).' },
  dataDir: { env: 'UNDERSTUDY_DATA_DIR', file: 'data_dir', default: './data', doc: 'Directory for the SQLite database and generated credentials.' },
  databaseUrl: { env: 'UNDERSTUDY_DATABASE_URL', file: 'database_url', doc: 'A postgres:// URL selects PostgreSQL; unset means SQLite in the data directory.' },
  projectId: { env: 'UNDERSTUDY_PROJECT_ID', file: 'project_id', doc: 'Project id (project-test-… or project-live-…); generated on first start when unset.' },
  projectSecret: { env: 'UNDERSTUDY_PROJECT_SECRET', file: 'project_secret', doc: 'Project secret; generated on first start when unset. Only its digest is stored.' },
  tlsCert: { env: 'UNDERSTUDY_TLS_CERT', file: 'tls_cert', doc: 'Path to a PEM certificate; with UNDERSTUDY_TLS_KEY, serve HTTPS.' },
  tlsKey: { env: 'UNDERSTUDY_TLS_KEY', file: 'tls_key', doc: 'Path to the PEM private key for UNDERSTUDY_TLS_CERT.' },
  logLevel: { env: 'UNDERSTUDY_LOG_LEVEL', file: 'log_level', default: 'info', doc: 'One of fatal, error, warn, info, debug, trace, silent.' },
  masterKey: {
    env: 'UNDERSTUDY_MASTER_KEY',
    file: 'master_key',
    doc: 'Encrypts signing keys at rest: 32 bytes as base64 or hex. Required with PostgreSQL; on SQLite a generated key file is used when unset.',
  },
  impersonationEnabled: {
    env: 'UNDERSTUDY_IMPERSONATION_ENABLED',
    file: 'impersonation_enabled',
    default: 'true',
    doc: 'Project-wide switch for member impersonation; false refuses every mint and redemption, whatever organizations allow.',
  },
  impersonationRedirectUrl: {
    env: 'UNDERSTUDY_IMPERSONATION_REDIRECT_URL',
    file: 'impersonation_redirect_url',
    doc: "Where impersonation links send the browser (with stytch_token_type=multi_tenant_impersonation&token=…), unless the organization sets its own.",
  },
  rateLimitsEnabled: {
    env: 'UNDERSTUDY_RATE_LIMITS_ENABLED',
    file: 'rate_limits_enabled',
    default: 'true',
    doc: 'Switch for every rate limit below; past a limit a call gets 429 too_many_requests with Retry-After.',
  },
  rateLimitMintsPerMinute: {
    env: 'UNDERSTUDY_RATE_LIMIT_MINTS_PER_MINUTE',
    file: 'rate_limit_mints_per_minute',
    default: '60',
    doc: 'Impersonation mint calls per project and minute; 0 turns this limit off.',
  },
  rateLimitSearchesPerMinute: {
    env: 'UNDERSTUDY_RATE_LIMIT_SEARCHES_PER_MINUTE',
    file: 'rate_limit_searches_per_minute',
    default: '100',
    doc: 'Calls of organizations.search, and separately of organizations.members.search, per project and minute; 0 turns this limit off.',
  },
  rateLimitConsoleSignInsPerMinute: {
    env: 'UNDERSTUDY_RATE_LIMIT_CONSOLE_SIGN_INS_PER_MINUTE',
    file: 'rate_limit_console_sign_ins_per_minute',
    default: '10',
    doc: 'Console sign-in attempts (email and password) per client address and minute, whatever addresses they try; 0 turns this limit off.',
  },
  rateLimitEmailSendsPerAddressPerMinute: {
    env: 'UNDERSTUDY_RATE_LIMIT_EMAIL_SENDS_PER_ADDRESS_PER_MINUTE',
    file: 'rate_limit_email_sends_per_address_per_minute',
    default: '5',
    doc: 'Magic links and one-time codes sent to one email address per minute, across organizations and flows; 0 turns this limit off.',
  },
  rateLimitEmailSendsPerClientPerMinute: {
    env: 'UNDERSTUDY_RATE_LIMIT_EMAIL_SENDS_PER_CLIENT_PER_MINUTE',
    file: 'rate_limit_email_sends_per_client_per_minute',
    default: '300',
    doc: "Magic links and one-time codes sent per client address (usually the application's backend) per minute; 0 turns this limit off.",
  },
  rateLimitSsoRequestsPerClientPerMinute: {
    env: 'UNDERSTUDY_RATE_LIMIT_SSO_REQUESTS_PER_CLIENT_PER_MINUTE',
    file: 'rate_limit_sso_requests_per_client_per_minute',
    default: '120',
    doc: "SSO requests per browser address and minute: sign-ins started at /v1/public/sso/start and identity providers' answers at a connection's callback; 0 turns this limit off.",
  },
  passwordPolicy: {
    env: 'UNDERSTUDY_PASSWORD_POLICY',
    file: 'password_policy',
    default: 'zxcvbn',
    doc: 'How new passwords are judged: zxcvbn (a strength score of at least 3) or luds (length and character kinds, below).',
  },
  passwordLudsMinLength: { env: 'UNDERSTUDY_PASSWORD_LUDS_MIN_LENGTH', file: 'password_luds_min_length', default: '8', doc: 'LUDS policy: the fewest characters a password may have (8 to 32).' },
  passwordLudsMinComplexity: {
    env: 'UNDERSTUDY_PASSWORD_LUDS_MIN_COMPLEXITY',
    file: 'password_luds_min_complexity',
    default: '3',
    doc: 'LUDS policy: how many of lower case, upper case, digits and symbols a password needs (1 to 4).',
  },
  passwordBreachCheckOnCreation: {
    env: 'UNDERSTUDY_PASSWORD_BREACH_CHECK_ON_CREATION',
    file: 'password_breach_check_on_creation',
    default: 'true',
    doc: 'Refuse new passwords found in the breach source (breached_password). Needs a breach source below.',
  },
  passwordBreachCheckOnAuthentication: {
    env: 'UNDERSTUDY_PASSWORD_BREACH_CHECK_ON_AUTHENTICATION',
    file: 'password_breach_check_on_authentication',
    default: 'false',
    doc: 'A correct password found in the breach source must be reset (member_reset_password). Needs a breach source below.',
  },
  passwordValidateOnAuthentication: {
    env: 'UNDERSTUDY_PASSWORD_VALIDATE_ON_AUTHENTICATION',
    file: 'password_validate_on_authentication',
    default: 'false',
    doc: 'A correct password that no longer meets the policy must be reset (member_reset_password).',
  },
  passwordBreachRangesDir: {
    env: 'UNDERSTUDY_PASSWORD_BREACH_RANGES_DIR',
    file: 'password_breach_ranges_dir',
    doc: 'A directory of HaveIBeenPwned-format range files (00000 … FFFFF, lines of SUFFIX:COUNT): breach checks without any network.',
  },
  passwordBreachRangeApiUrl: {
    env: 'UNDERSTUDY_PASSWORD_BREACH_RANGE_API_URL',
    file: 'password_breach_range_api_url',
    doc: 'A k-anonymity range API base URL (e.g. https://api.pwnedpasswords.com/range/): only the first 5 characters of the SHA-1 are sent. Unset with no directory: no breach checks.',
  },
  crossOrgPasswordsEnabled: {
    env: 'UNDERSTUDY_CROSS_ORG_PASSWORDS_ENABLED',
    file: 'cross_org_passwords_enabled',
    default: 'false',
    doc: "One password per email address across organizations: setting it in one sets it for the address's members in every organization, and enables the discovery password operations.",
  },
  userLockThreshold: {
    env: 'UNDERSTUDY_USER_LOCK_THRESHOLD',
    file: 'user_lock_threshold',
    default: '10',
    doc: 'Consecutive wrong passwords for an address in an organization that lock it (user_lock_limit_reached, 429).',
  },
  userLockTtlSeconds: { env: 'UNDERSTUDY_USER_LOCK_TTL_SECONDS', file: 'user_lock_ttl_seconds', default: '3600', doc: 'Seconds a user lock lasts (300 to 604800).' },
  argon2MemoryKib: {
    env: 'UNDERSTUDY_ARGON2_MEMORY_KIB',
    file: 'argon2_memory_kib',
    default: '19456',
    doc: "argon2id memory per password hash, in KiB; the default is OWASP's minimum (19 MiB with 2 iterations).",
  },
  argon2Iterations: { env: 'UNDERSTUDY_ARGON2_ITERATIONS', file: 'argon2_iterations', default: '2', doc: 'argon2id iterations (time cost) per password hash.' },
  argon2Parallelism: { env: 'UNDERSTUDY_ARGON2_PARALLELISM', file: 'argon2_parallelism', default: '1', doc: 'argon2id lanes per password hash.' },
  passwordHashConcurrency: {
    env: 'UNDERSTUDY_PASSWORD_HASH_CONCURRENCY',
    file: 'password_hash_concurrency',
    doc: 'Password hashes and verifications run at once (each holds the argon2 memory); unset: the number of CPU cores.',
  },
  passwordHashQueueLength: {
    env: 'UNDERSTUDY_PASSWORD_HASH_QUEUE_LENGTH',
    file: 'password_hash_queue_length',
    default: '64',
    doc: 'Password hashes that may wait for a free slot; past that a password call gets 429 too_many_requests with Retry-After.',
  },
  rateLimitPasswordAttemptsPerClientPerMinute: {
    env: 'UNDERSTUDY_RATE_LIMIT_PASSWORD_ATTEMPTS_PER_CLIENT_PER_MINUTE',
    file: 'rate_limit_password_attempts_per_client_per_minute',
    default: '6000',
    doc: 'Password sign-in attempts (right or wrong) per client address and minute, whatever addresses they try; 0 turns this limit off.',
  },
  rateLimitSmsSendsPerNumberPerHour: {
    env: 'UNDERSTUDY_RATE_LIMIT_SMS_SENDS_PER_NUMBER_PER_HOUR',
    file: 'rate_limit_sms_sends_per_number_per_hour',
    default: '5',
    doc: 'SMS codes sent to one phone number per hour (otps.sms.send and the SMS a sign-in starts), across members and organizations; 0 turns this limit off.',
  },
  rateLimitSmsSendsPerMemberPerHour: {
    env: 'UNDERSTUDY_RATE_LIMIT_SMS_SENDS_PER_MEMBER_PER_HOUR',
    file: 'rate_limit_sms_sends_per_member_per_hour',
    default: '10',
    doc: 'SMS codes sent to one member per hour; 0 turns this limit off.',
  },
  rateLimitSmsSendsPerOrganizationPerHour: {
    env: 'UNDERSTUDY_RATE_LIMIT_SMS_SENDS_PER_ORGANIZATION_PER_HOUR',
    file: 'rate_limit_sms_sends_per_organization_per_hour',
    default: '100',
    doc: "SMS codes sent to the members of one organization per hour: one organization cannot spend the project's budget; 0 turns this limit off.",
  },
  rateLimitSmsSendsPerProjectPerHour: {
    env: 'UNDERSTUDY_RATE_LIMIT_SMS_SENDS_PER_PROJECT_PER_HOUR',
    file: 'rate_limit_sms_sends_per_project_per_hour',
    default: '1000',
    doc: 'SMS codes the whole project sends per hour: a ceiling on what SMS pumping can cost; 0 turns this limit off.',
  },
  redirectUrls: {
    env: 'UNDERSTUDY_REDIRECT_URLS',
    file: 'redirect_urls',
    doc: 'Redirect URLs magic links may send browsers to: comma-separated, each allowed for every type, the first the default; in the file also an object of lists by type.',
  },
  trustProxy: {
    env: 'UNDERSTUDY_TRUST_PROXY',
    file: 'trust_proxy',
    doc: 'Comma-separated addresses or CIDR ranges of reverse proxies whose X-Forwarded-For names the client; unset trusts none.',
  },
  auditExportConcurrency: {
    env: 'UNDERSTUDY_AUDIT_EXPORT_CONCURRENCY',
    file: 'audit_export_concurrency',
    default: '2',
    doc: 'Audit trail exports (API NDJSON and console download) one process streams at once; more get 429 too_many_requests with Retry-After.',
  },
  auditExportStallSeconds: {
    env: 'UNDERSTUDY_AUDIT_EXPORT_STALL_SECONDS',
    file: 'audit_export_stall_seconds',
    default: '30',
    doc: 'An audit export whose client reads nothing for this many seconds is cut off, giving its slot back.',
  },
  projectName: {
    env: 'UNDERSTUDY_PROJECT_NAME',
    file: 'project_name',
    default: 'Understudy',
    doc: 'The name sign-in emails give the project (subject, text and signature).',
  },
  smtpUrl: {
    env: 'UNDERSTUDY_SMTP_URL',
    file: 'smtp_url',
    doc: 'smtp://user:pass@host:587 (STARTTLS required, except to this machine or with ?requireTLS=false) or smtps://…:465 sends sign-in email; unset keeps every message in the outbox (development only).',
  },
  smtpFrom: { env: 'UNDERSTUDY_SMTP_FROM', file: 'smtp_from', doc: 'The From address of sent email, e.g. "Acme <login@acme.example>"; required with UNDERSTUDY_SMTP_URL.' },
  smtpReplyTo: { env: 'UNDERSTUDY_SMTP_REPLY_TO', file: 'smtp_reply_to', doc: 'An optional Reply-To address for sent email.' },
  smsProvider: {
    env: 'UNDERSTUDY_SMS_PROVIDER',
    file: 'sms_provider',
    default: 'outbox',
    doc: 'How SMS codes leave: outbox (kept in the database with their code, development only), webhook (a signed POST to your endpoint) or twilio (a Twilio-shaped Messages API).',
  },
  smsWebhookUrl: { env: 'UNDERSTUDY_SMS_WEBHOOK_URL', file: 'sms_webhook_url', doc: 'Where the webhook provider posts each SMS: https:// (http:// only to this machine); required with UNDERSTUDY_SMS_PROVIDER=webhook.' },
  smsWebhookSecret: {
    env: 'UNDERSTUDY_SMS_WEBHOOK_SECRET',
    file: 'sms_webhook_secret',
    doc: 'Signs each webhook the Standard Webhooks way: whsec_ followed by a base64 key of 24 to 64 bytes; required with UNDERSTUDY_SMS_PROVIDER=webhook.',
  },
  smsAllowedCountryCodes: {
    env: 'UNDERSTUDY_SMS_ALLOWED_COUNTRY_CODES',
    file: 'sms_allowed_country_codes',
    doc: 'Country calling codes SMS codes may go to, comma-separated (1,44); unset: every country. A number of another country is refused with 400 phone_number_country_not_allowed.',
  },
  twilioAccountSid: { env: 'UNDERSTUDY_TWILIO_ACCOUNT_SID', file: 'twilio_account_sid', doc: 'The Twilio account SID (AC followed by 32 hex digits); required with UNDERSTUDY_SMS_PROVIDER=twilio.' },
  twilioAuthToken: { env: 'UNDERSTUDY_TWILIO_AUTH_TOKEN', file: 'twilio_auth_token', doc: "The account's auth token (HTTP Basic password); required with UNDERSTUDY_SMS_PROVIDER=twilio." },
  twilioFrom: { env: 'UNDERSTUDY_TWILIO_FROM', file: 'twilio_from', doc: 'The sending number in E.164 (+14155550100); set it or UNDERSTUDY_TWILIO_MESSAGING_SERVICE_SID, not both.' },
  twilioMessagingServiceSid: {
    env: 'UNDERSTUDY_TWILIO_MESSAGING_SERVICE_SID',
    file: 'twilio_messaging_service_sid',
    doc: 'A messaging service (MG followed by 32 hex digits) that picks the sender; set it or UNDERSTUDY_TWILIO_FROM, not both.',
  },
  twilioBaseUrl: {
    env: 'UNDERSTUDY_TWILIO_BASE_URL',
    file: 'twilio_base_url',
    default: 'https://api.twilio.com',
    doc: 'Where the Messages API is: https:// (http:// only to this machine), e.g. a stand-in for tests.',
  },
  rbacPolicyFile: {
    env: 'UNDERSTUDY_RBAC_POLICY_FILE',
    file: 'rbac_policy_file',
    doc: "A JSON or YAML file holding the project's RBAC policy ({resources, roles, scopes}); applied at every start when it differs from the policy in force.",
  },
  impersonationMaxGrantHours: {
    env: 'UNDERSTUDY_IMPERSONATION_MAX_GRANT_HOURS',
    file: 'impersonation_max_grant_hours',
    default: '72',
    doc: 'Longest access grant an organization may open for support (1 to 72 hours).',
  },
  publicUrl: {
    env: 'UNDERSTUDY_PUBLIC_URL',
    file: 'public_url',
    doc: "This server's address as members' browsers reach it (https://, or http://localhost); impersonation notification emails link to it so a member can end the impersonation. Unset: the emails carry no such link.",
  },
  webhookAllowPrivateAddresses: {
    env: 'UNDERSTUDY_WEBHOOK_ALLOW_PRIVATE_ADDRESSES',
    file: 'webhook_allow_private_addresses',
    default: 'false',
    doc: 'Let webhook endpoints name loopback, private and link-local addresses (and http://localhost); off, so an organization cannot point deliveries into your network.',
  },
  ssoAllowPrivateAddresses: {
    env: 'UNDERSTUDY_SSO_ALLOW_PRIVATE_ADDRESSES',
    file: 'sso_allow_private_addresses',
    default: 'false',
    doc: "Let SSO connections name loopback, private and link-local addresses (and http://localhost) for the identity provider's metadata, discovery, token, userinfo and JWKS URLs that Understudy fetches; off, so an organization cannot point those requests into your network.",
  },
  webhookMaxAttempts: {
    env: 'UNDERSTUDY_WEBHOOK_MAX_ATTEMPTS',
    file: 'webhook_max_attempts',
    default: '8',
    doc: 'Attempts per webhook delivery (1 to 20) before it is marked failed; waits between them grow from 5 seconds to 6 hours.',
  },
  auditChainPublishSeconds: {
    env: 'UNDERSTUDY_AUDIT_CHAIN_PUBLISH_SECONDS',
    file: 'audit_chain_publish_seconds',
    default: '3600',
    doc: "How often the audit chains' heads are published (a log line and an audit.chain_head_published webhook event to the project's endpoints); 0 turns it off.",
  },
  logFormat: {
    env: 'UNDERSTUDY_LOG_FORMAT',
    file: 'log_format',
    default: 'auto',
    doc: 'auto (readable lines when stdout is a terminal, JSON otherwise), json or pretty.',
  },
  accessLog: {
    env: 'UNDERSTUDY_ACCESS_LOG',
    file: 'access_log',
    default: 'true',
    doc: 'One line per request at info (operation, status, duration, request id; never a token or query string); false moves it to debug.',
  },
  metricsToken: {
    env: 'UNDERSTUDY_METRICS_TOKEN',
    file: 'metrics_token',
    doc: 'Serves GET /metrics (Prometheus) on the API port to requests bearing this token (Authorization: Bearer, at least 32 characters).',
  },
  metricsAddress: {
    env: 'UNDERSTUDY_METRICS_ADDRESS',
    file: 'metrics_address',
    doc: 'host:port of a separate listener serving only GET /metrics (and the token, when set, is required there too).',
  },
  autoMigrate: {
    env: 'UNDERSTUDY_AUTO_MIGRATE',
    file: 'auto_migrate',
    default: 'true',
    doc: 'serve applies pending database migrations at start; false refuses to start until `understudy migrate` has applied them.',
  },
  bodyLimitBytes: { env: 'UNDERSTUDY_BODY_LIMIT_BYTES', file: 'body_limit_bytes', default: '1048576', doc: 'Largest accepted request body; larger ones get 413.' },
  headersTimeoutMs: {
    env: 'UNDERSTUDY_HEADERS_TIMEOUT_MS',
    file: 'headers_timeout_ms',
    default: '10000',
    doc: 'A client must send all request headers within this many milliseconds of connecting (or of its previous request), or the connection is closed.',
  },
  requestTimeoutMs: {
    env: 'UNDERSTUDY_REQUEST_TIMEOUT_MS',
    file: 'request_timeout_ms',
    default: '30000',
    doc: 'A client must send a whole request, body included, within this many milliseconds; at least the headers timeout.',
  },
  keepAliveTimeoutMs: {
    env: 'UNDERSTUDY_KEEP_ALIVE_TIMEOUT_MS',
    file: 'keep_alive_timeout_ms',
    default: '72000',
    doc: 'An idle keep-alive connection is closed after this many milliseconds.',
  },
} as const satisfies Record<string, ConfigKey>;

export type ConfigName = keyof typeof CONFIG_KEYS;

/**
 * Config-file keys of settings that were removed, with why. The loader refuses any unknown file key;
 * for these it says what became of the setting instead of only "unknown key". (Environment variables
 * that are not in CONFIG_KEYS are never read, so a removed one is simply ignored.)
 */
export const REMOVED_FILE_KEYS: Readonly<Record<string, string>> = {
  rate_limit_auth_failures_per_minute:
    'the limit on failed session and impersonation authentications per client address was removed: their tokens cannot be guessed, ' +
    "and since the caller is the application's backend, the limit only let anyone's bogus tokens get genuine ones refused",
};

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export const LOG_FORMATS = ['auto', 'json', 'pretty'] as const;

export interface Config {
  readonly host: string;
  readonly port: number;
  readonly dataDir: string;
  readonly databaseUrl: string | undefined;
  readonly projectId: string | undefined;
  readonly projectSecret: string | undefined;
  readonly tlsCert: string | undefined;
  readonly tlsKey: string | undefined;
  readonly logLevel: (typeof LOG_LEVELS)[number];
  readonly masterKey: string | undefined;
  readonly impersonationEnabled: boolean;
  readonly impersonationRedirectUrl: string | undefined;
  readonly rateLimitsEnabled: boolean;
  readonly rateLimitMintsPerMinute: number;
  readonly rateLimitSearchesPerMinute: number;
  readonly rateLimitConsoleSignInsPerMinute: number;
  readonly rateLimitEmailSendsPerAddressPerMinute: number;
  readonly rateLimitEmailSendsPerClientPerMinute: number;
  readonly rateLimitSsoRequestsPerClientPerMinute: number;
  /** Configured redirect URLs (read-only in the console and CLI); empty when none are. */
  readonly redirectUrls: readonly RedirectUrl[];
  readonly trustProxy: string | undefined;
  readonly auditExportConcurrency: number;
  readonly auditExportStallSeconds: number;
  readonly projectName: string;
  /** Unset: outbox mode (docs/email.md). Holds the SMTP password: never log it. */
  readonly smtpUrl: string | undefined;
  readonly smtpFrom: string | undefined;
  readonly smtpReplyTo: string | undefined;
  /** How SMS codes leave, with the chosen provider's settings (holds its secret: never log it). */
  readonly sms: SmsProviderSettings;
  /** Country calling codes (digits) SMS codes may go to; empty: every country. */
  readonly smsAllowedCountryCodes: readonly string[];
  /**
   * The RBAC policy file, applied by `serve` at every start (docs/rbac.md); unset: the policy is
   * edited only by the console and the CLI. Optional so code that builds a Config by hand may omit it.
   */
  readonly rbacPolicyFile?: string | undefined;
  readonly impersonationMaxGrantHours: number;
  readonly publicUrl: string | undefined;
  readonly webhookAllowPrivateAddresses: boolean;
  readonly ssoAllowPrivateAddresses: boolean;
  readonly webhookMaxAttempts: number;
  readonly auditChainPublishSeconds: number;
  /** auto: pretty when stdout is a terminal, JSON otherwise. */
  readonly logFormat: (typeof LOG_FORMATS)[number];
  readonly accessLog: boolean;
  /** Bearer token /metrics requires; a secret: never log it. */
  readonly metricsToken: string | undefined;
  /** A separate listener for /metrics. */
  readonly metricsAddress: { readonly host: string; readonly port: number } | undefined;
  readonly autoMigrate: boolean;
  readonly bodyLimitBytes: number;
  readonly headersTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly keepAliveTimeoutMs: number;
  readonly rateLimitPasswordAttemptsPerClientPerMinute: number;
  readonly rateLimitSmsSendsPerNumberPerHour: number;
  readonly rateLimitSmsSendsPerMemberPerHour: number;
  readonly rateLimitSmsSendsPerOrganizationPerHour: number;
  readonly rateLimitSmsSendsPerProjectPerHour: number;
  /** The project's password policy and user lock (docs/passwords.md). */
  readonly passwords: PasswordSettings;
  /** Breach source: a directory of range files, or a range API; neither means no breach checks. */
  readonly passwordBreachRangesDir: string | undefined;
  readonly passwordBreachRangeApiUrl: string | undefined;
  readonly argon2: Argon2idParameters;
  /** Undefined: one per CPU core. */
  readonly passwordHashConcurrency: number | undefined;
  readonly passwordHashQueueLength: number;
}
