import { createOpaqueToken } from '../../crypto/opaque-token.js';
import { newTotpSecret, totpUri, verifyTotp } from '../../crypto/totp.js';
import type { Clock } from '../../platform/clock.js';
import { toTimestamp } from '../../platform/clock.js';
import type { IdGenerator } from '../../platform/ids.js';
import type { Random } from '../../platform/random.js';
import type { AuditRecorder } from '../audit/audit-recorder.js';
import type { AuditStore } from '../audit/audit-store.js';
import type { OperationContext } from '../common/operation-context.js';
import type { Transactional } from '../common/transactional.js';
import type { ConsoleAuthService, ConsoleIdentity, VerifiedIdentity } from './console-auth-service.js';
import { operatorError } from './errors.js';
import { needsTotpEnrolment, newConsoleSession, TOTP_ENROLMENT_MINUTES, TOTP_STEP_MINUTES } from './operator.js';
import type { OperatorsService } from './operators-service.js';
import type { OperatorsStore } from './operators-store.js';
import { openEnrolmentTicket, sealEnrolmentTicket, type TicketBinding } from './totp-enrolment-ticket.js';

type Ports = { operators: OperatorsStore; audit: AuditStore };

/** A new authenticator being set up: shown once, written only when a code from it is entered. */
export interface TotpEnrolment {
  /** Base32, for typing into an authenticator app. */
  readonly secret: string;
  /** The otpauth:// URI (and QR code) an app scans. */
  readonly uri: string;
  /** What the confirmation form carries back: the secret, sealed and bound to this session. */
  readonly ticket: string;
  readonly expiresAt: string;
}

/**
 * Operators' own TOTP: replacing one's authenticator (after proving the password and a current code
 * again) and setting up a new one at sign-in after an admin reset it. Either way the new secret
 * replaces the old one only once a code from it has been entered, so a mistyped or unscanned
 * secret never locks anyone out; until then nothing is stored.
 */
export class OperatorTotpService {
  readonly #store: Transactional<Ports>;
  readonly #consoleAuth: ConsoleAuthService;
  readonly #operators: OperatorsService;
  readonly #clock: Clock;
  readonly #random: Random;
  readonly #ids: IdGenerator;
  readonly #audit: AuditRecorder;
  readonly #masterKey: Buffer;

  constructor(dependencies: {
    store: Transactional<Ports>;
    consoleAuth: ConsoleAuthService;
    operators: OperatorsService;
    clock: Clock;
    random: Random;
    ids: IdGenerator;
    audit: AuditRecorder;
    masterKey: Buffer;
  }) {
    this.#store = dependencies.store;
    this.#consoleAuth = dependencies.consoleAuth;
    this.#operators = dependencies.operators;
    this.#clock = dependencies.clock;
    this.#random = dependencies.random;
    this.#ids = dependencies.ids;
    this.#audit = dependencies.audit;
    this.#masterKey = dependencies.masterKey;
  }

  /**
   * A signed-in operator replacing their own authenticator: the password and (when they have TOTP)
   * a current code first, counted like sign-in attempts. The session is replaced by the proof; the
   * new secret is bound to the new one.
   */
  async startReplacement(context: OperationContext, identity: ConsoleIdentity, password: string, code: string): Promise<{ identity: VerifiedIdentity; enrolment: TotpEnrolment }> {
    if (!identity.isFullySignedIn) throw operatorError('operator_forbidden');
    const verified = await this.#consoleAuth.reauthenticate(context, identity, password, code);
    return { identity: verified, enrolment: this.#mint(verified) };
  }

  /** At sign-in, after the password, for an operator whose TOTP an admin reset: a new secret to set up. */
  startEnrolment(identity: ConsoleIdentity): TotpEnrolment {
    if (identity.isFullySignedIn || !needsTotpEnrolment(identity.operator)) throw operatorError('operator_forbidden', 'There is no authenticator to set up.');
    // The half-signed-in session ends TOTP_STEP_MINUTES after the password: so does the setup.
    return this.#mint(identity, new Date(new Date(identity.session.createdAt).getTime() + TOTP_STEP_MINUTES * 60_000));
  }

  /** A setup started in this session, shown again (after a mistyped code) while it can still be confirmed. */
  reopen(identity: ConsoleIdentity, ticket: string): TotpEnrolment {
    const opened = openEnrolmentTicket(ticket, bindingOf(identity), this.#clock.now(), this.#masterKey);
    if (opened === undefined) throw operatorError('operator_totp_enrolment_invalid');
    return { secret: opened.secret, uri: totpUri(opened.secret, identity.operator.emailAddress), ticket, expiresAt: toTimestamp(opened.expiresAt) };
  }

  /**
   * A code from the new secret: it replaces the old one (or none), every console session of the
   * operator ends, and this browser gets a new, fully signed-in one. Refused, with nothing written,
   * when the code is wrong, the setup has expired or was finished already, or the operator's TOTP,
   * password or status changed meanwhile. A wrong code does not count towards the lockout: it
   * guesses nothing, since whoever has the page has the secret.
   */
  async confirm(context: OperationContext, identity: ConsoleIdentity, ticket: string, code: string): Promise<VerifiedIdentity> {
    const now = this.#clock.now();
    const at = toTimestamp(now);
    const operator = identity.operator;
    const opened = openEnrolmentTicket(ticket, bindingOf(identity), now, this.#masterKey);
    if (opened === undefined) throw operatorError('operator_totp_enrolment_invalid');
    const step = verifyTotp(opened.secret, code.trim(), now);
    if (step === undefined) throw operatorError('invalid_operator_credentials', 'That code does not match the new authenticator entry. Enter the code your app shows for it now.');
    const atSignIn = !identity.isFullySignedIn;
    // Setting up at sign-in stands in for the code step only for an operator who has no code to
    // enter (an admin reset their TOTP); anyone else half-signed-in enters a code from the one they have.
    if (atSignIn && !needsTotpEnrolment(operator)) throw operatorError('operator_totp_enrolment_invalid');
    const sealed = this.#operators.sealTotpSecret(operator.operatorId, opened.secret);
    return this.#store.transaction(async (tx) => {
      // The operator row first, then sessions, as every other change of an operator (a reset,
      // disable or sign-in) locks them: the other order deadlocks against a reset. Only while the
      // secret is still the one the setup started from (none, at sign-in), with the same password
      // and not disabled.
      const stored = await tx.operators.replaceTotpSecret(operator.operatorId, { expectedSealed: operator.sealedTotpSecret, sealed, passwordHash: operator.passwordHash, step, at });
      if (stored === undefined) throw operatorError('operator_totp_enrolment_invalid');
      // This browser's session: a sign-out committed meanwhile refuses the setup; throwing rolls
      // back the secret written above.
      if (!(await tx.operators.revokeConsoleSession(identity.session.consoleSessionId, at))) throw operatorError('operator_totp_enrolment_invalid');
      // Whoever held the old authenticator (or a copied cookie) is signed out everywhere.
      await tx.operators.revokeConsoleSessionsOf(operator.operatorId, at);
      const token = createOpaqueToken(this.#random);
      const session = newConsoleSession(this.#ids, operator.operatorId, at, identity.session.expiresAt, at);
      await tx.operators.insertConsoleSession(session, { lookupId: token.lookupId, digest: token.digest });
      const details = { operator_id: operator.operatorId, email_address: operator.emailAddress };
      await this.#audit.record(tx.audit, context, { type: atSignIn ? 'operator.totp_enrolled' : 'operator.totp_replaced', organizationId: null, occurredAt: at, details });
      if (atSignIn) await this.#audit.record(tx.audit, context, { type: 'operator.signed_in', organizationId: null, occurredAt: at, details: { operator_id: operator.operatorId } });
      return { operator: stored, session, isFullySignedIn: true, token: token.token };
    });
  }

  #mint(identity: ConsoleIdentity, endsBy?: Date): TotpEnrolment {
    const secret = newTotpSecret(this.#random.bytes(20));
    const full = this.#clock.now().getTime() + TOTP_ENROLMENT_MINUTES * 60_000;
    const expiresAt = new Date(endsBy === undefined ? full : Math.min(full, endsBy.getTime()));
    const ticket = sealEnrolmentTicket(secret, bindingOf(identity), expiresAt, { masterKey: this.#masterKey, random: this.#random });
    return { secret, uri: totpUri(secret, identity.operator.emailAddress), ticket, expiresAt: toTimestamp(expiresAt) };
  }
}

function bindingOf(identity: ConsoleIdentity): TicketBinding {
  return { operatorId: identity.operator.operatorId, consoleSessionId: identity.session.consoleSessionId, currentSealed: identity.operator.sealedTotpSecret };
}
