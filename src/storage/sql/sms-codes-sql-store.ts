import { sql, type Kysely, type Selectable } from 'kysely';
import type { SmsCode } from '../../domain/mfa/sms-code.js';
import type { SmsCodesStore } from '../../domain/mfa/sms-codes-store.js';
import type { Database, MfaSmsCodeRow } from '../database.js';
import type { Dialect } from '../store.js';

/** Members' SMS codes in `mfa_sms_codes`: one row per member (its unique `member_id`), replaced by each send. */
export class SmsCodesSqlStore implements SmsCodesStore {
  readonly #db: Kysely<Database>;
  readonly #dialect: Dialect;

  constructor(db: Kysely<Database>, dialect: Dialect) {
    this.#db = db;
    this.#dialect = dialect;
  }

  async findSmsCodeForUpdate(memberId: string): Promise<SmsCode | undefined> {
    let select = this.#db.selectFrom('mfa_sms_codes').selectAll().where('member_id', '=', memberId);
    // SQLite needs no lock: a transaction holds the database's write lock from its start (read-for-update.ts).
    if (this.#dialect === 'postgres') select = select.forUpdate();
    const row = await select.executeTakeFirst();
    return row === undefined ? undefined : fromRow(row);
  }

  async replaceSmsCode(code: SmsCode): Promise<void> {
    // One statement, so two sends racing for a member leave exactly one row: the later one's.
    const values = {
      sms_code_id: code.smsCodeId,
      organization_id: code.organizationId,
      phone_number: code.phoneNumber,
      digest: code.digest,
      failed_attempts: code.failedAttempts,
      created_at: code.createdAt,
      expires_at: code.expiresAt,
      consumed_at: code.consumedAt,
    };
    await this.#db
      .insertInto('mfa_sms_codes')
      .values({ ...values, member_id: code.memberId })
      .onConflict((conflict) => conflict.column('member_id').doUpdateSet(values))
      .execute();
  }

  async countFailedAttempt(smsCodeId: string): Promise<number> {
    const row = await this.#db
      .updateTable('mfa_sms_codes')
      .set({ failed_attempts: sql<number>`failed_attempts + 1` })
      .where('sms_code_id', '=', smsCodeId)
      .returning('failed_attempts')
      .executeTakeFirst();
    return row === undefined ? 0 : Number(row.failed_attempts);
  }

  async consumeSmsCode(smsCodeId: string, at: string): Promise<boolean> {
    const result = await this.#db
      .updateTable('mfa_sms_codes')
      .set({ consumed_at: at })
      .where('sms_code_id', '=', smsCodeId)
      .where('consumed_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async deleteSmsCode(memberId: string): Promise<void> {
    await this.#db.deleteFrom('mfa_sms_codes').where('member_id', '=', memberId).execute();
  }

  async deleteSmsCodesForOrganization(organizationId: string): Promise<void> {
    await this.#db.deleteFrom('mfa_sms_codes').where('organization_id', '=', organizationId).execute();
  }
}

function fromRow(row: Selectable<MfaSmsCodeRow>): SmsCode {
  return {
    smsCodeId: row.sms_code_id,
    memberId: row.member_id,
    organizationId: row.organization_id,
    phoneNumber: row.phone_number,
    digest: row.digest,
    failedAttempts: Number(row.failed_attempts),
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    consumedAt: row.consumed_at,
  };
}
