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

      it('disableOperator sets disabled_at (keeping an earlier one) and updated_at only, returns the row as stored; unknown is undefined', async () => {
        const operator = anOperator({ failedAttempts: 3, lockedUntil: at(90), lastTotpStep: 59_000_001 });
        const other = anOperator();
        for (const each of [operator, other]) await store().operators.insertOperator(each);
        const disabled = await store().operators.disableOperator(operator.operatorId, at(100));
        expect(disabled).toEqual({ ...operator, disabledAt: at(100), updatedAt: at(100) });
        expect(await store().operators.findOperatorById(operator.operatorId)).toEqual(disabled);
        expect(await store().operators.disableOperator(operator.operatorId, at(101))).toEqual({ ...operator, disabledAt: at(100), updatedAt: at(101) });
        expect(await store().operators.findOperatorById(other.operatorId)).toEqual(other);
        expect(await store().operators.disableOperator(`operator-test-${randomUUID()}`, at(102))).toBeUndefined();
      });

      it('replacePassword sets the hash, clears failures and lockout, keeps everything else (a disable included); unknown is undefined', async () => {
        const operator = anOperator({ failedAttempts: 5, lockedUntil: at(90), disabledAt: at(80), lastTotpStep: 59_000_002 });
        const other = anOperator({ failedAttempts: 2 });
        for (const each of [operator, other]) await store().operators.insertOperator(each);
        const replaced = await store().operators.replacePassword(operator.operatorId, '$argon2id$new', at(100));
        expect(replaced).toEqual({ ...operator, passwordHash: '$argon2id$new', failedAttempts: 0, lockedUntil: null, updatedAt: at(100) });
        expect(await store().operators.findOperatorById(operator.operatorId)).toEqual(replaced);
        expect(await store().operators.findOperatorById(other.operatorId)).toEqual(other);
        expect(await store().operators.replacePassword(`operator-test-${randomUUID()}`, '$argon2id$x', at(100))).toBeUndefined();
      });

      it('claimSignInAttempt counts up to the limit, locks on it, refuses while locked, and restarts at 1 once the lock has ended', async () => {
        const operator = anOperator({ lastTotpStep: 59_000_003 });
        await store().operators.insertOperator(operator);
        const claim = (minute: number) => store().operators.claimSignInAttempt(operator.operatorId, { at: at(minute), maxAttempts: 3, lockUntil: at(minute + 15) });
        expect(await claim(1)).toEqual({ failedAttempts: 1, lockedUntil: null });
        expect(await claim(2)).toEqual({ failedAttempts: 2, lockedUntil: null });
        expect(await claim(3)).toEqual({ failedAttempts: 3, lockedUntil: at(18) });
        const locked = await store().operators.findOperatorById(operator.operatorId);
        expect(locked).toEqual({ ...operator, failedAttempts: 3, lockedUntil: at(18), updatedAt: at(3) });
        expect(await claim(4)).toBeUndefined();
        expect(await claim(17)).toBeUndefined();
        expect(await store().operators.findOperatorById(operator.operatorId)).toEqual(locked);
        expect(await claim(18)).toEqual({ failedAttempts: 1, lockedUntil: null });
        expect(await store().operators.findOperatorById(operator.operatorId)).toEqual({ ...operator, failedAttempts: 1, lockedUntil: null, updatedAt: at(18) });
      });

      it('claimSignInAttempt is undefined, changing nothing, for a disabled or unknown operator', async () => {
        const disabled = anOperator({ disabledAt: at(1) });
        await store().operators.insertOperator(disabled);
        expect(await store().operators.claimSignInAttempt(disabled.operatorId, { at: at(2), maxAttempts: 5, lockUntil: at(17) })).toBeUndefined();
        expect(await store().operators.findOperatorById(disabled.operatorId)).toEqual(disabled);
        expect(await store().operators.claimSignInAttempt(`operator-test-${randomUUID()}`, { at: at(2), maxAttempts: 5, lockUntil: at(17) })).toBeUndefined();
      });

      it('claimSignInAttempt hands out exactly the limit of claims to 30 concurrent callers', async () => {
        const operator = anOperator();
        await store().operators.insertOperator(operator);
        const claims = await Promise.all(
          Array.from({ length: 30 }, () => store().operators.claimSignInAttempt(operator.operatorId, { at: at(1), maxAttempts: 5, lockUntil: at(16) })),
        );
        const granted = claims.filter((claim) => claim !== undefined);
        expect(granted.map((claim) => claim.failedAttempts).sort()).toEqual([1, 2, 3, 4, 5]);
        expect(granted.filter((claim) => claim.lockedUntil !== null)).toEqual([{ failedAttempts: 5, lockedUntil: at(16) }]);
        expect(await store().operators.findOperatorById(operator.operatorId)).toMatchObject({ failedAttempts: 5, lockedUntil: at(16) });
      });

      it('acceptPassword completing a sign-in clears failures and lockout; otherwise it hands the claim back, lifting only a lock that claim set', async () => {
        const operator = anOperator({ lastTotpStep: 59_000_004 });
        await store().operators.insertOperator(operator);
        const claim = (minute: number) => store().operators.claimSignInAttempt(operator.operatorId, { at: at(minute), maxAttempts: 3, lockUntil: at(minute + 15) });
        const accept = (completesSignIn: boolean, taken: { failedAttempts: number; lockedUntil: string | null }, passwordHash = operator.passwordHash) =>
          store().operators.acceptPassword(operator.operatorId, { passwordHash, at: at(50), completesSignIn, claim: taken });
        await claim(1);
        const second = await claim(2);
        expect(await accept(false, second ?? { failedAttempts: 0, lockedUntil: null })).toEqual({ ...operator, failedAttempts: 1, lockedUntil: null, updatedAt: at(50) });
        await claim(3);
        const locking = await claim(4);
        expect(locking?.lockedUntil).toBe(at(19));
        expect(await accept(false, locking ?? { failedAttempts: 0, lockedUntil: null })).toMatchObject({ failedAttempts: 2, lockedUntil: null });
        const relocking = await claim(5);
        // A claim that did not set the lock does not lift it.
        expect(await accept(false, { failedAttempts: 2, lockedUntil: null })).toMatchObject({ failedAttempts: 2, lockedUntil: relocking?.lockedUntil });
        expect(await accept(true, { failedAttempts: 2, lockedUntil: null })).toEqual({ ...operator, failedAttempts: 0, lockedUntil: null, updatedAt: at(50) });
      });

      it('acceptPassword changes nothing and is undefined when the password hash changed, or the operator is disabled or unknown', async () => {
        const operator = anOperator({ failedAttempts: 2 });
        const disabled = anOperator({ failedAttempts: 2, disabledAt: at(1) });
        for (const each of [operator, disabled]) await store().operators.insertOperator(each);
        const claim = { failedAttempts: 2, lockedUntil: null };
        expect(await store().operators.acceptPassword(operator.operatorId, { passwordHash: '$argon2id$old', at: at(9), completesSignIn: true, claim })).toBeUndefined();
        expect(await store().operators.acceptPassword(disabled.operatorId, { passwordHash: disabled.passwordHash, at: at(9), completesSignIn: true, claim })).toBeUndefined();
        expect(await store().operators.acceptPassword(`operator-test-${randomUUID()}`, { passwordHash: operator.passwordHash, at: at(9), completesSignIn: true, claim })).toBeUndefined();
        expect(await store().operators.listOperators()).toEqual([operator, disabled]);
      });

      it('acceptTotp records a later step and clears failures and lockout; the same or an earlier step, another hash or secret or a disabled operator change nothing', async () => {
        const operator = anOperator({ failedAttempts: 3, lockedUntil: at(40), lastTotpStep: 59_000_010 });
        const fresh = anOperator({ failedAttempts: 1 });
        const disabled = anOperator({ disabledAt: at(1) });
        for (const each of [operator, fresh, disabled]) await store().operators.insertOperator(each);
        const accept = (target: Operator, step: number, passwordHash = target.passwordHash, sealedTotpSecret = target.sealedTotpSecret ?? '') =>
          store().operators.acceptTotp(target.operatorId, { passwordHash, sealedTotpSecret, step, at: at(30) });
        expect(await accept(operator, 59_000_010)).toBeUndefined();
        expect(await accept(operator, 59_000_009)).toBeUndefined();
        expect(await accept(operator, 59_000_011, '$argon2id$other')).toBeUndefined();
        expect(await accept(operator, 59_000_011, operator.passwordHash, 'v1.replaced.secret.tag')).toBeUndefined();
        expect(await accept(disabled, 59_000_011)).toBeUndefined();
        expect(await store().operators.listOperators()).toEqual([operator, fresh, disabled]);
        expect(await accept(operator, 59_000_011)).toEqual({ ...operator, lastTotpStep: 59_000_011, failedAttempts: 0, lockedUntil: null, updatedAt: at(30) });
        expect(await accept(fresh, 59_000_001)).toEqual({ ...fresh, lastTotpStep: 59_000_001, failedAttempts: 0, updatedAt: at(30) });
      });

      it('replaceTotpSecret swaps the expected secret (or none) for the new one once, records the step and clears failures; a stale secret, another hash or a disabled operator change nothing', async () => {
        const operator = anOperator({ failedAttempts: 2, lockedUntil: at(40), lastTotpStep: 59_000_020 });
        const reset = anOperator({ sealedTotpSecret: null, lastTotpStep: 59_000_020 });
        const disabled = anOperator({ disabledAt: at(1) });
        for (const each of [operator, reset, disabled]) await store().operators.insertOperator(each);
        const replace = (target: Operator, expectedSealed: string | null, passwordHash = target.passwordHash) =>
          store().operators.replaceTotpSecret(target.operatorId, { expectedSealed, sealed: 'v1.new.secret.tag', passwordHash, step: 59_000_015, at: at(31) });
        expect(await replace(operator, null)).toBeUndefined();
        expect(await replace(operator, 'v1.other.secret.tag')).toBeUndefined();
        expect(await replace(operator, operator.sealedTotpSecret, '$argon2id$other')).toBeUndefined();
        expect(await replace(reset, 'v1.nonce.ciphertext.tag')).toBeUndefined();
        expect(await replace(disabled, disabled.sealedTotpSecret)).toBeUndefined();
        expect(await store().operators.listOperators()).toEqual([operator, reset, disabled]);
        const replaced = { ...operator, sealedTotpSecret: 'v1.new.secret.tag', lastTotpStep: 59_000_015, failedAttempts: 0, lockedUntil: null, updatedAt: at(31) };
        expect(await replace(operator, operator.sealedTotpSecret)).toEqual(replaced);
        // Finished once: the same replacement again finds the new secret, not the expected one.
        expect(await replace(operator, operator.sealedTotpSecret)).toBeUndefined();
        expect(await replace(reset, null)).toEqual({ ...reset, sealedTotpSecret: 'v1.new.secret.tag', lastTotpStep: 59_000_015, updatedAt: at(31) });
        expect(await store().operators.findOperatorById(operator.operatorId)).toEqual(replaced);
      });

      it('clearTotpSecret removes the secret and keeps everything else; undefined, writing nothing, for an unknown operator or one without a secret', async () => {
        const operator = anOperator({ failedAttempts: 1, lastTotpStep: 59_000_030 });
        await store().operators.insertOperator(operator);
        const cleared = { ...operator, sealedTotpSecret: null, updatedAt: at(32) };
        expect(await store().operators.clearTotpSecret(operator.operatorId, at(32))).toEqual(cleared);
        expect(await store().operators.findOperatorById(operator.operatorId)).toEqual(cleared);
        expect(await store().operators.clearTotpSecret(`operator-test-${randomUUID()}`, at(32))).toBeUndefined();
        // Cleared already (or never set): nothing to clear, and updated_at stays.
        expect(await store().operators.clearTotpSecret(operator.operatorId, at(33))).toBeUndefined();
        expect(await store().operators.findOperatorById(operator.operatorId)).toEqual(cleared);
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

      it('touchConsoleSession sets last-seen of that live session only; a revoked one keeps its state', async () => {
        const operator = anOperator();
        await store().operators.insertOperator(operator);
        const target = await insertSession(operator.operatorId);
        const bystander = await insertSession(operator.operatorId);
        const revoked = await insertSession(operator.operatorId, { revokedAt: at(3) });
        await store().operators.touchConsoleSession(target.session.consoleSessionId, at(10));
        await store().operators.touchConsoleSession(revoked.session.consoleSessionId, at(10));
        await store().operators.touchConsoleSession(`console-session-test-${randomUUID()}`, at(10));
        const found = async (token: OpaqueToken) => (await store().operators.findConsoleSession(token.lookupId))?.session;
        expect(await found(target.token)).toEqual({ ...target.session, lastSeenAt: at(10) });
        expect(await found(bystander.token)).toEqual(bystander.session);
        expect(await found(revoked.token)).toEqual(revoked.session);
      });

      it('revokeConsoleSession revokes that live session only; a second revocation is false and keeps the first time', async () => {
        const operator = anOperator();
        await store().operators.insertOperator(operator);
        const target = await insertSession(operator.operatorId);
        const bystander = await insertSession(operator.operatorId);
        expect(await store().operators.revokeConsoleSession(target.session.consoleSessionId, at(8))).toBe(true);
        expect(await store().operators.revokeConsoleSession(target.session.consoleSessionId, at(9))).toBe(false);
        expect(await store().operators.revokeConsoleSession(`console-session-test-${randomUUID()}`, at(9))).toBe(false);
        expect((await store().operators.findConsoleSession(target.token.lookupId))?.session).toEqual({ ...target.session, revokedAt: at(8) });
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
