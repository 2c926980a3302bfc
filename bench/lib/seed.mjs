#!/usr/bin/env node
// Seeds a benchmark database. Run under tsx (it imports Understudy's TypeScript sources):
//   node --import tsx bench/lib/seed.mjs <job.json>
// One organization, member, session and impersonation token of each kind are made through the real
// services and stores; every other row is a copy of those rows with fresh ids and its own real
// opaque token (lookup id + SHA-256 digest), written directly through Kysely in multi-row INSERTs,
// batches inside transactions. The tokens the benchmark presents are among the rows written, and
// are written, with the ids the load needs, to the fixtures file named in the job.
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { sql } from 'kysely';
import { createOneTimeCode, digestOneTimeCode } from '../../src/crypto/one-time-code.js';
import { createOpaqueToken } from '../../src/crypto/opaque-token.js';
import { systemClock, toTimestamp } from '../../src/platform/clock.js';
import { IdGenerator } from '../../src/platform/ids.js';
import { createServices } from '../../src/services.js';
import { migrate } from '../../src/storage/open-store.js';
import { openPostgres } from '../../src/storage/postgres/postgres-database.js';
import { openSqlite } from '../../src/storage/sqlite/sqlite-database.js';
import { createSqlStore } from '../../src/storage/store.js';

/** Bound parameters per statement: SQLite's default limit is 32,766, PostgreSQL's 65,535. */
const PARAMETER_LIMIT = { sqlite: 32_000, postgres: 65_000 };
/** Statements per transaction. */
const BATCHES_PER_TRANSACTION = 8;
const SESSION_MINUTES = 7 * 24 * 60;

const job = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const started = performance.now();
const timings = {};
const random = pooledRandom();
const ids = new IdGenerator(random, 'test');

const db = job.dialect === 'postgres' ? openPostgres(job.databaseUrl, { maxConnections: 2 }) : openSqlite(job.sqliteFile);
try {
  await migrate(db);
  if (job.dialect === 'sqlite') {
    // This connection only: a large page cache keeps the random-key index inserts in memory.
    await sql`PRAGMA cache_size = -1048576`.execute(db);
    await sql`PRAGMA synchronous = OFF`.execute(db);
    // No rollback journal while seeding a throwaway file (pages are written once, not to the WAL and again);
    // the server's WAL mode is restored before the file is handed over.
    await sql`PRAGMA journal_mode = OFF`.execute(db);
  }
  const store = createSqlStore(db, job.dialect);
  const services = createServices({ store, clock: systemClock, random, projectId: job.projectId, masterKey: Buffer.from(job.masterKey, 'base64') });
  const context = { requestId: 'request-id-bench-seed', actor: { type: 'project', projectId: job.projectId }, client: { ipAddress: '127.0.0.1', userAgent: 'understudy-bench' } };

  // Organizations through the service: few, and their settings documents are the real ones.
  const organizations = [];
  for (let index = 0; index < job.organizations; index += 1) {
    organizations.push(
      await services.organizations.create(context, {
        organizationName: `Bench Organization ${index}`,
        organizationSlug: `bench-organization-${index}`,
        trustedMetadata: { plan: 'enterprise', region: 'eu-west', seats: 250 },
      }),
    );
  }
  timings.organizations_ms = lap();

  // One member through the service, then copies of its row, spread over the organizations.
  const template = await services.members.create(context, organizations[0].organizationId, { emailAddress: 'member-0@bench.example.com', name: 'Bench Member 0' });
  const memberRow = await db.selectFrom('members').selectAll().where('member_id', '=', template.member.memberId).executeTakeFirstOrThrow();
  const members = [{ memberId: memberRow.member_id, organizationId: memberRow.organization_id }];
  for (let index = 1; index < job.members; index += 1) {
    members.push({ memberId: ids.next('member'), organizationId: organizations[index % organizations.length].organizationId });
  }
  await insertRows('members', memberRow, job.members - 1, (offset) => {
    const member = members[offset + 1];
    return { member_id: member.memberId, organization_id: member.organizationId, email_address: `member-${offset + 1}@bench.example.com`, name: `Bench Member ${offset + 1}` };
  });
  timings.members_ms = lap();

  // One session through the sign-in pipeline (a verifier that hands it the member and an email factor), then copies, each with its own real token.
  const now = systemClock.now();
  const at = toTimestamp(now);
  const firstOrganization = organizations[0];
  const emailFactor = { type: 'email', deliveryMethod: 'email', createdAt: at, lastAuthenticatedAt: at, updatedAt: at, detail: { name: 'email_factor', fields: { email_id: ids.next('email'), email_address: 'member-0@bench.example.com' } } };
  // The pipeline signs the session's JWT after it commits: a signing key must exist (the server would make one at start anyway).
  await services.keystore.ensureSigningKey();
  const firstSession = await services.signIn.signIn(
    context,
    { verify: async () => ({ member: template.member, organization: firstOrganization, factor: emailFactor, satisfiesMfa: true }) },
    { sessionDurationMinutes: SESSION_MINUTES },
  );
  if (!firstSession.memberAuthenticated) throw new Error('the seed session ended in an intermediate session');
  const sessionRow = await db.selectFrom('sessions').selectAll().where('member_session_id', '=', firstSession.session.memberSessionId).executeTakeFirstOrThrow();
  // The presented sessions are spread evenly through the table; the service's own session is one of them.
  const stride = Math.max(1, Math.floor(job.sessions / job.benchmarkSessions));
  const sessionTokens = [firstSession.sessionToken];
  await insertRows('sessions', sessionRow, job.sessions - 1, (offset) => {
    const index = offset + 1;
    const member = members[index % members.length];
    const token = createOpaqueToken(random);
    if (index % stride === 0 && sessionTokens.length < job.benchmarkSessions) sessionTokens.push(token.token);
    return {
      member_session_id: ids.next('session'),
      token_lookup_id: token.lookupId,
      token_digest: token.digest.toString('base64url'),
      member_id: member.memberId,
      organization_id: member.organizationId,
    };
  });
  timings.sessions_ms = lap();

  // Impersonation tokens: one through the store's own insert, then copies; each is redeemed once.
  const impersonationTokens = [];
  if (job.impersonationTokens > 0) {
    const first = createOpaqueToken(random);
    const tokenId = ids.next('impersonation-token');
    const expiresAt = toTimestamp(new Date(now.getTime() + 24 * 60 * 60_000));
    await store.transaction((tx) =>
      tx.impersonation.insertToken(
        {
          tokenId,
          organizationId: template.member.organizationId,
          memberId: template.member.memberId,
          impersonatorId: 'support-agent-7',
          impersonatorEmailAddress: 'agent@support.example.com',
          reason: 'Benchmark: reproduce ticket 4711',
          // A token is bound to the member's address at mint: redemption refuses it once the address changed.
          memberEmailAddress: 'member-0@bench.example.com',
          createdAt: at,
          expiresAt,
          redeemedAt: null,
          memberSessionId: null,
          revokedAt: null,
          // Minted by support with the project's credentials, under no access grant, unrestricted.
          grantId: null,
          kind: 'support',
          permissionMask: null,
        },
        { lookupId: first.lookupId, digest: first.digest },
      ),
    );
    impersonationTokens.push(first.token);
    const tokenRow = await db.selectFrom('impersonation_tokens').selectAll().where('token_id', '=', tokenId).executeTakeFirstOrThrow();
    const targets = members.slice(0, Math.min(members.length, 1000));
    await insertRows('impersonation_tokens', tokenRow, job.impersonationTokens - 1, (offset) => {
      const index = (offset + 1) % targets.length;
      const member = targets[index];
      const token = createOpaqueToken(random);
      impersonationTokens.push(token.token);
      return {
        token_id: ids.next('impersonation-token'),
        token_lookup_id: token.lookupId,
        token_digest: token.digest.toString('base64url'),
        member_id: member.memberId,
        organization_id: member.organizationId,
        member_email_address: `member-${index}@bench.example.com`,
      };
    });
  }
  timings.impersonation_tokens_ms = lap();

  // Magic links: one issued through the service, then copies with their own tokens, spread over the
  // first members (as links of several people arriving at once); each is redeemed once.
  const magicLinkTokens = [];
  const linkMembers = members.slice(0, Math.min(members.length, 1000));
  if ((job.magicLinks ?? 0) > 0) {
    // Returning members, as most sign-ins are: active with a verified address (a first sign-in also writes the member row).
    await db.updateTable('members').set({ email_address_verified: 1 }).where('member_id', 'in', linkMembers.map((member) => member.memberId)).execute();
    const issued = await store.transaction((tx) =>
      services.emailProofs.issueMagicLink(tx, {
        kind: 'magic_link',
        purpose: 'login',
        organizationId: template.member.organizationId,
        memberId: template.member.memberId,
        emailAddress: 'member-0@bench.example.com',
        minutes: 24 * 60,
        redirectUrl: 'http://localhost:3000/authenticate',
        pkceCodeChallenge: null,
      }),
    );
    const firstToken = new URL(issued.link).searchParams.get('token');
    magicLinkTokens.push(firstToken);
    const linkRow = await db.selectFrom('email_credentials').selectAll().where('lookup_id', '=', firstToken.slice(0, 12)).executeTakeFirstOrThrow();
    await insertRows('email_credentials', linkRow, job.magicLinks - 1, (offset) => {
      const index = (offset + 1) % linkMembers.length;
      const member = linkMembers[index];
      const token = createOpaqueToken(random);
      magicLinkTokens.push(token.token);
      return {
        credential_id: ids.next('email-credential'),
        lookup_id: token.lookupId,
        digest: token.digest.toString('base64url'),
        member_id: member.memberId,
        organization_id: member.organizationId,
        email_address: `member-${index}@bench.example.com`,
      };
    });
  }
  timings.magic_links_ms = lap();

  // One-time codes: a code is found by (organization, address), so each needs a member of its own:
  // members otp-<i>@bench.example.com, copies of the first member, each with one live code.
  const oneTimeCodes = [];
  if ((job.oneTimeCodes ?? 0) > 0) {
    const organizationId = firstOrganization.organizationId;
    const codeMembers = Array.from({ length: job.oneTimeCodes }, (_value, index) => ({ memberId: ids.next('member'), emailAddress: `otp-${index}@bench.example.com` }));
    // Returning members, as most sign-ins are: active with a verified address (a first sign-in also writes the member row).
    await insertRows('members', memberRow, codeMembers.length, (offset) => ({
      member_id: codeMembers[offset].memberId,
      organization_id: organizationId,
      email_address: codeMembers[offset].emailAddress,
      email_address_verified: 1,
      name: `Bench Code Member ${offset}`,
    }));
    const first = await store.transaction((tx) =>
      services.emailProofs.issueCode(tx, { kind: 'email_otp', purpose: 'login', organizationId, memberId: codeMembers[0].memberId, emailAddress: codeMembers[0].emailAddress, minutes: 24 * 60 }),
    );
    oneTimeCodes.push({ organization_id: organizationId, email_address: codeMembers[0].emailAddress, code: first.code });
    const codeRow = await db.selectFrom('email_credentials').selectAll().where('member_id', '=', codeMembers[0].memberId).executeTakeFirstOrThrow();
    await insertRows('email_credentials', codeRow, codeMembers.length - 1, (offset) => {
      const member = codeMembers[offset + 1];
      const credentialId = ids.next('email-credential');
      const code = createOneTimeCode(random);
      oneTimeCodes.push({ organization_id: organizationId, email_address: member.emailAddress, code });
      return { credential_id: credentialId, digest: digestOneTimeCode(credentialId, code).toString('base64url'), member_id: member.memberId, email_address: member.emailAddress };
    });
  }
  timings.one_time_codes_ms = lap();

  const passwordSignIns = await seedPasswords(store, firstOrganization.organizationId, memberRow, at);
  timings.passwords_ms = lap();

  // After a bulk load PostgreSQL's autovacuum would VACUUM and ANALYZE the new rows, and a checkpoint
  // would write them out, in the middle of the measurements; do all of it now instead (a first run
  // measured its ceiling 20% low while that went on). SQLite moves its WAL into the database file.
  if (job.dialect === 'postgres') {
    await sql`VACUUM (ANALYZE)`.execute(db);
    await sql`CHECKPOINT`.execute(db);
  } else {
    await sql`PRAGMA journal_mode = WAL`.execute(db);
    await sql`PRAGMA wal_checkpoint(TRUNCATE)`.execute(db);
  }
  timings.analyze_ms = lap();

  const fixtures = {
    organizationIds: organizations.map((organization) => organization.organizationId),
    members: members.slice(0, Math.min(members.length, 1000)),
    sessionTokens,
    impersonationTokens,
    magicLinkTokens,
    oneTimeCodes,
    passwordSignIns,
  };
  writeFileSync(job.output, JSON.stringify(fixtures));
  process.stdout.write(
    `${JSON.stringify({ rows: { organizations: organizations.length, members: job.members, sessions: job.sessions, impersonation_tokens: job.impersonationTokens, magic_links: job.magicLinks ?? 0, one_time_codes: job.oneTimeCodes ?? 0, member_passwords: passwordSignIns.length }, timings, total_ms: Math.round(performance.now() - started) })}\n`,
  );
} finally {
  await db.destroy();
}

/**
 * Members who sign in with a password: password-<i>@bench.example.com in the first organization,
 * active with a verified address, each with an argon2id hash made with exactly the server's
 * parameters (so no sign-in rehashes). The first member's password goes through the passwords
 * store (with member_password_id set by the members store, in one transaction); the others are
 * copies of that row. Hashing a thousand passwords would cost the seed half a minute of CPU, and a
 * verification costs the same whatever the password, so the members share a few dozen distinct
 * passwords, each hashed once with its own salt. Returns the request bodies the load sends:
 * {organization_id, email_address, password}. Empty when the job asks for none, or when this
 * version of Understudy has no passwords (no member_passwords table).
 */
async function seedPasswords(store, organizationId, memberRow, at) {
  const count = job.passwordMembers ?? 0;
  if (count === 0) return [];
  const tables = await db.introspection.getTables();
  if (!tables.some((table) => table.name === 'member_passwords')) return [];
  const { hash } = await import('@node-rs/argon2');
  const { memoryKib, iterations, parallelism } = job.argon2;
  const distinct = Math.min(count, 48);
  const secrets = [];
  for (let index = 0; index < distinct; index += 1) {
    const password = `bench-${randomBytes(9).toString('base64url')}-${index}`;
    secrets.push({ password, hash: await hash(password, { algorithm: 2, memoryCost: memoryKib, timeCost: iterations, parallelism }) });
  }
  const passwordMembers = Array.from({ length: count }, (_value, index) => ({
    memberId: ids.next('member'),
    memberPasswordId: ids.next('member-password'),
    emailAddress: `password-${index}@bench.example.com`,
    secret: secrets[index % distinct],
  }));
  await insertRows('members', memberRow, count, (offset) => ({
    member_id: passwordMembers[offset].memberId,
    organization_id: organizationId,
    email_address: passwordMembers[offset].emailAddress,
    email_address_verified: 1,
    name: `Bench Password Member ${offset}`,
    // The first member's is set by the members store below, with its password.
    member_password_id: offset === 0 ? '' : passwordMembers[offset].memberPasswordId,
  }));
  const first = passwordMembers[0];
  await store.transaction(async (tx) => {
    await tx.passwords.savePassword({
      memberPasswordId: first.memberPasswordId,
      memberId: first.memberId,
      organizationId,
      hashType: 'argon_2id',
      hash: first.secret.hash,
      config: null,
      createdAt: at,
      updatedAt: at,
    });
    await tx.members.setMemberPasswordId(organizationId, first.memberId, first.memberPasswordId, at);
  });
  const passwordRow = await db.selectFrom('member_passwords').selectAll().where('member_id', '=', first.memberId).executeTakeFirstOrThrow();
  await insertRows('member_passwords', passwordRow, count - 1, (offset) => {
    const member = passwordMembers[offset + 1];
    return { member_password_id: member.memberPasswordId, member_id: member.memberId, hash: member.secret.hash };
  });
  return passwordMembers.map((member) => ({ organization_id: organizationId, email_address: member.emailAddress, password: member.secret.password }));
}

/** Inserts `count` copies of `template`, each overridden by `vary(offset)`, in multi-row INSERTs inside transactions. */
async function insertRows(table, template, count, vary) {
  const columns = Object.keys(template).length;
  const perStatement = Math.max(1, Math.floor(PARAMETER_LIMIT[job.dialect] / columns));
  let offset = 0;
  while (offset < count) {
    await db.transaction().execute(async (trx) => {
      for (let statement = 0; statement < BATCHES_PER_TRANSACTION && offset < count; statement += 1) {
        const size = Math.min(perStatement, count - offset);
        const rows = new Array(size);
        for (let index = 0; index < size; index += 1) rows[index] = { ...template, ...vary(offset + index) };
        offset += size;
        await trx.insertInto(table).values(rows).execute();
      }
    });
  }
}

function lap() {
  const now = performance.now();
  const elapsed = Math.round(now - (lap.last ?? started));
  lap.last = now;
  return elapsed;
}

/** Cryptographic randomness drawn from a refilled pool: a million tokens without a million syscalls. */
function pooledRandom() {
  let pool = randomBytes(1 << 16);
  let position = 0;
  return {
    uuid: () => randomUUID(),
    bytes(length) {
      if (position + length > pool.length) {
        pool = randomBytes(Math.max(1 << 16, length));
        position = 0;
      }
      const out = Buffer.from(pool.subarray(position, position + length));
      position += length;
      return out;
    },
  };
}
