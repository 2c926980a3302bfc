import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createApp, type App } from './app.js';
import { MASTER_KEY_FILE, loadMasterKey } from './crypto/keys/master-key.js';
import type { CheckedPolicyFile } from './config/rbac-policy-file.js';
import type { Config } from './config/schema.js';
import { AuditRecorder } from './domain/audit/audit-recorder.js';
import { bootstrapProject, type BootstrapResult } from './domain/projects/project-bootstrap.js';
import { publicTokenOf } from './domain/projects/public-token.js';
import type { RateLimitSettings } from './domain/rate-limits/rate-limit.js';
import { systemClock, type Clock } from './platform/clock.js';
import { IdGenerator, environmentOfProject } from './platform/ids.js';
import { traceRequests } from './http/server.js';
import { createLogger, type Logger } from './platform/logger.js';
import { METRICS_PATH, MetricsAccess, startMetricsListener, type MetricsListener } from './http/metrics-endpoint.js';
import type { Tracing } from './platform/tracing.js';
import type { MailSettings } from './mail/mail-services.js';
import type { SmsSettings } from './sms/sms-services.js';
import { createServices, type PasswordOptions, type Services, type WebhookSettings } from './services.js';
import { cryptoRandom, type Random } from './platform/random.js';
import { openStore, sqliteFileIn } from './storage/open-store.js';
import type { Store } from './storage/store.js';

export interface RunningServer {
  readonly url: string;
  readonly app: App;
  readonly store: Store;
  readonly bootstrap: BootstrapResult;
  /** Where GET /metrics is served (the API port, or UNDERSTUDY_METRICS_ADDRESS's listener); undefined when it is not. */
  readonly metricsUrl: string | undefined;
  /**
   * Stops serving and releases everything. `lingering`: something (a trace export that did not
   * finish in time) may still hold the process, so a command that is done should exit outright.
   */
  close(): Promise<{ readonly lingering: boolean }>;
}

export interface StartOptions {
  readonly logger?: Logger;
  readonly clock?: Clock;
  readonly random?: Random;
  /** Where first-start credentials are announced; the CLI passes stdout. Never the log. */
  readonly announce?: (text: string) => void;
  /** Waits before SMTP retries; the production 1, 2, 4, 8 s when omitted (tests shorten them). */
  readonly mailRetryDelaysMs?: readonly number[];
  /** Waits before SMS provider retries; the production 1, 2, 4, 8 s when omitted (tests shorten them). */
  readonly smsRetryDelaysMs?: readonly number[];
  /** Waits after failed webhook attempts; the production 5 s, 30 s, 2 min, 10 min, 1 h, 6 h when omitted (tests shorten them). */
  readonly webhookRetryDelaysMs?: readonly number[];
  /** Request tracing `serve` started from the OTEL_* variables (src/platform/tracing.ts); stopped, its last spans exported, by `close`. */
  readonly tracing?: Tracing;
}

export const CREDENTIALS_FILE = 'credentials.json';

/** Opens (and migrates) the database, makes sure the project exists, and writes first-start credentials. */
export async function initialize(config: Config, options: StartOptions = {}): Promise<{ store: Store; bootstrap: BootstrapResult }> {
  const clock = options.clock ?? systemClock;
  const random = options.random ?? cryptoRandom;
  // Only the owner may list or read the data directory (database, master key, credentials).
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  // With UNDERSTUDY_AUTO_MIGRATE=false, pending migrations stop the start (exit 78): the operator applies them with `understudy migrate`.
  const store = await openStore({ databaseUrl: config.databaseUrl, sqliteFile: sqliteFileIn(config.dataDir) }, { migrate: config.autoMigrate ? 'apply' : 'require-current' });
  try {
    const configured =
      config.projectId !== undefined && config.projectSecret !== undefined ? { projectId: config.projectId, projectSecret: config.projectSecret } : undefined;
    const audit = new AuditRecorder({ ids: new IdGenerator(random, environmentOfProject(configured?.projectId ?? 'project-test-')), clock });
    const bootstrap = await bootstrapProject({ store, random, clock, audit }, configured);
    if (bootstrap.generatedSecret !== undefined) {
      const written = writeCredentials(config.dataDir, bootstrap.project.projectId, bootstrap.generatedSecret);
      options.announce?.(describeNewCredentials(bootstrap.project.projectId, bootstrap.generatedSecret, written));
    }
    return { store, bootstrap };
  } catch (error) {
    await store.close();
    throw error;
  }
}

/** Starts serving: the `understudy serve` / `npm start` path. */
export async function startServer(config: Config, options: StartOptions = {}): Promise<RunningServer> {
  const logger = options.logger ?? createLogger(config.logLevel, undefined, config.logFormat);
  // Read and checked before the database is opened: a wrong file stops the start at once, listing every problem.
  // The module (and its YAML parser) is loaded only when a policy file is configured.
  const policyFile = config.rbacPolicyFile === undefined ? undefined : (await import('./config/rbac-policy-file.js')).checkPolicyFileAtStart(config.rbacPolicyFile);
  const { store, bootstrap } = await initialize(config, options);
  let app: App;
  let masterKey: LoadedMasterKey;
  let metricsListener: MetricsListener | undefined;
  try {
    const https = config.tlsCert && config.tlsKey ? { cert: readFileSync(config.tlsCert), key: readFileSync(config.tlsKey) } : undefined;
    masterKey = masterKeyFor(config, store, options);
    app = createApp({
      store,
      project: bootstrap.project,
      masterKey: masterKey.key,
    impersonation: { enabled: config.impersonationEnabled, redirectUrl: config.impersonationRedirectUrl ?? null, maxGrantHours: config.impersonationMaxGrantHours },
      rateLimits: rateLimitSettings(config),
      trustProxy: config.trustProxy?.split(',').map((entry) => entry.trim()),
      accessLog: config.accessLog,
      auditExportConcurrency: config.auditExportConcurrency,
      auditExportStallSeconds: config.auditExportStallSeconds,
      mail: mailSettings(config, options),
      sms: smsSettings(config, options),
      redirectUrls: config.redirectUrls,
      passwords: passwordOptions(config),
      rbacPolicyFile: policyFile?.path,
      publicUrl: config.publicUrl,
      ssoAllowPrivateAddresses: config.ssoAllowPrivateAddresses,
      webhooks: webhookSettings(config, options),
      metrics: metricsSettings(config),
      logger,
      bodyLimitBytes: config.bodyLimitBytes,
      timeouts: { headersMs: config.headersTimeoutMs, requestMs: config.requestTimeoutMs, keepAliveMs: config.keepAliveTimeoutMs },
      https,
      ...(options.clock && { clock: options.clock }),
      ...(options.random && { random: options.random }),
    });
    // Decrypts every stored key: a master key other than the one that sealed them fails here, before listening.
    await app.services.keystore.ensureSigningKey();
    // With the project's impersonation switch off, nothing allowed before may go on (docs/impersonation.md, "Policy").
    await app.services.impersonationAdmin.endWhileProjectDisabled();
    // The policy file wins at every start: authorization must never run on another policy than it (docs/rbac.md).
    if (policyFile !== undefined) await applyPolicyFile(app, policyFile, logger);
    // Links and codes kept while there was no SMTP server must not outlive the switch to one (docs/email.md).
    if (app.services.outbox.mode === 'smtp') {
      const erased = await store.mailOutbox.eraseOutboxSecrets();
      if (erased > 0) logger.info({ messages: erased }, 'erased the links and codes of messages kept in the outbox before SMTP was configured');
    }
    // Likewise SMS codes kept while there was no provider (docs/sms.md).
    if (app.services.smsOutbox.mode !== 'outbox') {
      const erased = await store.smsOutbox.eraseOutboxSecrets();
      if (erased > 0) logger.info({ messages: erased }, 'erased the codes of SMS kept in the outbox before an SMS provider was configured');
    }
    // A webhook round once a request that recorded a published event is answered (its transaction
    // committed by then), not after every request; anything a round misses, the poll finds within a second.
    const deliveries = app.services.webhookDeliveries;
    app.http.addHook('onResponse', (_request, _reply, done) => {
      deliveries.wakeIfPublished();
      done();
    });
    if (options.tracing !== undefined) traceRequests(app.http, options.tracing);
    if (config.metricsAddress !== undefined && app.metrics !== undefined) {
      metricsListener = await startMetricsListener({
        ...config.metricsAddress,
        metrics: app.metrics,
        access: new MetricsAccess(config.metricsToken),
        newRequestId: () => app.services.ids.next('request-id'),
        logger,
        timeouts: { headersMs: config.headersTimeoutMs, requestMs: config.requestTimeoutMs, keepAliveMs: config.keepAliveTimeoutMs },
      });
    }
    await app.http.listen({ host: config.host, port: config.port });
  } catch (error) {
    await metricsListener?.close();
    await store.close();
    throw error;
  }
  const address = app.http.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : config.port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  const url = `${config.tlsCert && config.tlsKey ? 'https' : 'http'}://${host}:${port}`;
  // SSO's URLs (ACS, OIDC redirect) fall back to this address when UNDERSTUDY_PUBLIC_URL is unset.
  app.services.publicOrigin.setListening(url);
  if (masterKey.source !== 'configured') {
    // Development default, said loudly (style rule 20): the key that protects signing keys sits beside the database.
    logger.warn({ file: resolve(config.dataDir, MASTER_KEY_FILE) }, 'signing keys are encrypted with a key file in the data directory; set UNDERSTUDY_MASTER_KEY in production');
  }
  if (store.dialect === 'sqlite') logger.info({ database: resolve(sqliteFileIn(config.dataDir)) }, 'using the embedded SQLite database');
  else logger.info(postgresForLog(config.databaseUrl), 'using the PostgreSQL database');
  logger.info({ url, project_id: bootstrap.project.projectId, public_token: publicTokenOf(bootstrap.project.projectId) }, 'understudy is listening');
  const metricsUrl = metricsListener?.url ?? (app.metrics !== undefined ? `${url}${METRICS_PATH}` : undefined);
  if (metricsUrl !== undefined) {
    logger.info({ url: metricsUrl, token_required: config.metricsToken !== undefined }, `metrics served on ${metricsListener === undefined ? 'the API port' : 'their own listener'}`);
  }
  const sweeper = startExpirySweeper(app, store, logger);
  const chainHeads = startChainHeadPublication(app, logger, config.auditChainPublishSeconds);
  // Webhooks: the outbox fanned out and deliveries attempted every second (and after requests, above).
  app.services.webhookDeliveries.start();
  return {
    url,
    app,
    store,
    bootstrap,
    metricsUrl,
    async close(): Promise<{ lingering: boolean }> {
      clearInterval(sweeper);
      await chainHeads.stop();
      // The round and the webhook attempts under way finish (each within 10 s).
      await app.services.webhookDeliveries.stop();
      // Stop accepting connections and let in-flight requests finish, then release the database.
      await app.http.close();
      await metricsListener?.close();
      // Notifications being prepared are handed to the mail before it stops.
      await app.services.impersonationNotifier.idle();
      // Pending SMTP retries are cancelled (recorded as failed), not waited for.
      await app.services.mail.close();
      await app.services.sms.close();
      // Ends zxcvbn's worker threads; an estimate still running is answered 503.
      await app.services.passwordStrength.close();
      await store.close();
      // After the HTTP server has closed, so the spans of the last requests are among those exported.
      const exported = (await options.tracing?.shutdown()) ?? true;
      logger.info('understudy stopped');
      return { lingering: !exported };
    },
  };
}

/**
 * The services of `serve` without the HTTP server, for one-shot commands (`understudy keys`):
 * same database, project, master key and composition. `close` releases the database.
 */
export async function openServices(
  config: Config,
  options: StartOptions = {},
): Promise<{ services: Services; store: Store; masterKey: LoadedMasterKey; close(): Promise<void> }> {
  const { store, bootstrap } = await initialize(config, options);
  try {
    const masterKey = masterKeyFor(config, store, options);
    const services = createServices({
      store,
      clock: options.clock ?? systemClock,
      random: options.random ?? cryptoRandom,
      projectId: bootstrap.project.projectId,
      masterKey: masterKey.key,
      // The same project-wide impersonation policy as `serve`, so a CLI mint obeys it too.
      impersonation: { enabled: config.impersonationEnabled, redirectUrl: config.impersonationRedirectUrl ?? null, maxGrantHours: config.impersonationMaxGrantHours },
      redirectUrls: config.redirectUrls,
      mail: mailSettings(config, options),
      sms: smsSettings(config, options),
      passwords: passwordOptions(config),
      publicUrl: config.publicUrl,
      ssoAllowPrivateAddresses: config.ssoAllowPrivateAddresses,
      // The CLI adds endpoints under the same rules; it never starts the delivery worker.
      webhooks: webhookSettings(config, options),
    });
    return { services, store, masterKey, close: () => store.close() };
  } catch (error) {
    await store.close();
    throw error;
  }
}

type LoadedMasterKey = ReturnType<typeof loadMasterKey>;

/** Which PostgreSQL server and database, for the start line: never the URL itself, which may hold the password. */
function postgresForLog(databaseUrl: string | undefined): { host?: string; port?: string; database?: string } {
  try {
    const url = new URL(databaseUrl ?? '');
    // A Unix socket is named by the `host` parameter (postgres:///understudy?host=/var/run/postgresql).
    const host = decodeURIComponent(url.hostname) || url.searchParams.get('host') || 'localhost';
    return { host, port: url.port || url.searchParams.get('port') || '5432', database: decodeURIComponent(url.pathname.slice(1)) || undefined };
  } catch {
    return {};
  }
}

async function applyPolicyFile(app: App, file: CheckedPolicyFile, logger: Logger): Promise<void> {
  const { applyPolicyFileAtStart } = await import('./config/rbac-policy-file.js');
  const outcome = await applyPolicyFileAtStart(app.services.rbacPolicy, file);
  if (!outcome.changed) {
    logger.info({ file: file.path, version: outcome.version.version }, 'the RBAC policy file matches the policy in force');
    return;
  }
  const fields = { file: file.path, version: outcome.version.version, previous_version: outcome.replaced.version, previous_source: outcome.replaced.source };
  // An edit made in the console or with the CLI since the last start is gone now: said loudly.
  if (outcome.replaced.source === 'console' || outcome.replaced.source === 'cli') {
    logger.warn(fields, `the RBAC policy file replaced version ${outcome.replaced.version}, which the ${outcome.replaced.source === 'cli' ? 'CLI' : 'console'} had applied`);
  } else {
    logger.info(fields, 'applied the RBAC policy file');
  }
}

/**
 * Metrics are counted when a token or a listener of their own is configured. They are served on the
 * API port (token required) only without a listener of their own, which keeps them off the API.
 */
function metricsSettings(config: Config): { token: string | undefined; onApiPort: boolean } | undefined {
  if (config.metricsToken === undefined && config.metricsAddress === undefined) return undefined;
  return { token: config.metricsToken, onApiPort: config.metricsAddress === undefined };
}

function rateLimitSettings(config: Config): RateLimitSettings {
  return {
    enabled: config.rateLimitsEnabled,
    mintsPerMinute: config.rateLimitMintsPerMinute,
    searchesPerMinute: config.rateLimitSearchesPerMinute,
    consoleSignInsPerMinute: config.rateLimitConsoleSignInsPerMinute,
    emailSendsPerAddressPerMinute: config.rateLimitEmailSendsPerAddressPerMinute,
    emailSendsPerClientPerMinute: config.rateLimitEmailSendsPerClientPerMinute,
    passwordAttemptsPerClientPerMinute: config.rateLimitPasswordAttemptsPerClientPerMinute,
    ssoRequestsPerClientPerMinute: config.rateLimitSsoRequestsPerClientPerMinute,
    smsSendsPerNumberPerHour: config.rateLimitSmsSendsPerNumberPerHour,
    smsSendsPerMemberPerHour: config.rateLimitSmsSendsPerMemberPerHour,
    smsSendsPerOrganizationPerHour: config.rateLimitSmsSendsPerOrganizationPerHour,
    smsSendsPerProjectPerHour: config.rateLimitSmsSendsPerProjectPerHour,
  };
}

function passwordOptions(config: Config): PasswordOptions {
  return {
    settings: config.passwords,
    argon2: config.argon2,
    hashConcurrency: config.passwordHashConcurrency,
    hashQueueLength: config.passwordHashQueueLength,
    breachRangesDir: config.passwordBreachRangesDir,
    breachRangeApiUrl: config.passwordBreachRangeApiUrl,
  };
}

function mailSettings(config: Config, options: StartOptions): MailSettings {
  return {
    projectName: config.projectName,
    smtp: config.smtpUrl === undefined ? undefined : { url: config.smtpUrl, from: config.smtpFrom ?? '', replyTo: config.smtpReplyTo },
    retryDelaysMs: options.mailRetryDelaysMs,
  };
}

function webhookSettings(config: Config, options: StartOptions): Omit<WebhookSettings, 'logger'> {
  return { allowPrivateAddresses: config.webhookAllowPrivateAddresses, maxAttempts: config.webhookMaxAttempts, retryDelaysMs: options.webhookRetryDelaysMs };
}

function smsSettings(config: Config, options: StartOptions): SmsSettings {
  return { provider: config.sms, allowedCountryCodes: config.smsAllowedCountryCodes, retryDelaysMs: options.smsRetryDelaysMs };
}

function masterKeyFor(config: Config, store: Store, options: StartOptions): LoadedMasterKey {
  return loadMasterKey({ configured: config.masterKey, dataDir: config.dataDir, isPostgres: store.dialect === 'postgres', random: options.random ?? cryptoRandom });
}

/**
 * Writes a new project's credentials, never over another's: the secret in an existing
 * credentials.json (the SQLite project's, when the same data directory now serves PostgreSQL) is
 * shown nowhere else, so the new ones go to `credentials.<project_id>.json` instead.
 */
function writeCredentials(dataDir: string, projectId: string, secret: string): { file: string; kept?: string } {
  const content = `${JSON.stringify({ project_id: projectId, secret, public_token: publicTokenOf(projectId) }, null, 2)}\n`;
  const file = join(dataDir, CREDENTIALS_FILE);
  try {
    writeFileSync(file, content, { mode: 0o600, flag: 'wx' });
    chmodSync(file, 0o600);
    return { file };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  const own = join(dataDir, `credentials.${projectId}.json`);
  writeFileSync(own, content, { mode: 0o600, flag: 'wx' });
  chmodSync(own, 0o600);
  return { file: own, kept: file };
}

function describeNewCredentials(projectId: string, secret: string, written: { file: string; kept?: string }): string {
  const lines = [
    '',
    'Created a new Understudy test project. Use these credentials with the stytch SDK:',
    '',
    `  project_id: ${projectId}`,
    `  secret:     ${secret}`,
    '',
    `Browsers starting SSO send the project's public token: ${publicTokenOf(projectId)}`,
    '',
    `They are also in ${written.file} (readable only by you). The secret is not shown again.`,
  ];
  if (written.kept !== undefined) {
    lines.push(
      '',
      `${written.kept} already holds the credentials of another project (${describeStoredProject(written.kept)}),`,
      "one this database does not know: another database's, such as the SQLite database in this data directory,",
      'or one whose database was deleted. It was left unchanged; each database accepts only its own credentials.',
    );
  }
  lines.push('');
  return lines.join('\n');
}

function describeStoredProject(file: string): string {
  try {
    const projectId = (JSON.parse(readFileSync(file, 'utf8')) as { project_id?: unknown }).project_id;
    return typeof projectId === 'string' ? projectId.replace(/[^\x20-\x7e]/g, '?') : 'unreadable';
  } catch {
    return 'unreadable';
  }
}

/** How often expired impersonated sessions are looked for, so each expiry lands in the audit trail. */
const EXPIRY_SWEEP_MILLISECONDS = 30_000;
/** Every this many sweeps (ten minutes), long-expired magic links, codes and intermediate sessions are deleted, and stale password failures. */
const PROOF_SWEEP_EVERY = 20;

function startExpirySweeper(app: App, store: Store, logger: Logger): NodeJS.Timeout {
  let sweeps = 0;
  const timer = setInterval(() => {
    app.services.impersonationLedger.recordExpiries(store).catch((error: unknown) => logger.warn({ err: error }, 'recording impersonation expiries failed'));
    sweeps += 1;
    if (sweeps % PROOF_SWEEP_EVERY === 0) {
      app.services.emailProofs.deleteExpired(store).catch((error: unknown) => logger.warn({ err: error }, 'deleting expired magic links and codes failed'));
      app.services.memberPasswords.forgetStaleFailures().catch((error: unknown) => logger.warn({ err: error }, 'forgetting stale password failures failed'));
      app.services.webhookDeliveries.deleteFinished().catch((error: unknown) => logger.warn({ err: error }, 'deleting old webhook deliveries failed'));
      app.services.ssoFlows.deleteExpired().catch((error: unknown) => logger.warn({ err: error }, 'deleting expired SSO requests and tokens failed'));
    }
  }, EXPIRY_SWEEP_MILLISECONDS);
  timer.unref();
  return timer;
}

/**
 * Every `seconds` (0: never), publishes the audit chains' heads: one `audit chain heads` log line and
 * an `audit.chain_head_published` event for the webhooks, unless nothing changed since the last
 * publication (docs/impersonation.md, "Tamper-evident audit"). `stop` waits for a publication under way.
 */
function startChainHeadPublication(app: App, logger: Logger, seconds: number): { stop(): Promise<void> } {
  if (seconds === 0) return { stop: async () => undefined };
  let running: Promise<void> | undefined;
  const timer = setInterval(() => {
    if (running !== undefined) return;
    running = app.services.chainHeadPublisher
      .publish()
      .then(
        (published) => {
          if (published !== undefined) logger.info({ chains: published.chains, digest: published.digest, changed_since: published.changed_since, heads: published.heads }, 'audit chain heads');
        },
        (error: unknown) => logger.warn({ err: error }, 'publishing the audit chain heads failed'),
      )
      .finally(() => {
        running = undefined;
      });
  }, seconds * 1000);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
