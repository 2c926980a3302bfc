import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { AuditEvent, AuditEventType } from '../../src/domain/audit/audit-event.js';
import { Metrics } from '../../src/metrics/metrics.js';
import { parseExposition, type Exposition } from '../support/prometheus-text.js';

/**
 * The Grafana dashboard (docs/grafana/understudy-dashboard.json) queries only what the server's
 * metrics expose, by the labels those metrics have, and shows every metric the docs promise it shows.
 */
const DASHBOARD = JSON.parse(readFileSync(new URL('../../docs/grafana/understudy-dashboard.json', import.meta.url), 'utf8')) as Dashboard;

interface Target {
  readonly expr: string;
}
interface Panel {
  readonly type: string;
  readonly title: string;
  readonly targets?: readonly Target[];
  readonly panels?: readonly Panel[];
}
interface Dashboard {
  readonly uid: string;
  readonly panels: readonly Panel[];
  readonly templating: { readonly list: readonly { readonly name: string; readonly definition?: string }[] };
}

/** Labels Prometheus adds to every scraped series. */
const TARGET_LABELS = ['instance', 'job'];

function auditEvent(type: AuditEventType, details: Record<string, unknown>): AuditEvent {
  return { eventId: 'e', type, occurredAt: '2025-01-01T00:00:00Z', requestId: 'r', actor: { type: 'system' }, organizationId: null, memberId: null, impersonatorId: null, client: null, details };
}

/** What a server exposes once each of its metrics has a series: the registry a server serves, fed one of everything. */
async function exposed(): Promise<Exposition> {
  const metrics = new Metrics({ version: '1.0.0', dialect: 'postgres', connections: () => ({ total: 2, idle: 1, waiting: 0 }) });
  metrics.recordRequest('sessions.authenticate', 200, 0.002);
  metrics.auditEventCommitted(auditEvent('member.signed_in', { method: 'password' }));
  metrics.auditEventCommitted(auditEvent('impersonation.token_minted', {}));
  metrics.rateLimited('searches');
  // The event-loop gauge is set just after a scrape: scrape twice.
  await metrics.render();
  return parseExposition(await metrics.render());
}

/** Every sample name a metric of the exposition answers to (a histogram's _bucket, _sum, _count), with its labels. */
function seriesNames(exposition: Exposition): Map<string, Set<string>> {
  const names = new Map<string, Set<string>>();
  for (const [name, type] of exposition.types) {
    const forms = type === 'histogram' ? [`${name}_bucket`, `${name}_sum`, `${name}_count`] : [name];
    for (const form of forms) names.set(form, new Set(TARGET_LABELS));
  }
  for (const sample of exposition.samples) for (const label of Object.keys(sample.labels)) names.get(sample.name)?.add(label);
  return names;
}

function panelsOf(panels: readonly Panel[]): Panel[] {
  return panels.flatMap((panel) => [panel, ...panelsOf(panel.panels ?? [])]);
}

/** Every PromQL expression of the dashboard: its panels' queries and its variables' definitions. */
function expressions(): { where: string; expr: string }[] {
  const fromPanels = panelsOf(DASHBOARD.panels).flatMap((panel) => (panel.targets ?? []).map((target) => ({ where: panel.title, expr: target.expr })));
  const fromVariables = DASHBOARD.templating.list.flatMap((variable) => (variable.definition === undefined ? [] : [{ where: `$${variable.name}`, expr: variable.definition }]));
  return [...fromPanels, ...fromVariables];
}

const METRIC_NAME = /\bunderstudy_[a-z0-9_]+\b/g;

describe('the Grafana dashboard', () => {
  it('queries only metrics the server exposes', async () => {
    const names = seriesNames(await exposed());
    const unknown = expressions().flatMap(({ where, expr }) => [...expr.matchAll(METRIC_NAME)].filter(([name]) => !names.has(name)).map(([name]) => `${where}: ${name}`));
    expect(unknown).toEqual([]);
  });

  it('selects and groups by labels those metrics have', async () => {
    const names = seriesNames(await exposed());
    const problems: string[] = [];
    for (const { where, expr } of expressions()) {
      const used = [...expr.matchAll(METRIC_NAME)].map(([name]) => name);
      // Selectors: understudy_x{label="…", label=~"…"}.
      for (const match of expr.matchAll(/\b(understudy_[a-z0-9_]+)\{([^}]*)\}/g)) {
        const labels = names.get(match[1] as string) ?? new Set<string>();
        for (const [, label] of (match[2] as string).matchAll(/([a-z_]+)\s*(?:=~|!~|!=|=)/g)) if (!labels.has(label as string)) problems.push(`${where}: ${match[1]} has no label ${label}`);
      }
      // Groupings: by (a, b) must name labels of the metrics the expression reads.
      const available = new Set(used.flatMap((name) => [...(names.get(name) ?? [])]));
      for (const match of expr.matchAll(/\bby \(([^)]*)\)/g)) {
        for (const label of (match[1] as string).split(',').map((part) => part.trim())) if (!available.has(label)) problems.push(`${where}: grouped by ${label}, which ${used.join(', ')} lack`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('shows every metric docs/monitoring.md says it shows', () => {
    const queried = new Set(expressions().flatMap(({ expr }) => [...expr.matchAll(METRIC_NAME)].map(([name]) => name)));
    const promised = [
      'understudy_http_requests_total',
      'understudy_http_request_duration_seconds_bucket',
      'understudy_sign_ins_total',
      'understudy_impersonations_total',
      'understudy_rate_limited_total',
      'understudy_nodejs_eventloop_lag_p99_seconds',
      'understudy_process_resident_memory_bytes',
      'understudy_db_pool_connections',
      'understudy_build_info',
      'understudy_db_dialect_info',
    ];
    expect(promised.filter((name) => !queried.has(name))).toEqual([]);
  });

  it('is a dashboard Grafana can import: unique panel ids, a data source variable, every query on it', () => {
    const panels = panelsOf(DASHBOARD.panels) as (Panel & { id: number; datasource?: { uid: string } })[];
    expect(new Set(panels.map((panel) => panel.id)).size).toBe(panels.length);
    expect(DASHBOARD.templating.list.map((variable) => variable.name)).toEqual(['datasource', 'instance']);
    for (const panel of panels.filter((candidate) => candidate.type !== 'row')) {
      // biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's variable syntax, not a template string.
      expect(panel.datasource?.uid, panel.title).toBe('${datasource}');
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
      for (const target of panel.targets ?? []) expect(target.expr, panel.title).toContain('instance=~"$instance"');
    }
  });
});
