import type { ConsoleSession, Operator } from './operator.js';

/** Storage port for console operators and their browser sessions. */
export interface OperatorsStore {
  /** Throws UniqueConstraintError('email_address') when the address is taken. */
  insertOperator(operator: Operator): Promise<void>;
  /** Replaces every stored field of the operator; no-op when unknown. */
  updateOperator(operator: Operator): Promise<void>;
  /** The operator with this (lower-case) email address, or undefined. */
  findOperatorByEmail(emailAddress: string): Promise<Operator | undefined>;
  findOperatorById(operatorId: string): Promise<Operator | undefined>;
  /** Every operator, oldest first; [] when none. */
  listOperators(): Promise<Operator[]>;
  insertConsoleSession(session: ConsoleSession, token: { lookupId: string; digest: Buffer }): Promise<void>;
  /** The session whose token has this lookup id, with its digest, whatever its state; undefined when none. */
  findConsoleSession(lookupId: string): Promise<{ session: ConsoleSession; digest: Buffer } | undefined>;
  /** Writes last-seen, TOTP-verified and revoked times; no-op when unknown. */
  updateConsoleSession(session: ConsoleSession): Promise<void>;
  /** Revokes every live console session of the operator; returns how many. */
  revokeConsoleSessionsOf(operatorId: string, at: string): Promise<number>;
}
