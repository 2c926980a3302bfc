// The soak's page: a markdown summary written beside the run's JSON (bench/results/soak-<mode>-<time>.md),
// whose figures docs/reliability.md quotes.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SOAK_CALL_TITLES } from './soak.mjs';
import { FLAT_MEMORY } from './soak-memory.mjs';

export function writeSoakReport(directory, result) {
  mkdirSync(directory, { recursive: true });
  const file = join(directory, `soak-${result.mode}-${result.finished_at.replace(/[:.]/g, '-')}.md`);
  writeFileSync(file, renderSoak(result));
  return file;
}

export function renderSoak(result) {
  const { soak, environment, settings } = result;
  const seedRows = soak.seeding.rows;
  const lines = [
    `# Soak, ${result.finished_at.slice(0, 10)}: ${soak.passed ? 'passed' : 'FAILED'}`,
    '',
    `${soak.duration_seconds.toFixed(0)} s of mixed traffic against ${soak.processes} \`understudy serve\` processes (runtime \`${settings.runtime}\`, rate limits off) on one PostgreSQL ${environment.postgresql} database seeded with ${plural(seedRows.organizations, 'organization')}, ${plural(seedRows.members, 'member')} and ${plural(seedRows.sessions, 'session')}; ${soak.load_workers} load processes, ${soak.connections} connections in all, each request to the next server in turn. Machine: ${environment.machine.nproc} cores (${environment.machine.cpu_model}), Node ${environment.node}, Understudy ${environment.understudy_commit}.`,
    '',
    ...(soak.passed ? [] : ['Failures:', '', ...soak.failures.map((failure) => `- ${failure}`), '']),
    '| Call | Requests | Share | Expected answers/s | p50 ms | p99 ms | Errors |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const [kind, call] of Object.entries(soak.calls)) {
    lines.push(`| ${SOAK_CALL_TITLES[kind]} | ${number(call.requests)} | ${percent(call.requests / soak.requests)} | ${call.requests_per_second.toFixed(1)} | ${call.latency_p50_ms.toFixed(1)} | ${call.latency_p99_ms.toFixed(1)} | ${call.errors} |`);
  }
  lines.push(`| **all** | ${number(soak.requests)} | 100% | ${soak.requests_per_second.toFixed(1)} | ${soak.latency_p50_ms.toFixed(1)} | ${soak.latency_p99_ms.toFixed(1)} | ${soak.errors.total} |`);
  lines.push(
    '',
    `Errors: ${soak.errors.unexpected_status} unexpected statuses, ${soak.errors.invalid_body} incomplete bodies, ${soak.errors.socket} socket errors, ${soak.errors.timeout} timeouts (10 s). Revoked sessions re-presented and refused with 404 \`session_not_found\` (expected): ${number(soak.revoked_sessions_refused)}.`,
    '',
    '| Process | Answers | Errors | CPU s | RSS at start MB | RSS MB, first → last third | RSS growth | RSS slope MB/min | Peak RSS MB | Live heap MB, first → last third | Heap growth | Heap slope MB/min | Heap bytes/request | Full GCs | Memory |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
  );
  soak.servers.forEach((server, index) => {
    const memory = server.memory;
    lines.push(
      `| ${index + 1} | ${number(server.responses)} | ${server.errors} | ${server.cpu_seconds ?? '–'} | ${fixed(memory.rss_at_start_mb)} | ${fixed(memory.rss_early_median_mb)} → ${fixed(memory.rss_late_median_mb)} | ${signedPercent(memory.rss_growth_percent)} | ${fixed(memory.rss_slope_mb_per_minute)} | ${fixed(memory.rss_peak_mb)} | ${fixed(memory.heap_early_median_mb)} → ${fixed(memory.heap_late_median_mb)} | ${signedPercent(memory.heap_growth_percent)} | ${fixed(memory.heap_slope_mb_per_minute)} | ${memory.heap_bytes_per_request ?? '–'} | ${memory.full_collections} | ${memory.reason} |`,
    );
  });
  const warmup = soak.servers[0]?.memory.warmup_seconds ?? 0;
  lines.push(
    '',
    `Medians over the first and last third of what follows a warm-up of ${warmup.toFixed(0)} s. RSS (\`VmRSS\`) is read from \`/proc/<pid>/status\` every ${settings.soak.sampleSeconds} s; the live heap is what V8 kept after each full (mark-compact) collection, from the server's \`--trace-gc\` lines. Flat means: the live heap's least-squares slope divided by the process's request rate at most ${FLAT_MEMORY.maxHeapBytesPerRequest} bytes per request, and RSS at most ${FLAT_MEMORY.maxRssGrowthPercent}% higher in the last third than in the first; soaks shorter than ${FLAT_MEMORY.minimumSeconds} s are not judged.`,
    '',
    `Expected answers per ${settings.soak.timelineSeconds} s: ${soak.timeline.map((bucket) => number(bucket.responses)).join(' · ')}.`,
    '',
  );
  if (soak.error_examples.length > 0) lines.push('First errors:', '', ...soak.error_examples.map((error) => `- ${error.at_seconds} s, ${error.kind} on ${error.server}: ${error.type}: \`${error.detail.replace(/`/g, "'")}\``), '');
  return `${lines.join('\n')}\n`;
}

/** Two or three lines for the terminal. */
export function summarizeSoak(soak) {
  const memory = soak.servers.map(
    (server, index) =>
      `process ${index + 1}: ${number(server.responses)} answers, RSS ${fixed(server.memory.rss_early_median_mb)} → ${fixed(server.memory.rss_late_median_mb)} MB, live heap ${fixed(server.memory.heap_early_median_mb)} → ${fixed(server.memory.heap_late_median_mb)} MB (${fixed(server.memory.heap_slope_mb_per_minute)} MB/min, ${server.memory.heap_bytes_per_request ?? '–'} bytes/request): ${server.memory.reason}`,
  );
  return [
    `soak ${soak.passed ? 'passed' : 'FAILED'}: ${soak.duration_seconds.toFixed(0)} s, ${number(soak.requests)} requests, ${soak.requests_per_second.toFixed(0)} expected answers/s, p50 ${soak.latency_p50_ms.toFixed(1)} ms, p99 ${soak.latency_p99_ms.toFixed(1)} ms, ${soak.errors.total} errors`,
    ...memory,
    ...soak.failures.map((failure) => `failure: ${failure}`),
  ].join('\n');
}

function number(value) {
  return value.toLocaleString('en-US');
}

function plural(count, noun) {
  return `${number(count)} ${noun}${count === 1 ? '' : 's'}`;
}

function signedPercent(value) {
  return value === null || value === undefined ? '–' : `${value > 0 ? '+' : ''}${value.toFixed(1)}%`;
}

function percent(fraction) {
  return `${(fraction * 100).toFixed(1)}%`;
}

function fixed(value) {
  return value === null || value === undefined ? '–' : value.toFixed(1);
}
