import type { FastifyInstance } from 'fastify';
import type { ProjectImpersonationPolicy } from './domain/impersonation/impersonation-policy.js';
import type { Project } from './domain/projects/project.js';
import type { RateLimitSettings } from './domain/rate-limits/rate-limit.js';
import type { RedirectUrl } from './domain/redirect-urls/redirect-url.js';
import { ProjectAuthenticator } from './http/project-authenticator.js';
import { registerConsole } from './console/console-plugin.js';
import { registerOperations } from './api/register-operations.js';
import { registerImpersonationEndPage } from './api/impersonation/end-link-page.js';
import { registerSsoBrowserRoutes } from './api/sso/browser-routes.js';
import { registerRateLimitHook } from './http/rate-limit-hook.js';
import { createHttpServer, type ConnectionTimeouts } from './http/server.js';
import { countRequests, MetricsAccess, registerMetricsRoute } from './http/metrics-endpoint.js';
import { packageVersion } from './cli/version.js';
import { Metrics } from './metrics/metrics.js';
import { systemClock, type Clock } from './platform/clock.js';
import type { MailSettings } from './mail/mail-services.js';
import type { SmsSettings } from './sms/sms-services.js';
import type { Logger } from './platform/logger.js';
import { cryptoRandom, type Random } from './platform/random.js';
import { createServices, type PasswordOptions, type Services, type WebhookSettings } from './services.js';
import type { Store } from './storage/store.js';

export interface AppOptions {
  readonly store: Store;
  readonly project: Project;
  readonly masterKey: Buffer;
  readonly logger: Logger;
  readonly bodyLimitBytes: number;
  /** How long clients may take to send requests; Node's defaults when omitted. */
  readonly timeouts?: ConnectionTimeouts;
  readonly https?: { readonly key: Buffer; readonly cert: Buffer } | undefined;
  readonly clock?: Clock;
  readonly random?: Random;
  readonly impersonation?: ProjectImpersonationPolicy;
  /** The rate limits in force; none when omitted. */
  readonly rateLimits?: RateLimitSettings;
  /** Reverse proxies whose X-Forwarded-For names the client (UNDERSTUDY_TRUST_PROXY). */
  readonly trustProxy?: readonly string[];
  /** One access line per request at info (UNDERSTUDY_ACCESS_LOG); on when omitted. */
  readonly accessLog?: boolean;
  /** Audit exports running at once (UNDERSTUDY_AUDIT_EXPORT_CONCURRENCY); the default when omitted. */
  readonly auditExportConcurrency?: number;
  /** Seconds a client may read nothing before its export is cut off (UNDERSTUDY_AUDIT_EXPORT_STALL_SECONDS). */
  readonly auditExportStallSeconds?: number;
  /** Sign-in email (UNDERSTUDY_PROJECT_NAME, UNDERSTUDY_SMTP_*); the outbox when omitted. Failures go to `logger`. */
  readonly mail?: Omit<MailSettings, 'logger'>;
  /** SMS codes (UNDERSTUDY_SMS_PROVIDER and its keys); the outbox when omitted. Failures go to `logger`. */
  readonly sms?: Omit<SmsSettings, 'logger'>;
  /** Redirect URLs from configuration (UNDERSTUDY_REDIRECT_URLS, redirect_urls); none when omitted. */
  readonly redirectUrls?: readonly RedirectUrl[];
  /** Password policy, argon2id cost, hashing bounds, breach source; defaults when omitted. */
  readonly passwords?: Omit<PasswordOptions, 'onBreachSourceFailure' | 'onStrengthCheckFailure'>;
  /** The RBAC policy file `serve` applied at start (UNDERSTUDY_RBAC_POLICY_FILE), which the console's RBAC page names; none when omitted. */
  readonly rbacPolicyFile?: string | undefined;
  /** UNDERSTUDY_PUBLIC_URL: where the notification email's end link points; no link when omitted. */
  readonly publicUrl?: string | undefined;
  /** Webhooks (UNDERSTUDY_WEBHOOK_*); failures go to `logger`. Production defaults when omitted. */
  readonly webhooks?: Omit<WebhookSettings, 'logger'>;
  /**
   * Prometheus metrics (UNDERSTUDY_METRICS_TOKEN, UNDERSTUDY_METRICS_ADDRESS): counted when given,
   * and served on the API port at GET /metrics to the token's bearers when `onApiPort`. None when omitted.
   */
  readonly metrics?: { readonly token: string | undefined; readonly onApiPort: boolean };
  /** SSO connections may name internal addresses for the IdP URLs the server fetches (UNDERSTUDY_SSO_ALLOW_PRIVATE_ADDRESSES). */
  readonly ssoAllowPrivateAddresses?: boolean;
}

export interface App {
  readonly http: FastifyInstance;
  readonly services: Services;
  /** The metrics, when the app counts them (AppOptions.metrics); src/main.ts serves them on their own listener too. */
  readonly metrics: Metrics | undefined;
}

/** The composition root (style rule 4): clock and randomness, then services, then HTTP routes. */
export function createApp(options: AppOptions): App {
  const projectId = options.project.projectId;
  // Without metrics configured nothing is counted, and requests pay nothing for them.
  const metrics =
    options.metrics === undefined ? undefined : new Metrics({ version: packageVersion(), dialect: options.store.dialect, connections: () => options.store.connections() });
  const services = createServices({
    store: options.store,
    clock: options.clock ?? systemClock,
    random: options.random ?? cryptoRandom,
    projectId,
    masterKey: options.masterKey,
    impersonation: options.impersonation,
    ...(options.rateLimits && { rateLimits: options.rateLimits }),
    ...(options.auditExportConcurrency !== undefined && { auditExportConcurrency: options.auditExportConcurrency }),
    ...(options.auditExportStallSeconds !== undefined && { auditExportStallSeconds: options.auditExportStallSeconds }),
    mail: { ...options.mail, logger: options.logger },
    sms: { ...options.sms, logger: options.logger },
    publicUrl: options.publicUrl,
    ssoAllowPrivateAddresses: options.ssoAllowPrivateAddresses ?? false,
    ...(metrics !== undefined && { activity: metrics }),
    ...(options.webhooks && { webhooks: { ...options.webhooks, logger: options.logger } }),
    ...(options.redirectUrls && { redirectUrls: options.redirectUrls }),
    ...(options.passwords && {
      passwords: {
        ...options.passwords,
        onBreachSourceFailure: (error: unknown) => options.logger.warn({ err: error }, 'the password breach source could not answer'),
        onStrengthCheckFailure: (error: unknown) => options.logger.warn({ err: error }, 'a password strength check worker failed'),
      },
    }),
  });
  const http = createHttpServer({
    logger: options.logger,
    bodyLimitBytes: options.bodyLimitBytes,
    timeouts: options.timeouts,
    newRequestId: () => services.ids.next('request-id'),
    authenticator: new ProjectAuthenticator(options.project),
    https: options.https,
    trustProxy: options.trustProxy,
    accessLog: options.accessLog,
  });
  registerRateLimitHook(http, { rateLimits: services.rateLimits, projectId });
  registerConsole(http, { services, random: options.random ?? cryptoRandom, isHttps: options.https !== undefined, policyFile: options.rbacPolicyFile });
  registerOperations(http, { ...services, projectId, ping: () => options.store.ping() });
  registerImpersonationEndPage(http, { endLinks: services.impersonationEndLinks });
  registerSsoBrowserRoutes(http, services);
  if (metrics !== undefined) {
    // Requests by operation and status, and the 429s a rate limit caused, as answered.
    countRequests(http, metrics);
    if (options.metrics?.onApiPort === true) registerMetricsRoute(http, metrics, new MetricsAccess(options.metrics.token));
  }
  return { http, services, metrics };
}
