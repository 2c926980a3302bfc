import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { B2BClient } from 'stytch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { totpCode } from '../../../src/crypto/totp.js';
import { knownMigrationNames } from '../../../src/storage/schema-migrations.js';
import { createThrowawayPostgresDatabase, POSTGRES_URL } from '../../support/stores.js';
import { startWebhookReceiver, type WebhookReceiver } from '../../support/webhook-receiver.js';
import { killLeftoverProcesses, runCli, runCliToExit, temporaryDirectory } from '../cli/cli-process.js';
import { type BuiltRelease, buildRelease, findPreviousRelease, PREVIOUS_RELEASE, runRelease } from './previous-release.js';

/**
 * The upgrade path an operator takes: the previous release (built from git) serves a database and
 * the SDK fills it with one of everything that must survive; the current code then lists and
 * applies the migrations with `understudy migrate`, serves the same database (with
 * UNDERSTUDY_AUTO_MIGRATE=false, so nothing is left to migrate at start) and everything reads back
 * through the SDK: organizations, members, roles, the password, sessions by token and by JWT (the
 * signing keys sealed under the master key), the TOTP secret and recovery codes (sealed), an
 * impersonated session and a token minted before and redeemed after, the webhook endpoint's
 * signing secret (sealed), and an intact audit chain.
 *
 * When the previous release has the same migrations as this code, `migrate` has nothing to apply
 * and the test still proves that the data and the sealed secrets survive the change of code. It
 * compares against the release's own migration list, so it keeps working for later releases:
 * update PREVIOUS_RELEASE in previous-release.ts when a release is made.
 */
const previous = findPreviousRelease();
if ('unavailable' in previous) {
  process.stderr.write(`[understudy tests] upgrade test skipped: the previous release ${PREVIOUS_RELEASE.tag} is not available: ${previous.unavailable}\n`);
}

const PROJECT_ID = 'project-test-0a1b2c3d-4e5f-4a6b-8c7d-8e9f0a1b2c3d';
const PROJECT_SECRET = 'secret-test-upgrade-from-previous-release-0123';
const MASTER_KEY = Buffer.alloc(32, 42).toString('base64');
const PASSWORD = 'a sturdy old passphrase, 1815';
const AUDITOR_ROLE = { role_id: 'auditor', description: 'Finds colleagues', permissions: [{ resource_id: 'stytch.member', actions: ['search'] }] };

const DIALECTS = ['sqlite', ...(POSTGRES_URL ? (['postgres'] as const) : [])] as const;

describe.skipIf('unavailable' in previous)(`upgrading from ${PREVIOUS_RELEASE.tag}`, () => {
  let release: BuiltRelease;
  let releaseMigrations: string[];
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    // Built once for both databases.
    release = buildRelease((previous as { commit: string }).commit);
    process.stderr.write(`[understudy tests] built ${PREVIOUS_RELEASE.tag} in ${(release.buildMilliseconds / 1000).toFixed(1)} s\n`);
    const { migrationProvider } = (await import(pathToFileURL(join(release.directory, 'dist/storage/migrations/index.js')).href)) as {
      migrationProvider: { getMigrations(): Promise<Record<string, unknown>> };
    };
    releaseMigrations = Object.keys(await migrationProvider.getMigrations()).sort();
    receiver = await startWebhookReceiver();
  }, 120_000);
  afterAll(async () => {
    killLeftoverProcesses();
    await receiver?.close();
    release?.remove();
  });

  it.each(DIALECTS)('keeps every object on %s, readable through the SDK after `understudy migrate`', async (dialect) => {
    const scratch = temporaryDirectory('upgrade');
    const database = dialect === 'postgres' ? await createThrowawayPostgresDatabase() : undefined;
    try {
      const env: Record<string, string> = {
        UNDERSTUDY_DATA_DIR: scratch.path,
        UNDERSTUDY_PORT: '0',
        UNDERSTUDY_LOG_LEVEL: 'info',
        UNDERSTUDY_MASTER_KEY: MASTER_KEY,
        UNDERSTUDY_PROJECT_ID: PROJECT_ID,
        UNDERSTUDY_PROJECT_SECRET: PROJECT_SECRET,
        // The webhook receiver listens on loopback.
        UNDERSTUDY_WEBHOOK_ALLOW_PRIVATE_ADDRESSES: 'true',
        ...(database && { UNDERSTUDY_DATABASE_URL: database.url }),
      };

      // 1. The previous release, filled through the SDK.
      const old = runRelease(release.cli, ['serve'], env);
      let before: Awaited<ReturnType<typeof fillDatabase>>;
      try {
        before = await fillDatabase(await old.listening(), receiver);
      } finally {
        expect(await old.stop()).toEqual({ code: 0, signal: null });
      }

      // 2. The current code: what is pending is what this code has and the release had not.
      const expectedPending = (await knownMigrationNames()).filter((name) => !releaseMigrations.includes(name));
      const status = await runCliToExit(['migrate', '--status', '--json'], env);
      expect(status.code, status.stderr).toBe(0);
      expect(JSON.parse(status.stdout)).toMatchObject({ exists: true, pending: expectedPending, unknown: [] });
      const migrated = await runCliToExit(['migrate', '--json'], env);
      expect(migrated.code, migrated.stderr).toBe(0);
      expect(JSON.parse(migrated.stdout)).toMatchObject({ applied: expectedPending });

      // 3. Served by the current code, which must find nothing left to migrate.
      const current = runCli(['serve'], { ...env, UNDERSTUDY_AUTO_MIGRATE: 'false' });
      try {
        await readBack(await current.listening(), before, receiver);
        const verified = await runCliToExit(['audit', 'verify'], env);
        expect(verified.code, verified.stderr).toBe(0);
        expect(verified.stdout).toMatch(/^valid: \d+ chains?, \d+ records checked$/m);
      } finally {
        expect(await current.stop()).toEqual({ code: 0, signal: null });
      }
    } finally {
      await database?.drop();
      scratch.remove();
    }
  }, 90_000);
});

function clientAt(url: string): B2BClient {
  return new B2BClient({ project_id: PROJECT_ID, secret: PROJECT_SECRET, env: `${url}/` });
}

/** Our extension routes, which the SDK does not know, with the project's credentials. */
async function extension(url: string, method: 'GET' | 'POST', path: string, body?: unknown): Promise<Record<string, unknown>> {
  const response = await fetch(`${url}${path}`, {
    method,
    headers: { authorization: `Basic ${Buffer.from(`${PROJECT_ID}:${PROJECT_SECRET}`).toString('base64')}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  const parsed = (await response.json()) as Record<string, unknown>;
  expect(response.status, `${method} ${path}: ${JSON.stringify(parsed)}`).toBe(200);
  return parsed;
}

async function auditEventIds(url: string, organizationId: string): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | null = null;
  do {
    const query = new URLSearchParams({ organization_id: organizationId, ...(cursor !== null && { cursor }) });
    const page = await extension(url, 'GET', `/v1/b2b/impersonation/audit?${query}`);
    ids.push(...(page.events as { event_id: string }[]).map((event) => event.event_id));
    cursor = page.next_cursor as string | null;
  } while (cursor !== null);
  return ids;
}

/** One of everything that must survive an upgrade, made through the previous release's API; answers what to compare afterwards. */
async function fillDatabase(url: string, receiver: WebhookReceiver) {
  const client = clientAt(url);
  const { organization } = await client.organizations.create({
    organization_name: 'Upgrade Co',
    organization_slug: 'upgrade-co',
    email_allowed_domains: ['upgrade.example'],
    email_jit_provisioning: 'RESTRICTED',
    trusted_metadata: { tier: 'gold', seats: 25 },
  });
  const organizationId = organization.organization_id;
  await client.rbac.organizations.setOrgPolicy({ organization_id: organizationId, org_policy: { roles: [AUDITOR_ROLE] } });
  const admin = (
    await client.organizations.members.create({ organization_id: organizationId, email_address: 'admin@upgrade.example', name: 'Ann Admin', roles: ['stytch_admin'], trusted_metadata: { employee: 1 } })
  ).member;
  const ada = (
    await client.organizations.members.create({
      organization_id: organizationId,
      email_address: 'ada@upgrade.example',
      name: 'Ada',
      external_id: 'ada-external',
      roles: ['auditor'],
      untrusted_metadata: { theme: 'dark' },
    })
  ).member;
  const bob = (await client.organizations.members.create({ organization_id: organizationId, email_address: 'bob@upgrade.example', name: 'Bob', external_id: 'bob-external' })).member;

  // A password (bcrypt, as migrated from another system), a session from it, then an authenticator app enrolled in that session.
  await client.passwords.migrate({ organization_id: organizationId, email_address: 'ada@upgrade.example', hash: bcrypt.hashSync(PASSWORD, 4), hash_type: 'bcrypt' });
  const signedIn = await client.passwords.authenticate({ organization_id: organizationId, email_address: 'ada@upgrade.example', password: PASSWORD, session_duration_minutes: 120 });
  const ids = { organization_id: organizationId, member_id: ada.member_id };
  const totp = await client.totps.create({ ...ids, session_token: signedIn.session_token });
  const enrolled = await client.totps.authenticate({ ...ids, code: totpCode(totp.secret, new Date()), session_token: signedIn.session_token, set_mfa_enrollment: 'enroll' });

  // A webhook endpoint (its signing secret is sealed), then an impersonation redeemed now and a token left for later.
  const added = await extension(url, 'POST', '/v1/b2b/impersonation/webhooks/endpoints', { url: receiver.url, description: 'upgrade test' });
  const webhookSecret = added.secret as string;
  const mint = () =>
    extension(url, 'POST', '/v1/b2b/impersonation', {
      organization_id: organizationId,
      member_id: bob.member_id,
      impersonator_id: 'support-1',
      impersonator_email_address: 'sam@support.example',
      reason: 'Upgrade test: ticket 1',
    });
  const redeemedToken = await mint();
  const impersonated = await client.impersonation.authenticate({ impersonation_token: redeemedToken.impersonation_token as string });
  const laterToken = await mint();
  const [delivered] = await receiver.waitFor((request) => request.body.type === 'impersonation.token_minted' && (request.body.data.details as { token_id?: unknown }).token_id === redeemedToken.token_id);
  expect(receiver.verify(delivered as (typeof receiver.requests)[number], webhookSecret)).toMatchObject({ type: 'impersonation.token_minted' });

  return {
    organization: (await client.organizations.get({ organization_id: organizationId })).organization,
    members: await Promise.all([admin, ada, bob].map(async (member) => (await client.organizations.members.get({ organization_id: organizationId, member_id: member.member_id })).member)),
    ada,
    session: { token: enrolled.session_token, jwt: enrolled.session_jwt, id: enrolled.member_session?.member_session_id },
    totpSecret: totp.secret,
    recoveryCodes: totp.recovery_codes,
    impersonated: { token: impersonated.session_token, id: impersonated.member_session?.member_session_id },
    laterToken: laterToken.impersonation_token as string,
    webhookSecret,
    jwks: (await client.sessions.getJWKS({ project_id: PROJECT_ID })).keys,
    auditEventIds: await auditEventIds(url, organizationId),
  };
}

type Before = Awaited<ReturnType<typeof fillDatabase>>;

/** Everything made by the previous release, read through the current code. */
async function readBack(url: string, before: Before, receiver: WebhookReceiver): Promise<void> {
  const client = clientAt(url);
  const organizationId = before.organization.organization_id;
  // Fields a later version adds may appear; every field the previous release answered must be as it was.
  expect((await client.organizations.get({ organization_id: organizationId })).organization).toMatchObject(before.organization);
  for (const member of before.members) {
    expect((await client.organizations.members.get({ organization_id: organizationId, member_id: member.member_id })).member).toMatchObject(member);
  }
  expect((await client.rbac.organizations.getOrgPolicy({ organization_id: organizationId })).org_policy.roles).toEqual([AUDITOR_ROLE]);
  expect((await client.sessions.getJWKS({ project_id: PROJECT_ID })).keys).toEqual(before.jwks);

  // The session, by its token and by its JWT (signed with a key the previous release sealed).
  expect((await client.sessions.authenticate({ session_token: before.session.token })).member_session.member_session_id).toBe(before.session.id);
  expect((await client.sessions.authenticate({ session_jwt: before.session.jwt })).member_session.member_session_id).toBe(before.session.id);

  // The password, then the authenticator app's next code (the secret was sealed), and the recovery codes.
  const ids = { organization_id: organizationId, member_id: before.ada.member_id };
  const password = await client.passwords.authenticate({ organization_id: organizationId, email_address: 'ada@upgrade.example', password: PASSWORD });
  expect(password.member_authenticated).toBe(false);
  const second = await client.totps.authenticate({ ...ids, code: totpCode(before.totpSecret, new Date(Date.now() + 30_000)), intermediate_session_token: password.intermediate_session_token });
  expect(second.member_session?.authentication_factors.map((factor) => factor.type)).toEqual(['password', 'totp']);
  expect((await client.recoveryCodes.get(ids)).recovery_codes).toEqual(before.recoveryCodes);

  // Impersonation: the session redeemed before, and the token minted before and redeemed now.
  expect((await client.sessions.authenticate({ session_token: before.impersonated.token })).member_session.member_session_id).toBe(before.impersonated.id);
  const redeemedNow = await client.impersonation.authenticate({ impersonation_token: before.laterToken });
  expect(redeemedNow.member_id).toBe(before.members[2]?.member_id);
  // Its webhook, signed with the endpoint's secret from before the upgrade.
  const [delivered] = await receiver.waitFor((request) => request.body.type === 'impersonation.token_redeemed' && (request.body.data.details as { member_session_id?: unknown }).member_session_id === redeemedNow.member_session?.member_session_id);
  expect(receiver.verify(delivered as (typeof receiver.requests)[number], before.webhookSecret)).toMatchObject({ type: 'impersonation.token_redeemed' });

  const after = await auditEventIds(url, organizationId);
  expect(after.filter((id) => before.auditEventIds.includes(id)).sort()).toEqual([...before.auditEventIds].sort());
}
