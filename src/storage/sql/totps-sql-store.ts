import { sql, type Kysely, type Selectable } from 'kysely';
import type { ReadForUpdate } from '../../domain/common/read-for-update.js';
import type { MemberTotp, RecoveryCode } from '../../domain/mfa/totp-registration.js';
import type { TotpsStore } from '../../domain/mfa/totps-store.js';
import type { Database, MemberRecoveryCodeRow, MemberTotpRow } from '../database.js';
import type { Dialect } from '../store.js';

/**
 * TOTP registrations and recovery codes. Single use is decided by conditional updates (a step only
 * if it is newer than the last accepted one, a code only while unused), so of two requests with the
 * same code exactly one changes the row, whatever the isolation level.
 */
export class TotpsSqlStore implements TotpsStore {
  readonly #db: Kysely<Database>;
  readonly #dialect: Dialect;

  constructor(db: Kysely<Database>, dialect: Dialect) {
    this.#db = db;
    this.#dialect = dialect;
  }

  async findTotp(memberId: string, options: ReadForUpdate = {}): Promise<MemberTotp | undefined> {
    const select = this.#db.selectFrom('member_totps').selectAll().where('member_id', '=', memberId);
    const row = await (this.#dialect === 'postgres' && options.forUpdate === true ? select.forUpdate() : select).executeTakeFirst();
    return row === undefined ? undefined : totpFromRow(row);
  }

  async saveTotp(totp: MemberTotp, recoveryCodes: readonly RecoveryCode[]): Promise<void> {
    // member_id is unique: the member's earlier registration (pending, or replaced by a migration) goes first, with its codes.
    await this.#db.deleteFrom('member_recovery_codes').where('member_id', '=', totp.memberId).execute();
    await this.#db.deleteFrom('member_totps').where('member_id', '=', totp.memberId).execute();
    await this.#db
      .insertInto('member_totps')
      .values({
        totp_id: totp.totpId,
        member_id: totp.memberId,
        organization_id: totp.organizationId,
        sealed_secret: totp.sealedSecret,
        status: totp.status,
        created_at: totp.createdAt,
        expires_at: totp.expiresAt,
        activated_at: totp.activatedAt,
        last_used_step: totp.lastUsedStep,
      })
      .execute();
    await this.#insertCodes(recoveryCodes);
  }

  async acceptStep(totpId: string, step: number, at: string): Promise<boolean> {
    const result = await this.#db
      .updateTable('member_totps')
      .set({ last_used_step: step, status: 'active', activated_at: sql<string>`coalesce(activated_at, ${at})`, expires_at: null })
      .where('totp_id', '=', totpId)
      .where((eb) => eb.or([eb('last_used_step', 'is', null), eb('last_used_step', '<', step)]))
      .where((eb) => eb.or([eb('status', '=', 'active'), eb('expires_at', '>', at)]))
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async deleteTotp(memberId: string): Promise<boolean> {
    await this.#db.deleteFrom('member_recovery_codes').where('member_id', '=', memberId).execute();
    const result = await this.#db.deleteFrom('member_totps').where('member_id', '=', memberId).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  async deleteTotpsForOrganization(organizationId: string): Promise<void> {
    await this.#db.deleteFrom('member_recovery_codes').where('organization_id', '=', organizationId).execute();
    await this.#db.deleteFrom('member_totps').where('organization_id', '=', organizationId).execute();
  }

  async listRecoveryCodes(totpId: string): Promise<RecoveryCode[]> {
    const rows = await this.#db.selectFrom('member_recovery_codes').selectAll().where('totp_id', '=', totpId).orderBy('position').execute();
    return rows.map(codeFromRow);
  }

  async replaceRecoveryCodes(totpId: string, codes: readonly RecoveryCode[]): Promise<void> {
    await this.#db.deleteFrom('member_recovery_codes').where('totp_id', '=', totpId).execute();
    await this.#insertCodes(codes);
  }

  async useRecoveryCode(recoveryCodeId: string, at: string): Promise<boolean> {
    const result = await this.#db
      .updateTable('member_recovery_codes')
      .set({ used_at: at })
      .where('recovery_code_id', '=', recoveryCodeId)
      .where('used_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async #insertCodes(codes: readonly RecoveryCode[]): Promise<void> {
    if (codes.length === 0) return;
    await this.#db
      .insertInto('member_recovery_codes')
      .values(
        codes.map((code) => ({
          recovery_code_id: code.recoveryCodeId,
          totp_id: code.totpId,
          member_id: code.memberId,
          organization_id: code.organizationId,
          sealed_code: code.sealedCode,
          position: code.position,
          created_at: code.createdAt,
          used_at: code.usedAt,
        })),
      )
      .execute();
  }
}

function totpFromRow(row: Selectable<MemberTotpRow>): MemberTotp {
  return {
    totpId: row.totp_id,
    memberId: row.member_id,
    organizationId: row.organization_id,
    sealedSecret: row.sealed_secret,
    status: row.status === 'active' ? 'active' : 'pending',
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    activatedAt: row.activated_at,
    // bigint: PostgreSQL answers it as text.
    lastUsedStep: row.last_used_step === null ? null : Number(row.last_used_step),
  };
}

function codeFromRow(row: Selectable<MemberRecoveryCodeRow>): RecoveryCode {
  return {
    recoveryCodeId: row.recovery_code_id,
    totpId: row.totp_id,
    memberId: row.member_id,
    organizationId: row.organization_id,
    sealedCode: row.sealed_code,
    position: Number(row.position),
    createdAt: row.created_at,
    usedAt: row.used_at,
  };
}
