import type { FastifyInstance } from 'fastify';
import type { AuditExport } from '../../domain/impersonation/audit-export.js';
import { RateLimitedError } from '../../domain/rate-limits/errors.js';
import { ndjsonStream } from '../../http/ndjson-stream.js';
import { encodeAuditEvent } from '../../http/wire/impersonation.js';
import { type ConsoleDependencies, csrfFor, requireOperator } from '../console-context.js';
import { html, type SafeHtml } from '../html.js';
import type { AuditEvent } from '../../domain/audit/audit-event.js';
import { CONSOLE_TRAILS, type ConsoleTrail } from '../../domain/operators/console-audit-trail.js';
import { actorLabel } from '../views/actor-label.js';
import { page } from '../views/layout.js';
import { pager } from '../views/organization-views.js';

type Filters = { trail?: string; organization?: string; member?: string; operator?: string; since?: string; until?: string; cursor?: string };

const TRAIL_LABELS: Record<ConsoleTrail | 'impersonation', string> = { impersonation: 'Impersonation', member: 'Members', operator: 'Operators' };

/** The audit trails: impersonation (filtered, paged, exported as NDJSON), members' and operators' events. */
export function registerAuditPages(scope: FastifyInstance, dependencies: ConsoleDependencies): void {
  const { impersonationAdmin, consoleAudit } = dependencies.services;

  scope.get<{ Querystring: Filters }>('/audit', async (request, reply) => {
    const identity = requireOperator(request, reply);
    if (identity === undefined) return reply;
    const filters = cleaned(request.query);
    const other = CONSOLE_TRAILS.find((trail) => trail === request.query.trail);
    const form = filterForm(filters, other ?? 'impersonation');
    let body: SafeHtml;
    if (other !== undefined) {
      const found = await consoleAudit.search({ trail: other, organization: filters.organization, member: filters.member, since: filters.since, until: filters.until, cursor: request.query.cursor, limit: 50 });
      body = html`${form}${otherTrailTable(other, found.events)}${pager('/console/audit', { ...filters, trail: other }, found.nextCursor)}`;
    } else {
      body = html`${form}${await impersonationTable(filters, request.query.cursor)}`;
    }
    return reply.type('text/html; charset=utf-8').send(page({ title: 'Audit trail', identity, csrf: csrfFor(request), current: '/console/audit', body }).value);
  });

  async function impersonationTable(filters: Record<string, string>, cursor: string | undefined): Promise<SafeHtml> {
    const trail = await impersonationAdmin.auditTrail({ ...toQuery(filters), cursor, limit: 50 });
    const table =
      trail.events.length === 0
        ? html`<p class="empty">No impersonation events match. Events appear here when someone mints, redeems, is refused, revokes or lets an impersonation expire.</p>`
        : html`<div class="table-wrap"><table><thead><tr><th scope="col">When</th><th scope="col">Event</th><th scope="col">Impersonator</th><th scope="col">Member</th><th scope="col">Reason / why</th><th scope="col">Client</th><th scope="col">Request</th></tr></thead><tbody>${trail.events.map(
            (event) => html`<tr>
  <td>${event.occurredAt}</td><td>${event.type}</td>
  <td>${String(event.details.impersonator_email_address ?? event.impersonatorId ?? '')}</td>
  <td>${event.memberId ?? '—'}</td>
  <td>${String(event.details.reason ?? '')}${event.details.why ? html` <span class="badge warn">${String(event.details.why)}</span>` : ''}${event.details.error_type ? html` <span class="badge warn">${String(event.details.error_type)}</span>` : ''}</td>
  <td>${event.client?.ipAddress ?? ''}</td><td><code>${event.requestId}</code></td>
</tr>`,
          )}</tbody></table></div>`;
    return html`${table}
${pager('/console/audit', filters, trail.nextCursor)}`;
  }

  scope.get<{ Querystring: Filters }>('/audit/export', async (request, reply) => {
    const identity = requireOperator(request, reply);
    if (identity === undefined) return reply;
    // Streamed a page at a time under the same per-process bound as the API export (audit-export.ts).
    // Opening reads the first page, so a bad filter or a full bound still gets the HTML error page.
    let exported: AuditExport;
    try {
      exported = await dependencies.services.auditExports.open(toQuery(cleaned(request.query)));
    } catch (error) {
      if (error instanceof RateLimitedError) void reply.header('retry-after', String(error.retryAfterSeconds));
      throw error;
    }
    void reply.type('application/x-ndjson').header('content-disposition', 'attachment; filename="impersonation-audit.ndjson"');
    // Fastify answers HEAD with this handler and drains a stream body unread: stop before reading on.
    if (request.method === 'HEAD') {
      exported.close();
      return reply.send();
    }
    return reply.send(
      ndjsonStream(exported, encodeAuditEvent, {
        onFailure: (error) => request.log.error({ err: error }, 'console audit export failed after it began; response cut off'),
        onStall: () => request.log.warn('console audit export cut off: the client stopped reading'),
      }),
    );
  });
}

function filterForm(filters: Record<string, string>, trail: ConsoleTrail | 'impersonation'): SafeHtml {
  const exportQuery = new URLSearchParams(filters).toString();
  return html`<form method="get" action="/console/audit" class="inline" role="search">
  <div><label for="trail">Events</label><select id="trail" name="trail">${(Object.keys(TRAIL_LABELS) as (keyof typeof TRAIL_LABELS)[]).map(
    (value) => html`<option value="${value}" ${value === trail ? html`selected` : ''}>${TRAIL_LABELS[value]}</option>`,
  )}</select></div>
  ${trail === 'operator' ? '' : html`<div><label for="organization">Organization (id or slug)</label><input id="organization" name="organization" value="${filters.organization ?? ''}"></div>
  <div><label for="member">Member id</label><input id="member" name="member" value="${filters.member ?? ''}"></div>`}
  ${trail === 'impersonation' ? html`<div><label for="operator">Impersonator id</label><input id="operator" name="operator" value="${filters.operator ?? ''}"></div>` : ''}
  <div><label for="since">Since (RFC 3339)</label><input id="since" name="since" value="${filters.since ?? ''}" placeholder="2026-01-01T00:00:00Z"></div>
  <div><label for="until">Until</label><input id="until" name="until" value="${filters.until ?? ''}"></div>
  <button type="submit">Filter</button>
  ${trail === 'impersonation' ? html`<a class="button secondary" href="/console/audit/export${exportQuery ? `?${exportQuery}` : ''}">Export NDJSON</a>` : ''}
</form>`;
}

/** Members' or operators' events: who acted (an operator, the project's backend, the CLI), on whom, and why. */
function otherTrailTable(trail: ConsoleTrail, events: readonly AuditEvent[]): SafeHtml {
  if (events.length === 0) return html`<p class="empty">No ${trail} events match.</p>`;
  return html`<div class="table-wrap"><table><thead><tr><th scope="col">When</th><th scope="col">Event</th><th scope="col">Actor</th><th scope="col">${trail === 'member' ? 'Member' : 'Operator'}</th><th scope="col">Reason / why</th><th scope="col">Client</th><th scope="col">Request</th></tr></thead><tbody>${events.map(
    (event) => html`<tr>
  <td>${event.occurredAt}</td><td>${event.type}</td><td>${actorLabel(event.actor)}</td>
  <td>${trail === 'member' ? (event.memberId ?? '—') : String(event.details.email_address ?? event.details.operator_id ?? '—')}</td>
  <td>${typeof event.details.reason === 'string' ? event.details.reason : ''}${typeof event.details.why === 'string' ? html` <span class="badge warn">${event.details.why}</span>` : ''}</td>
  <td>${event.client?.ipAddress ?? ''}</td><td><code>${event.requestId}</code></td>
</tr>`,
  )}</tbody></table></div>`;
}

function cleaned(query: Filters): Record<string, string> {
  const keys = ['organization', 'member', 'operator', 'since', 'until'] as const;
  return Object.fromEntries(keys.map((key) => [key, (query[key] ?? '').trim()]).filter(([, value]) => value !== ''));
}

function toQuery(filters: Record<string, string>) {
  return { organization: filters.organization, member: filters.member, impersonatorId: filters.operator, since: filters.since, until: filters.until };
}
