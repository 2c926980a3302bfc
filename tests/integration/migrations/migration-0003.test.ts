import { sql, type Kysely } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import type { Database } from '../../../src/storage/database.js';
import { createSqlStore } from '../../../src/storage/store.js';
import { STORES, type StoreFactory } from '../../support/stores.js';
import { FIXTURE_0001_INITIAL } from './fixtures/0001-initial.js';
import { bareDatabase, closeBareDatabases, columnsOf, migrateTo, migrateToLatest, snapshotTables } from './migration-support.js';

/**
 * Rows exactly as Understudy wrote them at schema 0002-sessions-and-signing-keys: literal SQL,
 * frozen (style rule 14). Never derive them from current code.
 */
const FIXTURE_0002: readonly string[] = [
  `insert into sessions (member_session_id, token_lookup_id, token_digest, member_id, organization_id, started_at,
     last_accessed_at, expires_at, revoked_at, authentication_factors, custom_claims, attributes, roles)
   values ('session-test-fixture-1', 'fixtureLook1', '${'A'.repeat(43)}', 'member-test-fixture-live', 'organization-test-fixture-1',
     '2025-07-01T00:00:00Z', '2025-07-01T00:05:00Z', '2099-07-01T01:00:00Z', null,
     '[{"type":"magic_link","deliveryMethod":"email","createdAt":"2025-07-01T00:00:00Z","lastAuthenticatedAt":"2025-07-01T00:00:00Z","updatedAt":"2025-07-01T00:00:00Z","detail":{"name":"email_factor","fields":{"email_id":"email-test-fixture-1","email_address":"ada@fixture.example"}}}]',
     '{"plan":"pro"}', '{"ipAddress":"203.0.113.7","userAgent":"fixture-agent/1.0"}', '["stytch_member","stytch_admin"]')`,
  `insert into signing_keys (kid, public_jwk, sealed_private_jwk, created_at, active_from, active_until, published_until)
   values ('jwk-test-fixture-1', '{"kty":"RSA"}', 'v1.a.b.c', '2025-07-01T00:00:00Z', '2025-07-01T00:00:00Z', null, null)`,
  `insert into audit_events (event_id, type, occurred_at, request_id, actor, organization_id, member_id, details)
   values ('audit-event-test-fixture-2', 'session.started', '2025-07-01T00:00:00Z', 'request-id-test-fixture-2',
     '{"type":"project","projectId":"project-test-00000000-0000-4000-8000-00000000f001"}',
     'organization-test-fixture-1', 'member-test-fixture-live', '{"member_session_id":"session-test-fixture-1","factor":"magic_link"}')`,
];

const TABLES_0002 = ['projects', 'organizations', 'organization_domains', 'members', 'audit_events', 'sessions', 'signing_keys'] as const;
const NEW_AUDIT_COLUMNS = { impersonator_id: null, client_ip: null, user_agent: null };

afterEach(closeBareDatabases);

/** A database of this dialect migrated to 0002 and holding the 0001 and 0002 fixtures; closed (and dropped) after the test. */
async function databaseAt0002(dialect: StoreFactory['name']): Promise<Kysely<Database>> {
  const db = await bareDatabase(dialect);
  await migrateTo(db, '0002-sessions-and-signing-keys');
  for (const statement of [...FIXTURE_0001_INITIAL, ...FIXTURE_0002]) await sql.raw(statement).execute(db);
  return db;
}

describe.each(STORES)('migration 0003-impersonation on $name', (factory) => {
  it('keeps every row written at 0002 and gives old audit events null impersonator_id, client_ip and user_agent', async () => {
    const db = await databaseAt0002(factory.name);
    const before = await snapshotTables(db, TABLES_0002);
    expect(before.sessions).toHaveLength(1);
    expect(before.audit_events).toHaveLength(2);

    await migrateTo(db, '0003-impersonation');
    const applied = await sql<{ name: string }>`select name from understudy_migrations order by name`.execute(db);
    expect(applied.rows.map((row) => row.name)).toEqual(['0001-initial', '0002-sessions-and-signing-keys', '0003-impersonation']);
    const after = await snapshotTables(db, TABLES_0002);
    expect(after).toEqual({ ...before, audit_events: before.audit_events?.map((row) => ({ ...row, ...NEW_AUDIT_COLUMNS })) });

    // The current stores read the old rows: the session with its member, and the events with no impersonator or client
    // (after the later migrations, as the current stores select the current columns).
    await migrateToLatest(db);
    const store = createSqlStore(db, factory.name);
    const found = await store.sessions.findSessionById('session-test-fixture-1');
    expect(found?.session).toMatchObject({ memberId: 'member-test-fixture-live', customClaims: { plan: 'pro' }, roles: ['stytch_member', 'stytch_admin'], revokedAt: null });
    expect(found?.member.emailAddress).toBe('ada@fixture.example');
    const events = await store.audit.searchEvents({ organizationId: 'organization-test-fixture-1' }, { limit: 10, afterEventId: null });
    expect(events.map((event) => [event.eventId, event.type, event.impersonatorId, event.client])).toEqual([
      ['audit-event-test-fixture-1', 'member.created', null, null],
      ['audit-event-test-fixture-2', 'session.started', null, null],
    ]);
    expect(await store.audit.searchEvents({ impersonator: { ids: ['anyone'], emailAddresses: [] } }, { limit: 10, afterEventId: null })).toEqual([]);
  });

  it('adds the impersonation tables, empty, with only the columns of an unfinished state nullable', async () => {
    const db = await databaseAt0002(factory.name);
    for (const table of ['impersonation_tokens', 'impersonated_sessions', 'impersonation_policies']) expect(await columnsOf(db, table)).toEqual({});
    await migrateTo(db, '0003-impersonation');

    // Column name -> nullable. (SQLite reports a TEXT PRIMARY KEY as nullable, a legacy quirk; the key still holds.)
    const required = (names: string[]) => Object.fromEntries(names.map((name) => [name, false]));
    const common = ['organization_id', 'member_id', 'impersonator_id', 'impersonator_email_address', 'reason'];
    expect(await columnsOf(db, 'impersonation_tokens')).toEqual({
      token_id: expect.any(Boolean),
      ...required(['token_lookup_id', 'token_digest', ...common, 'created_at', 'expires_at']),
      redeemed_at: true,
      member_session_id: true,
    });
    expect(await columnsOf(db, 'impersonated_sessions')).toEqual({
      member_session_id: expect.any(Boolean),
      ...required(['token_id', ...common, 'started_at', 'expires_at']),
      ended_at: true,
      end_reason: true,
    });
    expect(await columnsOf(db, 'impersonation_policies')).toEqual({ organization_id: expect.any(Boolean), enabled: false, redirect_url: true, updated_at: false });
    expect(await columnsOf(db, 'audit_events')).toMatchObject({ impersonator_id: true, client_ip: true, user_agent: true });

    // The current stores write the current columns, so they are used once every later step ran.
    await migrateToLatest(db);
    const store = createSqlStore(db, factory.name);
    expect(await store.impersonation.listActiveImpersonatedSessions({}, '2025-07-01T00:00:00Z')).toEqual([]);
    expect(await store.impersonation.findPolicy('organization-test-fixture-1')).toBeUndefined();
    const policy = {
      organizationId: 'organization-test-fixture-1',
      enabled: false,
      accessMode: 'off',
      delegated: 'members',
      notifyMember: false,
      notifyAdmins: false,
      chosenByOrganization: false,
      redirectUrl: null,
      updatedAt: '2025-07-02T00:00:00Z',
    };
    expect(await store.impersonation.updatePolicy(policy.organizationId, { enabled: false }, policy.updatedAt)).toEqual(policy);
    expect(await store.impersonation.findPolicy('organization-test-fixture-1')).toEqual(policy);
  });
});
