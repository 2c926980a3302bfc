import { createHash } from 'node:crypto';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { decryptPrivateKey } from '../../../src/crypto/keys/key-encryption.js';
import type { PasswordHasher } from '../../../src/crypto/passwords/password-hasher.js';
import { newTotpSecret, totpCode } from '../../../src/crypto/totp.js';
import { sealEnrolmentTicket } from '../../../src/domain/operators/totp-enrolment-ticket.js';
import type { AuditEvent } from '../../../src/domain/audit/audit-event.js';
import type { OperatorRole } from '../../../src/domain/operators/operator.js';
import type { OperationContext } from '../../../src/domain/common/operation-context.js';
import { ManualClock } from '../../../src/platform/clock.js';
import { cryptoRandom } from '../../../src/platform/random.js';
import { createServices, type Services } from '../../../src/services.js';
import type { Store } from '../../../src/storage/store.js';
import { STORES } from '../../support/stores.js';
import { freshStoreSource } from '../store-contract/contract-support.js';
import { openWithRawAccess } from '../store-contract/contract-support.js';
import { expectNoColumnHolds } from '../store-contract/operators-store.contract.js';
import { auditTrail, domainErrorCode } from './service-harness.js';

/** A fast stand-in for argon2id that counts its calls, so timing-relevant work can be asserted. */
class CountingHasher implements PasswordHasher {
  hashes = 0;
  verifications = 0;
  async hash(password: string): Promise<string> {
    this.hashes += 1;
    return `counting$${createHash('sha256').update(password).digest('hex')}`;
  }
  async verify(encoded: string, password: string): Promise<boolean> {
    this.verifications += 1;
    return encoded === `counting$${createHash('sha256').update(password).digest('hex')}`;
  }
}

const MASTER_KEY = Buffer.alloc(32, 7);
const CLI: OperationContext = { requestId: 'request-id-test-cli', actor: { type: 'cli' } };
const WEB: OperationContext = { requestId: 'request-id-test-web', actor: { type: 'system' }, client: { ipAddress: '198.51.100.4', userAgent: 'test-browser/1' } };
const MINUTE = 60_000;

function build(store: Store, clock: ManualClock, hasher?: PasswordHasher): Services {
  return createServices({ store, clock, random: cryptoRandom, projectId: 'project-test-00000000-0000-4000-8000-0000000000bb', masterKey: MASTER_KEY, ...(hasher && { passwordHasher: hasher }) });
}

describe.each(STORES)('OperatorsService and ConsoleAuthService on $name', (factory) => {
  const source = freshStoreSource(factory);
  let store: Store;
  let clock: ManualClock;
  let hasher: CountingHasher;
  let services: Services;
  beforeEach(async () => {
    store = await source.next();
    clock = new ManualClock('2026-03-01T12:00:00Z');
    hasher = new CountingHasher();
    services = build(store, clock, hasher);
  });
  afterAll(() => source.finish());

  const events = async (...types: AuditEvent['type'][]): Promise<AuditEvent[]> => (await auditTrail(store)).filter((event) => types.includes(event.type));
  const create = (role: OperatorRole, emailAddress = `${role}@ops.example`) => services.operators.create(CLI, { emailAddress, name: `The ${role}`, role });
  const code = (secret: string | null, offset = 0): string => totpCode(secret ?? '', new Date(clock.now().getTime() + offset));

  describe('OperatorsService', () => {
    it('create gives admin and support a TOTP secret, viewers none unless asked, and audits operator.created without secrets', async () => {
      const admin = await services.operators.create(CLI, { emailAddress: ' Ada@Ops.Example ', name: ' Ada ', role: 'admin' });
      expect(admin.operator).toMatchObject({ emailAddress: 'ada@ops.example', name: 'Ada', role: 'admin', failedAttempts: 0, disabledAt: null });
      expect(admin.password).toMatch(/^[A-Za-z0-9_-]{32}$/);
      expect(admin.totpSecret).toMatch(/^[A-Z2-7]{32}$/);
      expect(admin.totpUri).toContain(`secret=${admin.totpSecret}`);
      expect((await create('support')).totpSecret).not.toBeNull();
      expect((await create('viewer')).totpSecret).toBeNull();
      expect((await services.operators.create(CLI, { emailAddress: 'v2@ops.example', name: 'V', role: 'viewer', withTotp: true })).totpSecret).not.toBeNull();

      const [created] = await events('operator.created');
      expect(created).toMatchObject({ actor: { type: 'cli' }, requestId: 'request-id-test-cli', details: { operator_id: admin.operator.operatorId, email_address: 'ada@ops.example', role: 'admin' } });
      expect(JSON.stringify(await auditTrail(store))).not.toContain(admin.password);
      expect(JSON.stringify(await auditTrail(store))).not.toContain(admin.totpSecret);
      expect((await services.operators.list()).map((operator) => operator.emailAddress).sort()).toEqual(['ada@ops.example', 'support@ops.example', 'v2@ops.example', 'viewer@ops.example']);
    });

    it('seals the TOTP secret: the stored value holds no form of it and opens only with the master key, for that operator', async () => {
      const { operator, totpSecret } = await create('admin');
      const stored = (await store.operators.findOperatorById(operator.operatorId))?.sealedTotpSecret ?? '';
      const bytes = Buffer.from(totpSecret ?? '', 'utf8');
      for (const form of [totpSecret ?? '-', totpSecret?.toLowerCase() ?? '-', bytes.toString('hex'), bytes.toString('base64'), bytes.toString('base64url')]) expect(stored).not.toContain(form);
      expect(decryptPrivateKey(stored, { masterKey: MASTER_KEY, kid: operator.operatorId })).toBe(totpSecret);
      expect(() => decryptPrivateKey(stored, { masterKey: Buffer.alloc(32, 8), kid: operator.operatorId })).toThrow();
      const other = await create('support');
      expect(() => decryptPrivateKey(stored, { masterKey: MASTER_KEY, kid: other.operator.operatorId })).toThrow();
    });

    it('stores passwords as argon2id hashes with the default hasher', async () => {
      const real = build(store, clock);
      const { operator, password } = await real.operators.create(CLI, { emailAddress: 'argon@ops.example', name: 'Argon', role: 'viewer' });
      const stored = (await store.operators.findOperatorById(operator.operatorId))?.passwordHash ?? '';
      expect(stored).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
      expect(stored).not.toContain(password);
      await real.consoleAuth.signIn(WEB, 'argon@ops.example', password);
    });

    it('create refuses a bad role, name, password or a taken email, and audits nothing for them', async () => {
      await create('admin');
      const base = { emailAddress: 'new@ops.example', name: 'New', role: 'support' };
      expect(await domainErrorCode(services.operators.create(CLI, { ...base, role: 'root' }))).toBe('invalid_operator_role');
      expect(await domainErrorCode(services.operators.create(CLI, { ...base, name: '  ' }))).toBe('invalid_operator_name');
      expect(await domainErrorCode(services.operators.create(CLI, { ...base, password: 'short' }))).toBe('weak_operator_password');
      expect(await domainErrorCode(services.operators.create(CLI, { ...base, emailAddress: 'ADMIN@ops.example' }))).toBe('operator_email_already_used');
      expect(await domainErrorCode(services.operators.create(CLI, { ...base, emailAddress: 'not-an-email' }))).toBe('invalid_email');
      expect(await events('operator.created')).toHaveLength(1);
    });

    it('disable ends every console session of the operator and audits operator.disabled; unknown is operator_not_found', async () => {
      const { operator, password } = await create('viewer');
      const { token } = await services.consoleAuth.signIn(WEB, operator.emailAddress, password);
      const disabled = await services.operators.disable(CLI, 'VIEWER@ops.example');
      expect(disabled.disabledAt).toBe('2026-03-01T12:00:00Z');
      expect(await services.consoleAuth.resolve(token)).toBeUndefined();
      expect(await domainErrorCode(services.consoleAuth.signIn(WEB, operator.emailAddress, password))).toBe('invalid_operator_credentials');
      expect((await events('operator.disabled'))[0]?.details).toEqual({ operator_id: operator.operatorId, email_address: operator.emailAddress });
      expect(await domainErrorCode(services.operators.disable(CLI, 'ghost@ops.example'))).toBe('operator_not_found');
      expect(await domainErrorCode(services.operators.disable(CLI, 'operator-test-ghost'))).toBe('operator_not_found');
    });

    it('resetPassword replaces the password, clears a lockout, ends sessions and audits operator.password_reset', async () => {
      const { operator, password } = await create('viewer');
      const { token } = await services.consoleAuth.signIn(WEB, operator.emailAddress, password);
      for (let attempt = 0; attempt < 5; attempt += 1) await services.consoleAuth.signIn(WEB, operator.emailAddress, 'wrong password!').catch(() => undefined);
      // Locked: refused with the answer an unknown address gets.
      expect(await domainErrorCode(services.consoleAuth.signIn(WEB, operator.emailAddress, password))).toBe('invalid_operator_credentials');
      expect((await store.operators.findOperatorById(operator.operatorId))?.lockedUntil).toBe('2026-03-01T12:15:00Z');

      const reset = await services.operators.resetPassword(CLI, operator.operatorId);
      expect(reset.password).not.toBe(password);
      expect(await services.consoleAuth.resolve(token)).toBeUndefined();
      expect(await domainErrorCode(services.consoleAuth.signIn(WEB, operator.emailAddress, password))).toBe('invalid_operator_credentials');
      await services.consoleAuth.signIn(WEB, operator.emailAddress, reset.password);
      expect((await events('operator.password_reset'))[0]?.details).toEqual({ operator_id: operator.operatorId, email_address: operator.emailAddress });
      expect(JSON.stringify(await auditTrail(store))).not.toContain(reset.password);
    });
  });

  describe('ConsoleAuthService', () => {
    it('verifies a password exactly once whether the email is unknown, wrong, disabled, locked or right', async () => {
      const { operator, password } = await create('viewer');
      const verificationsOf = async (email: string, attempt: string): Promise<number> => {
        const before = hasher.verifications;
        await services.consoleAuth.signIn(WEB, email, attempt).catch(() => undefined);
        return hasher.verifications - before;
      };
      expect(await verificationsOf('nobody@ops.example', 'whatever password')).toBe(1);
      expect(await verificationsOf(operator.emailAddress, 'wrong password!')).toBe(1);
      expect(await verificationsOf(operator.emailAddress, password)).toBe(1);
      await services.operators.disable(CLI, operator.emailAddress);
      expect(await verificationsOf(operator.emailAddress, password)).toBe(1);
      expect(await domainErrorCode(services.consoleAuth.signIn(WEB, 'nobody@ops.example', 'x'))).toBe('invalid_operator_credentials');
      const locked = await create('support');
      for (let attempt = 0; attempt < 5; attempt += 1) await verificationsOf(locked.operator.emailAddress, 'wrong password!');
      expect(await verificationsOf(locked.operator.emailAddress, locked.password)).toBe(1);
      expect(await domainErrorCode(services.consoleAuth.signIn(WEB, locked.operator.emailAddress, locked.password))).toBe('invalid_operator_credentials');
    });

    it('audits operator.signed_in after the password for an operator without TOTP, and only after the code for one with it', async () => {
      const viewer = await create('viewer');
      const viewerSignIn = await services.consoleAuth.signIn(WEB, viewer.operator.emailAddress, viewer.password);
      expect(viewerSignIn.identity.isFullySignedIn).toBe(true);
      const admin = await create('admin');
      const adminSignIn = await services.consoleAuth.signIn(WEB, admin.operator.emailAddress, admin.password);
      expect(adminSignIn.identity.isFullySignedIn).toBe(false);
      expect((await events('operator.signed_in')).map((event) => event.details.operator_id)).toEqual([viewer.operator.operatorId]);
      const half = await services.consoleAuth.resolve(adminSignIn.token);
      expect(half?.isFullySignedIn).toBe(false);
      const full = await services.consoleAuth.verifyTotp(WEB, half ?? adminSignIn.identity, code(admin.totpSecret));
      expect(full.isFullySignedIn).toBe(true);
      const signedIn = await events('operator.signed_in');
      expect(signedIn.map((event) => event.details.operator_id)).toEqual([viewer.operator.operatorId, admin.operator.operatorId]);
      expect(signedIn[1]).toMatchObject({ client: { ipAddress: '198.51.100.4', userAgent: 'test-browser/1' } });
      // Completing TOTP replaces the session: the half-signed-in token is revoked, the new one is full.
      expect(full.token).not.toBeNull();
      expect(await services.consoleAuth.resolve(adminSignIn.token)).toBeUndefined();
      expect((await services.consoleAuth.resolve(full.token ?? ''))?.isFullySignedIn).toBe(true);
    });

    it('audits each failure, locks on the fifth (operator.locked), refuses even the right password while locked (as if unknown), and unlocks after 15 minutes', async () => {
      const { operator, password } = await create('viewer');
      for (let attempt = 1; attempt <= 5; attempt += 1) {
        expect(await domainErrorCode(services.consoleAuth.signIn(WEB, operator.emailAddress, `wrong password ${attempt}`))).toBe('invalid_operator_credentials');
      }
      expect((await events('operator.sign_in_failed')).map((event) => event.details)).toEqual(
        [1, 2, 3, 4].map((failed) => ({ operator_id: operator.operatorId, why: 'password', failed_attempts: failed })),
      );
      expect((await events('operator.locked')).map((event) => event.details)).toEqual([{ operator_id: operator.operatorId, why: 'password', failed_attempts: 5 }]);
      expect(await domainErrorCode(services.consoleAuth.signIn(WEB, operator.emailAddress, password))).toBe('invalid_operator_credentials');
      expect((await events('operator.sign_in_failed')).at(-1)?.details).toMatchObject({ why: 'locked' });
      clock.advance(15 * MINUTE);
      await services.consoleAuth.signIn(WEB, operator.emailAddress, password);
    });

    it('refuses a wrong or replayed TOTP code, counting it as a failure, and keeps counting across password sign-ins', async () => {
      const { operator, password, totpSecret } = await create('support');
      const first = await services.consoleAuth.signIn(WEB, operator.emailAddress, password);
      const used = code(totpSecret);
      await services.consoleAuth.verifyTotp(WEB, first.identity, used);
      const again = await services.consoleAuth.signIn(WEB, operator.emailAddress, password);
      const identity = async () => (await services.consoleAuth.resolve(again.token)) ?? again.identity;
      expect(await domainErrorCode(services.consoleAuth.verifyTotp(WEB, await identity(), used))).toBe('invalid_operator_credentials');
      expect(await domainErrorCode(services.consoleAuth.verifyTotp(WEB, await identity(), '12345'))).toBe('invalid_operator_credentials');
      expect((await events('operator.sign_in_failed')).map((event) => event.details.why)).toEqual(['totp', 'totp']);
      const third = await services.consoleAuth.signIn(WEB, operator.emailAddress, password);
      expect((await store.operators.findOperatorById(operator.operatorId))?.failedAttempts).toBe(2);
      expect((await services.consoleAuth.verifyTotp(WEB, third.identity, code(totpSecret, 30_000))).isFullySignedIn).toBe(true);
      expect((await store.operators.findOperatorById(operator.operatorId))?.failedAttempts).toBe(0);
    });

    it('resolve returns undefined for a malformed, unknown or tampered token, and for idle, expired, revoked and half-finished sessions', async () => {
      const { operator, password, totpSecret } = await create('admin');
      const { identity } = await services.consoleAuth.signIn(WEB, operator.emailAddress, password);
      const token = (await services.consoleAuth.verifyTotp(WEB, identity, code(totpSecret))).token ?? '';
      expect(await services.consoleAuth.resolve(undefined)).toBeUndefined();
      expect(await services.consoleAuth.resolve('not a token')).toBeUndefined();
      const tampered = `${token.slice(0, 12)}${token.at(12) === 'A' ? 'B' : 'A'}${token.slice(13)}`;
      expect(await services.consoleAuth.resolve(tampered)).toBeUndefined();
      expect((await services.consoleAuth.resolve(token))?.operator.operatorId).toBe(operator.operatorId);
      clock.advance(30 * MINUTE);
      expect(await services.consoleAuth.resolve(token)).toBeUndefined();

      const other = await services.consoleAuth.signIn(WEB, operator.emailAddress, password);
      clock.advance(5 * MINUTE + 1000);
      expect(await services.consoleAuth.resolve(other.token)).toBeUndefined();

      const viewer = await create('viewer');
      const live = await services.consoleAuth.signIn(WEB, viewer.operator.emailAddress, viewer.password);
      const resolved = await services.consoleAuth.resolve(live.token);
      await services.consoleAuth.signOut(WEB, resolved ?? live.identity);
      expect(await services.consoleAuth.resolve(live.token)).toBeUndefined();
      expect((await events('operator.signed_out')).map((event) => event.details)).toEqual([{ operator_id: viewer.operator.operatorId }]);
    });

    it('needsFreshTotp is true before TOTP, false just after, and true again after 5 minutes', async () => {
      const { operator, password, totpSecret } = await create('support');
      const { identity } = await services.consoleAuth.signIn(WEB, operator.emailAddress, password);
      expect(services.consoleAuth.needsFreshTotp(identity)).toBe(true);
      const verified = await services.consoleAuth.verifyTotp(WEB, identity, code(totpSecret));
      expect(services.consoleAuth.needsFreshTotp(verified)).toBe(false);
      clock.advance(5 * MINUTE);
      expect(services.consoleAuth.needsFreshTotp(verified)).toBe(false);
      clock.advance(1000);
      expect(services.consoleAuth.needsFreshTotp(verified)).toBe(true);
    });

    it('a step-up (fresh code before impersonating) replaces the full session too: the cookie from before never gets a fresh TOTP', async () => {
      const { operator, password, totpSecret } = await create('support');
      const signedIn = await services.consoleAuth.signIn(WEB, operator.emailAddress, password);
      const full = await services.consoleAuth.verifyTotp(WEB, signedIn.identity, code(totpSecret));
      clock.advance(6 * MINUTE);
      const before = await services.consoleAuth.resolve(full.token);
      expect(before !== undefined && services.consoleAuth.needsFreshTotp(before)).toBe(true);
      clock.advance(30_000);
      const stepped = await services.consoleAuth.verifyTotp(WEB, before ?? full, code(totpSecret));
      expect(stepped.token).not.toBe(full.token);
      expect(await services.consoleAuth.resolve(full.token)).toBeUndefined();
      const after = await services.consoleAuth.resolve(stepped.token);
      expect(after !== undefined && services.consoleAuth.needsFreshTotp(after)).toBe(false);
      // The absolute end stays the one counted from the password step.
      expect(after?.session.expiresAt).toBe(signedIn.identity.session.expiresAt);
    });
  });

  describe('OperatorTotpService and reauthentication', () => {
    it('reauthenticate counts as a fresh TOTP only when a code was checked, and audits operator.reauthenticated', async () => {
      const viewer = await create('viewer');
      const signedIn = await services.consoleAuth.signIn(WEB, viewer.operator.emailAddress, viewer.password);
      const byPassword = await services.consoleAuth.reauthenticate(WEB, signedIn.identity, viewer.password, '');
      expect(byPassword.session.totpVerifiedAt).toBeNull();
      const resolved = await services.consoleAuth.resolve(byPassword.token);
      expect(resolved?.isFullySignedIn).toBe(true);
      expect(resolved?.session.totpVerifiedAt).toBeNull();
      expect(resolved !== undefined && services.consoleAuth.needsFreshTotp(resolved)).toBe(true);

      const support = await create('support');
      const half = await services.consoleAuth.signIn(WEB, support.operator.emailAddress, support.password);
      const full = await services.consoleAuth.verifyTotp(WEB, half.identity, code(support.totpSecret));
      clock.advance(6 * MINUTE);
      const byCode = await services.consoleAuth.reauthenticate(WEB, full, support.password, code(support.totpSecret));
      expect(byCode.session.totpVerifiedAt).toBe('2026-03-01T12:06:00Z');
      expect(services.consoleAuth.needsFreshTotp(byCode)).toBe(false);

      // A wrong password records a failure, not a proof.
      expect(await domainErrorCode(services.consoleAuth.reauthenticate(WEB, byCode, 'wrong password!', ''))).toBe('invalid_operator_credentials');
      expect((await events('operator.reauthenticated')).map((event) => event.details)).toEqual([
        { operator_id: viewer.operator.operatorId, with_totp: false },
        { operator_id: support.operator.operatorId, with_totp: true },
      ]);
    });

    it('setting up an authenticator at sign-in is refused for an operator who has one (they enter its code), writing nothing', async () => {
      const support = await create('support');
      const half = await services.consoleAuth.signIn(WEB, support.operator.emailAddress, support.password);
      expect(half.identity.isFullySignedIn).toBe(false);
      // A setup bound to this half-signed-in session and the secret it has (only the server can seal one).
      const secret = newTotpSecret(cryptoRandom.bytes(20));
      const binding = { operatorId: support.operator.operatorId, consoleSessionId: half.identity.session.consoleSessionId, currentSealed: half.identity.operator.sealedTotpSecret };
      const ticket = sealEnrolmentTicket(secret, binding, new Date(clock.now().getTime() + 5 * MINUTE), { masterKey: MASTER_KEY, random: cryptoRandom });
      const trailBefore = await auditTrail(store);
      expect(await domainErrorCode(services.operatorTotp.confirm(WEB, half.identity, ticket, code(secret)))).toBe('operator_totp_enrolment_invalid');
      expect(await store.operators.findOperatorById(support.operator.operatorId)).toEqual(half.identity.operator);
      expect(await auditTrail(store)).toEqual(trailBefore);
      expect((await services.consoleAuth.resolve(half.token))?.isFullySignedIn).toBe(false);

      // After an admin reset it, the same setup at sign-in goes through.
      await services.operators.resetTotp(CLI, support.operator.operatorId, 'Ticket 12: lost phone');
      const again = await services.consoleAuth.signIn(WEB, support.operator.emailAddress, support.password);
      const enrolment = services.operatorTotp.startEnrolment(again.identity);
      const enrolled = await services.operatorTotp.confirm(WEB, again.identity, enrolment.ticket, code(enrolment.secret));
      expect(enrolled.isFullySignedIn).toBe(true);
    });

    it('resetTotp refuses an operator without TOTP (operator_totp_not_set), writing nothing', async () => {
      const viewer = await create('viewer');
      const support = await create('support');
      await services.operators.resetTotp(CLI, support.operator.emailAddress, 'Ticket 13');
      const trailBefore = await auditTrail(store);
      const stored = await Promise.all([viewer, support].map(({ operator }) => store.operators.findOperatorById(operator.operatorId)));
      for (const { operator } of [viewer, support]) {
        expect(await domainErrorCode(services.operators.resetTotp(CLI, operator.operatorId, 'Ticket 14'))).toBe('operator_totp_not_set');
      }
      expect(await Promise.all([viewer, support].map(({ operator }) => store.operators.findOperatorById(operator.operatorId)))).toEqual(stored);
      expect(await auditTrail(store)).toEqual(trailBefore);
    });
  });

  it('never stores the console session token: only its lookup id and SHA-256 digest', async () => {
    const raw = await openWithRawAccess(factory);
    try {
      const rawServices = build(raw.store, clock, hasher);
      const { password } = await rawServices.operators.create(CLI, { emailAddress: 'raw@ops.example', name: 'Raw', role: 'viewer' });
      const { token } = await rawServices.consoleAuth.signIn(WEB, 'raw@ops.example', password);
      const rows = await raw.db.selectFrom('console_sessions').selectAll().execute();
      expect(rows).toHaveLength(1);
      expect(rows[0]?.token_lookup_id).toBe(token.slice(0, 12));
      expect(Buffer.from(rows[0]?.token_digest ?? '', 'base64url').equals(createHash('sha256').update(token).digest())).toBe(true);
      expectNoColumnHolds(rows[0] as Record<string, unknown>, token);
    } finally {
      await raw.close();
    }
  });
});
