import type { ReadForUpdate } from '../common/read-for-update.js';
import type { MemberTotp, RecoveryCode } from './totp-registration.js';

/** Storage port for TOTP registrations and their recovery codes. */
export interface TotpsStore {
  /** The member's registration, pending or active; `forUpdate` locks it (after the member: the lock order). */
  findTotp(memberId: string, options?: ReadForUpdate): Promise<MemberTotp | undefined>;
  /** Replaces any registration of the member (and its recovery codes) with this one and its codes. */
  saveTotp(totp: MemberTotp, recoveryCodes: readonly RecoveryCode[]): Promise<void>;
  /**
   * Accepts a code of `step`: atomically, only if no code of this step or a later one was accepted
   * and the registration is active or still pending before its `expiresAt` (a pending one becomes
   * active). False when another request got there first, or the pending registration lapsed.
   */
  acceptStep(totpId: string, step: number, at: string): Promise<boolean>;
  /** Deletes the member's registration and recovery codes; whether there was one. */
  deleteTotp(memberId: string): Promise<boolean>;
  deleteTotpsForOrganization(organizationId: string): Promise<void>;
  /** The registration's codes, used ones included, in their order. */
  listRecoveryCodes(totpId: string): Promise<RecoveryCode[]>;
  /** Replaces every code of the registration. */
  replaceRecoveryCodes(totpId: string, codes: readonly RecoveryCode[]): Promise<void>;
  /** Spends one code: false when it was spent already (another request got there first). */
  useRecoveryCode(recoveryCodeId: string, at: string): Promise<boolean>;
}
