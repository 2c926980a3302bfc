import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Migrator, sql, type Kysely } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS } from '../../../src/domain/organizations/organization.js';
import type { Database } from '../../../src/storage/database.js';
import { migrationProvider } from '../../../src/storage/migrations/index.js';
import { migrate, openStore, type StoreLocation } from '../../../src/storage/open-store.js';
import { openPostgres } from '../../../src/storage/postgres/postgres-database.js';
import { openSqlite } from '../../../src/storage/sqlite/sqlite-database.js';
import { createSqlStore } from '../../../src/storage/store.js';
import { anOrganization } from '../../support/builders/organization-builder.js';
import { POSTGRES_SKIP_REASON, POSTGRES_URL, STORES, createThrowawayPostgresDatabase, type StoreFactory } from '../../support/stores.js';
import { FIXTURE_0001_INITIAL } from './fixtures/0001-initial.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A location that survives closing the store: a SQLite file in a temporary folder, or a throwaway PostgreSQL database. */
async function freshLocation(dialect: StoreFactory['name']): Promise<StoreLocation> {
  if (dialect === 'postgres') {
    const { url, drop } = await createThrowawayPostgresDatabase();
    cleanups.push(drop);
    return { databaseUrl: url, sqliteFile: ':memory:' };
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'understudy-migrations-'));
  cleanups.push(async () => rmSync(dataDir, { recursive: true, force: true }));
  return { databaseUrl: undefined, sqliteFile: join(dataDir, 'understudy.db') };
}

/** A bare, unmigrated connection to `location`, closed after the test (before the database is dropped). */
function openBare(location: StoreLocation): Kysely<Database> {
  const db = location.databaseUrl === undefined ? openSqlite(location.sqliteFile) : openPostgres(location.databaseUrl);
  cleanups.push(() => db.destroy());
  return db;
}

async function appliedMigrations(db: Kysely<Database>): Promise<string[]> {
  const result = await sql<{ name: string }>`select name from understudy_migrations order by name`.execute(db);
  return result.rows.map((row) => row.name);
}

async function allMigrationNames(): Promise<string[]> {
  return Object.keys(await migrationProvider.getMigrations()).sort();
}

describe.each(STORES)('migrations on $name', (factory) => {
  it('applies every migration once; migrating again, or reopening the database, is a no-op that keeps the data', async () => {
    const location = await freshLocation(factory.name);
    const organization = anOrganization();
    const first = await openStore(location);
    await first.organizations.insertOrganization(organization);
    await first.close();

    const db = openBare(location);
    await migrate(db);
    await migrate(db);
    expect(await appliedMigrations(db)).toEqual(await allMigrationNames());

    const reopened = await openStore(location);
    cleanups.push(() => reopened.close());
    expect(await reopened.organizations.findOrganization(organization.organizationId)).toEqual(organization);
  });

  it('reads rows written by the 0001-initial schema back through the store after migrating to the latest schema', async () => {
    const db = openBare(await freshLocation(factory.name));
    // Kept in step with migrate() in src/storage/open-store.ts: same provider, same bookkeeping tables.
    const migrator = new Migrator({
      db,
      provider: migrationProvider,
      migrationTableName: 'understudy_migrations',
      migrationLockTableName: 'understudy_migrations_lock',
    });
    const { error } = await migrator.migrateTo('0001-initial');
    expect(error).toBeUndefined();
    for (const statement of FIXTURE_0001_INITIAL) await sql.raw(statement).execute(db);

    await migrate(db);
    const store = createSqlStore(db, factory.name);

    const organization = await store.organizations.findOrganization('fixture-org');
    expect(organization).toEqual({
      organizationId: 'organization-test-fixture-1',
      organizationName: 'Fixture Org',
      organizationSlug: 'fixture-org',
      organizationLogoUrl: 'https://fixture.example/logo.png',
      organizationExternalId: 'fixture-external',
      trustedMetadata: { tier: 'gold', seats: 5, beta: true, note: null },
      settings: {
        ...DEFAULT_SETTINGS,
        emailAllowedDomains: ['fixture.example'],
        emailJitProvisioning: 'RESTRICTED',
        emailInvites: 'NOT_ALLOWED',
        authMethods: 'RESTRICTED',
        allowedAuthMethods: ['magic_link'],
        rbacEmailImplicitRoleAssignments: [{ domain: 'fixture.example', roleId: 'stytch_admin' }],
      },
      createdAt: '2025-06-01T00:00:01Z',
      updatedAt: '2025-06-02T00:00:00Z',
    });
    const byDomain = await store.organizations.searchOrganizations(
      { operator: 'AND', filters: [{ name: 'allowed_domains', type: 'string[]', value: ['fixture.example'] }] },
      { limit: 10, after: null },
    );
    expect(byDomain.rows.map((row) => row.organizationId)).toEqual(['organization-test-fixture-1']);

    const live = await store.members.findMemberByEmail('organization-test-fixture-1', 'ada@fixture.example');
    expect(live).toMatchObject({
      memberId: 'member-test-fixture-live',
      emailAddressVerified: true,
      status: 'active',
      externalId: 'ada-external',
      isBreakglass: true,
      mfaPhoneNumber: '+12025550123',
      mfaPhoneNumberVerified: true,
      mfaEnrolled: true,
      defaultMfaMethod: 'sms_otp',
      assignedRoles: ['stytch_admin'],
      // Added by 0017: members from before it have signed in through no SSO connection.
      ssoGroups: {},
      trustedMetadata: { employee_id: 7 },
      untrustedMetadata: { theme: 'dark' },
      retiredEmailAddresses: [{ emailId: 'email-test-fixture-1', emailAddress: 'ada@old.example' }],
      isLocked: false,
      lockCreatedAt: null,
      lockExpiresAt: null,
    });
    expect(await store.members.findMember('organization-test-fixture-1', 'member-test-fixture-deleted')).toMatchObject({
      status: 'deleted',
      externalId: null,
      emailAddressVerified: false,
    });
    expect(await store.organizations.countMembers('organization-test-fixture-1')).toBe(1);
    expect(await store.audit.listEvents({ organizationId: 'organization-test-fixture-1', limit: 10 })).toEqual([
      {
        eventId: 'audit-event-test-fixture-1',
        type: 'member.created',
        occurredAt: '2025-06-01T00:00:02Z',
        requestId: 'request-id-test-fixture',
        actor: { type: 'project', projectId: 'project-test-00000000-0000-4000-8000-00000000f001' },
        organizationId: 'organization-test-fixture-1',
        memberId: 'member-test-fixture-live',
        // Columns added by 0003-impersonation read back as null for events written before it.
        impersonatorId: null,
        client: null,
        details: { status: 'active', roles: ['stytch_admin'] },
      },
    ]);
    expect((await store.projects.findProject())?.projectId).toBe('project-test-00000000-0000-4000-8000-00000000f001');
  });
});

// Skipped without a database to talk to: POSTGRES_SKIP_REASON (shown in the describe name).
describe.skipIf(!POSTGRES_URL)(POSTGRES_URL ? 'migrations under concurrent start on PostgreSQL' : `migrations on PostgreSQL (${POSTGRES_SKIP_REASON})`, () => {
  it('lets several servers start at once on a fresh database: every openStore succeeds and the schema exists once', async () => {
    const location = await freshLocation('postgres');
    const stores = await Promise.all(Array.from({ length: 5 }, () => openStore(location)));
    for (const store of stores) cleanups.push(() => store.close());
    const organization = anOrganization();
    await stores[0]?.organizations.insertOrganization(organization);
    for (const store of stores) expect(await store.organizations.findOrganization(organization.organizationId)).toEqual(organization);

    const db = openBare(location);
    expect(await appliedMigrations(db)).toEqual(await allMigrationNames());
    const tables = await sql<{ count: string | number }>`
      select count(*) as count from information_schema.tables where table_schema = 'public' and table_name = 'organizations'`.execute(db);
    expect(Number(tables.rows[0]?.count)).toBe(1);
  });
});
