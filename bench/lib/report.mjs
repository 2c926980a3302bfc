// The run's results: JSON for machines (bench/results/, not committed) and the table at the top of
// docs/performance.md, followed by the hand-written analysis kept in bench/performance-notes.md.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SCENARIO_TITLES, targetsFor } from './scenarios.mjs';

export function evaluate(rows) {
  const ceiling = rows.find((row) => row.scenario === 'ceiling');
  return rows.map((row) => {
    const targets = ceiling ? targetsFor(row, { ceiling, rows }) : [];
    return {
      ...row,
      ratio_to_ceiling: ceiling
        ? {
            requests_per_second: row.requests_per_second / ceiling.requests_per_second,
            latency_p50: safeRatio(row.latency_p50_ms, ceiling.latency_p50_ms),
            latency_p99: safeRatio(row.latency_p99_ms, ceiling.latency_p99_ms),
            peak_rss: row.peak_rss_mb === null || ceiling.peak_rss_mb === null ? null : row.peak_rss_mb / ceiling.peak_rss_mb,
          }
        : null,
      targets,
    };
  });
}

function safeRatio(value, base) {
  return base > 0 ? value / base : null;
}

export function writeJson(directory, result) {
  mkdirSync(directory, { recursive: true });
  const file = join(directory, `bench-${result.mode}-${result.finished_at.replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  return file;
}

export function renderTable(rows) {
  const header = ['Scenario', 'DB', 'req/s', '% of ceiling', 'p50 ms (× ceiling)', 'p99 ms (× ceiling)', 'peak RSS MB (× ceiling)', 'server CPU µs/req', 'Targets'];
  const alignment = header.map((_title, index) => (index < 2 || index === header.length - 1 ? ' --- ' : ' ---: '));
  const lines = [`| ${header.join(' | ')} |`, `|${alignment.join('|')}|`];
  for (const row of rows) {
    const ratio = row.ratio_to_ceiling;
    const isCeiling = row.scenario === 'ceiling';
    const times = (value) => (isCeiling || value === null || value === undefined ? '' : ` (${value.toFixed(1)}×)`);
    const targets = row.targets.length === 0 ? '–' : row.targets.map((check) => `${check.met ? 'met' : '**missed**'}: ${check.target}`).join('<br>');
    lines.push(
      `| ${SCENARIO_TITLES[row.scenario] ?? row.scenario}${row.exhausted ? ' ¹' : ''} | ${row.database} | ${Math.round(row.requests_per_second).toLocaleString('en-US')} | ${
        ratio ? `${(100 * ratio.requests_per_second).toFixed(1)}%` : ''
      } | ${row.latency_p50_ms.toFixed(2)}${times(ratio?.latency_p50)} | ${row.latency_p99_ms.toFixed(2)}${times(ratio?.latency_p99)} | ${
        row.peak_rss_mb === null ? 'n/a' : row.peak_rss_mb.toFixed(0)
      }${times(ratio?.peak_rss)} | ${row.server_cpu_us_per_request === null ? 'n/a' : row.server_cpu_us_per_request.toFixed(0)} | ${targets} |`,
    );
  }
  return lines.join('\n');
}

export function renderMarkdown(result, notesFile) {
  const { environment: env, settings } = result;
  const seeded = Object.entries(result.seeding)
    .map(([name, seed]) => `${name} (${Object.entries(seed.rows).map(([table, count]) => `${table.replaceAll('_', ' ')}: ${count.toLocaleString('en-US')}`).join(', ')}) seeded in ${(seed.total_ms / 1000).toFixed(1)} s`)
    .join('; ');
  const missed = result.rows.flatMap((row) => row.targets.filter((check) => !check.met).map((check) => `${SCENARIO_TITLES[row.scenario]} on ${row.database}: ${check.target}`));
  const notes = existsSync(notesFile) ? readFileSync(notesFile, 'utf8').trim() : '';
  return `# Performance

<!-- The part down to "Analysis" is written by \`npm run bench\` (bench/run.mjs); edit bench/performance-notes.md for the rest. -->

Measured by \`npm run bench\` on ${result.finished_at.slice(0, 10)} (${result.finished_at}), in ${(result.duration_seconds / 60).toFixed(1)} minutes.

## Results

${renderTable(result.rows)}

${result.rows.some((row) => row.exhausted) ? '¹ the pre-minted tokens ran out before the end of a round; the rate counts successful redemptions over the time they lasted.\n\n' : ''}Every figure is the median of ${settings.rounds} rounds of ${settings.durationSeconds} s, after ${settings.warmupSeconds} s of warm-up, with ${settings.connections} connections (split evenly between the processes in the scale-out row). "× ceiling" divides by the ceiling's figure: the ceiling is a bare \`node:http\` server in the same run that parses a small JSON POST, does one \`Map\` lookup and returns ~1 KB of JSON. Every response in every round was a 2xx (a run with any error fails).

${missed.length === 0 ? 'All performance targets were met.' : `Targets missed in this run: ${missed.join('; ')}. See the analysis below.`}

## Setup of this run

- Versions: Node ${env.node}, Understudy ${env.understudy_commit}, SQLite ${env.sqlite}${env.postgresql ? `, PostgreSQL ${env.postgresql}` : ' (PostgreSQL not benchmarked: set UNDERSTUDY_BENCH_DATABASE_URL or UNDERSTUDY_TEST_DATABASE_URL)'}; ${Object.entries(env.packages).map(([name, version]) => `${name} ${version}`).join(', ')}.
- Machine: ${env.machine.nproc} cores (${env.machine.cpu_model}), ${env.machine.memory_gb} GB RAM, Linux ${env.machine.kernel}.
- Processes: Understudy runs as \`node ${settings.runtime === 'build' ? 'bench/.build/cli/main.js' : '--import tsx src/cli/main.ts'} serve\` (compiled as by \`npm run build\`) with the default configuration (log level info, logs to a file), NODE_ENV=production. ${env.pinning ? `Server pinned to CPU ${env.pinning.server_cpu}, load generator (autocannon, its own process) to CPU ${env.pinning.load_cpu} with taskset; PostgreSQL runs unpinned and shares both cores.` : 'No CPU pinning (taskset missing or a single core).'}
- Peak RSS: the server process's \`VmHWM\`, reset through \`/proc/<pid>/clear_refs\` before each scenario's warm-up and read after its last round. Server CPU: user + system time of all its threads over the scenario, warm-up included, divided by the responses.
- Load average of the machine (1, 5, 15 min) when the run started: ${env.load_average_at_start?.join(', ') ?? 'n/a'}; when it ended: ${result.load_average_at_end?.join(', ') ?? 'n/a'}. Rounds disturbed by other work show as spread between the rounds in the JSON.
- Data: ${seeded}. The 1,000,000-session database is written directly through Kysely in multi-row INSERTs inside transactions (bench/lib/seed.mjs); every row has its own real token lookup id and SHA-256 digest, and the 1,000 presented tokens are spread evenly through the table. The nearly empty database holds ${result.shapes.small.sessions.toLocaleString('en-US')} sessions of ${result.shapes.small.members} members, all presented.
- Machine-readable results: \`${result.json_file}\` (not committed).

${notes}
`;
}
