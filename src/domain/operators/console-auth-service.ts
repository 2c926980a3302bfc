import { createOpaqueToken, digestsMatch, parseOpaqueToken } from '../../crypto/opaque-token.js';
import type { PasswordHasher } from '../../crypto/password-hasher.js';
import { verifyTotp } from '../../crypto/totp.js';
import type { Clock } from '../../platform/clock.js';
import { toTimestamp } from '../../platform/clock.js';
import type { IdGenerator } from '../../platform/ids.js';
import type { Random } from '../../platform/random.js';
import type { AuditRecorder } from '../audit/audit-recorder.js';
import type { AuditStore } from '../audit/audit-store.js';
import type { OperationContext } from '../shared/operation-context.js';
import type { Transactional } from '../shared/transactional.js';
import { operatorError } from './errors.js';
import {
  FRESH_TOTP_MINUTES,
  LOCKOUT_MINUTES,
  MAX_FAILED_ATTEMPTS,
  SESSION_ABSOLUTE_HOURS,
  SESSION_IDLE_MINUTES,
  TOTP_STEP_MINUTES,
  type ConsoleSession,
  type Operator,
} from './operator.js';
import type { OperatorsService } from './operators-service.js';
import type { OperatorsStore } from './operators-store.js';

type Ports = { operators: OperatorsStore; audit: AuditStore };

/** A console request's signed-in operator. `isFullySignedIn` is false between password and TOTP. */
export interface ConsoleIdentity {
  readonly operator: Operator;
  readonly session: ConsoleSession;
  readonly isFullySignedIn: boolean;
}

/**
 * Signing operators in and out of the console: password (argon2id) then TOTP, lockout after
 * repeated failures, sessions with idle and absolute timeouts, and fresh-TOTP checks for
 * impersonation. Every outcome that matters is audited.
 */
export class ConsoleAuthService {
  readonly #store: Transactional<Ports>;
  readonly #operators: OperatorsService;
  readonly #hasher: PasswordHasher;
  readonly #clock: Clock;
  readonly #random: Random;
  readonly #ids: IdGenerator;
  readonly #audit: AuditRecorder;
  /** Verified against when the email is unknown, so both paths cost one argon2 verification. */
  #decoyHash: Promise<string> | undefined;

  constructor(dependencies: {
    store: Transactional<Ports>;
    operators: OperatorsService;
    hasher: PasswordHasher;
    clock: Clock;
    random: Random;
    ids: IdGenerator;
    audit: AuditRecorder;
  }) {
    this.#store = dependencies.store;
    this.#operators = dependencies.operators;
    this.#hasher = dependencies.hasher;
    this.#clock = dependencies.clock;
    this.#random = dependencies.random;
    this.#ids = dependencies.ids;
    this.#audit = dependencies.audit;
  }

  /** Step one: email and password. Returns the cookie token of a session that still needs TOTP (unless the operator has none). */
  async signIn(context: OperationContext, emailAddress: string, password: string): Promise<{ token: string; identity: ConsoleIdentity }> {
    const now = this.#clock.now();
    const operator = await this.#store.operators.findOperatorByEmail(emailAddress.trim().toLowerCase());
    this.#decoyHash ??= this.#hasher.hash(this.#random.bytes(16).toString('hex'));
    const isMatch = await this.#hasher.verify(operator?.passwordHash ?? (await this.#decoyHash), password);
    if (operator === undefined || operator.disabledAt !== null) throw operatorError('invalid_operator_credentials');
    if (isLocked(operator, now)) {
      await this.#recordFailure(context, operator, 'locked');
      throw operatorError('operator_locked');
    }
    if (!isMatch) {
      await this.#recordFailure(context, operator, 'password');
      throw operatorError('invalid_operator_credentials');
    }
    const created = await this.#startSession(context, operator, now);
    return created;
  }

  /** Step two (and step-up before impersonating): a current TOTP code, never the same step twice. */
  async verifyTotp(context: OperationContext, identity: ConsoleIdentity, code: string): Promise<ConsoleIdentity> {
    const now = this.#clock.now();
    const operator = identity.operator;
    if (isLocked(operator, now)) throw operatorError('operator_locked');
    const secret = this.#operators.totpSecretOf(operator);
    const step = secret === null ? undefined : verifyTotp(secret, code.trim(), now);
    if (step === undefined || (operator.lastTotpStep !== null && step <= operator.lastTotpStep)) {
      await this.#recordFailure(context, operator, 'totp');
      throw operatorError('invalid_operator_credentials');
    }
    const at = toTimestamp(now);
    const session: ConsoleSession = { ...identity.session, totpVerifiedAt: at, lastSeenAt: at };
    const updated: Operator = { ...operator, lastTotpStep: step, failedAttempts: 0, lockedUntil: null, updatedAt: at };
    await this.#store.transaction(async (tx) => {
      await tx.operators.updateOperator(updated);
      await tx.operators.updateConsoleSession(session);
      if (!identity.isFullySignedIn) {
        await this.#audit.record(tx.audit, context, { type: 'operator.signed_in', organizationId: null, occurredAt: at, details: { operator_id: operator.operatorId } });
      }
    });
    return { operator: updated, session, isFullySignedIn: true };
  }

  /**
   * The identity behind a console cookie, or undefined when it is unknown, revoked, idle too
   * long, past its absolute end, or its operator is disabled. Refreshes the idle timer.
   */
  async resolve(token: string | undefined): Promise<ConsoleIdentity | undefined> {
    const parsed = token === undefined ? undefined : parseOpaqueToken(token);
    if (parsed === undefined) return undefined;
    const found = await this.#store.operators.findConsoleSession(parsed.lookupId);
    if (found === undefined || !digestsMatch(parsed.digest, found.digest)) return undefined;
    const now = this.#clock.now();
    const session = found.session;
    const idleLimit = new Date(new Date(session.lastSeenAt).getTime() + SESSION_IDLE_MINUTES * 60_000);
    if (session.revokedAt !== null || toTimestamp(now) >= session.expiresAt || now >= idleLimit) return undefined;
    const operator = await this.#store.operators.findOperatorById(session.operatorId);
    if (operator === undefined || operator.disabledAt !== null) return undefined;
    const isFullySignedIn = session.totpVerifiedAt !== null || operator.sealedTotpSecret === null;
    // A half-signed-in session (password only) must finish TOTP quickly or start over.
    if (!isFullySignedIn && now.getTime() - new Date(session.createdAt).getTime() > TOTP_STEP_MINUTES * 60_000) return undefined;
    const refreshed = { ...session, lastSeenAt: toTimestamp(now) };
    await this.#store.operators.updateConsoleSession(refreshed);
    return { operator, session: refreshed, isFullySignedIn };
  }

  /** Whether impersonating now needs a fresh TOTP code (the last one is older than a few minutes). */
  needsFreshTotp(identity: ConsoleIdentity): boolean {
    const verifiedAt = identity.session.totpVerifiedAt;
    return verifiedAt === null || this.#clock.now().getTime() - new Date(verifiedAt).getTime() > FRESH_TOTP_MINUTES * 60_000;
  }

  async signOut(context: OperationContext, identity: ConsoleIdentity): Promise<void> {
    const at = toTimestamp(this.#clock.now());
    await this.#store.transaction(async (tx) => {
      await tx.operators.updateConsoleSession({ ...identity.session, revokedAt: at });
      await this.#audit.record(tx.audit, context, { type: 'operator.signed_out', organizationId: null, occurredAt: at, details: { operator_id: identity.operator.operatorId } });
    });
  }

  async #startSession(context: OperationContext, operator: Operator, now: Date): Promise<{ token: string; identity: ConsoleIdentity }> {
    const at = toTimestamp(now);
    const token = createOpaqueToken(this.#random);
    const hasTotp = operator.sealedTotpSecret !== null;
    const session: ConsoleSession = {
      consoleSessionId: this.#ids.next('console-session'),
      operatorId: operator.operatorId,
      createdAt: at,
      lastSeenAt: at,
      expiresAt: toTimestamp(new Date(now.getTime() + SESSION_ABSOLUTE_HOURS * 3_600_000)),
      totpVerifiedAt: null,
      revokedAt: null,
    };
    // Failures are cleared only when sign-in is complete: clearing them after the password step
    // would let someone holding the password guess TOTP codes forever, 4 at a time.
    const updated: Operator = hasTotp ? operator : { ...operator, failedAttempts: 0, lockedUntil: null, updatedAt: at };
    await this.#store.transaction(async (tx) => {
      await tx.operators.insertConsoleSession(session, { lookupId: token.lookupId, digest: token.digest });
      if (!hasTotp) await tx.operators.updateOperator(updated);
      if (!hasTotp) await this.#audit.record(tx.audit, context, { type: 'operator.signed_in', organizationId: null, occurredAt: at, details: { operator_id: operator.operatorId } });
    });
    return { token: token.token, identity: { operator: updated, session, isFullySignedIn: !hasTotp } };
  }

  /** Counts a failure; the fifth in a row locks the operator out for a while. Written even though the attempt fails. */
  async #recordFailure(context: OperationContext, operator: Operator, why: 'password' | 'totp' | 'locked'): Promise<void> {
    const now = this.#clock.now();
    const at = toTimestamp(now);
    const failedAttempts = why === 'locked' ? operator.failedAttempts : operator.failedAttempts + 1;
    const locks = why !== 'locked' && failedAttempts >= MAX_FAILED_ATTEMPTS;
    const lockedUntil = locks ? toTimestamp(new Date(now.getTime() + LOCKOUT_MINUTES * 60_000)) : operator.lockedUntil;
    await this.#store.transaction(async (tx) => {
      await tx.operators.updateOperator({ ...operator, failedAttempts: locks ? 0 : failedAttempts, lockedUntil, updatedAt: at });
      await this.#audit.record(tx.audit, context, {
        type: locks ? 'operator.locked' : 'operator.sign_in_failed',
        organizationId: null,
        occurredAt: at,
        details: { operator_id: operator.operatorId, why, failed_attempts: failedAttempts },
      });
    });
  }
}

function isLocked(operator: Operator, now: Date): boolean {
  return operator.lockedUntil !== null && toTimestamp(now) < operator.lockedUntil;
}
