import { decryptPrivateKey, encryptPrivateKey } from '../../crypto/keys/key-encryption.js';
import type { PasswordHasher } from '../../crypto/passwords/password-hasher.js';
import { newTotpSecret, totpUri } from '../../crypto/totp.js';
import type { Clock } from '../../platform/clock.js';
import { toTimestamp } from '../../platform/clock.js';
import type { IdGenerator } from '../../platform/ids.js';
import type { Random } from '../../platform/random.js';
import type { AuditRecorder } from '../audit/audit-recorder.js';
import type { DomainEventPublisher } from '../common/domain-events.js';
import { normalizeEmail } from '../members/member.js';
import type { OperationContext } from '../common/operation-context.js';
import type { Transactional } from '../common/transactional.js';
import { UniqueConstraintError } from '../common/unique-constraint-error.js';
import type { StorePorts } from '../ports.js';
import { operatorError } from './errors.js';
import { checkReason } from './reason.js';
import { MIN_PASSWORD_LENGTH, OPERATOR_ROLES, requiresTotp, type Operator, type OperatorRole } from './operator.js';

/** Transactions bind every port: a published event's subscribers (impersonation) write theirs in it. */
export type OperatorsServiceStore = Transactional<StorePorts>;

/** What a new operator (or a reset) needs to sign in; shown once, never stored in clear. */
export interface OperatorCredentials {
  readonly operator: Operator;
  readonly password: string;
  readonly totpSecret: string | null;
  readonly totpUri: string | null;
}

/** Managing console operators (the `understudy operators` command and the admin page). */
export class OperatorsService {
  readonly #store: OperatorsServiceStore;
  readonly #hasher: PasswordHasher;
  readonly #clock: Clock;
  readonly #random: Random;
  readonly #ids: IdGenerator;
  readonly #audit: AuditRecorder;
  readonly #masterKey: Buffer;
  readonly #events: DomainEventPublisher<StorePorts>;

  constructor(dependencies: {
    store: OperatorsServiceStore;
    hasher: PasswordHasher;
    clock: Clock;
    random: Random;
    ids: IdGenerator;
    audit: AuditRecorder;
    masterKey: Buffer;
    /** Told when an operator is disabled or reset, in that transaction: what they are impersonating ends with it. */
    events: DomainEventPublisher<StorePorts>;
  }) {
    this.#store = dependencies.store;
    this.#hasher = dependencies.hasher;
    this.#clock = dependencies.clock;
    this.#random = dependencies.random;
    this.#ids = dependencies.ids;
    this.#audit = dependencies.audit;
    this.#masterKey = dependencies.masterKey;
    this.#events = dependencies.events;
  }

  /**
   * Creates an operator with a generated password (or the given one) and, for roles that can
   * impersonate (or when asked), a TOTP secret. The returned credentials are the only copy.
   */
  async create(
    context: OperationContext,
    input: { emailAddress: string; name: string; role: string; password?: string | undefined; withTotp?: boolean | undefined },
  ): Promise<OperatorCredentials> {
    const role = checkRole(input.role);
    const name = input.name.trim();
    if (name === '' || name.length > 200) throw operatorError('invalid_operator_name');
    const password = input.password ?? this.#generatedPassword();
    if (password.length < MIN_PASSWORD_LENGTH) throw operatorError('weak_operator_password');
    const now = toTimestamp(this.#clock.now());
    const operatorId = this.#ids.next('operator');
    const totpSecret = requiresTotp(role) || input.withTotp === true ? newTotpSecret(this.#random.bytes(20)) : null;
    const operator: Operator = {
      operatorId,
      emailAddress: normalizeEmail(input.emailAddress),
      name,
      role,
      passwordHash: await this.#hasher.hash(password),
      sealedTotpSecret: totpSecret === null ? null : this.#seal(operatorId, totpSecret),
      lastTotpStep: null,
      failedAttempts: 0,
      lockedUntil: null,
      disabledAt: null,
      createdAt: now,
      updatedAt: now,
    };
    await this.#store.transaction(async (tx) => {
      if ((await tx.operators.findOperatorByEmail(operator.emailAddress)) !== undefined) throw operatorError('operator_email_already_used');
      try {
        await tx.operators.insertOperator(operator);
      } catch (error) {
        if (error instanceof UniqueConstraintError) throw operatorError('operator_email_already_used');
        throw error;
      }
      await this.#audit.record(tx.audit, context, {
        type: 'operator.created',
        organizationId: null,
        occurredAt: now,
        details: { operator_id: operatorId, email_address: operator.emailAddress, role },
      });
    });
    return { operator, password, totpSecret, totpUri: totpSecret === null ? null : totpUri(totpSecret, operator.emailAddress) };
  }

  async list(): Promise<Operator[]> {
    return this.#store.operators.listOperators();
  }

  /** Disables the operator and ends their console sessions and impersonations at once. */
  async disable(context: OperationContext, emailOrId: string): Promise<Operator> {
    return this.#change(context, emailOrId, 'operator.disabled', {}, async (operator, tx, now) => {
      const updated = await tx.operators.disableOperator(operator.operatorId, now);
      await tx.operators.revokeConsoleSessionsOf(operator.operatorId, now);
      return updated;
    });
  }

  /** A new password (generated unless given), clearing any lockout; ends the operator's sessions and impersonations. */
  async resetPassword(context: OperationContext, emailOrId: string, password?: string): Promise<{ operator: Operator; password: string }> {
    const next = password ?? this.#generatedPassword();
    if (next.length < MIN_PASSWORD_LENGTH) throw operatorError('weak_operator_password');
    const passwordHash = await this.#hasher.hash(next);
    const operator = await this.#change(context, emailOrId, 'operator.password_reset', {}, async (current, tx, now) => {
      const updated = await tx.operators.replacePassword(current.operatorId, passwordHash, now);
      await tx.operators.revokeConsoleSessionsOf(current.operatorId, now);
      return updated;
    });
    return { operator, password: next };
  }

  /**
   * An admin (or the CLI) clears the operator's TOTP, e.g. when they lost their authenticator. Their
   * console sessions and the impersonations they started end at once (whoever holds the lost
   * authenticator may have started them); at their next sign-in, after the password, they set up a
   * new authenticator (viewers, whose TOTP is optional, sign in with their password alone). An
   * operator without TOTP is refused with operator_totp_not_set, and nothing is written.
   */
  async resetTotp(context: OperationContext, emailOrId: string, reason: string | undefined): Promise<Operator> {
    const why = checkReason(reason);
    // The row first, then the sessions: a sign-in finishing meanwhile either committed its session
    // before (revoked here) or finds the secret gone and must set up a new one.
    return this.#change(context, emailOrId, 'operator.totp_reset', { reason: why }, async (current, tx, now) => {
      if (current.sealedTotpSecret === null) throw operatorError('operator_totp_not_set');
      // Only while it still has one: a reset committed meanwhile leaves nothing to clear, and nothing is written.
      const updated = await tx.operators.clearTotpSecret(current.operatorId, now);
      if (updated === undefined) throw operatorError('operator_totp_not_set');
      await tx.operators.revokeConsoleSessionsOf(current.operatorId, now);
      return updated;
    });
  }

  /** Seals a TOTP secret for the operator's row (AES-256-GCM under the master key, bound to the operator id). */
  sealTotpSecret(operatorId: string, secret: string): string {
    return this.#seal(operatorId, secret);
  }

  /** The operator's TOTP secret in clear, for verification; null when they have none. */
  totpSecretOf(operator: Operator): string | null {
    return operator.sealedTotpSecret === null ? null : decryptPrivateKey(operator.sealedTotpSecret, { masterKey: this.#masterKey, kid: operator.operatorId });
  }

  async #change(
    context: OperationContext,
    emailOrId: string,
    type: 'operator.disabled' | 'operator.password_reset' | 'operator.totp_reset',
    /** Recorded with the audit event beside the operator's id and address (a reset's reason). */
    details: Readonly<Record<string, string>>,
    /**
     * Changes only the columns it means to, in one statement, before anything else: a sign-in
     * attempt running meanwhile can then neither undo the change nor slip a session past it (the
     * row lock orders the two, and sessions are revoked after it). Returns the row as stored. The
     * event published next ends what the operator is impersonating (the operator row is locked first).
     */
    change: (operator: Operator, tx: StorePorts, now: string) => Promise<Operator | undefined>,
  ): Promise<Operator> {
    return this.#store.transaction(async (tx) => {
      const current = await findOperator(tx, emailOrId);
      if (current === undefined) throw operatorError('operator_not_found');
      const now = toTimestamp(this.#clock.now());
      const updated = await change(current, tx, now);
      if (updated === undefined) throw operatorError('operator_not_found');
      await this.#events.publish(tx, context, { type, operatorId: current.operatorId, emailAddress: current.emailAddress });
      await this.#audit.record(tx.audit, context, { type, organizationId: null, occurredAt: now, details: { operator_id: current.operatorId, email_address: current.emailAddress, ...details } });
      return updated;
    });
  }

  #seal(operatorId: string, secret: string): string {
    return encryptPrivateKey(secret, { masterKey: this.#masterKey, kid: operatorId, random: this.#random });
  }

  /** 24 random bytes as base64url: 32 characters, far beyond any guessing. */
  #generatedPassword(): string {
    return this.#random.bytes(24).toString('base64url');
  }
}

/** By email address (any case) when it holds an @, else by id. */
function findOperator(tx: StorePorts, emailOrId: string): Promise<Operator | undefined> {
  return emailOrId.includes('@') ? tx.operators.findOperatorByEmail(emailOrId.trim().toLowerCase()) : tx.operators.findOperatorById(emailOrId);
}

function checkRole(role: string): OperatorRole {
  if (!(OPERATOR_ROLES as readonly string[]).includes(role)) throw operatorError('invalid_operator_role');
  return role as OperatorRole;
}
