// `npm run bench -- --profile`: where a server's time goes. Each hot scenario runs against its own
// server process started with `node --cpu-prof` (SQLite, the nearly empty database); the profile is
// written when the server stops, and its top self-time functions are printed and saved beside the
// raw profile in the results directory.
import { copyFileSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PINNING } from './processes.mjs';
import { summariseProfile } from './profile.mjs';
import { runScenario } from './runner.mjs';
import { passwordRun, passwordServerEnv, saturatedSignIns, signInOnce } from './passwords.mjs';
import { measureArgon2, seedAll, sessionJwtsFor, startServerFor } from './suite.mjs';

const PROFILED = ['session-token', 'session-jwt', 'members-get', 'jwks', 'impersonation', 'impersonation-mint', 'magic-link', 'email-otp', 'password-sign-in'];

export async function runProfiles(context, resultsDir) {
  const { settings, workDir, log } = context;
  const database = { dialect: 'sqlite', small: { target: { dialect: 'sqlite', sqliteFile: join(workDir, 'sqlite-small', 'understudy.db') }, dataDir: join(workDir, 'sqlite-small') } };
  database.large = { target: { dialect: 'sqlite', sqliteFile: join(workDir, 'sqlite-unused', 'understudy.db') }, dataDir: join(workDir, 'sqlite-unused') };
  await seedAll({ ...context, settings: { ...settings, large: { organizations: 1, members: 1, sessions: 1, benchmarkSessions: 1 } } }, [database]);
  const fixtures = database.small.fixtures;
  mkdirSync(resultsDir, { recursive: true });
  const profiled = PROFILED.filter((name) => context.only === undefined || context.only.has(name));
  // Password sign-ins: against the same run's argon2id capacity, as in the table.
  const argon2 = profiled.includes('password-sign-in') && (fixtures.passwordSignIns ?? []).length > 0 ? await measureArgon2(context) : undefined;
  for (const scenario of profiled) {
    if (scenario === 'password-sign-in' && argon2 === undefined) continue;
    const profileDir = join(workDir, `profile-${scenario}`);
    const isPassword = scenario === 'password-sign-in';
    const server = await startServerFor(context, database.small, { profileDir, env: isPassword ? passwordServerEnv(settings) : undefined });
    let row;
    try {
      log(`profiling ${scenario}`);
      if (isPassword) {
        // Only the main thread is profiled: the hashes run on libuv's threads, so this is what a
        // sign-in costs besides its hash (and "busy" excludes the time the main thread waited for one).
        const run = passwordRun(context, 'sqlite', server, argon2, fixtures);
        await signInOnce(run);
        row = await saturatedSignIns({ ...run, context: { ...context, settings: { ...settings, rounds: 1 } } });
      } else {
        const values = await valuesFor(scenario, fixtures, server.url);
        row = await runScenario({ scenario, database: 'sqlite', servers: [server], values, settings: { ...settings, rounds: 1 }, workDir, label: `profile-${scenario}` });
      }
    } finally {
      await server.stop();
    }
    const file = readdirSync(profileDir).find((name) => name.endsWith('.cpuprofile'));
    // The raw profile too, for Chrome DevTools or speedscope.
    copyFileSync(join(profileDir, file), join(resultsDir, `profile-${scenario}.cpuprofile`));
    const summary = summariseProfile(join(profileDir, file), 25, context.root);
    const output = { scenario, requests_per_second: row.requests_per_second, pinning: PINNING ?? null, ...summary };
    writeFileSync(join(resultsDir, `profile-${scenario}.json`), `${JSON.stringify(output, null, 2)}\n`);
    process.stdout.write(`\n${scenario}: ${isPassword ? row.requests_per_second.toFixed(1) : Math.round(row.requests_per_second)} req/s under --cpu-prof; busy ${summary.busy_ms} ms\n`);
    for (const entry of summary.top) process.stdout.write(`${entry.self_percent.toFixed(1).padStart(5)}%  ${entry.function}  ${entry.location}\n`);
  }
}

async function valuesFor(scenario, fixtures, url) {
  switch (scenario) {
    case 'session-token':
      return fixtures.sessionTokens;
    case 'session-jwt':
      return sessionJwtsFor(url, fixtures.sessionTokens);
    case 'jwks':
      return undefined;
    case 'members-get':
      return fixtures.members.map((member) => `${member.organizationId}/member?member_id=${member.memberId}`);
    case 'magic-link':
      return fixtures.magicLinkTokens;
    case 'email-otp':
      return fixtures.oneTimeCodes;
    default:
      return fixtures.impersonationTokens;
  }
}
