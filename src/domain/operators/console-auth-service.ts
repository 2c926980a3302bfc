import { createOpaqueToken, findByOpaqueToken } from '../../crypto/opaque-token.js';
import type { PasswordHasher } from '../../crypto/passwords/password-hasher.js';
import { verifyTotp } from '../../crypto/totp.js';
import type { Clock } from '../../platform/clock.js';
import { toTimestamp } from '../../platform/clock.js';
import type { IdGenerator } from '../../platform/ids.js';
import type { Random } from '../../platform/random.js';
import type { AuditRecorder } from '../audit/audit-recorder.js';
import type { AuditStore } from '../audit/audit-store.js';
import type { OperationContext } from '../common/operation-context.js';
import type { Transactional } from '../common/transactional.js';
import { operatorError } from './errors.js';
import {
  FRESH_TOTP_MINUTES,
  hasSecondStep,
  LOCKOUT_MINUTES,
  MAX_FAILED_ATTEMPTS,
  needsTotpEnrolment,
  newConsoleSession,
  SESSION_ABSOLUTE_HOURS,
  SESSION_IDLE_MINUTES,
  TOTP_STEP_MINUTES,
  type ConsoleSession,
  type Operator,
} from './operator.js';
import type { OperatorsService } from './operators-service.js';
import type { OperatorsStore, SignInClaim } from './operators-store.js';

type Ports = { operators: OperatorsStore; audit: AuditStore };

/**
 * A console request's signed-in operator. `isFullySignedIn` is false between password and TOTP (or,
 * after an admin reset the operator's TOTP, until they have set up a new authenticator).
 */
export interface ConsoleIdentity {
  readonly operator: Operator;
  readonly session: ConsoleSession;
  readonly isFullySignedIn: boolean;
}

/** After a right TOTP code: the identity, with the session that replaced the one the code was entered in. */
export interface VerifiedIdentity extends ConsoleIdentity {
  /** The new session's cookie token. */
  readonly token: string;
}

/** Counts one sign-in attempt of the caller's client (whatever the address tried); throws too_many_requests past the limit. */
export type SignInLimit = (context: OperationContext) => Promise<void>;

const NO_SIGN_IN_LIMIT: SignInLimit = async () => undefined;

/**
 * Signing operators in and out of the console: password (argon2id) then TOTP, lockout after
 * repeated failures, sessions with idle and absolute timeouts, and fresh-TOTP checks for
 * impersonation. Every outcome that matters is audited.
 *
 * Concurrency: every attempt first claims one of the operator's attempts in the database (one
 * atomic statement), so a burst of guesses gets at most MAX_FAILED_ATTEMPTS checks per lockout.
 * Success is written with conditional, column-wise updates (still enabled, still the password that
 * was checked), so a disable or password reset committed meanwhile is never undone.
 */
export class ConsoleAuthService {
  readonly #store: Transactional<Ports>;
  readonly #operators: OperatorsService;
  readonly #hasher: PasswordHasher;
  readonly #clock: Clock;
  readonly #random: Random;
  readonly #ids: IdGenerator;
  readonly #audit: AuditRecorder;
  readonly #signInLimit: SignInLimit;
  /** Verified against when the email is unknown (or disabled, or locked), so every path costs one argon2 verification. */
  #decoyHash: Promise<string> | undefined;

  constructor(dependencies: {
    store: Transactional<Ports>;
    operators: OperatorsService;
    hasher: PasswordHasher;
    clock: Clock;
    random: Random;
    ids: IdGenerator;
    audit: AuditRecorder;
    /** The per-client limit on password attempts; none when omitted. */
    signInLimit?: SignInLimit | undefined;
  }) {
    this.#store = dependencies.store;
    this.#operators = dependencies.operators;
    this.#hasher = dependencies.hasher;
    this.#clock = dependencies.clock;
    this.#random = dependencies.random;
    this.#ids = dependencies.ids;
    this.#audit = dependencies.audit;
    this.#signInLimit = dependencies.signInLimit ?? NO_SIGN_IN_LIMIT;
  }

  /**
   * Step one: email and password. Returns the cookie token of a session that still needs TOTP (unless
   * the operator has none). Limited per client first. An unknown address, a disabled operator, a
   * locked one and a wrong password all cost one password verification and get the same
   * invalid_operator_credentials, so sign-in does not tell who is an operator.
   */
  async signIn(context: OperationContext, emailAddress: string, password: string): Promise<{ token: string; identity: ConsoleIdentity }> {
    await this.#signInLimit(context);
    const now = this.#clock.now();
    const found = await this.#store.operators.findOperatorByEmail(emailAddress.trim().toLowerCase());
    const operator = found?.disabledAt === null ? found : undefined;
    // The attempt is taken before the password is checked: a burst of guesses cannot all be checked before the lock applies.
    const claim = operator === undefined ? undefined : await this.#claim(operator, now);
    const isMatch = await this.#hasher.verify(operator !== undefined && claim !== undefined ? operator.passwordHash : await this.#decoy(), password);
    if (operator === undefined) throw operatorError('invalid_operator_credentials');
    if (claim === undefined) {
      await this.#recordFailure(context, operator, 'locked', undefined);
      throw operatorError('invalid_operator_credentials');
    }
    if (!isMatch) {
      await this.#recordFailure(context, operator, 'password', claim);
      throw operatorError('invalid_operator_credentials');
    }
    return this.#startSession(context, operator, claim, now);
  }

  /**
   * Step two (and step-up before impersonating): a current TOTP code, never the same step twice.
   * Either way the session is replaced: the old one is revoked and a new token is returned, so a
   * token seen or planted before the code was entered never becomes a full session, nor one that
   * may impersonate without a fresh code.
   */
  async verifyTotp(context: OperationContext, identity: ConsoleIdentity, code: string): Promise<VerifiedIdentity> {
    const now = this.#clock.now();
    const at = toTimestamp(now);
    const operator = identity.operator;
    const claim = await this.#claim(operator, now);
    if (claim === undefined) {
      await this.#recordFailure(context, operator, 'locked', undefined);
      throw operatorError('operator_locked');
    }
    const secret = this.#operators.totpSecretOf(operator);
    const step = secret === null ? undefined : verifyTotp(secret, code.trim(), now);
    if (step === undefined || (operator.lastTotpStep !== null && step <= operator.lastTotpStep)) {
      await this.#recordFailure(context, operator, 'totp', claim);
      throw operatorError('invalid_operator_credentials');
    }
    const verified = await this.#store.transaction(async (tx): Promise<VerifiedIdentity | undefined> => {
      // Still enabled, still the same password, and this step not used meanwhile (replay in a race).
      const stored = await tx.operators.acceptTotp(operator.operatorId, { passwordHash: operator.passwordHash, sealedTotpSecret: operator.sealedTotpSecret ?? '', step, at });
      if (stored === undefined) return undefined;
      // Finishing a sign-in and a step-up before impersonating both raise what the cookie can do:
      // each gets a new token and the old one is revoked, so a token seen before never gains that.
      if (!(await tx.operators.revokeConsoleSession(identity.session.consoleSessionId, at))) return undefined;
      const token = createOpaqueToken(this.#random);
      // The new session keeps the absolute end counted from the password step.
      const session = newConsoleSession(this.#ids, operator.operatorId, at, identity.session.expiresAt, at);
      await tx.operators.insertConsoleSession(session, { lookupId: token.lookupId, digest: token.digest });
      if (!identity.isFullySignedIn) {
        await this.#audit.record(tx.audit, context, { type: 'operator.signed_in', organizationId: null, occurredAt: at, details: { operator_id: operator.operatorId } });
      }
      return { operator: stored, session, isFullySignedIn: true, token: token.token };
    });
    if (verified === undefined) {
      await this.#recordFailure(context, operator, 'totp', claim);
      throw operatorError('invalid_operator_credentials');
    }
    return verified;
  }

  /**
   * Proving both factors again while signed in, before replacing them (one's own authenticator): the
   * password and, when the operator has TOTP, a current code. Counted like sign-in attempts (a wrong
   * one towards the lockout, replays refused), and, as after any step up, the session is replaced:
   * the old cookie is revoked, so one copied before never carries what this proof allows next.
   */
  async reauthenticate(context: OperationContext, identity: ConsoleIdentity, password: string, code: string): Promise<VerifiedIdentity> {
    const now = this.#clock.now();
    const at = toTimestamp(now);
    const operator = identity.operator;
    const claim = await this.#claim(operator, now);
    if (claim === undefined) {
      await this.#recordFailure(context, operator, 'locked', undefined);
      throw operatorError('operator_locked');
    }
    if (!(await this.#hasher.verify(operator.passwordHash, password))) {
      await this.#recordFailure(context, operator, 'password', claim);
      throw operatorError('invalid_operator_credentials');
    }
    const secret = this.#operators.totpSecretOf(operator);
    const step = secret === null ? undefined : verifyTotp(secret, code.trim(), now);
    if (secret !== null && (step === undefined || (operator.lastTotpStep !== null && step <= operator.lastTotpStep))) {
      await this.#recordFailure(context, operator, 'totp', claim);
      throw operatorError('invalid_operator_credentials');
    }
    const verified = await this.#store.transaction(async (tx): Promise<VerifiedIdentity | undefined> => {
      // Still enabled with the password (and secret) just checked; the code's step not used meanwhile.
      const stored =
        step === undefined
          ? await tx.operators.acceptPassword(operator.operatorId, { passwordHash: operator.passwordHash, at, completesSignIn: true, claim })
          : await tx.operators.acceptTotp(operator.operatorId, { passwordHash: operator.passwordHash, sealedTotpSecret: operator.sealedTotpSecret ?? '', step, at });
      if (stored === undefined || !(await tx.operators.revokeConsoleSession(identity.session.consoleSessionId, at))) return undefined;
      const token = createOpaqueToken(this.#random);
      // A code checked now counts as a fresh TOTP (as after a step-up); a password alone does not.
      const session = newConsoleSession(this.#ids, operator.operatorId, at, identity.session.expiresAt, step === undefined ? null : at);
      await tx.operators.insertConsoleSession(session, { lookupId: token.lookupId, digest: token.digest });
      await this.#audit.record(tx.audit, context, {
        type: 'operator.reauthenticated',
        organizationId: null,
        occurredAt: at,
        details: { operator_id: operator.operatorId, with_totp: step !== undefined },
      });
      return { operator: stored, session, isFullySignedIn: true, token: token.token };
    });
    if (verified === undefined) {
      await this.#recordFailure(context, operator, step === undefined ? 'password' : 'totp', claim);
      throw operatorError('invalid_operator_credentials');
    }
    return verified;
  }

  /**
   * The identity behind a console cookie, or undefined when it is unknown, revoked, idle too
   * long, past its absolute end, or its operator is disabled. Refreshes the idle timer.
   */
  async resolve(token: string | undefined): Promise<ConsoleIdentity | undefined> {
    const found = await findByOpaqueToken(token, (lookupId) => this.#store.operators.findConsoleSession(lookupId), (stored) => stored.digest);
    if (found === undefined) return undefined;
    const now = this.#clock.now();
    const session = found.session;
    const idleLimit = new Date(new Date(session.lastSeenAt).getTime() + SESSION_IDLE_MINUTES * 60_000);
    if (session.revokedAt !== null || toTimestamp(now) >= session.expiresAt || now >= idleLimit) return undefined;
    const operator = await this.#store.operators.findOperatorById(session.operatorId);
    if (operator === undefined || operator.disabledAt !== null) return undefined;
    // An operator who must set up a new authenticator is never fully signed in, whatever a session
    // started before the reset recorded.
    const isFullySignedIn = !needsTotpEnrolment(operator) && (session.totpVerifiedAt !== null || !hasSecondStep(operator));
    // A half-signed-in session (password only) must finish TOTP quickly or start over.
    if (!isFullySignedIn && now.getTime() - new Date(session.createdAt).getTime() > TOTP_STEP_MINUTES * 60_000) return undefined;
    const refreshed = { ...session, lastSeenAt: toTimestamp(now) };
    // Only last-seen, and only while unrevoked: a sign-out or disable committed meanwhile stays.
    await this.#store.operators.touchConsoleSession(session.consoleSessionId, refreshed.lastSeenAt);
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
      await tx.operators.revokeConsoleSession(identity.session.consoleSessionId, at);
      await this.#audit.record(tx.audit, context, { type: 'operator.signed_out', organizationId: null, occurredAt: at, details: { operator_id: identity.operator.operatorId } });
    });
  }

  async #startSession(context: OperationContext, operator: Operator, claim: SignInClaim, now: Date): Promise<{ token: string; identity: ConsoleIdentity }> {
    const at = toTimestamp(now);
    const token = createOpaqueToken(this.#random);
    // A code to enter, or (after an admin reset the operator's TOTP) a new authenticator to set up.
    const hasTotp = hasSecondStep(operator);
    const session = newConsoleSession(this.#ids, operator.operatorId, at, toTimestamp(new Date(now.getTime() + SESSION_ABSOLUTE_HOURS * 3_600_000)));
    const stored = await this.#store.transaction(async (tx) => {
      // Failures are cleared only when sign-in is complete: clearing them after the password step
      // would let someone holding the password guess TOTP codes forever, 4 at a time. With TOTP to
      // come, the attempt is only handed back. Either way only while the operator is still enabled
      // with the password just checked; the row is written before the session, so a concurrent
      // disable or reset either sees this session (and revokes it) or has already refused it here.
      const accepted = await tx.operators.acceptPassword(operator.operatorId, { passwordHash: operator.passwordHash, at, completesSignIn: !hasTotp, claim });
      if (accepted === undefined) return undefined;
      await tx.operators.insertConsoleSession(session, { lookupId: token.lookupId, digest: token.digest });
      if (!hasTotp) await this.#audit.record(tx.audit, context, { type: 'operator.signed_in', organizationId: null, occurredAt: at, details: { operator_id: operator.operatorId } });
      return accepted;
    });
    if (stored === undefined) throw operatorError('invalid_operator_credentials');
    return { token: token.token, identity: { operator: stored, session, isFullySignedIn: !hasTotp } };
  }

  /** One of the operator's attempts, taken atomically; undefined while they are locked (or disabled). */
  #claim(operator: Operator, now: Date): Promise<SignInClaim | undefined> {
    return this.#store.operators.claimSignInAttempt(operator.operatorId, {
      at: toTimestamp(now),
      maxAttempts: MAX_FAILED_ATTEMPTS,
      lockUntil: toTimestamp(new Date(now.getTime() + LOCKOUT_MINUTES * 60_000)),
    });
  }

  #decoy(): Promise<string> {
    this.#decoyHash ??= this.#hasher.hash(this.#random.bytes(16).toString('hex'));
    return this.#decoyHash;
  }

  /**
   * Audits a refused attempt. The count was already taken by the claim (before the check, so it
   * cannot be raced); this only records it: `operator.locked` when this attempt set the lock.
   */
  async #recordFailure(context: OperationContext, operator: Operator, why: 'password' | 'totp' | 'locked', claim: SignInClaim | undefined): Promise<void> {
    const at = toTimestamp(this.#clock.now());
    const locks = claim !== undefined && claim.lockedUntil !== null;
    await this.#store.transaction(async (tx) => {
      await this.#audit.record(tx.audit, context, {
        type: locks ? 'operator.locked' : 'operator.sign_in_failed',
        organizationId: null,
        occurredAt: at,
        // A locked operator's refusal took no claim: its count is the one read when the attempt began.
        details: { operator_id: operator.operatorId, why, failed_attempts: claim?.failedAttempts ?? operator.failedAttempts },
      });
    });
  }
}
