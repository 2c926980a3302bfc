import { REDIRECT_URL_TYPES } from '../../src/domain/redirect-urls/redirect-urls.js';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/load.js';
import { loadPolicyFile, readPolicyFile } from '../../src/config/rbac-policy-file.js';
import { CONFIG_KEYS } from '../../src/config/schema.js';
import { DEFAULT_ARGON2ID_PARAMETERS } from '../../src/domain/passwords/password-hashing.js';
import { DEFAULT_PASSWORD_SETTINGS } from '../../src/domain/passwords/password-settings.js';

const PROJECT_ID = 'project-test-11111111-2222-4333-8444-555555555555';
const SECRET = 'secret-test-0123456789abcdef';

const directory = mkdtempSync(join(tmpdir(), 'understudy-config-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

let fileCount = 0;
function configFile(contents: unknown): string {
  fileCount += 1;
  const path = join(directory, `config-${fileCount}.json`);
  writeFileSync(path, typeof contents === 'string' ? contents : JSON.stringify(contents));
  return path;
}

/** Runs loadConfig and returns the ConfigError's problems; fails the test if it does not throw one. */
function problemsOf(options: Parameters<typeof loadConfig>[0]): readonly string[] {
  try {
    loadConfig(options);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error('expected loadConfig to throw a ConfigError');
}

const MASTER_KEY = Buffer.alloc(32, 3).toString('base64');

describe('loadConfig defaults', () => {
  it('uses the schema defaults when nothing is set, and leaves optional keys unset', () => {
    const config = loadConfig({ env: {} });
    expect(config).toEqual({
      host: '127.0.0.1',
      port: 8080,
      dataDir: './data',
      databaseUrl: undefined,
      projectId: undefined,
      projectSecret: undefined,
      tlsCert: undefined,
      tlsKey: undefined,
      logLevel: 'info',
      masterKey: undefined,
      impersonationEnabled: true,
      impersonationRedirectUrl: undefined,
      rateLimitsEnabled: true,
      rateLimitMintsPerMinute: 60,
      rateLimitSearchesPerMinute: 100,
      rateLimitConsoleSignInsPerMinute: 10,
      rateLimitEmailSendsPerAddressPerMinute: 5,
      rateLimitEmailSendsPerClientPerMinute: 300,
      rateLimitSsoRequestsPerClientPerMinute: 120,
      redirectUrls: [],
      projectName: 'Understudy',
      smtpUrl: undefined,
      smtpFrom: undefined,
      smtpReplyTo: undefined,
      sms: { provider: 'outbox' },
      smsAllowedCountryCodes: [],
      rbacPolicyFile: undefined,
      trustProxy: undefined,
      auditExportConcurrency: 2,
      auditExportStallSeconds: 30,
      impersonationMaxGrantHours: 72,
      publicUrl: undefined,
      webhookAllowPrivateAddresses: false,
      ssoAllowPrivateAddresses: false,
      webhookMaxAttempts: 8,
      auditChainPublishSeconds: 3600,
      logFormat: 'auto',
      accessLog: true,
      metricsToken: undefined,
      metricsAddress: undefined,
      autoMigrate: true,
      bodyLimitBytes: 1048576,
      headersTimeoutMs: 10000,
      requestTimeoutMs: 30000,
      keepAliveTimeoutMs: 72000,
      rateLimitPasswordAttemptsPerClientPerMinute: 6000,
      rateLimitSmsSendsPerNumberPerHour: 5,
      rateLimitSmsSendsPerMemberPerHour: 10,
      rateLimitSmsSendsPerOrganizationPerHour: 100,
      rateLimitSmsSendsPerProjectPerHour: 1000,
      passwords: {
        validationPolicy: 'zxcvbn',
        ludsMinPasswordLength: 8,
        ludsMinPasswordComplexity: 3,
        checkBreachOnCreation: true,
        checkBreachOnAuthentication: false,
        validateOnAuthentication: false,
        crossOrgPasswordsEnabled: false,
        userLockThreshold: 10,
        userLockTtlSeconds: 3600,
      },
      passwordBreachRangesDir: undefined,
      passwordBreachRangeApiUrl: undefined,
      argon2: { memoryKib: 19456, iterations: 2, parallelism: 1 },
      passwordHashConcurrency: undefined,
      passwordHashQueueLength: 64,
    });
  });

  it('reads the password policy, user lock and argon2 keys, and refuses values out of range', () => {
    const config = loadConfig({
      env: {
        UNDERSTUDY_PASSWORD_POLICY: 'luds',
        UNDERSTUDY_PASSWORD_LUDS_MIN_LENGTH: '12',
        UNDERSTUDY_CROSS_ORG_PASSWORDS_ENABLED: 'true',
        UNDERSTUDY_USER_LOCK_THRESHOLD: '3',
        UNDERSTUDY_ARGON2_MEMORY_KIB: '65536',
        UNDERSTUDY_PASSWORD_HASH_CONCURRENCY: '4',
        UNDERSTUDY_PASSWORD_BREACH_RANGES_DIR: directory,
      },
    });
    expect(config.passwords).toMatchObject({ validationPolicy: 'luds', ludsMinPasswordLength: 12, crossOrgPasswordsEnabled: true, userLockThreshold: 3 });
    expect(config.argon2.memoryKib).toBe(65536);
    expect(config.passwordHashConcurrency).toBe(4);
    expect(config.passwordBreachRangesDir).toBe(directory);
    const problems = problemsOf({
      env: {
        UNDERSTUDY_PASSWORD_POLICY: 'strong',
        UNDERSTUDY_PASSWORD_LUDS_MIN_LENGTH: '7',
        UNDERSTUDY_USER_LOCK_TTL_SECONDS: '10',
        UNDERSTUDY_ARGON2_MEMORY_KIB: '8',
        UNDERSTUDY_PASSWORD_BREACH_CHECK_ON_CREATION: 'yes',
        UNDERSTUDY_PASSWORD_BREACH_RANGE_API_URL: 'ftp://x',
        UNDERSTUDY_PASSWORD_BREACH_RANGES_DIR: join(directory, 'missing'),
      },
    });
    expect(problems.join('\n')).toMatch(/UNDERSTUDY_PASSWORD_POLICY must be zxcvbn or luds/);
    expect(problems.join('\n')).toMatch(/UNDERSTUDY_PASSWORD_LUDS_MIN_LENGTH must be an integer from 8 to 32/);
    expect(problems.join('\n')).toMatch(/UNDERSTUDY_USER_LOCK_TTL_SECONDS must be an integer from 300/);
    expect(problems.join('\n')).toMatch(/UNDERSTUDY_ARGON2_MEMORY_KIB must be an integer from 1024/);
    expect(problems.join('\n')).toMatch(/UNDERSTUDY_PASSWORD_BREACH_CHECK_ON_CREATION must be true or false/);
    expect(problems.join('\n')).toMatch(/UNDERSTUDY_PASSWORD_BREACH_RANGE_API_URL must be an http/);
    expect(problems.join('\n')).toMatch(/UNDERSTUDY_PASSWORD_BREACH_RANGES_DIR must name an existing directory/);
  });

  it('returns a frozen object', () => {
    expect(Object.isFrozen(loadConfig({ env: {} }))).toBe(true);
  });

  it('treats an empty environment variable as unset', () => {
    expect(loadConfig({ env: { UNDERSTUDY_PORT: '', UNDERSTUDY_HOST: '' } })).toMatchObject({ port: 8080, host: '127.0.0.1' });
  });
});

/** Every redirect URL type, in the order the configuration lists them. */
const ALL_TYPES = [...REDIRECT_URL_TYPES];

describe('loadConfig from the environment', () => {
  it('reads every UNDERSTUDY_* variable', () => {
    const config = loadConfig({
      env: {
        UNDERSTUDY_HOST: '0.0.0.0',
        UNDERSTUDY_PORT: '0',
        UNDERSTUDY_DATA_DIR: '/var/lib/understudy',
        UNDERSTUDY_DATABASE_URL: 'postgresql://u@db:5432/understudy',
        UNDERSTUDY_PROJECT_ID: PROJECT_ID,
        UNDERSTUDY_PROJECT_SECRET: SECRET,
        UNDERSTUDY_TLS_CERT: '/tls/cert.pem',
        UNDERSTUDY_TLS_KEY: '/tls/key.pem',
        UNDERSTUDY_LOG_LEVEL: 'debug',
        UNDERSTUDY_BODY_LIMIT_BYTES: '2048',
        UNDERSTUDY_MASTER_KEY: MASTER_KEY,
        UNDERSTUDY_IMPERSONATION_ENABLED: 'false',
        UNDERSTUDY_IMPERSONATION_REDIRECT_URL: 'https://app.example.com/authenticate',
        UNDERSTUDY_RATE_LIMITS_ENABLED: 'false',
        UNDERSTUDY_RATE_LIMIT_MINTS_PER_MINUTE: '0',
        UNDERSTUDY_RATE_LIMIT_SEARCHES_PER_MINUTE: '250',
        UNDERSTUDY_RATE_LIMIT_CONSOLE_SIGN_INS_PER_MINUTE: '5',
        UNDERSTUDY_RATE_LIMIT_EMAIL_SENDS_PER_ADDRESS_PER_MINUTE: '3',
        UNDERSTUDY_RATE_LIMIT_EMAIL_SENDS_PER_CLIENT_PER_MINUTE: '0',
        UNDERSTUDY_RATE_LIMIT_SSO_REQUESTS_PER_CLIENT_PER_MINUTE: '7',
        UNDERSTUDY_REDIRECT_URLS: 'https://app.example.com/authenticate, https://app.example.com/welcome?from=email',
        UNDERSTUDY_PROJECT_NAME: 'Acme Cloud',
        UNDERSTUDY_SMTP_URL: 'smtps://mailer:secret@smtp.example.com:465',
        UNDERSTUDY_SMTP_FROM: 'Acme <login@acme.example>',
        UNDERSTUDY_SMTP_REPLY_TO: 'support@acme.example',
        UNDERSTUDY_SMS_PROVIDER: 'webhook',
        UNDERSTUDY_SMS_WEBHOOK_URL: 'https://app.example.com/hooks/sms',
        UNDERSTUDY_SMS_WEBHOOK_SECRET: `whsec_${Buffer.alloc(32, 7).toString('base64')}`,
        UNDERSTUDY_TRUST_PROXY: '10.0.0.1, 192.168.0.0/16,::1',
        UNDERSTUDY_HEADERS_TIMEOUT_MS: '5000',
        UNDERSTUDY_REQUEST_TIMEOUT_MS: '20000',
        UNDERSTUDY_KEEP_ALIVE_TIMEOUT_MS: '65000',
        UNDERSTUDY_AUDIT_EXPORT_CONCURRENCY: '4',
        UNDERSTUDY_AUDIT_EXPORT_STALL_SECONDS: '45',
        UNDERSTUDY_IMPERSONATION_MAX_GRANT_HOURS: '24',
        UNDERSTUDY_PUBLIC_URL: 'https://auth.example.com/',
        UNDERSTUDY_WEBHOOK_ALLOW_PRIVATE_ADDRESSES: 'true',
        UNDERSTUDY_SSO_ALLOW_PRIVATE_ADDRESSES: 'true',
        UNDERSTUDY_WEBHOOK_MAX_ATTEMPTS: '3',
        UNDERSTUDY_AUDIT_CHAIN_PUBLISH_SECONDS: '600',
        UNDERSTUDY_LOG_FORMAT: 'json',
        UNDERSTUDY_ACCESS_LOG: 'false',
        UNDERSTUDY_METRICS_TOKEN: 'm'.repeat(40),
        UNDERSTUDY_METRICS_ADDRESS: '[::1]:9464',
        UNDERSTUDY_AUTO_MIGRATE: 'false',
        UNDERSTUDY_RBAC_POLICY_FILE: '/etc/understudy/rbac-policy.yaml',
      },
    });
    expect(config).toEqual({
      host: '0.0.0.0',
      port: 0,
      dataDir: '/var/lib/understudy',
      databaseUrl: 'postgresql://u@db:5432/understudy',
      projectId: PROJECT_ID,
      projectSecret: SECRET,
      tlsCert: '/tls/cert.pem',
      tlsKey: '/tls/key.pem',
      logLevel: 'debug',
      masterKey: MASTER_KEY,
      impersonationEnabled: false,
      impersonationRedirectUrl: 'https://app.example.com/authenticate',
      rateLimitsEnabled: false,
      rateLimitMintsPerMinute: 0,
      rateLimitSearchesPerMinute: 250,
      rateLimitConsoleSignInsPerMinute: 5,
      rateLimitEmailSendsPerAddressPerMinute: 3,
      rateLimitEmailSendsPerClientPerMinute: 0,
      rateLimitSsoRequestsPerClientPerMinute: 7,
      redirectUrls: [
        { url: 'https://app.example.com/authenticate', types: ALL_TYPES.map((type) => ({ type, isDefault: true })) },
        { url: 'https://app.example.com/welcome?from=email', types: ALL_TYPES.map((type) => ({ type, isDefault: false })) },
      ],
      projectName: 'Acme Cloud',
      smtpUrl: 'smtps://mailer:secret@smtp.example.com:465',
      smtpFrom: 'Acme <login@acme.example>',
      smtpReplyTo: 'support@acme.example',
      sms: { provider: 'webhook', webhook: { url: 'https://app.example.com/hooks/sms', secret: `whsec_${Buffer.alloc(32, 7).toString('base64')}` } },
      smsAllowedCountryCodes: [],
      rbacPolicyFile: '/etc/understudy/rbac-policy.yaml',
      trustProxy: '10.0.0.1, 192.168.0.0/16,::1',
      auditExportConcurrency: 4,
      auditExportStallSeconds: 45,
      impersonationMaxGrantHours: 24,
      publicUrl: 'https://auth.example.com',
      webhookAllowPrivateAddresses: true,
      ssoAllowPrivateAddresses: true,
      webhookMaxAttempts: 3,
      auditChainPublishSeconds: 600,
      logFormat: 'json',
      accessLog: false,
      metricsToken: 'm'.repeat(40),
      metricsAddress: { host: '::1', port: 9464 },
      autoMigrate: false,
      bodyLimitBytes: 2048,
      headersTimeoutMs: 5000,
      requestTimeoutMs: 20000,
      keepAliveTimeoutMs: 65000,
      // The password keys at their defaults (their own test below sets them).
      rateLimitPasswordAttemptsPerClientPerMinute: 6000,
      rateLimitSmsSendsPerNumberPerHour: 5,
      rateLimitSmsSendsPerMemberPerHour: 10,
      rateLimitSmsSendsPerOrganizationPerHour: 100,
      rateLimitSmsSendsPerProjectPerHour: 1000,
      passwords: DEFAULT_PASSWORD_SETTINGS,
      passwordBreachRangesDir: undefined,
      passwordBreachRangeApiUrl: undefined,
      argon2: DEFAULT_ARGON2ID_PARAMETERS,
      passwordHashConcurrency: undefined,
      passwordHashQueueLength: 64,
    });
  });
});

describe('loadConfig from a JSON config file', () => {
  it('reads the file keys named in the schema, numbers included', () => {
    const path = configFile({ host: '::1', port: 9090, data_dir: '/srv/data', log_level: 'warn', body_limit_bytes: 4096, project_id: PROJECT_ID, project_secret: SECRET });
    expect(loadConfig({ env: {}, configFile: path })).toMatchObject({
      host: '::1',
      port: 9090,
      dataDir: '/srv/data',
      logLevel: 'warn',
      bodyLimitBytes: 4096,
      projectId: PROJECT_ID,
      projectSecret: SECRET,
    });
  });

  it('finds the file through UNDERSTUDY_CONFIG when no path is passed', () => {
    const path = configFile({ port: 7070 });
    expect(loadConfig({ env: { UNDERSTUDY_CONFIG: path } }).port).toBe(7070);
  });

  it('lets environment variables win over the file, key by key', () => {
    const path = configFile({ port: 9090, log_level: 'warn', host: '10.0.0.1' });
    const config = loadConfig({ env: { UNDERSTUDY_PORT: '9191', UNDERSTUDY_LOG_LEVEL: 'error' }, configFile: path });
    expect(config).toMatchObject({ port: 9191, logLevel: 'error', host: '10.0.0.1' });
  });

  it('refuses unknown keys, naming each, even alongside valid ones', () => {
    const path = configFile({ port: 9090, prot: 1, UNDERSTUDY_HOST: 'x' });
    const problems = problemsOf({ env: {}, configFile: path });
    expect(problems).toHaveLength(2);
    expect(problems.join('\n')).toContain('unknown key "prot"');
    expect(problems.join('\n')).toContain('unknown key "UNDERSTUDY_HOST"');
  });

  it('refuses the removed key rate_limit_auth_failures_per_minute, saying the limit is gone and why', () => {
    const path = configFile({ port: 9090, rate_limit_auth_failures_per_minute: 20 });
    expect(problemsOf({ env: {}, configFile: path })).toEqual([
      `config file ${path} has the key "rate_limit_auth_failures_per_minute", which no longer exists (the limit on failed session and impersonation ` +
        "authentications per client address was removed: their tokens cannot be guessed, and since the caller is the application's backend, " +
        "the limit only let anyone's bogus tokens get genuine ones refused): delete it",
    ]);
  });

  it('ignores UNDERSTUDY_RATE_LIMIT_AUTH_FAILURES_PER_MINUTE like any variable it does not read', () => {
    expect(loadConfig({ env: { UNDERSTUDY_RATE_LIMIT_AUTH_FAILURES_PER_MINUTE: '5', UNDERSTUDY_NOT_A_SETTING: 'x' } })).toEqual(loadConfig({ env: {} }));
  });

  it('refuses a file that is not a JSON object', () => {
    expect(problemsOf({ env: {}, configFile: configFile([1, 2]) })[0]).toContain('must hold a JSON object');
    expect(problemsOf({ env: {}, configFile: configFile('{ not json') })[0]).toContain('could not be read');
  });

  it('reports a missing file as a configuration problem', () => {
    expect(problemsOf({ env: {}, configFile: join(directory, 'absent.json') })[0]).toMatch(/absent\.json could not be read/);
  });
});

describe('loadConfig validation', () => {
  it('lists every invalid value in one ConfigError', () => {
    const problems = problemsOf({
      env: {
        UNDERSTUDY_PORT: 'abc',
        UNDERSTUDY_LOG_LEVEL: 'loud',
        UNDERSTUDY_BODY_LIMIT_BYTES: '0',
        UNDERSTUDY_DATABASE_URL: 'mysql://db/understudy',
        UNDERSTUDY_PROJECT_ID: 'my-project',
        UNDERSTUDY_TLS_CERT: '/tls/cert.pem',
      },
    });
    expect(problems).toHaveLength(7);
    const text = problems.join('\n');
    expect(text).toContain('UNDERSTUDY_PORT must be an integer from 0 to 65535 (got "abc")');
    expect(text).toContain('UNDERSTUDY_LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent (got "loud")');
    expect(text).toContain('UNDERSTUDY_BODY_LIMIT_BYTES must be a positive integer');
    expect(text).toContain('UNDERSTUDY_DATABASE_URL must be a postgres:// or postgresql:// URL');
    expect(text).toContain('UNDERSTUDY_PROJECT_ID must look like project-test-<uuid>');
    expect(text).toContain('UNDERSTUDY_PROJECT_ID and UNDERSTUDY_PROJECT_SECRET must be set together');
    expect(text).toContain('UNDERSTUDY_TLS_CERT and UNDERSTUDY_TLS_KEY must be set together');
  });

  it('puts every problem in the error message, one per line', () => {
    try {
      loadConfig({ env: { UNDERSTUDY_PORT: '70000', UNDERSTUDY_LOG_LEVEL: 'LOUD' } });
      expect.unreachable('loadConfig should have thrown');
    } catch (error) {
      expect((error as Error).message).toBe(
        'Invalid configuration:\n' +
          '  - UNDERSTUDY_PORT must be an integer from 0 to 65535 (got "70000")\n' +
          '  - UNDERSTUDY_LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent (got "LOUD")',
      );
    }
  });

  it('combines file problems and value problems in the same error', () => {
    const path = configFile({ port: -1, colour: 'blue' });
    const problems = problemsOf({ env: { UNDERSTUDY_LOG_LEVEL: 'chatty' }, configFile: path });
    expect(problems).toHaveLength(3);
    expect(problems.join('\n')).toMatch(/unknown key "colour"[\s\S]*UNDERSTUDY_PORT[\s\S]*UNDERSTUDY_LOG_LEVEL/);
  });

  it.each(['-1', '1.5', '65536', ' 80', '8080abc'])('refuses port %j', (port) => {
    expect(problemsOf({ env: { UNDERSTUDY_PORT: port } })).toEqual([`UNDERSTUDY_PORT must be an integer from 0 to 65535 (got "${port}")`]);
  });

  it('refuses a body limit above 100 MiB', () => {
    expect(problemsOf({ env: { UNDERSTUDY_BODY_LIMIT_BYTES: String(100 * 1024 * 1024 + 1) } })[0]).toContain('UNDERSTUDY_BODY_LIMIT_BYTES');
    expect(loadConfig({ env: { UNDERSTUDY_BODY_LIMIT_BYTES: String(100 * 1024 * 1024) } }).bodyLimitBytes).toBe(104857600);
  });

  it('refuses a blank host or data directory', () => {
    const problems = problemsOf({ env: { UNDERSTUDY_HOST: '  ', UNDERSTUDY_DATA_DIR: ' ' } });
    expect(problems).toEqual(['UNDERSTUDY_HOST must not be empty', 'UNDERSTUDY_DATA_DIR must not be empty']);
  });

  it('requires the project id and secret together, from either source', () => {
    expect(problemsOf({ env: { UNDERSTUDY_PROJECT_ID: PROJECT_ID } })).toEqual(['UNDERSTUDY_PROJECT_ID and UNDERSTUDY_PROJECT_SECRET must be set together']);
    expect(problemsOf({ env: { UNDERSTUDY_PROJECT_SECRET: SECRET } })).toEqual(['UNDERSTUDY_PROJECT_ID and UNDERSTUDY_PROJECT_SECRET must be set together']);
    const path = configFile({ project_id: PROJECT_ID });
    expect(loadConfig({ env: { UNDERSTUDY_PROJECT_SECRET: SECRET }, configFile: path })).toMatchObject({ projectId: PROJECT_ID, projectSecret: SECRET });
  });

  it('accepts live project ids and refuses short secrets', () => {
    const live = 'project-live-11111111-2222-4333-8444-555555555555';
    expect(loadConfig({ env: { UNDERSTUDY_PROJECT_ID: live, UNDERSTUDY_PROJECT_SECRET: SECRET } }).projectId).toBe(live);
    expect(problemsOf({ env: { UNDERSTUDY_PROJECT_ID: live, UNDERSTUDY_PROJECT_SECRET: 'short' } })).toEqual([
      'UNDERSTUDY_PROJECT_SECRET must be at least 16 characters',
    ]);
  });

  it('requires the TLS certificate and key together', () => {
    expect(problemsOf({ env: { UNDERSTUDY_TLS_KEY: '/tls/key.pem' } })).toEqual(['UNDERSTUDY_TLS_CERT and UNDERSTUDY_TLS_KEY must be set together']);
    expect(loadConfig({ env: { UNDERSTUDY_TLS_KEY: '/k.pem', UNDERSTUDY_TLS_CERT: '/c.pem' } })).toMatchObject({ tlsCert: '/c.pem', tlsKey: '/k.pem' });
  });

  it.each(['postgres://u@h/db', 'postgresql://u:p@h:5432/db?sslmode=require'])('accepts the PostgreSQL URL %s', (url) => {
    expect(loadConfig({ env: { UNDERSTUDY_DATABASE_URL: url, UNDERSTUDY_MASTER_KEY: MASTER_KEY } }).databaseUrl).toBe(url);
  });

  it('requires UNDERSTUDY_MASTER_KEY with PostgreSQL, and refuses one that is not 32 bytes', () => {
    expect(problemsOf({ env: { UNDERSTUDY_DATABASE_URL: 'postgres://u@h/db' } })).toEqual([
      'UNDERSTUDY_MASTER_KEY is required with PostgreSQL: every process must encrypt signing keys with the same key',
    ]);
    expect(problemsOf({ env: { UNDERSTUDY_MASTER_KEY: 'c2hvcnQ=' } })[0]).toContain('UNDERSTUDY_MASTER_KEY must be 32 bytes');
    expect(loadConfig({ env: { UNDERSTUDY_MASTER_KEY: 'ab'.repeat(32) } }).masterKey).toBe('ab'.repeat(32));
  });

  it('reads the impersonation switch and redirect URL, refusing anything else', () => {
    expect(problemsOf({ env: { UNDERSTUDY_IMPERSONATION_ENABLED: 'yes', UNDERSTUDY_IMPERSONATION_REDIRECT_URL: 'javascript:alert(1)' } })).toEqual([
      'UNDERSTUDY_IMPERSONATION_ENABLED must be true or false (got "yes")',
      'UNDERSTUDY_IMPERSONATION_REDIRECT_URL must be an https:// URL (http:// only for localhost) without user:password@: it must be an https:// URL (http:// only for localhost)',
    ]);
  });

  it('refuses an http:// redirect URL except on localhost, and one with user:password@', () => {
    const problem = (url: string) => problemsOf({ env: { UNDERSTUDY_IMPERSONATION_REDIRECT_URL: url } });
    expect(problem('http://app.example.com/impersonate')[0]).toMatch(/^UNDERSTUDY_IMPERSONATION_REDIRECT_URL must be an https:\/\/ URL .*: it must be an https:\/\/ URL/);
    expect(problem('https://user:pass@app.example.com/impersonate')[0]).toMatch(/: it must not contain user:password@$/);
    expect(problem('https://user@app.example.com/impersonate')[0]).toMatch(/: it must not contain user:password@$/);
    for (const url of ['https://app.example.com/impersonate', 'http://localhost:3000/impersonate', 'http://127.0.0.1:3000/x', 'http://[::1]/x']) {
      expect(loadConfig({ env: { UNDERSTUDY_IMPERSONATION_REDIRECT_URL: url } }).impersonationRedirectUrl).toBe(url);
    }
  });

  it('refuses a rate-limit switch other than true/false, negative or fractional limits, and proxies that are not addresses', () => {
    expect(
      problemsOf({
        env: {
          UNDERSTUDY_RATE_LIMITS_ENABLED: 'on',
          UNDERSTUDY_RATE_LIMIT_CONSOLE_SIGN_INS_PER_MINUTE: '-1',
          UNDERSTUDY_RATE_LIMIT_MINTS_PER_MINUTE: '2.5',
          UNDERSTUDY_RATE_LIMIT_SEARCHES_PER_MINUTE: 'many',
          UNDERSTUDY_TRUST_PROXY: '10.0.0.0/33,proxy.internal',
        },
      }),
    ).toEqual([
      'UNDERSTUDY_RATE_LIMITS_ENABLED must be true or false (got "on")',
      'UNDERSTUDY_RATE_LIMIT_MINTS_PER_MINUTE must be an integer from 0 (no limit) to 1000000 (got "2.5")',
      'UNDERSTUDY_RATE_LIMIT_SEARCHES_PER_MINUTE must be an integer from 0 (no limit) to 1000000 (got "many")',
      'UNDERSTUDY_RATE_LIMIT_CONSOLE_SIGN_INS_PER_MINUTE must be an integer from 0 (no limit) to 1000000 (got "-1")',
      'UNDERSTUDY_TRUST_PROXY must be a comma-separated list of IP addresses or CIDR ranges (got "10.0.0.0/33,proxy.internal")',
    ]);
    expect(loadConfig({ env: { UNDERSTUDY_TRUST_PROXY: '2001:db8::/32' } }).trustProxy).toBe('2001:db8::/32');
  });

  it('reads the SMS limit per organization and the countries SMS may go to, from the environment or the file, and refuses bad codes', () => {
    const env = { UNDERSTUDY_RATE_LIMIT_SMS_SENDS_PER_ORGANIZATION_PER_HOUR: '40', UNDERSTUDY_SMS_ALLOWED_COUNTRY_CODES: '1, +44,33,44' };
    expect(loadConfig({ env })).toMatchObject({ rateLimitSmsSendsPerOrganizationPerHour: 40, smsAllowedCountryCodes: ['1', '44', '33'] });
    expect(loadConfig({ env: {}, configFile: configFile({ sms_allowed_country_codes: [1, 49] }) }).smsAllowedCountryCodes).toEqual(['1', '49']);
    expect(loadConfig({ env: { UNDERSTUDY_SMS_ALLOWED_COUNTRY_CODES: ' ' } }).smsAllowedCountryCodes).toEqual([]);
    for (const value of ['44,', 'UK', '1234', '0', '+', '44;33']) {
      expect(problemsOf({ env: { UNDERSTUDY_SMS_ALLOWED_COUNTRY_CODES: value } })).toEqual([
        `UNDERSTUDY_SMS_ALLOWED_COUNTRY_CODES must be country calling codes of 1 to 3 digits, comma-separated, such as 1,44 (got "${value}")`,
      ]);
    }
    expect(problemsOf({ env: { UNDERSTUDY_RATE_LIMIT_SMS_SENDS_PER_ORGANIZATION_PER_HOUR: '-3' } })).toEqual([
      'UNDERSTUDY_RATE_LIMIT_SMS_SENDS_PER_ORGANIZATION_PER_HOUR must be an integer from 0 (no limit) to 1000000 (got "-3")',
    ]);
  });

  it.each(['0', '-1', '1.5', 'two', '1001'])('refuses the audit export concurrency %s', (value) => {
    expect(problemsOf({ env: { UNDERSTUDY_AUDIT_EXPORT_CONCURRENCY: value } })).toEqual([
      `UNDERSTUDY_AUDIT_EXPORT_CONCURRENCY must be an integer from 1 to 1000 (got "${value}")`,
    ]);
  });

  it.each(['0', '-5', '2.5', 'soon', '3601'])('refuses the audit export stall limit %s', (value) => {
    expect(problemsOf({ env: { UNDERSTUDY_AUDIT_EXPORT_STALL_SECONDS: value } })).toEqual([
      `UNDERSTUDY_AUDIT_EXPORT_STALL_SECONDS must be an integer from 1 to 3600 (got "${value}")`,
    ]);
  });

  it.each(['sqlite://file.db', 'http://db', './understudy.db', 'POSTGRES'])('refuses the database URL %s', (url) => {
    expect(problemsOf({ env: { UNDERSTUDY_DATABASE_URL: url } })).toEqual([
      'UNDERSTUDY_DATABASE_URL must be a postgres:// or postgresql:// URL (unset it to use SQLite)',
    ]);
  });
});

describe('the RBAC policy file', () => {
  const policyFile = (name: string, text: string): string => {
    const path = join(directory, name);
    writeFileSync(path, text);
    return path;
  };
  const EDITOR = {
    resources: [{ resource_id: 'documents', description: 'Team documents', actions: ['read', 'write'] }],
    roles: [{ role_id: 'editor', description: 'Edits documents', permissions: [{ resource_id: 'documents', actions: ['read', 'write'] }] }],
    scopes: [],
  };

  it('is a path read from the environment or the config file; a blank one is refused', () => {
    expect(loadConfig({ env: { UNDERSTUDY_RBAC_POLICY_FILE: 'policy.yaml' } }).rbacPolicyFile).toBe('policy.yaml');
    expect(loadConfig({ env: {}, configFile: configFile({ rbac_policy_file: '/srv/rbac.json' }) }).rbacPolicyFile).toBe('/srv/rbac.json');
    expect(problemsOf({ env: {}, configFile: configFile({ rbac_policy_file: '  ' }) })).toEqual(['UNDERSTUDY_RBAC_POLICY_FILE must be a path to a JSON or YAML file']);
  });

  it('reads JSON and YAML by extension, and either by content when the extension says neither', () => {
    const yaml = 'resources:\n  - resource_id: documents\n    description: Team documents\n    actions: [read, write]\nroles:\n  - role_id: editor\n    description: Edits documents\n    permissions:\n      - { resource_id: documents, actions: [read, write] }\nscopes: []\n';
    for (const path of [policyFile('p.json', JSON.stringify(EDITOR)), policyFile('p.yaml', yaml), policyFile('p.yml', yaml), policyFile('p.policy', yaml), policyFile('q.policy', JSON.stringify(EDITOR))]) {
      expect(readPolicyFile(path), path).toEqual({ ok: true, document: EDITOR });
    }
    expect(readPolicyFile(policyFile('bom.json', `\uFEFF${JSON.stringify(EDITOR)}`))).toEqual({ ok: true, document: EDITOR });
    // A .json file is JSON only, though the text would be valid YAML.
    expect(readPolicyFile(policyFile('yaml.json', yaml))).toMatchObject({ ok: false, problems: [expect.stringMatching(/^not valid JSON: line 1, column 1: /)] });
  });

  it('names the line and column of every parse error', () => {
    expect(readPolicyFile(policyFile('broken.json', '{\n  "roles": [\n    {"role_id": "x",,}\n  ]\n}'))).toEqual({
      ok: false,
      problems: ['not valid JSON: line 3, column 21: Expected double-quoted property name'],
    });
    // The token V8 names is a line break here: written as an escape, so the problem stays on one line.
    expect(readPolicyFile(policyFile('token.json', '{\n  "roles": tru\n}'))).toEqual({ ok: false, problems: [expect.stringMatching(/^not valid JSON: line 2, column 15: Unexpected token [^\n]*$/)] });
    expect(readPolicyFile(policyFile('empty.json', ''))).toEqual({ ok: false, problems: ['not valid JSON: line 1, column 1: Unexpected end of JSON input'] });
    const yaml = readPolicyFile(policyFile('broken.yaml', 'roles:\n  - role_id: x\n    role_id: y\n  bad: [\n'));
    expect(yaml.ok).toBe(false);
    if (yaml.ok) return;
    expect(yaml.problems[0]).toBe('not valid YAML: line 3, column 5: Map keys must be unique');
    expect(yaml.problems.length).toBeGreaterThan(1);
    for (const problem of yaml.problems) expect(problem).toMatch(/^not valid YAML: line \d+, column \d+: /);
    expect(readPolicyFile(join(directory, 'absent.yaml'))).toEqual({ ok: false, problems: [expect.stringMatching(/^could not be read: ENOENT/)] });
  });

  it('refuses YAML whose aliases would expand far beyond its size', () => {
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x, x]', ...Array.from({ length: 8 }, (_, index) => `${String.fromCharCode(98 + index)}: &${String.fromCharCode(98 + index)} [${Array(10).fill(`*${String.fromCharCode(97 + index)}`).join(', ')}]`)].join('\n');
    const read = readPolicyFile(policyFile('bomb.yaml', bomb));
    expect(read).toMatchObject({ ok: false, problems: [expect.stringMatching(/^not valid YAML: .*alias/i)] });
  });

  it('checks what it read, listing every problem as path: message', () => {
    expect(loadPolicyFile(policyFile('ok.json', JSON.stringify(EDITOR)))).toMatchObject({ ok: true, document: EDITOR });
    const bad = loadPolicyFile(policyFile('bad.json', JSON.stringify({ ...EDITOR, roles: [{ role_id: 'editor', permissions: [{ resource_id: 'documents', actions: ['*', 'read'] }] }], extra: true })));
    expect(bad).toEqual({
      ok: false,
      code: 'invalid_rbac_policy',
      problems: ['extra: Unknown field "extra"; expected resources, roles, scopes.', 'roles[0].permissions[0].actions: "*" grants every action on "documents" and cannot be listed with others.'],
    });
    expect(loadPolicyFile(policyFile('list.json', '[]'))).toEqual({ ok: false, code: 'invalid_rbac_policy', problems: ['The policy must be an object with resources, roles and scopes.'] });
  });
});

describe('docs/configuration.md', () => {
  const documentation = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
  const rows = documentation.split('\n').filter((line) => line.startsWith('|'));

  it.each(Object.entries(CONFIG_KEYS))('documents %s with its env name, file key and default in one table row', (_name, key) => {
    const cellsOf = (line: string): string[] => line.split('|').map((cell) => cell.trim());
    const row = rows.map(cellsOf).find((cells) => cells[1] === `\`${key.env}\``);
    expect(row, `no table row starting with ${key.env}`).toBeDefined();
    // Columns: environment variable, config-file key, default, meaning.
    expect(row?.[2]).toBe(`\`${key.file}\``);
    expect(row?.[3]).toBe('default' in key ? `\`${key.default}\`` : 'unset');
  });

  it('documents no key that the schema does not have', () => {
    const known = new Set<string>(Object.values(CONFIG_KEYS).map((key) => key.env));
    const documented = rows.flatMap((line) => [...line.matchAll(/`(UNDERSTUDY_[A-Z_]+)`/g)].map((match) => match[1] as string));
    // UNDERSTUDY_CONFIG names the file itself, so it is documented but is not a key in it.
    expect(documented.filter((env) => !known.has(env) && env !== 'UNDERSTUDY_CONFIG')).toEqual([]);
  });
});
