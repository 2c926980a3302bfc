import { sql, type Kysely, type Selectable } from 'kysely';
import type { ConsoleSession, Operator, OperatorRole } from '../../domain/operators/operator.js';
import type { OperatorsStore, SignInClaim } from '../../domain/operators/operators-store.js';
import type { ReadForUpdate } from '../../domain/common/read-for-update.js';
import type { ConsoleSessionRow, Database, OperatorRow } from '../database.js';
import { translateUniqueViolation } from './unique-violation.js';

export class OperatorsSqlStore implements OperatorsStore {
  readonly #db: Kysely<Database>;
  readonly #dialect: 'sqlite' | 'postgres';

  constructor(db: Kysely<Database>, dialect: 'sqlite' | 'postgres') {
    this.#db = db;
    this.#dialect = dialect;
  }

  async insertOperator(operator: Operator): Promise<void> {
    await translateUniqueViolation(['email_address'], () => this.#db.insertInto('operators').values(operatorToRow(operator)).execute());
  }

  async disableOperator(operatorId: string, at: string): Promise<Operator | undefined> {
    const row = await this.#db
      .updateTable('operators')
      .set({ disabled_at: sql<string>`coalesce(disabled_at, ${at})`, updated_at: at })
      .where('operator_id', '=', operatorId)
      .returningAll()
      .executeTakeFirst();
    return row === undefined ? undefined : operatorFromRow(row);
  }

  async replacePassword(operatorId: string, passwordHash: string, at: string): Promise<Operator | undefined> {
    const row = await this.#db
      .updateTable('operators')
      .set({ password_hash: passwordHash, failed_attempts: 0, locked_until: null, updated_at: at })
      .where('operator_id', '=', operatorId)
      .returningAll()
      .executeTakeFirst();
    return row === undefined ? undefined : operatorFromRow(row);
  }

  async claimSignInAttempt(operatorId: string, claim: { at: string; maxAttempts: number; lockUntil: string }): Promise<SignInClaim | undefined> {
    // One statement: the database serializes concurrent claims on the row, and each sees the count
    // the previous one left. Every SET expression reads the row as it was before this statement.
    const failedAttempts = sql<number>`(case when locked_until is not null and locked_until <= ${claim.at} then 1 else failed_attempts + 1 end)`;
    const row = await this.#db
      .updateTable('operators')
      .set({
        failed_attempts: failedAttempts,
        locked_until: sql<string | null>`(case when ${failedAttempts} >= ${claim.maxAttempts} then ${claim.lockUntil} else null end)`,
        updated_at: claim.at,
      })
      .where('operator_id', '=', operatorId)
      .where('disabled_at', 'is', null)
      .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<=', claim.at)]))
      .returning(['failed_attempts', 'locked_until'])
      .executeTakeFirst();
    return row === undefined ? undefined : { failedAttempts: Number(row.failed_attempts), lockedUntil: row.locked_until };
  }

  async acceptPassword(operatorId: string, accepted: { passwordHash: string; at: string; completesSignIn: boolean; claim: SignInClaim }): Promise<Operator | undefined> {
    const lockedBy = accepted.claim.lockedUntil;
    const changes = accepted.completesSignIn
      ? { failed_attempts: 0, locked_until: null, updated_at: accepted.at }
      : {
          failed_attempts: sql<number>`(case when failed_attempts > 0 then failed_attempts - 1 else 0 end)`,
          ...(lockedBy !== null && { locked_until: sql<string | null>`(case when locked_until = ${lockedBy} then null else locked_until end)` }),
          updated_at: accepted.at,
        };
    const row = await this.#db
      .updateTable('operators')
      .set(changes)
      .where('operator_id', '=', operatorId)
      .where('disabled_at', 'is', null)
      .where('password_hash', '=', accepted.passwordHash)
      .returningAll()
      .executeTakeFirst();
    return row === undefined ? undefined : operatorFromRow(row);
  }

  async acceptTotp(operatorId: string, accepted: { passwordHash: string; sealedTotpSecret: string; step: number; at: string }): Promise<Operator | undefined> {
    const row = await this.#db
      .updateTable('operators')
      .set({ last_totp_step: accepted.step, failed_attempts: 0, locked_until: null, updated_at: accepted.at })
      .where('operator_id', '=', operatorId)
      .where('disabled_at', 'is', null)
      .where('password_hash', '=', accepted.passwordHash)
      .where('sealed_totp_secret', '=', accepted.sealedTotpSecret)
      .where((eb) => eb.or([eb('last_totp_step', 'is', null), eb('last_totp_step', '<', accepted.step)]))
      .returningAll()
      .executeTakeFirst();
    return row === undefined ? undefined : operatorFromRow(row);
  }

  async replaceTotpSecret(
    operatorId: string,
    replacement: { expectedSealed: string | null; sealed: string; passwordHash: string; step: number; at: string },
  ): Promise<Operator | undefined> {
    const expected = replacement.expectedSealed;
    const row = await this.#db
      .updateTable('operators')
      .set({ sealed_totp_secret: replacement.sealed, last_totp_step: replacement.step, failed_attempts: 0, locked_until: null, updated_at: replacement.at })
      .where('operator_id', '=', operatorId)
      .where('disabled_at', 'is', null)
      .where('password_hash', '=', replacement.passwordHash)
      .where((eb) => (expected === null ? eb('sealed_totp_secret', 'is', null) : eb('sealed_totp_secret', '=', expected)))
      .returningAll()
      .executeTakeFirst();
    return row === undefined ? undefined : operatorFromRow(row);
  }

  async clearTotpSecret(operatorId: string, at: string): Promise<Operator | undefined> {
    const row = await this.#db
      .updateTable('operators')
      .set({ sealed_totp_secret: null, updated_at: at })
      .where('operator_id', '=', operatorId)
      .where('sealed_totp_secret', 'is not', null)
      .returningAll()
      .executeTakeFirst();
    return row === undefined ? undefined : operatorFromRow(row);
  }

  async findOperatorByEmail(emailAddress: string): Promise<Operator | undefined> {
    const row = await this.#db.selectFrom('operators').selectAll().where('email_address', '=', emailAddress).executeTakeFirst();
    return row === undefined ? undefined : operatorFromRow(row);
  }

  async findOperatorById(operatorId: string, options: ReadForUpdate = {}): Promise<Operator | undefined> {
    const select = this.#db.selectFrom('operators').selectAll().where('operator_id', '=', operatorId);
    // Row locks only on PostgreSQL: a SQLite transaction holds the database's write lock from its start.
    const locked = this.#dialect !== 'postgres' ? select : options.forUpdate === true ? select.forUpdate() : options.forShare === true ? select.forShare() : select;
    const row = await locked.executeTakeFirst();
    return row === undefined ? undefined : operatorFromRow(row);
  }

  async listOperators(): Promise<Operator[]> {
    const rows = await this.#db.selectFrom('operators').selectAll().orderBy('created_at').orderBy('operator_id').execute();
    return rows.map(operatorFromRow);
  }

  async insertConsoleSession(session: ConsoleSession, token: { lookupId: string; digest: Buffer }): Promise<void> {
    await this.#db
      .insertInto('console_sessions')
      .values({ ...sessionToRow(session), token_lookup_id: token.lookupId, token_digest: token.digest.toString('base64url') })
      .execute();
  }

  async findConsoleSession(lookupId: string): Promise<{ session: ConsoleSession; digest: Buffer } | undefined> {
    const row = await this.#db.selectFrom('console_sessions').selectAll().where('token_lookup_id', '=', lookupId).executeTakeFirst();
    return row === undefined ? undefined : { session: sessionFromRow(row), digest: Buffer.from(row.token_digest, 'base64url') };
  }

  async touchConsoleSession(consoleSessionId: string, at: string): Promise<void> {
    await this.#db.updateTable('console_sessions').set({ last_seen_at: at }).where('console_session_id', '=', consoleSessionId).where('revoked_at', 'is', null).execute();
  }

  async revokeConsoleSession(consoleSessionId: string, at: string): Promise<boolean> {
    const result = await this.#db
      .updateTable('console_sessions')
      .set({ revoked_at: at })
      .where('console_session_id', '=', consoleSessionId)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async revokeConsoleSessionsOf(operatorId: string, at: string): Promise<number> {
    const result = await this.#db
      .updateTable('console_sessions')
      .set({ revoked_at: at })
      .where('operator_id', '=', operatorId)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }
}

function operatorToRow(operator: Operator): OperatorRow {
  return {
    operator_id: operator.operatorId,
    email_address: operator.emailAddress,
    name: operator.name,
    role: operator.role,
    password_hash: operator.passwordHash,
    sealed_totp_secret: operator.sealedTotpSecret,
    last_totp_step: operator.lastTotpStep,
    failed_attempts: operator.failedAttempts,
    locked_until: operator.lockedUntil,
    disabled_at: operator.disabledAt,
    created_at: operator.createdAt,
    updated_at: operator.updatedAt,
  };
}

function operatorFromRow(row: Selectable<OperatorRow>): Operator {
  return {
    operatorId: row.operator_id,
    emailAddress: row.email_address,
    name: row.name,
    role: row.role as OperatorRole,
    passwordHash: row.password_hash,
    sealedTotpSecret: row.sealed_totp_secret,
    // PostgreSQL returns bigint columns as strings.
    lastTotpStep: row.last_totp_step === null ? null : Number(row.last_totp_step),
    failedAttempts: Number(row.failed_attempts),
    lockedUntil: row.locked_until,
    disabledAt: row.disabled_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function sessionToRow(session: ConsoleSession): Omit<ConsoleSessionRow, 'token_lookup_id' | 'token_digest'> {
  return {
    console_session_id: session.consoleSessionId,
    operator_id: session.operatorId,
    created_at: session.createdAt,
    last_seen_at: session.lastSeenAt,
    expires_at: session.expiresAt,
    totp_verified_at: session.totpVerifiedAt,
    revoked_at: session.revokedAt,
  };
}

function sessionFromRow(row: Selectable<ConsoleSessionRow>): ConsoleSession {
  return {
    consoleSessionId: row.console_session_id,
    operatorId: row.operator_id,
    createdAt: row.created_at,
    lastSeenAt: row.last_seen_at,
    expiresAt: row.expires_at,
    totpVerifiedAt: row.totp_verified_at,
    revokedAt: row.revoked_at,
  };
}
