import { sql, type Kysely } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import type { Database } from '../../../src/storage/database.js';
import { createSqlStore } from '../../../src/storage/store.js';
import { STORES, type StoreFactory } from '../../support/stores.js';
import { FIXTURE_0001_INITIAL } from './fixtures/0001-initial.js';
import { bareDatabase, closeBareDatabases, columnsOf, migrateTo, snapshotTables } from './migration-support.js';

/**
 * Tokens as Understudy wrote them at schema 0005-rate-limits, on top of the 0001 fixture (member
 * ada@fixture.example): literal SQL, frozen. One names a member that exists, one a member that is
 * gone. Never derive these from current code.
 */
const TOKENS_0005: readonly string[] = [
  `insert into impersonation_tokens (token_id, token_lookup_id, token_digest, organization_id, member_id, impersonator_id,
     impersonator_email_address, reason, created_at, expires_at, redeemed_at, member_session_id)
   values ('impersonation-token-test-fixture-1', 'BBBBBBBBBBBB', '${'f'.repeat(43)}', 'organization-test-fixture-1', 'member-test-fixture-live',
     'support-1', 'sam@support.example', 'Ticket 1: fixture', '2025-07-01T00:00:00Z', '2025-07-01T00:05:00Z', null, null)`,
  `insert into impersonation_tokens (token_id, token_lookup_id, token_digest, organization_id, member_id, impersonator_id,
     impersonator_email_address, reason, created_at, expires_at, redeemed_at, member_session_id)
   values ('impersonation-token-test-fixture-2', 'CCCCCCCCCCCC', '${'e'.repeat(43)}', 'organization-test-fixture-1', 'member-test-gone',
     'sam@support.example', 'sam@support.example', 'Ticket 2: fixture', '2025-07-01T00:00:00Z', '2025-07-01T00:05:00Z', null, null)`,
];

afterEach(closeBareDatabases);

async function databaseAt0005(dialect: StoreFactory['name']): Promise<Kysely<Database>> {
  const db = await bareDatabase(dialect);
  await migrateTo(db, '0005-rate-limits');
  for (const statement of [...FIXTURE_0001_INITIAL, ...TOKENS_0005]) await sql.raw(statement).execute(db);
  return db;
}

describe.each(STORES)('migration 0006-impersonation-token-binding on $name', (factory) => {
  it("binds every existing token to its member's current address ('' when the member is gone, which never matches) and adds revoked_at", async () => {
    const db = await databaseAt0005(factory.name);
    const before = await snapshotTables(db, ['members', 'organizations', 'impersonated_sessions']);
    await migrateTo(db, '0006-impersonation-token-binding');
    expect(await snapshotTables(db, ['members', 'organizations', 'impersonated_sessions'])).toEqual(before);
    expect(await columnsOf(db, 'impersonation_tokens')).toMatchObject({ member_email_address: true, revoked_at: true });

    const rows = await sql<{ token_id: string; member_email_address: string; revoked_at: string | null }>`
      select token_id, member_email_address, revoked_at from impersonation_tokens order by token_id`.execute(db);
    expect(rows.rows).toEqual([
      { token_id: 'impersonation-token-test-fixture-1', member_email_address: 'ada@fixture.example', revoked_at: null },
      { token_id: 'impersonation-token-test-fixture-2', member_email_address: '', revoked_at: null },
    ]);
    const store = createSqlStore(db, factory.name);
    expect((await store.impersonation.findTokenByLookupId('BBBBBBBBBBBB'))?.token).toMatchObject({ memberEmailAddress: 'ada@fixture.example', revokedAt: null });
    // Still unexpired at this moment: revocation reaches tokens written before the step.
    expect((await store.impersonation.revokeUnredeemedTokens({ memberId: 'member-test-fixture-live' }, '2025-07-01T00:01:00Z')).map((token) => token.tokenId)).toEqual([
      'impersonation-token-test-fixture-1',
    ]);
    // The audit trail finds the ids recorded on tokens written before the step by their address.
    const event = { type: 'impersonation.token_minted', occurredAt: '2025-07-01T00:00:00Z', requestId: 'request-id-test-1', actor: { type: 'cli' }, organizationId: null, memberId: null, client: null, details: {} } as const;
    await store.audit.appendEvent({ ...event, eventId: 'audit-event-test-0006-1', impersonatorId: 'support-1' });
    await store.audit.appendEvent({ ...event, eventId: 'audit-event-test-0006-2', impersonatorId: 'support-2' });
    const found = await store.audit.searchEvents({ impersonator: { ids: [], emailAddresses: ['sam@support.example'] } }, { limit: 10, afterEventId: null });
    expect(found.map((found) => found.eventId)).toEqual(['audit-event-test-0006-1']);
  });
});
