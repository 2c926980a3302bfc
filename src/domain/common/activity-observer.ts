import type { AuditEvent } from '../audit/audit-event.js';

/**
 * What the server tells its metrics (src/metrics/metrics.ts) about what it did. The audit trail
 * already records every sign-in, refusal and impersonation with its method, so those are counted
 * from the committed events. (Rate-limit refusals are counted where their 429 is answered, at the
 * HTTP edge: src/http/metrics-endpoint.ts.) Implementations count and return at once: they run on
 * the request's path and must not throw.
 */
export interface ActivityObserver {
  /** An audit event whose transaction committed (never one rolled back; once, whatever retries ran). */
  auditEventCommitted(event: AuditEvent): void;
}

/** Observes nothing: the CLI, unit tests and a server without metrics. */
export const NO_ACTIVITY_OBSERVER: ActivityObserver = {
  auditEventCommitted: () => undefined,
};
