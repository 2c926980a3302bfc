import type { SmsCode } from './sms-code.js';

/** Storage port for members' SMS codes. */
export interface SmsCodesStore {
  /** The member's code, locked for the rest of the transaction (read-for-update.ts). */
  findSmsCodeForUpdate(memberId: string): Promise<SmsCode | undefined>;
  /** Replaces the member's code, spent or not, with this one. */
  replaceSmsCode(code: SmsCode): Promise<void>;
  /** Counts a wrong code; returns the count now. */
  countFailedAttempt(smsCodeId: string): Promise<number>;
  /** Spends the code: false when it was spent already. */
  consumeSmsCode(smsCodeId: string, at: string): Promise<boolean>;
  deleteSmsCode(memberId: string): Promise<void>;
  deleteSmsCodesForOrganization(organizationId: string): Promise<void>;
}
