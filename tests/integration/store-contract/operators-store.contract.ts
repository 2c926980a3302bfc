import { createHash, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createOpaqueToken, type OpaqueToken } from '../../../src/crypto/opaque-token.js';
import type { ConsoleSession, Operator } from '../../../src/domain/operators/operator.js';
import { cryptoRandom } from '../../../src/platform/random.js';
import type { StoreFactory } from '../../support/stores.js';
import { openWithRawAccess, uniqueViolationField, useFreshStore } from './contract-support.js';

/** Minutes after a fixed instant, as stored timestamps. */
function at(minutes: number): string {
  return new Date(Date.UTC(2026, 2, 1) + minutes * 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

let sequence = 0;

/** A valid operator as the domain stores it; each call gets a fresh id and email, created a minute after the previous one. */
export function anOperator(overrides: Partial<Operator> = {}): Operator {
  sequence += 1;
  return {
    operatorId: `operator-test-${randomUUID()}`,
    emailAddress: `operator-${sequence}-${randomUUID().slice(0, 8)}@operators.example`,
    name: `Operator ${sequence}`,
    role: 'support',
    passwordHash: '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo',
    sealedTotpSecret: 'v1.nonce.ciphertext.tag',
    lastTotpStep: null,
    failedAttempts: 0,
    lockedUntil: null,
    disabledAt: null,
    createdAt: at(sequence),
    updatedAt: at(sequence),
    ...overrides,
  };
}

/** A live console session of `operatorId`: started at minute 0, ending 8 hours later. */
function aConsoleSession(operatorId: string, overrides: Partial<ConsoleSession> = {}): ConsoleSession {
  return {
    consoleSessionId: `console-session-test-${randomUUID()}`,
    operatorId,
    createdAt: at(0),
    lastSeenAt: at(0),
    expiresAt: at(480),
    totpVerifiedAt: null,
    revokedAt: null,
    ...overrides,
  };
}

/** The OperatorsStore port (src/domain/operators/operators-store.ts) against one adapter. */
export function describeOperatorsStoreContract(factory: StoreFactory): void {
  describe('OperatorsStore', () => {
    const store = useFreshStore(factory);

    async function insertSession(operatorId: string, overrides: Partial<ConsoleSession> = {}): Promise<{ session: ConsoleSession; token: OpaqueToken }> {
      const session = aConsoleSession(operatorId, overrides);
      const token = createOpaqueToken(cryptoRandom);
      await store().operators.insertConsoleSession(session, { lookupId: token.lookupId, digest: token.digest });
      return { session, token };
    }

    describe('operators', () => {
      it('insertOperator round-trips every field, read by id and by email (large TOTP steps and nulls included)', async () => {
        const full = anOperator({ role: 'admin', lastTotpStep: 59_000_123, failedAttempts: 3, lockedUntil: at(90), disabledAt: at(91), name: 'Ünïcode “Ops” <b>' });
        const bare = anOperator({ role: 'viewer', sealedTotpSecret: null });
        for (const operator of [full, bare]) await store().operators.insertOperator(operator);
        for (const operator of [full, bare]) {
          expect(await store().operators.findOperatorById(operator.operatorId)).toEqual(operator);
          expect(await store().operators.findOperatorByEmail(operator.emailAddress)).toEqual(operator);
        }
      });

      it('insertOperator throws UniqueConstraintError(email_address) for a taken address and keeps the first operator', async () => {
        const first = anOperator();
        await store().operators.insertOperator(first);
        expect(await uniqueViolationField(store().operators.insertOperator(anOperator({ emailAddress: first.emailAddress })))).toBe('email_address');
        expect(await store().operators.listOperators()).toEqual([first]);
      });

      it('findOperatorById and findOperatorByEmail return undefined when nothing matches (email lookups are exact)', async () => {
        const operator = anOperator();
        await store().operators.insertOperator(operator);
        expect(await store().operators.findOperatorById(`operator-test-${randomUUID()}`)).toBeUndefined();
        expect(await store().operators.findOperatorByEmail('nobody@operators.example')).toBeUndefined();
        expect(await store().operators.findOperatorByEmail(operator.emailAddress.toUpperCase())).toBeUndefined();
      });

      it('updateOperator replaces every stored field of that operator only, and is a no-op for an unknown id', async () => {
        const operator = anOperator();
        const other = anOperator();
        for (const each of [operator, other]) await store().operators.insertOperator(each);
        const changed: Operator = {
          ...operator,
          emailAddress: 'renamed@operators.example',
          name: 'Renamed',
          role: 'viewer',
          passwordHash: '$argon2id$changed',
          sealedTotpSecret: null,
          lastTotpStep: 59_000_999,
          failedAttempts: 4,
          lockedUntil: at(200),
          disabledAt: at(201),
          updatedAt: at(202),
        };
        await store().operators.updateOperator(changed);
        expect(await store().operators.findOperatorById(operator.operatorId)).toEqual(changed);
        expect(await store().operators.findOperatorById(other.operatorId)).toEqual(other);
        await store().operators.updateOperator(anOperator());
        expect(await store().operators.listOperators()).toHaveLength(2);
      });

      it('listOperators returns [] when there are none, then every operator oldest first', async () => {
        expect(await store().operators.listOperators()).toEqual([]);
        const older = anOperator({ createdAt: at(1) });
        const newer = anOperator({ createdAt: at(2) });
        for (const operator of [newer, older]) await store().operators.insertOperator(operator);
        expect((await store().operators.listOperators()).map((operator) => operator.operatorId)).toEqual([older.operatorId, newer.operatorId]);
      });
    });

    describe('console sessions', () => {
      it('insertConsoleSession and findConsoleSession round-trip the session and its digest, whatever its state', async () => {
        const operator = anOperator();
        await store().operators.insertOperator(operator);
        const live = await insertSession(operator.operatorId, { totpVerifiedAt: at(1) });
        const revoked = await insertSession(operator.operatorId, { revokedAt: at(2), lastSeenAt: at(2) });
        for (const { session, token } of [live, revoked]) {
          const found = await store().operators.findConsoleSession(token.lookupId);
          expect(found?.session).toEqual(session);
          expect(found?.digest.equals(token.digest)).toBe(true);
        }
      });

      it('findConsoleSession returns undefined for an unknown lookup id', async () => {
        const operator = anOperator();
        await store().operators.insertOperator(operator);
        await insertSession(operator.operatorId);
        expect(await store().operators.findConsoleSession(createOpaqueToken(cryptoRandom).lookupId)).toBeUndefined();
      });

      it('insertConsoleSession refuses a lookup id already in use', async () => {
        const operator = anOperator();
        await store().operators.insertOperator(operator);
        const { token } = await insertSession(operator.operatorId);
        await expect(store().operators.insertConsoleSession(aConsoleSession(operator.operatorId), { lookupId: token.lookupId, digest: token.digest })).rejects.toThrow();
      });

      it('updateConsoleSession writes last-seen, TOTP-verified and revoked times only, of that session only; unknown is a no-op', async () => {
        const operator = anOperator();
        await store().operators.insertOperator(operator);
        const target = await insertSession(operator.operatorId);
        const bystander = await insertSession(operator.operatorId);
        await store().operators.updateConsoleSession({
          ...target.session,
          lastSeenAt: at(10),
          totpVerifiedAt: at(9),
          revokedAt: at(11),
          // Not writable through this method: these keep their stored values.
          operatorId: 'operator-test-someone-else',
          createdAt: at(-100),
          expiresAt: at(10_000),
        });
        expect((await store().operators.findConsoleSession(target.token.lookupId))?.session).toEqual({ ...target.session, lastSeenAt: at(10), totpVerifiedAt: at(9), revokedAt: at(11) });
        expect((await store().operators.findConsoleSession(bystander.token.lookupId))?.session).toEqual(bystander.session);
        await store().operators.updateConsoleSession(aConsoleSession(operator.operatorId));
        expect((await store().operators.findConsoleSession(bystander.token.lookupId))?.session).toEqual(bystander.session);
      });

      it('revokeConsoleSessionsOf revokes the live sessions of that operator only and counts them; already revoked ones keep their time', async () => {
        const operator = anOperator();
        const other = anOperator();
        for (const each of [operator, other]) await store().operators.insertOperator(each);
        const first = await insertSession(operator.operatorId);
        const second = await insertSession(operator.operatorId, { totpVerifiedAt: at(1) });
        const earlier = await insertSession(operator.operatorId, { revokedAt: at(5) });
        const others = await insertSession(other.operatorId);
        expect(await store().operators.revokeConsoleSessionsOf(operator.operatorId, at(30))).toBe(2);
        const revokedAt = async (token: OpaqueToken): Promise<string | null | undefined> => (await store().operators.findConsoleSession(token.lookupId))?.session.revokedAt;
        expect(await revokedAt(first.token)).toBe(at(30));
        expect(await revokedAt(second.token)).toBe(at(30));
        expect(await revokedAt(earlier.token)).toBe(at(5));
        expect(await revokedAt(others.token)).toBeNull();
        expect(await store().operators.revokeConsoleSessionsOf(operator.operatorId, at(31))).toBe(0);
        expect(await store().operators.revokeConsoleSessionsOf(`operator-test-${randomUUID()}`, at(31))).toBe(0);
      });

      it('stores the lookup id and the SHA-256 digest only: no column holds the token or its secret part', async () => {
        const raw = await openWithRawAccess(factory);
        try {
          const operator = anOperator();
          await raw.store.operators.insertOperator(operator);
          const token = createOpaqueToken(cryptoRandom);
          await raw.store.operators.insertConsoleSession(aConsoleSession(operator.operatorId), { lookupId: token.lookupId, digest: token.digest });
          const rows = await raw.db.selectFrom('console_sessions').selectAll().execute();
          expect(rows).toHaveLength(1);
          const row = rows[0] as Record<string, unknown>;
          expect(row.token_lookup_id).toBe(token.token.slice(0, 12));
          expect(Buffer.from(String(row.token_digest), 'base64url').equals(createHash('sha256').update(token.token).digest())).toBe(true);
          expectNoColumnHolds(row, token.token);
        } finally {
          await raw.close();
        }
      });
    });
  });
}

/** Fails when any column of `row` contains the token, its secret part, or its bytes in hex or base64. */
export function expectNoColumnHolds(row: Record<string, unknown>, token: string): void {
  const bytes = Buffer.from(token, 'base64url');
  const secrets = [token, token.slice(12), bytes.toString('hex'), bytes.toString('base64')];
  for (const [column, value] of Object.entries(row)) {
    for (const secret of secrets) expect(String(value), `column ${column}`).not.toContain(secret);
  }
}
