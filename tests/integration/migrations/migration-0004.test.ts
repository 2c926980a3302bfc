import { sql, type Kysely } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { createOpaqueToken } from '../../../src/crypto/opaque-token.js';
import type { ConsoleSession, Operator } from '../../../src/domain/operators/operator.js';
import { cryptoRandom } from '../../../src/platform/random.js';
import type { Database } from '../../../src/storage/database.js';
import { OperatorsSqlStore } from '../../../src/storage/sql/operators-sql-store.js';
import { STORES, type StoreFactory } from '../../support/stores.js';
import { FIXTURE_0001_INITIAL } from './fixtures/0001-initial.js';
import { bareDatabase, closeBareDatabases, columnsOf, migrateTo, snapshotTables } from './migration-support.js';

/**
 * Rows as Understudy wrote them at schema 0003-impersonation, on top of the 0001 fixture: literal
 * SQL, frozen (style rule 14). Never derive these from current code.
 */
const ROWS_0002_AND_0003: readonly string[] = [
  `insert into sessions (member_session_id, token_lookup_id, token_digest, member_id, organization_id, started_at, last_accessed_at,
     expires_at, revoked_at, authentication_factors, custom_claims, attributes, roles)
   values ('member-session-test-fixture-1', 'AAAAAAAAAAAA', '${'e'.repeat(43)}', 'member-test-fixture-live', 'organization-test-fixture-1',
     '2025-07-01T00:00:00Z', '2025-07-01T00:10:00Z', '2025-07-01T01:00:00Z', null,
     '[{"type":"impersonated","deliveryMethod":"impersonation","createdAt":"2025-07-01T00:00:00Z","lastAuthenticatedAt":"2025-07-01T00:00:00Z","updatedAt":"2025-07-01T00:00:00Z","detail":{"name":"impersonated_factor","fields":{"impersonator_id":"support-1","impersonator_email_address":"sam@support.example"}}}]',
     '{}', '{"ipAddress":"203.0.113.9","userAgent":"fixture/1"}', '["stytch_member","stytch_admin"]')`,
  `insert into signing_keys (kid, public_jwk, sealed_private_jwk, created_at, active_from, active_until, published_until)
   values ('jwk-test-fixture', '{"kty":"RSA"}', 'v1.a.b.c', '2025-07-01T00:00:00Z', '2025-07-01T00:00:00Z', null, null)`,
  `insert into impersonation_tokens (token_id, token_lookup_id, token_digest, organization_id, member_id, impersonator_id,
     impersonator_email_address, reason, created_at, expires_at, redeemed_at, member_session_id)
   values ('impersonation-token-test-fixture-1', 'BBBBBBBBBBBB', '${'f'.repeat(43)}', 'organization-test-fixture-1', 'member-test-fixture-live',
     'support-1', 'sam@support.example', 'Ticket 1: fixture', '2025-07-01T00:00:00Z', '2025-07-01T00:05:00Z', '2025-07-01T00:00:30Z', 'member-session-test-fixture-1')`,
  `insert into impersonated_sessions (member_session_id, token_id, organization_id, member_id, impersonator_id, impersonator_email_address,
     reason, started_at, expires_at, ended_at, end_reason)
   values ('member-session-test-fixture-1', 'impersonation-token-test-fixture-1', 'organization-test-fixture-1', 'member-test-fixture-live',
     'support-1', 'sam@support.example', 'Ticket 1: fixture', '2025-07-01T00:00:30Z', '2025-07-01T01:00:30Z', '2025-07-01T00:20:00Z', 'revoked')`,
  `insert into impersonation_policies (organization_id, enabled, redirect_url, updated_at)
   values ('organization-test-fixture-1', 0, 'https://app.fixture.example/impersonate', '2025-07-01T00:00:00Z')`,
  `insert into audit_events (event_id, type, occurred_at, request_id, actor, organization_id, member_id, details, impersonator_id, client_ip, user_agent)
   values ('audit-event-test-fixture-2', 'impersonation.token_redeemed', '2025-07-01T00:00:30Z', 'request-id-test-fixture-2',
     '{"type":"project","projectId":"project-test-00000000-0000-4000-8000-00000000f001"}', 'organization-test-fixture-1',
     'member-test-fixture-live', '{"reason":"Ticket 1: fixture"}', 'support-1', '203.0.113.9', 'fixture/1')`,
];

const TABLES_0003 = [
  'projects',
  'organizations',
  'organization_domains',
  'members',
  'audit_events',
  'sessions',
  'signing_keys',
  'impersonation_tokens',
  'impersonated_sessions',
  'impersonation_policies',
] as const;

afterEach(closeBareDatabases);

/** A database at 0003 holding the fixture rows. */
async function databaseAt0003(dialect: StoreFactory['name']): Promise<Kysely<Database>> {
  const db = await bareDatabase(dialect);
  await migrateTo(db, '0003-impersonation');
  for (const statement of [...FIXTURE_0001_INITIAL, ...ROWS_0002_AND_0003]) await sql.raw(statement).execute(db);
  return db;
}

describe.each(STORES)('migration 0004-operators on $name', (factory) => {
  it('keeps every row written at 0003-impersonation unchanged and adds the operators and console_sessions tables', async () => {
    const db = await databaseAt0003(factory.name);
    const before = await snapshotTables(db, TABLES_0003);
    expect(Object.values(before).map((rows) => rows.length)).toEqual([1, 1, 1, 2, 2, 1, 1, 1, 1, 1]);
    expect(await columnsOf(db, 'operators')).toEqual({});

    await migrateTo(db, '0004-operators');
    const applied = await sql<{ name: string }>`select name from understudy_migrations order by name`.execute(db);
    expect(applied.rows.map((row) => row.name)).toEqual(['0001-initial', '0002-sessions-and-signing-keys', '0003-impersonation', '0004-operators']);
    expect(await snapshotTables(db, TABLES_0003)).toEqual(before);

    // Column name -> nullable. (SQLite reports a TEXT PRIMARY KEY as nullable, a legacy quirk of its own.)
    expect(await columnsOf(db, 'operators')).toEqual({
      operator_id: expect.any(Boolean),
      email_address: false,
      name: false,
      role: false,
      password_hash: false,
      sealed_totp_secret: true,
      last_totp_step: true,
      failed_attempts: false,
      locked_until: true,
      disabled_at: true,
      created_at: false,
      updated_at: false,
    });
    expect(await columnsOf(db, 'console_sessions')).toEqual({
      console_session_id: expect.any(Boolean),
      token_lookup_id: false,
      token_digest: false,
      operator_id: false,
      created_at: false,
      last_seen_at: false,
      expires_at: false,
      totp_verified_at: true,
      revoked_at: true,
    });
  });

  it('lets operators and console sessions be stored beside the 0003 data, with unique email addresses and lookup ids', async () => {
    const db = await databaseAt0003(factory.name);
    await migrateTo(db, '0004-operators');
    const operators = new OperatorsSqlStore(db, factory.name);
    const operator: Operator = {
      operatorId: 'operator-test-migration',
      emailAddress: 'sam@support.example',
      name: 'Sam',
      role: 'support',
      passwordHash: '$argon2id$fixture',
      sealedTotpSecret: 'v1.a.b.c',
      lastTotpStep: 58_000_000,
      failedAttempts: 0,
      lockedUntil: null,
      disabledAt: null,
      createdAt: '2026-01-01T00:00:00Z',
      updatedAt: '2026-01-01T00:00:00Z',
    };
    await operators.insertOperator(operator);
    expect(await operators.findOperatorByEmail('sam@support.example')).toEqual(operator);
    await expect(operators.insertOperator({ ...operator, operatorId: 'operator-test-other' })).rejects.toMatchObject({ field: 'email_address' });

    const token = createOpaqueToken(cryptoRandom);
    const session: ConsoleSession = {
      consoleSessionId: 'console-session-test-migration',
      operatorId: operator.operatorId,
      createdAt: '2026-01-01T00:00:00Z',
      lastSeenAt: '2026-01-01T00:00:00Z',
      expiresAt: '2026-01-01T08:00:00Z',
      totpVerifiedAt: null,
      revokedAt: null,
    };
    await operators.insertConsoleSession(session, { lookupId: token.lookupId, digest: token.digest });
    expect((await operators.findConsoleSession(token.lookupId))?.session).toEqual(session);
    await expect(operators.insertConsoleSession({ ...session, consoleSessionId: 'console-session-test-clash' }, { lookupId: token.lookupId, digest: token.digest })).rejects.toThrow();
  });
});
