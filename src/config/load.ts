import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { parseMasterKey } from '../crypto/keys/master-key.js';
import { redirectUrlProblem } from '../domain/impersonation/impersonation-text.js';
import { parseConfiguredRedirectUrls } from '../domain/redirect-urls/configured-redirect-urls.js';
import { loadPasswordConfig } from './password-config.js';
import { loadSmsConfig } from './sms-config.js';
import { CONFIG_KEYS, LOG_FORMATS, LOG_LEVELS, REMOVED_FILE_KEYS, type Config, type ConfigName } from './schema.js';

export class ConfigError extends Error {
  readonly problems: readonly string[];

  /** `heading` introduces the list: what was being checked (the settings, or a file they name). */
  constructor(problems: readonly string[], heading = 'Invalid configuration:') {
    super(`${heading}\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

export interface LoadConfigOptions {
  readonly env?: NodeJS.ProcessEnv;
  /** A JSON file whose keys are the `file` names in the schema; environment variables win over it. */
  readonly configFile?: string | undefined;
}

const PROJECT_ID = /^project-(test|live)-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** File, then `UNDERSTUDY_*` env, then validate every key and freeze; all problems are reported at once. */
export function loadConfig(options: LoadConfigOptions = {}): Config {
  const env = options.env ?? process.env;
  const problems: string[] = [];
  const fileValues = readConfigFile(options.configFile ?? env.UNDERSTUDY_CONFIG, problems);
  const raw = (name: ConfigName): string | undefined => {
    const key = CONFIG_KEYS[name];
    const fromEnv = env[key.env];
    if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
    const fromFile = fileValues[key.file];
    if (fromFile !== undefined && fromFile !== null) return String(fromFile);
    return 'default' in key ? key.default : undefined;
  };

  const parseBoolean = (name: 'accessLog' | 'autoMigrate'): boolean | undefined => {
    const value = raw(name);
    if (value === 'true' || value === 'false') return value === 'true';
    problems.push(`${CONFIG_KEYS[name].env} must be true or false (got "${value}")`);
    return undefined;
  };
  const port = parseInteger(raw('port'), { min: 0, max: 65535 });
  if (port === undefined) problems.push(`${CONFIG_KEYS.port.env} must be an integer from 0 to 65535 (got "${raw('port')}")`);
  const bodyLimitBytes = parseInteger(raw('bodyLimitBytes'), { min: 1, max: 100 * 1024 * 1024 });
  if (bodyLimitBytes === undefined) problems.push(`${CONFIG_KEYS.bodyLimitBytes.env} must be a positive integer up to 104857600 (got "${raw('bodyLimitBytes')}")`);
  const timeout = (name: 'headersTimeoutMs' | 'requestTimeoutMs' | 'keepAliveTimeoutMs'): number | undefined => {
    const value = parseInteger(raw(name), { min: 1, max: 3_600_000 });
    if (value === undefined) problems.push(`${CONFIG_KEYS[name].env} must be a number of milliseconds from 1 to 3600000 (got "${raw(name)}")`);
    return value;
  };
  const headersTimeoutMs = timeout('headersTimeoutMs');
  const requestTimeoutMs = timeout('requestTimeoutMs');
  const keepAliveTimeoutMs = timeout('keepAliveTimeoutMs');
  if (headersTimeoutMs !== undefined && requestTimeoutMs !== undefined && headersTimeoutMs > requestTimeoutMs) {
    problems.push(`${CONFIG_KEYS.headersTimeoutMs.env} must not be longer than ${CONFIG_KEYS.requestTimeoutMs.env}`);
  }
  const logLevel = raw('logLevel') as Config['logLevel'];
  if (!LOG_LEVELS.includes(logLevel)) problems.push(`${CONFIG_KEYS.logLevel.env} must be one of ${LOG_LEVELS.join(', ')} (got "${logLevel}")`);
  const host = raw('host') ?? '';
  if (host.trim() === '') problems.push(`${CONFIG_KEYS.host.env} must not be empty`);
  const dataDir = raw('dataDir') ?? '';
  if (dataDir.trim() === '') problems.push(`${CONFIG_KEYS.dataDir.env} must not be empty`);

  const databaseUrl = raw('databaseUrl');
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    problems.push(`${CONFIG_KEYS.databaseUrl.env} must be a postgres:// or postgresql:// URL (unset it to use SQLite)`);
  }
  const projectId = raw('projectId');
  const projectSecret = raw('projectSecret');
  if (projectId !== undefined && !PROJECT_ID.test(projectId)) {
    problems.push(`${CONFIG_KEYS.projectId.env} must look like project-test-<uuid> or project-live-<uuid>`);
  }
  if ((projectId === undefined) !== (projectSecret === undefined)) {
    problems.push(`${CONFIG_KEYS.projectId.env} and ${CONFIG_KEYS.projectSecret.env} must be set together`);
  }
  if (projectSecret !== undefined && projectSecret.length < 16) {
    problems.push(`${CONFIG_KEYS.projectSecret.env} must be at least 16 characters`);
  }
  const tlsCert = raw('tlsCert');
  const tlsKey = raw('tlsKey');
  if ((tlsCert === undefined) !== (tlsKey === undefined)) {
    problems.push(`${CONFIG_KEYS.tlsCert.env} and ${CONFIG_KEYS.tlsKey.env} must be set together`);
  }

  const masterKey = raw('masterKey');
  if (masterKey !== undefined && !isMasterKey(masterKey)) {
    problems.push(`${CONFIG_KEYS.masterKey.env} must be 32 bytes given as base64, base64url or hex (e.g. \`openssl rand -base64 32\`)`);
  }
  if (masterKey === undefined && databaseUrl !== undefined && /^postgres(ql)?:\/\//.test(databaseUrl)) {
    problems.push(`${CONFIG_KEYS.masterKey.env} is required with PostgreSQL: every process must encrypt signing keys with the same key`);
  }

  const impersonationEnabled = raw('impersonationEnabled');
  if (impersonationEnabled !== 'true' && impersonationEnabled !== 'false') {
    problems.push(`${CONFIG_KEYS.impersonationEnabled.env} must be true or false (got "${impersonationEnabled}")`);
  }
  const impersonationRedirectUrl = raw('impersonationRedirectUrl');
  const redirectProblem = impersonationRedirectUrl === undefined ? undefined : redirectUrlProblem(impersonationRedirectUrl);
  if (redirectProblem !== undefined) {
    problems.push(`${CONFIG_KEYS.impersonationRedirectUrl.env} must be an https:// URL (http:// only for localhost) without user:password@: it ${redirectProblem}`);
  }

  const rateLimitsEnabled = raw('rateLimitsEnabled');
  if (rateLimitsEnabled !== 'true' && rateLimitsEnabled !== 'false') {
    problems.push(`${CONFIG_KEYS.rateLimitsEnabled.env} must be true or false (got "${rateLimitsEnabled}")`);
  }
  const rateLimitSetting = (
    name:
      | 'rateLimitMintsPerMinute'
      | 'rateLimitSearchesPerMinute'
      | 'rateLimitConsoleSignInsPerMinute'
      | 'rateLimitEmailSendsPerAddressPerMinute'
      | 'rateLimitEmailSendsPerClientPerMinute'
      | 'rateLimitPasswordAttemptsPerClientPerMinute'
      | 'rateLimitSmsSendsPerNumberPerHour'
      | 'rateLimitSmsSendsPerMemberPerHour'
      | 'rateLimitSmsSendsPerOrganizationPerHour'
      | 'rateLimitSmsSendsPerProjectPerHour'
      | 'rateLimitSsoRequestsPerClientPerMinute',
  ): number => {
    const value = parseInteger(raw(name), { min: 0, max: 1_000_000 });
    if (value === undefined) problems.push(`${CONFIG_KEYS[name].env} must be an integer from 0 (no limit) to 1000000 (got "${raw(name)}")`);
    return value ?? 0;
  };
  const rateLimitMintsPerMinute = rateLimitSetting('rateLimitMintsPerMinute');
  const rateLimitSearchesPerMinute = rateLimitSetting('rateLimitSearchesPerMinute');
  const rateLimitConsoleSignInsPerMinute = rateLimitSetting('rateLimitConsoleSignInsPerMinute');
  const rateLimitEmailSendsPerAddressPerMinute = rateLimitSetting('rateLimitEmailSendsPerAddressPerMinute');
  const rateLimitEmailSendsPerClientPerMinute = rateLimitSetting('rateLimitEmailSendsPerClientPerMinute');
  const rateLimitPasswordAttemptsPerClientPerMinute = rateLimitSetting('rateLimitPasswordAttemptsPerClientPerMinute');
  const rateLimitSmsSendsPerNumberPerHour = rateLimitSetting('rateLimitSmsSendsPerNumberPerHour');
  const rateLimitSmsSendsPerMemberPerHour = rateLimitSetting('rateLimitSmsSendsPerMemberPerHour');
  const rateLimitSmsSendsPerOrganizationPerHour = rateLimitSetting('rateLimitSmsSendsPerOrganizationPerHour');
  const rateLimitSmsSendsPerProjectPerHour = rateLimitSetting('rateLimitSmsSendsPerProjectPerHour');
  const rateLimitSsoRequestsPerClientPerMinute = rateLimitSetting('rateLimitSsoRequestsPerClientPerMinute');
  const passwordConfig = loadPasswordConfig(raw, problems);
  const auditExportConcurrency = parseInteger(raw('auditExportConcurrency'), { min: 1, max: 1000 });
  if (auditExportConcurrency === undefined) problems.push(`${CONFIG_KEYS.auditExportConcurrency.env} must be an integer from 1 to 1000 (got "${raw('auditExportConcurrency')}")`);
  const auditExportStallSeconds = parseInteger(raw('auditExportStallSeconds'), { min: 1, max: 3600 });
  if (auditExportStallSeconds === undefined) problems.push(`${CONFIG_KEYS.auditExportStallSeconds.env} must be an integer from 1 to 3600 (got "${raw('auditExportStallSeconds')}")`);
  // Structured, so not read through raw(): the environment's list wins over the file's value.
  const redirectUrlsEnv = env[CONFIG_KEYS.redirectUrls.env];
  const redirectUrls =
    redirectUrlsEnv !== undefined && redirectUrlsEnv !== ''
      ? parseConfiguredRedirectUrls(redirectUrlsEnv, CONFIG_KEYS.redirectUrls.env)
      : parseConfiguredRedirectUrls(fileValues[CONFIG_KEYS.redirectUrls.file], `config file key ${CONFIG_KEYS.redirectUrls.file}`);
  problems.push(...redirectUrls.problems);
  const trustProxy = raw('trustProxy');
  if (trustProxy !== undefined && !isProxyList(trustProxy)) {
    problems.push(`${CONFIG_KEYS.trustProxy.env} must be a comma-separated list of IP addresses or CIDR ranges (got "${trustProxy}")`);
  }

  const projectName = (raw('projectName') ?? '').trim();
  if (projectName === '' || projectName.length > 100 || [...projectName].some((character) => character < ' ' || character === '\u007f')) {
    problems.push(`${CONFIG_KEYS.projectName.env} must be 1 to 100 characters without control characters`);
  }
  const smtpUrl = raw('smtpUrl');
  const smtpFrom = raw('smtpFrom');
  const smtpReplyTo = raw('smtpReplyTo');
  const smtpProblem = smtpUrl === undefined ? undefined : smtpUrlProblem(smtpUrl);
  // Never the URL itself in a message: it carries the SMTP password.
  if (smtpProblem !== undefined) problems.push(`${CONFIG_KEYS.smtpUrl.env} must be an smtp:// or smtps:// URL such as smtp://user:password@mail.example.com:587: it ${smtpProblem}`);
  if (smtpUrl !== undefined && smtpFrom === undefined) problems.push(`${CONFIG_KEYS.smtpFrom.env} is required with ${CONFIG_KEYS.smtpUrl.env}: the From address of sent email`);
  for (const name of ['smtpFrom', 'smtpReplyTo'] as const) {
    const value = name === 'smtpFrom' ? smtpFrom : smtpReplyTo;
    if (value !== undefined && !isMailbox(value)) problems.push(`${CONFIG_KEYS[name].env} must be an email address, optionally with a name: "Acme <login@acme.example>" (got "${value}")`);
  }
  const smsConfig = loadSmsConfig(raw, problems);
  // Only the path here: the file is read, checked and applied by `serve` at start (src/config/rbac-policy-file.ts).
  const rbacPolicyFile = raw('rbacPolicyFile');
  if (rbacPolicyFile !== undefined && rbacPolicyFile.trim() === '') problems.push(`${CONFIG_KEYS.rbacPolicyFile.env} must be a path to a JSON or YAML file`);

  const impersonationMaxGrantHours = parseInteger(raw('impersonationMaxGrantHours'), { min: 1, max: 72 });
  if (impersonationMaxGrantHours === undefined) problems.push(`${CONFIG_KEYS.impersonationMaxGrantHours.env} must be an integer from 1 to 72 (got "${raw('impersonationMaxGrantHours')}")`);
  const publicUrl = raw('publicUrl');
  const publicUrlProblem = publicUrl === undefined ? undefined : redirectUrlProblem(publicUrl);
  if (publicUrlProblem !== undefined) problems.push(`${CONFIG_KEYS.publicUrl.env} must be an https:// URL (http:// only for localhost) without user:password@: it ${publicUrlProblem}`);
  const ssoAllowPrivateAddresses = raw('ssoAllowPrivateAddresses');
  if (ssoAllowPrivateAddresses !== 'true' && ssoAllowPrivateAddresses !== 'false') {
    problems.push(`${CONFIG_KEYS.ssoAllowPrivateAddresses.env} must be true or false (got "${ssoAllowPrivateAddresses}")`);
  }
  const webhookAllowPrivateAddresses = raw('webhookAllowPrivateAddresses');
  if (webhookAllowPrivateAddresses !== 'true' && webhookAllowPrivateAddresses !== 'false') {
    problems.push(`${CONFIG_KEYS.webhookAllowPrivateAddresses.env} must be true or false (got "${webhookAllowPrivateAddresses}")`);
  }
  const webhookMaxAttempts = parseInteger(raw('webhookMaxAttempts'), { min: 1, max: 20 });
  if (webhookMaxAttempts === undefined) problems.push(`${CONFIG_KEYS.webhookMaxAttempts.env} must be an integer from 1 to 20 (got "${raw('webhookMaxAttempts')}")`);
  const auditChainPublishSeconds = parseInteger(raw('auditChainPublishSeconds'), { min: 0, max: 604800 });
  if (auditChainPublishSeconds === undefined) problems.push(`${CONFIG_KEYS.auditChainPublishSeconds.env} must be an integer from 0 to 604800 (got "${raw('auditChainPublishSeconds')}")`);

  const logFormat = raw('logFormat') as Config['logFormat'];
  if (!LOG_FORMATS.includes(logFormat)) problems.push(`${CONFIG_KEYS.logFormat.env} must be one of ${LOG_FORMATS.join(', ')} (got "${logFormat}")`);
  const accessLog = parseBoolean('accessLog');
  const autoMigrate = parseBoolean('autoMigrate');
  const metricsToken = raw('metricsToken');
  // Never the token itself in a message.
  if (metricsToken !== undefined && (metricsToken.length < 32 || !/^[\x21-\x7e]+$/.test(metricsToken))) {
    problems.push(`${CONFIG_KEYS.metricsToken.env} must be at least 32 printable characters without spaces (openssl rand -hex 32)`);
  }
  const metricsAddressText = raw('metricsAddress');
  const metricsAddress = metricsAddressText === undefined ? undefined : parseListenAddress(metricsAddressText);
  if (metricsAddressText !== undefined && metricsAddress === undefined) {
    problems.push(`${CONFIG_KEYS.metricsAddress.env} must be host:port, e.g. 127.0.0.1:9464 or [::1]:9464 (got "${metricsAddressText}")`);
  }

  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze({
    host,
    port: port as number,
    dataDir,
    databaseUrl,
    projectId,
    projectSecret,
    tlsCert,
    tlsKey,
    masterKey,
    impersonationEnabled: impersonationEnabled === 'true',
    impersonationRedirectUrl,
    rateLimitsEnabled: rateLimitsEnabled === 'true',
    rateLimitMintsPerMinute,
    rateLimitSearchesPerMinute,
    rateLimitConsoleSignInsPerMinute,
    rateLimitEmailSendsPerAddressPerMinute,
    rateLimitEmailSendsPerClientPerMinute,
    rateLimitSsoRequestsPerClientPerMinute,
    redirectUrls: redirectUrls.urls,
    trustProxy,
    auditExportConcurrency: auditExportConcurrency as number,
    auditExportStallSeconds: auditExportStallSeconds as number,
    impersonationMaxGrantHours: impersonationMaxGrantHours as number,
    publicUrl: publicUrl === undefined ? undefined : publicUrl.replace(/\/+$/, ''),
    webhookAllowPrivateAddresses: webhookAllowPrivateAddresses === 'true',
    ssoAllowPrivateAddresses: ssoAllowPrivateAddresses === 'true',
    webhookMaxAttempts: webhookMaxAttempts as number,
    auditChainPublishSeconds: auditChainPublishSeconds as number,
    logFormat,
    accessLog: accessLog as boolean,
    metricsToken,
    metricsAddress,
    autoMigrate: autoMigrate as boolean,
    logLevel,
    projectName,
    smtpUrl,
    smtpFrom,
    smtpReplyTo,
    ...smsConfig,
    rbacPolicyFile,
    bodyLimitBytes: bodyLimitBytes as number,
    headersTimeoutMs: headersTimeoutMs as number,
    requestTimeoutMs: requestTimeoutMs as number,
    keepAliveTimeoutMs: keepAliveTimeoutMs as number,
    rateLimitPasswordAttemptsPerClientPerMinute,
    rateLimitSmsSendsPerNumberPerHour,
    rateLimitSmsSendsPerMemberPerHour,
    rateLimitSmsSendsPerOrganizationPerHour,
    rateLimitSmsSendsPerProjectPerHour,
    ...passwordConfig,
  });
}

function readConfigFile(path: string | undefined, problems: string[]): Record<string, unknown> {
  if (path === undefined || path === '') return {};
  try {
    const parsed: unknown = JSON.parse(readFileSync(path, 'utf8'));
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      problems.push(`config file ${path} must hold a JSON object`);
      return {};
    }
    const known = new Set<string>(Object.values(CONFIG_KEYS).map((key) => key.file));
    for (const name of Object.keys(parsed)) {
      if (known.has(name)) continue;
      const removed = Object.hasOwn(REMOVED_FILE_KEYS, name) ? REMOVED_FILE_KEYS[name] : undefined;
      problems.push(removed === undefined ? `config file ${path} has an unknown key "${name}"` : `config file ${path} has the key "${name}", which no longer exists (${removed}): delete it`);
    }
    return parsed as Record<string, unknown>;
  } catch (error) {
    problems.push(`config file ${path} could not be read: ${(error as Error).message}`);
    return {};
  }
}

function isMasterKey(text: string): boolean {
  try {
    parseMasterKey(text);
    return true;
  } catch {
    return false;
  }
}

/** `10.0.0.1, 10.1.0.0/16, ::1`: addresses, each with an optional prefix length that fits its family. */
function isProxyList(text: string): boolean {
  return text.split(',').every((entry) => {
    const [address = '', prefix, extra] = entry.trim().split('/');
    const family = isIP(address);
    if (family === 0 || extra !== undefined) return false;
    if (prefix === undefined) return true;
    return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128);
  });
}

/** Why `text` is not a usable SMTP URL, without repeating it (it may hold a password); undefined when it is. */
function smtpUrlProblem(text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return 'is not a URL';
  }
  if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:') return `uses ${url.protocol.replace(/[^a-z0-9+.-]/gi, '')}:// instead`;
  if (url.hostname === '') return 'names no host';
  return undefined;
}

/** `login@acme.example` or `Acme <login@acme.example>`: one address, no line breaks. */
function isMailbox(text: string): boolean {
  if (/[\r\n]/.test(text)) return false;
  const address = /<([^<>]+)>\s*$/.exec(text)?.[1] ?? text;
  return /^[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+$/.test(address.trim());
}

export function parseInteger(value: string | undefined, range: { min: number; max: number }): number | undefined {
  if (value === undefined || !/^\d+$/.test(value)) return undefined;
  const parsed = Number(value);
  return parsed >= range.min && parsed <= range.max ? parsed : undefined;
}

/** `127.0.0.1:9464`, `[::1]:9464` or `metrics.internal:9464`; port 0 picks a free one. */
export function parseListenAddress(text: string): { host: string; port: number } | undefined {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^\s:[\]]+)):(\d{1,5})$/.exec(text.trim());
  if (match === null) return undefined;
  const host = match[1] ?? match[2] ?? '';
  if (match[1] !== undefined && isIP(host) !== 6) return undefined;
  const port = parseInteger(match[3], { min: 0, max: 65535 });
  return port === undefined ? undefined : { host, port };
}
