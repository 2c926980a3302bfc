// The scenarios of a run, server by server: the ceiling, then per database the nearly empty
// database (token, JWT, members.get, JWKS, impersonation, magic links, codes), the password
// scenarios on that database (passwords.mjs), the 1,000,000-session database, and on PostgreSQL two
// processes sharing the load.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { seedDatabase } from './databases.mjs';
import { finished, freePort, PINNING, spawnPinned, stopProcess, waitForOutput } from './processes.mjs';
import { benchmarkPasswords, measureArgon2 } from './passwords.mjs';
import { runScenario } from './runner.mjs';
import { AUTHORIZATION, startUnderstudy } from './understudy.mjs';

/** Seeds every database at once (nothing is measured meanwhile), returning each one's row counts and timings. */
export async function seedAll(context, databases) {
  const { sourceRoot, settings, workDir, masterKey, log } = context;
  const jobs = [];
  for (const database of databases) {
    for (const size of ['small', 'large']) {
      const name = `${database.dialect}-${size}`;
      const small = size === 'small';
      const shape = {
        ...settings[size],
        impersonationTokens: small ? settings.impersonationTokens : 0,
        magicLinks: small ? settings.emailSignIns : 0,
        oneTimeCodes: small ? settings.emailSignIns : 0,
        passwordMembers: small ? settings.passwordMembers : 0,
        argon2: settings.argon2,
      };
      log(`seeding ${name}: ${shape.sessions.toLocaleString('en-US')} sessions, ${shape.members.toLocaleString('en-US')} members`);
      jobs.push(
        seedDatabase(sourceRoot, workDir, name, database[size].target, shape, masterKey, context.seedScript).then((seeded) => {
          database[size].fixtures = checkFixtures(JSON.parse(readFileSync(seeded.fixturesFile, 'utf8')), name, context.seedScript);
          log(`seeded ${name} in ${(seeded.total_ms / 1000).toFixed(1)} s`);
          return [name, seeded];
        }),
      );
    }
  }
  return Object.fromEntries(await Promise.all(jobs));
}

/** What the scenarios read from a seed's fixtures; a --source checkout's own seed must write them too. */
function checkFixtures(fixtures, name, seedScript) {
  const lists = { sessionTokens: 'string', impersonationTokens: 'string', members: 'object' };
  for (const [key, type] of Object.entries(lists)) {
    if (!Array.isArray(fixtures[key]) || fixtures[key].some((value) => typeof value !== type)) {
      throw new Error(`the fixtures of ${name}, written by ${seedScript}, have no list of ${type}s under "${key}"; this harness cannot load that seed's data`);
    }
  }
  // The sign-in lists are newer than some seeds a --source run may use: without them, those scenarios are skipped.
  for (const key of ['magicLinkTokens', 'oneTimeCodes', 'passwordSignIns']) {
    if (fixtures[key] !== undefined && !Array.isArray(fixtures[key])) throw new Error(`the fixtures of ${name}, written by ${seedScript}, have a "${key}" that is not a list`);
  }
  if (fixtures.members.some((member) => typeof member.memberId !== 'string' || typeof member.organizationId !== 'string')) {
    throw new Error(`the fixtures of ${name}, written by ${seedScript}, lack members' memberId and organizationId`);
  }
  return fixtures;
}

/** The machine's RS256 signing rate on the server's core (rs256-reference.mjs): the reference of the sign-in scenarios. */
export async function measureRs256(context) {
  const child = spawnPinned(process.execPath, [join(context.root, 'bench/lib/rs256-reference.mjs'), String(context.settings.rs256Seconds)], { cpu: PINNING?.server, cwd: context.root });
  const output = await finished(child, 'RS256 reference');
  return JSON.parse(output.trim().split('\n').at(-1));
}

export async function measureCeiling(context) {
  const { settings, workDir, log } = context;
  const port = await freePort();
  const child = spawnPinned(process.execPath, [join(context.root, 'bench/lib/ceiling-server.mjs'), String(port)], { cpu: PINNING?.server });
  try {
    await waitForOutput(child, 'ready', 'ceiling server');
    log('measuring the ceiling');
    return await runScenario({ scenario: 'ceiling', database: '–', servers: [{ url: `http://127.0.0.1:${port}`, pid: child.pid }], settings, workDir });
  } finally {
    await stopProcess(child);
  }
}

/**
 * The reference servers (reference-servers.mjs): no work, only Understudy's own sessions.authenticate
 * answer sent back, by a bare node:http server and by Fastify. They show what share of the ceiling
 * is left once the answer's size and serialization are paid for.
 */
export async function measureReferences(context, answerFile, tokens) {
  const rows = [];
  for (const kind of ['node-http', 'fastify']) {
    const scenario = `reference-${kind}`;
    if (!wanted(context, scenario)) continue;
    const port = await freePort();
    const child = spawnPinned(process.execPath, [join(context.root, 'bench/lib/reference-servers.mjs'), kind, String(port), answerFile], { cpu: PINNING?.server, cwd: context.root });
    try {
      await waitForOutput(child, 'ready', `${kind} reference server`);
      // One round: a reference for scale, and `npm run bench` must stay under ten minutes.
      rows.push(await measure(context, scenario, '–', [{ url: `http://127.0.0.1:${port}`, pid: child.pid }], tokens, { settings: { ...context.settings, rounds: 1 } }));
    } finally {
      await stopProcess(child);
    }
  }
  return rows;
}

export async function benchmarkDatabase(context, database) {
  const rows = [];
  const { dialect } = database;
  const small = database.small;
  // The mint scenario would otherwise meet the per-project mint limit (60 a minute) at once.
  const server = await start(context, small, { env: { UNDERSTUDY_RATE_LIMIT_MINTS_PER_MINUTE: '0' } });
  try {
    const fixtures = small.fixtures;
    const jwts = await sessionJwts(server.url, fixtures.sessionTokens);
    // One real answer, for the reference servers to send back (measureReferences).
    if (dialect === 'sqlite') database.referenceAnswerFile = await saveAnswer(server.url, fixtures.sessionTokens[0], join(context.workDir, 'reference-answer.json'));
    const paths = fixtures.members.map((member) => `${member.organizationId}/member?member_id=${member.memberId}`);
    const plan = [
      ['session-token', fixtures.sessionTokens],
      ['session-jwt', jwts],
      ['members-get', paths],
      ['jwks', undefined],
      // Last: every sign-in writes a session and audit events (and spends its token or code).
      ['impersonation', fixtures.impersonationTokens],
      ['impersonation-mint', mintBodies(fixtures.members)],
      ['magic-link', fixtures.magicLinkTokens],
      ['email-otp', fixtures.oneTimeCodes],
    ];
    for (const [scenario, values] of plan) {
      if (!wanted(context, scenario)) continue;
      if (['magic-link', 'email-otp'].includes(scenario) && (values === undefined || values.length === 0)) {
        context.log(`${dialect}: ${scenario} skipped: the seed wrote no magic links or codes`);
        continue;
      }
      rows.push(await measure(context, scenario, dialect, [server], values));
    }
  } finally {
    await server.stop();
  }
  // On the same database, with a server of its own (its settings differ: see passwords.mjs).
  if (context.argon2) rows.push(...(await benchmarkPasswords(context, database)));
  if (wanted(context, 'session-token-1m')) rows.push(await largeDatabase(context, database));
  if (dialect === 'postgres' && wanted(context, 'scale-out-2x')) rows.push(await scaleOut(context, database));
  return rows;
}

/** `--only a,b` runs just those scenarios (and the ceiling). */
function wanted(context, scenario) {
  return context.only === undefined || context.only.has(scenario);
}

async function largeDatabase(context, database) {
  const large = await start(context, database.large);
  try {
    return await measure(context, 'session-token-1m', database.dialect, [large], database.large.fixtures.sessionTokens);
  } finally {
    await large.stop();
  }
}

/** Two stateless processes on the same PostgreSQL database, each taking half the connections. */
async function scaleOut(context, database) {
  const servers = [];
  try {
    // Not pinned: with two server processes, the load and PostgreSQL on one machine, every core is shared.
    for (let index = 0; index < 2; index += 1) servers.push(await start(context, database.small, { cpu: null }));
    const row = await measure(context, 'session-token', 'postgres', servers, database.small.fixtures.sessionTokens, {
      pinLoad: false,
      label: 'scale-out-2x',
      settings: { ...context.settings, rounds: 1 },
    });
    return { ...row, scenario: 'scale-out-2x' };
  } finally {
    for (const server of servers) await server.stop();
  }
}

async function measure(context, scenario, database, servers, values, options = {}) {
  const label = options.label ?? scenario;
  context.log(`${database}: ${label}`);
  const row = await runScenario({ scenario, database, servers, values, settings: options.settings ?? context.settings, workDir: context.workDir, pinLoad: options.pinLoad, label });
  context.log(`${database}: ${label}: ${Math.round(row.requests_per_second)} req/s, p99 ${row.latency_p99_ms.toFixed(1)} ms, peak RSS ${row.peak_rss_mb?.toFixed(0)} MB, server CPU ${row.server_cpu_us_per_request?.toFixed(0)} µs/request`);
  return row;
}

/** One mint body per seeded member (the organization's audit chain takes every mint's event). */
function mintBodies(members) {
  return members.map((member) => ({
    organization_id: member.organizationId,
    member_id: member.memberId,
    impersonator_id: 'bench-support',
    impersonator_email_address: 'support@bench.example.com',
    reason: 'Benchmark: minting throughput',
  }));
}

function start(context, database, options = {}) {
  return startUnderstudy(context.sourceRoot, context.runtime, {
    dataDir: database.dataDir,
    databaseUrl: database.databaseUrl,
    masterKey: context.masterKey,
    cpu: options.cpu === null ? undefined : PINNING?.server,
    profileDir: options.profileDir,
    env: options.env,
  });
}

async function saveAnswer(url, token, file) {
  const response = await fetch(`${url}/v1/b2b/sessions/authenticate`, {
    method: 'POST',
    headers: { authorization: AUTHORIZATION, 'content-type': 'application/json' },
    body: JSON.stringify({ session_token: token }),
  });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`authenticating a seeded session failed: ${text}`);
  writeFileSync(file, text);
  return file;
}

/** A real session JWT for each token, from the server itself (sessions.authenticate with the token). */
async function sessionJwts(url, tokens) {
  const jwts = new Array(tokens.length);
  let next = 0;
  const worker = async () => {
    while (next < tokens.length) {
      const index = next;
      next += 1;
      const response = await fetch(`${url}/v1/b2b/sessions/authenticate`, {
        method: 'POST',
        headers: { authorization: AUTHORIZATION, 'content-type': 'application/json' },
        body: JSON.stringify({ session_token: tokens[index] }),
      });
      const body = await response.json();
      if (response.status !== 200) throw new Error(`authenticating a seeded session failed: ${JSON.stringify(body)}`);
      jwts[index] = body.session_jwt;
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  return jwts;
}

export { measureArgon2, sessionJwts as sessionJwtsFor, start as startServerFor };
