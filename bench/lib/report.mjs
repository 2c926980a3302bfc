// The run's results: JSON for machines (bench/results/, not committed) and the table at the top of
// docs/performance.md, followed by the hand-written analysis kept in bench/performance-notes.md.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PASSWORD_LOAD_GENERATOR } from './passwords.mjs';
import { SCENARIO_TITLES, SIGN_IN_SCENARIOS, targetsFor } from './scenarios.mjs';

/** The rows whose share of the Fastify reference is the figure tracked from run to run. */
const TRACKED = ['session-token', 'session-jwt'];

/**
 * `rs256`: the machine's RS256 signing rate measured in the same run (rs256-reference.mjs), or undefined;
 * `argon2`: its argon2id verification rate (argon2-reference.mjs), or undefined.
 */
export function evaluate(rows, rs256, argon2) {
  const ceiling = rows.find((row) => row.scenario === 'ceiling');
  const fastify = rows.find((row) => row.scenario === 'reference-fastify');
  return rows.map((row) => {
    const targets = ceiling ? targetsFor(row, { ceiling, rows, rs256, argon2 }) : [];
    const isUnderstudy = row.scenario !== 'ceiling' && !row.scenario.startsWith('reference-');
    return {
      ...row,
      // Understudy's rate against Fastify's in the same run sending the same answer with no work:
      // what is left to gain in Understudy's own code, whatever the machine.
      ratio_to_reference_fastify: fastify && isUnderstudy ? row.requests_per_second / fastify.requests_per_second : null,
      ratio_to_ceiling: ceiling
        ? {
            requests_per_second: row.requests_per_second / ceiling.requests_per_second,
            latency_p50: safeRatio(row.latency_p50_ms, ceiling.latency_p50_ms),
            latency_p99: safeRatio(row.latency_p99_ms, ceiling.latency_p99_ms),
            peak_rss: row.peak_rss_mb === null || ceiling.peak_rss_mb === null ? null : row.peak_rss_mb / ceiling.peak_rss_mb,
          }
        : null,
      ratio_to_rs256: rs256 && SIGN_IN_SCENARIOS.includes(row.scenario) ? row.requests_per_second / rs256.signatures_per_second : null,
      ratio_to_argon2: row.password && (row.argon2_reference ?? argon2) ? row.requests_per_second / (row.argon2_reference ?? argon2).verifications_per_second : null,
      targets,
    };
  });
}

/** The sign-in scenarios against the machine's RS256 signing rate: each sign-in signs one session JWT. */
export function renderSignIns(rows, rs256) {
  const signIns = rows.filter((row) => SIGN_IN_SCENARIOS.includes(row.scenario));
  if (signIns.length === 0) return 'No sign-in scenario in this run.';
  if (!rs256) return 'The RS256 reference was not measured in this run.';
  const lines = [
    `The machine signs **${Math.round(rs256.signatures_per_second).toLocaleString('en-US')} RS256 JWTs per second** on one core (jose, 2048-bit key, \`bench/lib/rs256-reference.mjs\`, ${rs256.seconds.toFixed(1)} s, pinned like the server). Every sign-in below signs one.`,
    '',
    '| Sign-in | DB | sign-ins/s | % of RS256 signing rate | p99 ms | server CPU µs/sign-in |',
    '| --- | --- | --- | --- | --- | --- |',
  ];
  for (const row of signIns) {
    lines.push(
      `| ${SCENARIO_TITLES[row.scenario]} | ${row.database === 'sqlite' ? 'SQLite' : 'PostgreSQL'} | ${Math.round(row.requests_per_second).toLocaleString('en-US')} | ${percent(row.ratio_to_rs256)} | ${row.latency_p99_ms.toFixed(1)} | ${row.server_cpu_us_per_request === null ? '' : Math.round(row.server_cpu_us_per_request).toLocaleString('en-US')} |`,
    );
  }
  return lines.join('\n');
}

/** The password scenarios against the machine's raw argon2id capacity: each sign-in verifies one hash. */
export function renderPasswords(result) {
  const rows = result.rows.filter((row) => row.password);
  const { argon2, settings } = result;
  if (rows.length === 0 || !argon2) return 'No password scenario in this run.';
  const number = (value, digits = 0) => value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
  const { memory_kib: memoryKib, iterations, parallelism } = argon2.parameters;
  const version = result.environment.packages['@node-rs/argon2'];
  const slots = argon2.concurrency;
  const lines = [
    `The machine verifies **${number(argon2.verifications_per_second, 1)} argon2id hashes per second** with the server's parameters (m = ${number(memoryKib)} KiB, t = ${iterations}, p = ${parallelism}; @node-rs/argon2${version ? ` ${version}` : ''}), ${slots} at a time: as many as the server's hashing pool has slots, by default the CPUs the server may run on (${slots} here${result.environment.pinning ? ', the server being pinned to one core' : ''}). Measured in a process of its own pinned like the server (\`bench/lib/argon2-reference.mjs\`, ${argon2.seconds.toFixed(1)} s) before any server ran${besides(rows, number)}. Every password sign-in verifies one hash.`,
    '',
    '| Scenario | DB | Load | sign-ins/s | % of argon2id capacity | p50 ms | p99 ms | 429 (Retry-After) | sessions.authenticate beside: req/s, p99 ms (alone) | peak RSS MB | server CPU µs/sign-in (event loop) |',
    '| --- | --- | --- | ---: | ---: | ---: | ---: | --- | --- | ---: | ---: |',
  ];
  for (const row of rows) {
    const load = row.password;
    const generator =
      load.mode === 'closed' ? `closed loop, ${load.connections} connections` : `${number(load.rate, 1)}/s on schedule${load.factor ? ` (${load.factor}× capacity, ${load.members} members)` : ''}`;
    const refused = load.too_many_requests_all + (load.user_locked_all ?? 0);
    const locked = load.user_locked_all ? `; **${number(load.user_locked_all)} of them \`user_lock_limit_reached\`: right passwords refused as locked**` : '';
    const retry =
      refused === 0
        ? '0'
        : `${number(refused)} (${load.retry_after_missing === 0 ? 'all with' : `**${number(load.retry_after_missing)} without**`} Retry-After${load.retry_after_seconds ? `, ${load.retry_after_seconds.min}–${load.retry_after_seconds.max} s` : ''}${locked})`;
    const sessions = row.sessions
      ? `${number(row.sessions.requests_per_second)}, ${row.sessions.starved ? '**a round with no answer**' : row.sessions.latency_p99_ms.toFixed(1)}${row.sessions.alone ? ` (${number(row.sessions.alone.requests_per_second)}, ${row.sessions.alone.latency_p99_ms.toFixed(1)})` : ''}`
      : '–';
    lines.push(
      `| ${SCENARIO_TITLES[row.scenario]} | ${row.database === 'sqlite' ? 'SQLite' : 'PostgreSQL'} | ${generator} | ${number(row.requests_per_second, 1)}${load.offered_per_second ? ` of ${number(load.offered_per_second, 1)} arriving` : ''} | ${percent(row.ratio_to_argon2)} | ${row.latency_p50_ms.toFixed(0)} | ${row.latency_p99_ms.toFixed(0)} | ${retry} | ${sessions} | ${row.peak_rss_mb === null ? 'n/a' : row.peak_rss_mb.toFixed(0)} | ${row.server_cpu_us_per_request === null ? '' : number(row.server_cpu_us_per_request)}${
        typeof load.event_loop_cpu_us_per_sign_in === 'number' ? ` (${number(load.event_loop_cpu_us_per_sign_in)})` : ''
      } |`,
    );
  }
  for (const row of rows.filter((candidate) => candidate.memory)) {
    const memory = row.memory;
    if (memory.baseline_peak_rss_mb === null || row.peak_rss_mb === null) continue;
    lines.push(
      '',
      `Memory under overload (${row.database === 'sqlite' ? 'SQLite' : 'PostgreSQL'}): peak ${row.peak_rss_mb.toFixed(0)} MB, against ${memory.baseline_peak_rss_mb.toFixed(0)} MB for the same server under the session load alone before any hashing, plus argon2's ${memory.argon2_memory_mb.toFixed(0)} MB × ${memory.hash_slots} slot${memory.hash_slots === 1 ? '' : 's'}: ≈ ${memory.expected_peak_rss_mb.toFixed(0)} MB expected (${memory.rss_before_mb?.toFixed(0) ?? 'n/a'} MB resident just before the overload).`,
    );
  }
  const overload = settings.passwordOverload;
  lines.push(
    '',
    `Sign-ins count only 200 answers that signed the member in (a session token, \`member_authenticated\`); latencies are those of the 200s, from the moment a request was sent (closed loop) or was due (on schedule, so a request that waited to leave is charged for it). Any answer other than a sign-in or the hashing pool's 429 \`too_many_requests\` fails the run, except in the overload, where a right password refused as locked (429 \`user_lock_limit_reached\`) is counted instead, and misses a target. Server CPU counts all the server's threads over the closed loop, warm-up included, per sign-in; "event loop" is its main thread alone, what a sign-in costs besides its hash (which runs on libuv's pool). Load: \`bench/lib/password-load.mjs\` (node:http, its own process, pinned to the load core), cycling through ${number(settings.passwordMembers)} seeded members with a password (the overload through the first ${overload.members ?? settings.passwordMembers}: a flood is the same people retrying, each many times the user lock's threshold, and none of them may end up locked); the closed loop and the scenario at half the capacity run ${settings.rounds} round${settings.rounds === 1 ? '' : 's'} of ${settings.durationSeconds} s after ${settings.warmupSeconds} s of warm-up (medians reported), the overload ${overload.durationSeconds} s after ${overload.warmupSeconds} s. sessions.authenticate beside them is the \`session-token\` load (wrk, ${settings.connections} connections); "alone" is the same server under that load alone for one round, before any password. The server runs with the default configuration except for the argon2id parameters, written out (the same values as the defaults; the seed hashed the passwords with them, so no sign-in rehashes), and the per-client limit on password attempts, set to its maximum (1,000,000 a minute): all the load comes from one address, and the default (600 a minute) would refuse most of it; the counter is still written on every attempt.`,
  );
  return lines.join('\n');
}

/** The references measured right before each database's password scenarios, which their rows are held to. */
function besides(rows, number) {
  const seen = new Map();
  for (const row of rows) if (row.argon2_reference && !seen.has(row.database)) seen.set(row.database, row.argon2_reference.verifications_per_second);
  if (seen.size === 0) return '';
  const list = [...seen].map(([database, rate]) => `${number(rate, 1)}/s before those on ${database === 'sqlite' ? 'SQLite' : 'PostgreSQL'}`).join(', ');
  return `, and again on the same core right before each database's password scenarios, with their server up and idle (${list}): "% of argon2id capacity" divides by the latter, the closer in time on a machine shared with other work`;
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
  const header = ['Scenario', 'DB', 'Load', 'req/s', '% of ceiling', '% of Fastify reference', 'p50 ms (× ceiling)', 'p99 ms (× ceiling)', 'peak RSS MB (× ceiling)', 'server CPU µs/req', 'Targets'];
  const alignment = header.map((_title, index) => (index < 3 || index === header.length - 1 ? ' --- ' : ' ---: '));
  const lines = [`| ${header.join(' | ')} |`, `|${alignment.join('|')}|`];
  for (const row of rows) {
    const ratio = row.ratio_to_ceiling;
    const isCeiling = row.scenario === 'ceiling';
    const times = (value) => (isCeiling || value === null || value === undefined ? '' : ` (${value.toFixed(1)}×)`);
    const targets = row.targets.length === 0 ? '–' : row.targets.map((check) => `${check.met ? 'met' : '**missed**'}: ${check.target}`).join('<br>');
    lines.push(
      `| ${SCENARIO_TITLES[row.scenario] ?? row.scenario}${row.exhausted ? ' ¹' : ''} | ${row.database} | ${row.load_generator ?? 'autocannon'} | ${Math.round(row.requests_per_second).toLocaleString('en-US')} | ${
        ratio ? `${(100 * ratio.requests_per_second).toFixed(1)}%` : ''
      } | ${percent(row.ratio_to_reference_fastify)} | ${row.latency_p50_ms.toFixed(2)}${times(ratio?.latency_p50)} | ${row.latency_p99_ms.toFixed(2)}${times(ratio?.latency_p99)} | ${
        row.peak_rss_mb === null ? 'n/a' : row.peak_rss_mb.toFixed(0)
      }${times(ratio?.peak_rss)} | ${row.server_cpu_us_per_request === null ? 'n/a' : row.server_cpu_us_per_request.toFixed(0)} | ${targets} |`,
    );
  }
  return lines.join('\n');
}

function percent(ratio) {
  return ratio === null || ratio === undefined ? '' : `${(100 * ratio).toFixed(1)}%`;
}

/** The tracked figure: token and JWT authentication as a share of the same run's Fastify reference. */
export function renderTracked(rows) {
  const fastify = rows.find((row) => row.scenario === 'reference-fastify');
  if (!fastify) return 'No Fastify reference in this run, so no share of it.';
  const lines = rows
    .filter((row) => TRACKED.includes(row.scenario) && row.ratio_to_reference_fastify !== null && row.ratio_to_reference_fastify !== undefined)
    .map((row) => `- ${SCENARIO_TITLES[row.scenario]} on ${row.database === 'sqlite' ? 'SQLite' : 'PostgreSQL'}: **${percent(row.ratio_to_reference_fastify)}** of the Fastify reference (${Math.round(row.requests_per_second).toLocaleString('en-US')} of ${Math.round(fastify.requests_per_second).toLocaleString('en-US')} req/s)`);
  return lines.length === 0 ? 'No session authentication scenario in this run.' : lines.join('\n');
}

/** Which generator loaded which scenarios, for the setup section. */
function describeLoad(result) {
  const { environment: env, settings } = result;
  const byGenerator = new Map();
  for (const row of result.rows) {
    const generator = row.load_generator ?? 'autocannon';
    byGenerator.set(generator, [...(byGenerator.get(generator) ?? []), row.scenario === 'ceiling' || row.scenario.startsWith('reference-') ? row.scenario : `${row.scenario} (${row.database})`]);
  }
  const name = (generator) => {
    if (generator === 'wrk') return `wrk ${env.wrk ?? ''} (${settings.wrkThreads ?? 1} thread, Lua script \`bench/lib/wrk-load.lua\`)`;
    if (generator === PASSWORD_LOAD_GENERATOR) return '`bench/lib/password-load.mjs` (node:http, closed loop or on schedule; see "Password sign-ins")';
    return `autocannon ${env.packages.autocannon} (in a Node process)`;
  };
  if (byGenerator.size === 1) return `${name([...byGenerator.keys()][0])} for every scenario`;
  return [...byGenerator].map(([generator, scenarios]) => `${name(generator)} for ${scenarios.join(', ')}`).join('; ');
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

The figure tracked from run to run, each rate against the same run's Fastify reference (Fastify
sending the same sessions.authenticate answer with no work, so the share is what Understudy's own
work costs):

${renderTracked(result.rows)}

### Sign-ins

${renderSignIns(result.rows, result.rs256)}

### Password sign-ins

${renderPasswords(result)}

${result.rows.some((row) => row.exhausted) ? '¹ the pre-minted tokens ran out before the end of a round; the rate counts successful redemptions over the time they lasted.\n\n' : ''}Every figure is the median of ${settings.rounds} round${settings.rounds === 1 ? '' : 's'} of ${settings.durationSeconds} s, after ${settings.warmupSeconds} s of warm-up, with ${settings.connections} connections (split evenly between the processes in the scale-out row). "× ceiling" divides by the ceiling's figure: the ceiling is a bare \`node:http\` server in the same run that parses a small JSON POST, does one \`Map\` lookup and returns ~1 KB of JSON. "% of Fastify reference" divides by the Fastify reference row of the same run (one round). "Load" names the load generator of the row. Every response in every round was a 2xx (a run with any error fails), except the hashing pool's 429s in the password scenarios, counted there${
    result.rows.some((row) => row.load_generator === 'wrk')
      ? '; with wrk, the warm-up counts every status and a measured round counts the answers above 399, which wrk counts itself (a Lua hook on every answer would cost wrk about a tenth of its CPU). Latency percentiles under wrk are its own, corrected for coordinated omission; under autocannon they come from each response\'s own timing, so compare latencies only between rows of the same generator'
      : ''
  }.

${missed.length === 0 ? 'All performance targets were met.' : `Targets missed in this run: ${missed.join('; ')}. See the analysis below.`}

## Setup of this run

- Versions: Node ${env.node}, Understudy ${env.understudy_commit}, SQLite ${env.sqlite}${env.postgresql ? `, PostgreSQL ${env.postgresql}` : ' (PostgreSQL not benchmarked: set UNDERSTUDY_BENCH_DATABASE_URL or UNDERSTUDY_TEST_DATABASE_URL)'}; ${Object.entries(env.packages).map(([name, version]) => `${name} ${version}`).join(', ')}.
- Machine: ${env.machine.nproc} cores (${env.machine.cpu_model}), ${env.machine.memory_gb} GB RAM, Linux ${env.machine.kernel}.
- Processes: Understudy runs as \`node ${settings.runtime === 'build' ? 'bench/.build/cli/main.js' : '--import tsx src/cli/main.ts'} serve\`${settings.runtime === 'build' ? ' (compiled as by `npm run build`)' : ''} with the default configuration (log level info, logs to a file), NODE_ENV=production. ${env.pinning ? `Server pinned to CPU ${env.pinning.server_cpu}, load generator (its own process) to CPU ${env.pinning.load_cpu} with taskset; PostgreSQL runs unpinned and shares both cores.` : 'No CPU pinning (taskset missing or a single core).'}
- Load: ${describeLoad(result)}, ${settings.connections} connections${
    result.rows.some((row) => row.load_generator === 'wrk')
      ? '. wrk replaces autocannon, which saturates its core (about 27,000 req/s on this kind of machine) before the reference servers do, and so under-measured them and overstated every share of them; the scenarios send the same requests under either'
      : ', which saturates its core (about 27,000 req/s on this kind of machine) before the reference servers do: the shares of the ceiling and of the references are overstated'
  }.${
    env.understudy_source ? `\n- Understudy measured: the checkout in \`${env.understudy_source}\` (commit ${env.understudy_commit}), with the harness of commit ${env.harness_commit} (\`--source\`).` : ''
  }
- Peak RSS: the server process's \`VmHWM\`, reset through \`/proc/<pid>/clear_refs\` before each scenario's warm-up and read after its last round. Server CPU: user + system time of all its threads over the scenario, warm-up included, divided by the responses.
- Load average of the machine (1, 5, 15 min) when the run started: ${env.load_average_at_start?.join(', ') ?? 'n/a'}; when it ended: ${result.load_average_at_end?.join(', ') ?? 'n/a'}. Rounds disturbed by other work show as spread between the rounds in the JSON.
- Data: ${seeded}. The 1,000,000-session database is written directly through Kysely in multi-row INSERTs inside transactions (bench/lib/seed.mjs); every row has its own real token lookup id and SHA-256 digest, and the 1,000 presented tokens are spread evenly through the table. The nearly empty database holds ${result.shapes.small.sessions.toLocaleString('en-US')} sessions of ${result.shapes.small.members} members, all presented.
- Machine-readable results: \`${result.json_file}\` (not committed).

${notes}
`;
}
