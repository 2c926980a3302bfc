import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { AuditEvent } from '../domain/audit/audit-event.js';
import type { ActivityObserver } from '../domain/common/activity-observer.js';
import type { RateLimitName } from '../domain/rate-limits/rate-limit.js';

/** What the server's metrics describe besides what it counts (docs/monitoring.md, "Metrics"). */
export interface MetricsOptions {
  /** The package's version, for `understudy_build_info`. */
  readonly version: string;
  readonly dialect: 'sqlite' | 'postgres';
  /** The PostgreSQL pool's connections, read at each scrape; undefined on SQLite. */
  readonly connections: () => { readonly total: number; readonly idle: number; readonly waiting: number } | undefined;
}

/** Every metric name starts with this, Node's default ones too. */
export const METRIC_PREFIX = 'understudy_';

/**
 * Request latency buckets, in seconds: most calls answer in a millisecond or two, password hashing
 * takes tens to hundreds, and anything past ten seconds has hit a timeout anyway.
 */
const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * One operation's request counts by status, and its latency series, looked up once. The counts are
 * plain numbers handed to prom-client at each scrape: its counters resolve and hash their labels on
 * every increment, which would double what each request pays for metrics.
 */
interface OperationSeries {
  readonly duration: Histogram.Internal<'operation'>;
  readonly byStatus: Map<number, number>;
}

/**
 * The server's Prometheus metrics, in a registry of its own (never prom-client's global one: a
 * process may run several servers, as the tests do). Every label value is bounded: operation names
 * (never URLs or ids), status codes, sign-in methods and limits named in the code.
 */
export class Metrics implements ActivityObserver {
  readonly registry = new Registry();
  readonly #duration: Histogram<'operation'>;
  readonly #signIns: Counter<'method' | 'outcome'>;
  readonly #impersonations: Counter<'event'>;
  readonly #rateLimited: Counter<'limit'>;
  readonly #operations = new Map<string, OperationSeries>();

  constructor(options: MetricsOptions) {
    const registers = [this.registry];
    // Node's own (CPU, memory, heap, GC, event-loop lag, handles), named understudy_process_* and understudy_nodejs_*.
    collectDefaultMetrics({ register: this.registry, prefix: METRIC_PREFIX });
    const operations = this.#operations;
    new Counter({
      name: `${METRIC_PREFIX}http_requests_total`,
      help: 'HTTP requests answered, by operation and status code.',
      labelNames: ['operation', 'status'],
      registers,
      collect() {
        this.reset();
        for (const [operation, series] of operations) for (const [status, count] of series.byStatus) this.inc({ operation, status: String(status) }, count);
      },
    });
    this.#duration = new Histogram({
      name: `${METRIC_PREFIX}http_request_duration_seconds`,
      help: 'Time from a request arriving to its answer being sent, by operation.',
      labelNames: ['operation'],
      buckets: DURATION_BUCKETS,
      registers,
    });
    this.#signIns = new Counter({
      name: `${METRIC_PREFIX}sign_ins_total`,
      help: 'Member sign-ins by method: outcome success when the credential was accepted (a session, or an intermediate session awaiting MFA), refused otherwise.',
      labelNames: ['method', 'outcome'],
      registers,
    });
    this.#impersonations = new Counter({
      name: `${METRIC_PREFIX}impersonations_total`,
      help: 'Impersonation tokens minted and redeemed, and mints and redemptions refused.',
      labelNames: ['event'],
      registers,
    });
    this.#rateLimited = new Counter({
      name: `${METRIC_PREFIX}rate_limited_total`,
      help: 'Calls answered 429 too_many_requests because a rate limit refused them, by limit (a refusal a call absorbed, such as a sign-in sending no SMS code, is not counted).',
      labelNames: ['limit'],
      registers,
    });
    new Gauge({
      name: `${METRIC_PREFIX}db_pool_connections`,
      help: 'PostgreSQL connection pool: connections open (total), idle, and queries waiting for one (waiting). Absent on SQLite.',
      labelNames: ['state'],
      registers,
      collect() {
        const pool = options.connections();
        if (pool === undefined) return;
        this.set({ state: 'total' }, pool.total);
        this.set({ state: 'idle' }, pool.idle);
        this.set({ state: 'waiting' }, pool.waiting);
      },
    });
    new Gauge({ name: `${METRIC_PREFIX}db_dialect_info`, help: 'The database in use (dialect sqlite or postgres); always 1.', labelNames: ['dialect'], registers }).set(
      { dialect: options.dialect },
      1,
    );
    new Gauge({ name: `${METRIC_PREFIX}build_info`, help: 'The Understudy version running; always 1.', labelNames: ['version'], registers }).set({ version: options.version }, 1);
  }

  /** The Content-Type of `render`'s text. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** Every metric in Prometheus's text format. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  /** One answered request: runs for every request, so it only looks up cached series and adds. */
  recordRequest(operation: string, status: number, seconds: number): void {
    let series = this.#operations.get(operation);
    if (series === undefined) {
      series = { duration: this.#duration.labels(operation), byStatus: new Map() };
      this.#operations.set(operation, series);
    }
    series.byStatus.set(status, (series.byStatus.get(status) ?? 0) + 1);
    series.duration.observe(seconds);
  }

  /**
   * Sign-ins and impersonations, from the audit trail: every method records its sign-ins as
   * `member.signed_in` (discovery's address proofs as a discovery `intermediate_session.started`) and
   * its refusals as `member.sign_in_refused`, each naming the method; impersonation has events of its own.
   */
  auditEventCommitted(event: AuditEvent): void {
    switch (event.type) {
      case 'member.signed_in':
        this.#signIns.inc({ method: methodOf(event), outcome: 'success' });
        return;
      case 'member.sign_in_refused':
        this.#signIns.inc({ method: methodOf(event), outcome: 'refused' });
        return;
      case 'intermediate_session.started':
        // Discovery proved an address (no member yet); the pipeline's own intermediate sessions name no method.
        if (typeof event.details.method === 'string') this.#signIns.inc({ method: methodOf(event), outcome: 'success' });
        return;
      case 'impersonation.token_minted':
        this.#impersonations.inc({ event: 'minted' });
        return;
      case 'impersonation.mint_refused':
        this.#impersonations.inc({ event: 'refused' });
        return;
      case 'impersonation.token_redeemed':
        this.#impersonations.inc({ event: 'redeemed' });
        this.#signIns.inc({ method: 'impersonation', outcome: 'success' });
        return;
      case 'impersonation.redemption_refused':
        this.#impersonations.inc({ event: 'refused' });
        this.#signIns.inc({ method: 'impersonation', outcome: 'refused' });
        return;
      default:
        return;
    }
  }

  /** A call answered 429 because `limit` refused it (counted at the HTTP edge, src/http/metrics-endpoint.ts). */
  rateLimited(limit: RateLimitName): void {
    this.#rateLimited.inc({ limit });
  }
}

/** The method an event names (a constant of the code: magic_link, password, totp, …); `other` should one ever be missing or odd. */
function methodOf(event: AuditEvent): string {
  const method = event.details.method;
  return typeof method === 'string' && /^[a-z][a-z0-9_]{0,63}$/.test(method) ? method : 'other';
}
