import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { B2BClient } from 'stytch';
import type { Dispatcher } from 'undici';
import type { Config } from '../../src/config/schema.js';
import { startServer, type RunningServer } from '../../src/main.js';
import type { Clock } from '../../src/platform/clock.js';
import { createLogger, type Logger } from '../../src/platform/logger.js';
import type { Random } from '../../src/platform/random.js';
import { DEFAULT_PASSWORD_SETTINGS } from '../../src/domain/passwords/password-settings.js';
import { createThrowawayPostgresDatabase, type StoreFactory } from './stores.js';
import { TEST_ARGON2, TEST_MASTER_KEY, TEST_PROJECT_ID, TEST_PROJECT_SECRET } from './test-constants.js';
import { TEST_LOG_LEVEL, testLogDestination } from './test-logs.js';

export { TEST_MASTER_KEY, TEST_PROJECT_ID, TEST_PROJECT_SECRET } from './test-constants.js';

export interface TestServer {
  readonly baseUrl: string;
  readonly projectId: string;
  readonly secret: string;
  /** The official SDK pointed at this server. */
  readonly client: B2BClient;
  readonly server: RunningServer;
  /** Where the SQLite database lives (also with PostgreSQL: the master key file would be here). */
  readonly dataDir: string;
  /** The throwaway PostgreSQL database, or undefined on SQLite. */
  readonly databaseUrl: string | undefined;
  /** A fetch that sends the project's Basic credentials, for raw HTTP tests. */
  fetch(path: string, init?: RequestInit & { json?: unknown }): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }>;
  stop(): Promise<void>;
}

export interface TestServerOptions {
  /** Which database; SQLite when omitted. */
  readonly store?: StoreFactory['name'];
  readonly https?: { readonly cert: string; readonly key: string } | undefined;
  readonly clock?: Clock;
  readonly random?: Random;
  readonly config?: Partial<Config>;
  /** Used by the SDK client and `fetch`, e.g. a dispatcher trusting a self-signed certificate (tests/support/tls.ts). */
  readonly dispatcher?: Dispatcher;
  /** Where the server logs; by default `debug` lines into this run's log file, scanned for secrets at the end (tests/support/test-logs.ts). */
  readonly logger?: Logger;
  /** Waits before SMTP retries; 10, 20, 40, 80 ms when omitted, so retry tests take milliseconds. */
  readonly mailRetryDelaysMs?: readonly number[];
  /** Waits before SMS provider retries; 10, 20, 40, 80 ms when omitted. */
  readonly smsRetryDelaysMs?: readonly number[];
  /** Waits after failed webhook attempts; the production ones (5 s, 30 s, …) when omitted. */
  readonly webhookRetryDelaysMs?: readonly number[];
  /**
   * The database of another running test server, to start a second server on it (as a restart with
   * other settings would find it); the other server keeps owning it and cleans it up.
   */
  readonly sharing?: Pick<TestServer, 'dataDir' | 'databaseUrl'>;
}

/** Starts a real Understudy on a free port with a fresh database and known credentials (style rule 21). */
export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const dataDir = options.sharing?.dataDir ?? mkdtempSync(join(tmpdir(), 'understudy-test-'));
  const postgres = options.sharing === undefined && options.store === 'postgres' ? await createThrowawayPostgresDatabase() : undefined;
  const databaseUrl = options.sharing === undefined ? postgres?.url : options.sharing.databaseUrl;
  const config: Config = {
    host: '127.0.0.1',
    port: 0,
    dataDir,
    databaseUrl,
    projectId: TEST_PROJECT_ID,
    projectSecret: TEST_PROJECT_SECRET,
    tlsCert: options.https?.cert,
    tlsKey: options.https?.key,
    logLevel: 'silent',
    // A fixed test key: signing keys in throwaway databases need no secrecy, and PostgreSQL requires one.
    masterKey: TEST_MASTER_KEY,
    impersonationEnabled: true,
    impersonationRedirectUrl: undefined,
    // Off: suites of other features hammer search and send hundreds of bogus tokens on purpose.
    // tests/integration/rate-limits turns them on, at the production defaults (docs/configuration.md).
    rateLimitsEnabled: false,
    rateLimitMintsPerMinute: 60,
    rateLimitSearchesPerMinute: 100,
    rateLimitConsoleSignInsPerMinute: 10,
    rateLimitEmailSendsPerAddressPerMinute: 5,
    rateLimitEmailSendsPerClientPerMinute: 300,
    rateLimitSsoRequestsPerClientPerMinute: 600,
    // None: every type allows and defaults to http://localhost:3000/authenticate, as on a plain `npm start`.
    redirectUrls: [],
    trustProxy: undefined,
    auditExportConcurrency: 2,
    auditExportStallSeconds: 30,
    projectName: 'Understudy',
    // Unset: every message goes to the outbox (tests/support/outbox.ts reads it); tests/support/smtp-test-server.ts for SMTP.
    smtpUrl: undefined,
    smtpFrom: undefined,
    smtpReplyTo: undefined,
    // The outbox: every SMS kept with its code (services.smsOutbox); tests of the providers set `sms`.
    sms: { provider: 'outbox' },
    // Every country (tests of the allow-list set some).
    smsAllowedCountryCodes: [],
    bodyLimitBytes: 1024 * 1024,
    headersTimeoutMs: 10_000,
    requestTimeoutMs: 30_000,
    keepAliveTimeoutMs: 72_000,
    rateLimitPasswordAttemptsPerClientPerMinute: 600,
    rateLimitSmsSendsPerNumberPerHour: 5,
    rateLimitSmsSendsPerMemberPerHour: 10,
    rateLimitSmsSendsPerOrganizationPerHour: 100,
    rateLimitSmsSendsPerProjectPerHour: 1000,
    passwords: DEFAULT_PASSWORD_SETTINGS,
    // No breach source: nothing is looked up (tests that check breaches give a range directory).
    passwordBreachRangesDir: undefined,
    passwordBreachRangeApiUrl: undefined,
    // Far below the production default (docs/configuration.md), so suites that set hundreds of
    // passwords stay fast; tests of the parameters themselves set their own.
    argon2: TEST_ARGON2,
    passwordHashConcurrency: undefined,
    passwordHashQueueLength: 64,
    impersonationMaxGrantHours: 72,
    publicUrl: undefined,
    // On: test webhook receivers listen on loopback.
    webhookAllowPrivateAddresses: true,
    // On: test identity providers listen on loopback.
    ssoAllowPrivateAddresses: true,
    webhookMaxAttempts: 8,
    // Off: tests of publication start it themselves.
    auditChainPublishSeconds: 0,
    // JSON lines to the test log; the access line is on as in production.
    logFormat: 'json',
    accessLog: true,
    metricsToken: undefined,
    metricsAddress: undefined,
    autoMigrate: true,
    ...options.config,
  };
  const server = await startServer(config, {
    logger: options.logger ?? createLogger(TEST_LOG_LEVEL, testLogDestination()),
    ...(options.clock && { clock: options.clock }),
    ...(options.random && { random: options.random }),
    mailRetryDelaysMs: options.mailRetryDelaysMs ?? [10, 20, 40, 80],
    smsRetryDelaysMs: options.smsRetryDelaysMs ?? [10, 20, 40, 80],
    ...(options.webhookRetryDelaysMs && { webhookRetryDelaysMs: options.webhookRetryDelaysMs }),
  });
  const baseUrl = server.url.replace('127.0.0.1', 'localhost');
  const client = new B2BClient(
    options.https
      ? { project_id: config.projectId as string, secret: config.projectSecret as string, custom_base_url: `${baseUrl}/`, dispatcher: options.dispatcher }
      : { project_id: config.projectId as string, secret: config.projectSecret as string, env: `${server.url}/`, dispatcher: options.dispatcher },
  );
  const authorization = `Basic ${Buffer.from(`${config.projectId}:${config.projectSecret}`).toString('base64')}`;
  return {
    baseUrl: server.url,
    projectId: config.projectId as string,
    secret: config.projectSecret as string,
    client,
    server,
    dataDir,
    databaseUrl,
    async fetch(path, init = {}) {
      const { json, ...rest } = init;
      const headers = new Headers(rest.headers);
      if (!headers.has('authorization')) headers.set('authorization', authorization);
      if (json !== undefined && !headers.has('content-type')) headers.set('content-type', 'application/json');
      const response = await fetch(`${server.url}${path}`, {
        ...rest,
        headers,
        ...(json !== undefined && { body: JSON.stringify(json) }),
        ...(options.dispatcher && ({ dispatcher: options.dispatcher } as RequestInit)),
      });
      const text = await response.text();
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(text) as Record<string, unknown>;
      } catch {
        body = { unparsed: text };
      }
      return { status: response.status, body, headers: response.headers };
    },
    async stop() {
      await server.close();
      if (options.sharing !== undefined) return;
      await postgres?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
