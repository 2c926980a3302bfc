import { sql, type Kysely, type Selectable } from 'kysely';
import type { ReadForUpdate } from '../../domain/common/read-for-update.js';
import type { PasswordFailures, PasswordsStore } from '../../domain/passwords/passwords-store.js';
import type { PasswordHash, PasswordHashConfig, PasswordHashType, StoredPassword } from '../../domain/passwords/stored-password.js';
import type { Database, MemberPasswordRow, PasswordFailureRow } from '../database.js';
import type { Dialect } from '../store.js';
import { fromJson, toJson } from './json-column.js';

export class PasswordsSqlStore implements PasswordsStore {
  readonly #db: Kysely<Database>;
  readonly #dialect: Dialect;

  constructor(db: Kysely<Database>, dialect: Dialect) {
    this.#db = db;
    this.#dialect = dialect;
  }

  async findPassword(memberId: string, options: ReadForUpdate = {}): Promise<StoredPassword | undefined> {
    let select = this.#db.selectFrom('member_passwords').selectAll().where('member_id', '=', memberId);
    if (this.#dialect === 'postgres' && options.forUpdate === true) select = select.forUpdate();
    const row = await select.executeTakeFirst();
    return row === undefined ? undefined : fromRow(row);
  }

  async findPasswordById(memberPasswordId: string, options: ReadForUpdate = {}): Promise<StoredPassword | undefined> {
    let select = this.#db.selectFrom('member_passwords').selectAll().where('member_password_id', '=', memberPasswordId);
    if (this.#dialect === 'postgres' && options.forUpdate === true) select = select.forUpdate();
    const row = await select.executeTakeFirst();
    return row === undefined ? undefined : fromRow(row);
  }

  async savePassword(password: StoredPassword): Promise<void> {
    const hash = { hash_type: password.hashType, hash: password.hash, hash_config: configColumn(password.config) };
    await this.#db
      .insertInto('member_passwords')
      .values({
        member_password_id: password.memberPasswordId,
        member_id: password.memberId,
        organization_id: password.organizationId,
        ...hash,
        created_at: password.createdAt,
        updated_at: password.updatedAt,
      })
      .onConflict((conflict) =>
        conflict.column('member_id').doUpdateSet({ ...hash, member_password_id: password.memberPasswordId, created_at: password.createdAt, updated_at: password.updatedAt }),
      )
      .execute();
  }

  async replaceHash(memberPasswordId: string, expected: PasswordHash, replacement: PasswordHash, at: string): Promise<boolean> {
    const result = await this.#db
      .updateTable('member_passwords')
      .set({ hash_type: replacement.hashType, hash: replacement.hash, hash_config: configColumn(replacement.config), updated_at: at })
      .where('member_password_id', '=', memberPasswordId)
      .where('hash', '=', expected.hash)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async deletePassword(memberId: string): Promise<boolean> {
    const result = await this.#db.deleteFrom('member_passwords').where('member_id', '=', memberId).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  async deletePasswordsForOrganization(organizationId: string): Promise<void> {
    await this.#db.deleteFrom('member_passwords').where('organization_id', '=', organizationId).execute();
    await this.#db.deleteFrom('password_failures').where('organization_id', '=', organizationId).execute();
  }

  async findFailures(organizationId: string, emailAddress: string): Promise<PasswordFailures | undefined> {
    let select = this.#db.selectFrom('password_failures').selectAll().where('organization_id', '=', organizationId).where('email_address', '=', emailAddress);
    if (this.#dialect === 'postgres') select = select.forUpdate();
    const row = await select.executeTakeFirst();
    return row === undefined ? undefined : failuresFromRow(row);
  }

  async countAttempt(key: string, emailAddress: string, at: string, lock: { readonly threshold: number; readonly expiresAt: string }): Promise<PasswordFailures> {
    // In the update, `password_failures.<column>` is the row as stored (both dialects).
    const expired = sql<boolean>`password_failures.lock_expires_at is not null and password_failures.lock_expires_at <= ${at}`;
    const held = sql<boolean>`password_failures.lock_expires_at is not null and password_failures.lock_expires_at > ${at}`;
    // Unlocked, and this attempt takes the count past the threshold: a lock starts now.
    const starts = sql<boolean>`password_failures.lock_expires_at is null and password_failures.failed_attempts + 1 > ${lock.threshold}`;
    const row = await this.#db
      .insertInto('password_failures')
      .values({
        organization_id: key,
        email_address: emailAddress,
        failed_attempts: 1,
        locked_at: lock.threshold < 1 ? at : null,
        lock_expires_at: lock.threshold < 1 ? lock.expiresAt : null,
        updated_at: at,
      })
      .onConflict((conflict) =>
        conflict.columns(['organization_id', 'email_address']).doUpdateSet({
          failed_attempts: sql<number>`case when ${expired} then 1 when ${held} then password_failures.failed_attempts else password_failures.failed_attempts + 1 end`,
          locked_at: sql<string | null>`case when ${expired} then null when ${starts} then ${at} else password_failures.locked_at end`,
          lock_expires_at: sql<string | null>`case when ${expired} then null when ${starts} then ${lock.expiresAt} else password_failures.lock_expires_at end`,
          updated_at: at,
        }),
      )
      .returningAll()
      .executeTakeFirstOrThrow();
    return failuresFromRow(row);
  }

  async deleteStaleFailures(before: string): Promise<number> {
    const result = await this.#db
      .deleteFrom('password_failures')
      .where('updated_at', '<', before)
      .where((eb) => eb.or([eb('lock_expires_at', 'is', null), eb('lock_expires_at', '<', before)]))
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  async saveFailures(failures: PasswordFailures, at: string): Promise<void> {
    const values = { failed_attempts: failures.failedAttempts, locked_at: failures.lockedAt, lock_expires_at: failures.lockExpiresAt, updated_at: at };
    await this.#db
      .insertInto('password_failures')
      .values({ organization_id: failures.organizationId, email_address: failures.emailAddress, ...values })
      .onConflict((conflict) => conflict.columns(['organization_id', 'email_address']).doUpdateSet(values))
      .execute();
  }

  async clearFailures(organizationId: string, emailAddress: string): Promise<void> {
    await this.#db.deleteFrom('password_failures').where('organization_id', '=', organizationId).where('email_address', '=', emailAddress).execute();
  }
}

function failuresFromRow(row: Selectable<PasswordFailureRow>): PasswordFailures {
  return {
    organizationId: row.organization_id,
    emailAddress: row.email_address,
    failedAttempts: Number(row.failed_attempts),
    lockedAt: row.locked_at,
    lockExpiresAt: row.lock_expires_at,
  };
}

function configColumn(config: PasswordHashConfig | null): string | null {
  return config === null ? null : toJson(config);
}

function fromRow(row: Selectable<MemberPasswordRow>): StoredPassword {
  return {
    memberPasswordId: row.member_password_id,
    memberId: row.member_id,
    organizationId: row.organization_id,
    hashType: row.hash_type as PasswordHashType,
    hash: row.hash,
    config: row.hash_config === null ? null : fromJson<PasswordHashConfig>(row.hash_config),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
