#!/usr/bin/env node
// A small, real benchmark: Understudy's GET /v1/b2b/organizations/{id} against a bare node:http
// "ceiling" server in the same run, each loaded by autocannon in its own process with fixed
// settings. Prints req/s, p50 and p99 for both and writes JSON to bench/results/.
// The full benchmark (more endpoints, PostgreSQL, repeated runs) extends this later.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { createServer as createNetServer } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const AUTOCANNON = createRequire(import.meta.url).resolve('autocannon/autocannon.js');
const SETTINGS = Object.freeze({
  connections: 10,
  pipelining: 1,
  warmupSeconds: 1,
  durationSeconds: Number(process.env.BENCH_DURATION_SECONDS ?? 5),
});
const PROJECT_ID = 'project-test-00000000-0000-4000-8000-00000000be7c';
const SECRET = 'secret-test-benchmark-0123456789abcdef';
const AUTHORIZATION = `Basic ${Buffer.from(`${PROJECT_ID}:${SECRET}`).toString('base64')}`;

if (process.argv[2] === '--ceiling') runCeilingServer(Number(process.argv[3]));
else await main();

/** The ceiling: parse a small JSON POST, one Map lookup, answer with a ~1 KB JSON body. */
function runCeilingServer(port) {
  const organizations = new Map();
  const id = 'organization-test-00000000-0000-4000-8000-000000000001';
  organizations.set(id, {
    organization_id: id,
    organization_name: 'Benchmark Co',
    organization_slug: 'benchmark-co',
    trusted_metadata: { padding: 'x'.repeat(850) },
  });
  createServer((request, response) => {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk) => {
      body += chunk;
    });
    request.on('end', () => {
      const { organization_id: wanted } = JSON.parse(body || '{}');
      const organization = organizations.get(wanted);
      const payload = JSON.stringify({ request_id: 'request-id-ceiling', status_code: organization ? 200 : 404, organization });
      response.writeHead(organization ? 200 : 404, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) });
      response.end(payload);
    });
  }).listen(port, '127.0.0.1', () => process.send?.('ready'));
}

async function main() {
  const dataDir = mkdtempSync(join(tmpdir(), 'understudy-bench-'));
  const children = [];
  const stopAll = () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
  };
  process.on('exit', stopAll);
  try {
    const understudyPort = await freePort();
    const understudy = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'serve'], {
      cwd: ROOT,
      stdio: ['ignore', 'ignore', 'inherit'],
      env: {
        ...process.env,
        NODE_NO_WARNINGS: '1',
        UNDERSTUDY_DATA_DIR: dataDir,
        UNDERSTUDY_PORT: String(understudyPort),
        UNDERSTUDY_PROJECT_ID: PROJECT_ID,
        UNDERSTUDY_PROJECT_SECRET: SECRET,
        UNDERSTUDY_LOG_LEVEL: 'warn',
      },
    });
    children.push(understudy);
    const understudyUrl = `http://127.0.0.1:${understudyPort}`;
    await waitForHealth(understudyUrl, understudy);
    const organization = await createOrganization(understudyUrl);

    const ceilingPort = await freePort();
    const ceiling = spawn(process.execPath, [fileURLToPath(import.meta.url), '--ceiling', String(ceilingPort)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    children.push(ceiling);
    await new Promise((ready) => ceiling.once('message', ready));

    const targets = [
      {
        name: 'understudy GET /v1/b2b/organizations/{id}',
        args: ['-H', `authorization=${AUTHORIZATION}`, `${understudyUrl}/v1/b2b/organizations/${organization.organization_id}`],
      },
      {
        name: 'ceiling node:http POST (JSON parse + Map lookup)',
        args: ['-m', 'POST', '-H', 'content-type=application/json', '-b', JSON.stringify({ organization_id: 'organization-test-00000000-0000-4000-8000-000000000001' }), `http://127.0.0.1:${ceilingPort}/`],
      },
    ];
    const results = [];
    for (const target of targets) {
      await autocannon(target.args, SETTINGS.warmupSeconds);
      const run = await autocannon(target.args, SETTINGS.durationSeconds);
      if (run.non2xx > 0 || run.errors > 0 || run.timeouts > 0) {
        throw new Error(`${target.name}: ${run.non2xx} non-2xx responses, ${run.errors} errors, ${run.timeouts} timeouts`);
      }
      results.push({
        name: target.name,
        requests_per_second: run.requests.average,
        latency_p50_ms: run.latency.p50,
        latency_p99_ms: run.latency.p99,
        response_bytes_per_request: Math.round(run.throughput.total / Math.max(run.requests.total, 1)),
        requests_total: run.requests.total,
      });
    }
    report(results);
  } finally {
    stopAll();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function report(results) {
  const [understudy, ceiling] = results;
  const ratio = understudy.requests_per_second / ceiling.requests_per_second;
  const rows = results.map((row) => [row.name, row.requests_per_second.toFixed(0), row.latency_p50_ms.toFixed(2), row.latency_p99_ms.toFixed(2)]);
  const header = ['target', 'req/s', 'p50 ms', 'p99 ms'];
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column].length)));
  const line = (cells) => cells.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]) : cell.padStart(widths[column]))).join('  ');
  process.stdout.write(`\n${line(header)}\n${rows.map(line).join('\n')}\n\nunderstudy / ceiling throughput: ${(ratio * 100).toFixed(1)}%\n`);

  const finishedAt = new Date().toISOString();
  const output = {
    finished_at: finishedAt,
    node: process.version,
    cpus: cpus().length,
    settings: SETTINGS,
    results,
    understudy_to_ceiling_ratio: ratio,
  };
  const directory = join(ROOT, 'bench', 'results');
  mkdirSync(directory, { recursive: true });
  const file = join(directory, `organizations-get-${finishedAt.replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify(output, null, 2)}\n`);
  process.stdout.write(`results written to ${file}\n`);
}

/** Runs autocannon in its own process, so the load generator does not share a core's event loop with us. */
function autocannon(args, seconds) {
  const flags = ['-c', String(SETTINGS.connections), '-p', String(SETTINGS.pipelining), '-d', String(seconds), '-j'];
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, [AUTOCANNON, ...flags, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.on('exit', (code) => {
      if (code !== 0) reject(new Error(`autocannon exited with ${code}: ${stderr}`));
      else resolveRun(JSON.parse(stdout));
    });
  });
}

async function waitForHealth(url, child) {
  for (let attempt = 0; attempt < 200; attempt += 1) {
    if (child.exitCode !== null) throw new Error(`understudy exited with ${child.exitCode} during startup`);
    const healthy = await fetch(`${url}/healthz`).then(
      (response) => response.ok,
      () => false,
    );
    if (healthy) return;
    await new Promise((wake) => setTimeout(wake, 100));
  }
  throw new Error('understudy did not become healthy within 20 s');
}

async function createOrganization(url) {
  const response = await fetch(`${url}/v1/b2b/organizations`, {
    method: 'POST',
    headers: { authorization: AUTHORIZATION, 'content-type': 'application/json' },
    body: JSON.stringify({ organization_name: 'Benchmark Co', organization_slug: 'benchmark-co' }),
  });
  const body = await response.json();
  if (response.status !== 200) throw new Error(`creating the benchmark organization failed: ${JSON.stringify(body)}`);
  return body.organization;
}

function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = createNetServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolvePort(port));
    });
  });
}
