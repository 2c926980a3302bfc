import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { SessionsSqlStore } from '../../../src/storage/sql/sessions-sql-store.js';
import { SigningKeysSqlStore } from '../../../src/storage/sql/signing-keys-sql-store.js';
import { aSession, aSessionToken } from '../../support/builders/session-builder.js';
import { STORES } from '../../support/stores.js';
import { FIXTURE_0001_INITIAL } from './fixtures/0001-initial.js';
import { bareDatabase, closeBareDatabases, columnsOf, migrateTo, migrateToLatest, snapshotTables } from './migration-support.js';

const TABLES_0001 = ['projects', 'organizations', 'organization_domains', 'members', 'audit_events'] as const;

afterEach(closeBareDatabases);

describe.each(STORES)('migration 0002-sessions-and-signing-keys on $name', (factory) => {
  it('keeps every row written at 0001-initial unchanged and adds the sessions and signing_keys tables', async () => {
    const db = await bareDatabase(factory.name);
    await migrateTo(db, '0001-initial');
    for (const statement of FIXTURE_0001_INITIAL) await sql.raw(statement).execute(db);
    const before = await snapshotTables(db, TABLES_0001);
    expect(before.members).toHaveLength(2);
    expect(await columnsOf(db, 'sessions')).toEqual({});

    await migrateTo(db, '0002-sessions-and-signing-keys');
    const applied = await sql<{ name: string }>`select name from understudy_migrations order by name`.execute(db);
    expect(applied.rows.map((row) => row.name)).toEqual(['0001-initial', '0002-sessions-and-signing-keys']);
    expect(await snapshotTables(db, TABLES_0001)).toEqual(before);

    // Column name -> nullable: only revoked_at and the retirement times may be null. (SQLite reports a
    // TEXT PRIMARY KEY as nullable, a legacy quirk of its own; the key constraint still holds.)
    expect(await columnsOf(db, 'sessions')).toEqual({
      member_session_id: expect.any(Boolean),
      token_lookup_id: false,
      token_digest: false,
      member_id: false,
      organization_id: false,
      started_at: false,
      last_accessed_at: false,
      expires_at: false,
      revoked_at: true,
      authentication_factors: false,
      custom_claims: false,
      attributes: false,
      roles: false,
    });
    expect(await columnsOf(db, 'signing_keys')).toEqual({
      kid: expect.any(Boolean),
      public_jwk: false,
      sealed_private_jwk: false,
      created_at: false,
      active_from: false,
      active_until: true,
      published_until: true,
    });
  });

  it('lets a session of a member written at 0001 be stored and read back joined with that member and organization', async () => {
    const db = await bareDatabase(factory.name);
    await migrateTo(db, '0001-initial');
    for (const statement of FIXTURE_0001_INITIAL) await sql.raw(statement).execute(db);
    await migrateTo(db, '0002-sessions-and-signing-keys');
    // The current stores select the current columns (members gained sso_groups in 0017).
    await migrateToLatest(db);

    const sessions = new SessionsSqlStore(db, factory.name);
    const session = aSession({ organizationId: 'organization-test-fixture-1', memberId: 'member-test-fixture-live' });
    const token = aSessionToken();
    await sessions.insertSession(session, { lookupId: token.lookupId, digest: token.digest });
    const found = await sessions.findSessionByTokenLookupId(token.lookupId);
    expect(found?.session).toEqual(session);
    expect(found?.member).toMatchObject({ memberId: 'member-test-fixture-live', emailAddress: 'ada@fixture.example', assignedRoles: ['stytch_admin'] });
    expect(found?.organization).toMatchObject({ organizationId: 'organization-test-fixture-1', organizationSlug: 'fixture-org' });
    // The lookup id is unique: a second session cannot take it.
    const clash = aSession({ organizationId: 'organization-test-fixture-1', memberId: 'member-test-fixture-live' });
    await expect(sessions.insertSession(clash, { lookupId: token.lookupId, digest: aSessionToken().digest })).rejects.toThrow();

    const keys = new SigningKeysSqlStore(db, factory.name);
    expect(await keys.listSigningKeys()).toEqual([]);
    const key = {
      kid: 'jwk-test-migration',
      publicJwk: '{}',
      sealedPrivateJwk: 'v1.a.b.c',
      createdAt: '2026-01-01T00:00:00Z',
      activeFrom: '2026-01-01T00:00:00Z',
      activeUntil: null,
      publishedUntil: null,
    };
    await keys.insertSigningKey(key);
    expect(await keys.listSigningKeys()).toEqual([key]);
  });
});
