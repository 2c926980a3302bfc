/** A member's authenticator-app registration, at most one per member. */
export interface MemberTotp {
  /** `member-totp-<env>-<uuid>`: what Stytch calls `totp_registration_id` and the factor's `totp_id`. */
  readonly totpId: string;
  readonly memberId: string;
  readonly organizationId: string;
  /** The base32 secret sealed under the master key (bound to totpId). */
  readonly sealedSecret: string;
  /** `pending` until its first code is accepted before `expiresAt`; then `active`. */
  readonly status: 'pending' | 'active';
  readonly createdAt: string;
  /** When a pending registration lapses; null once active. */
  readonly expiresAt: string | null;
  readonly activatedAt: string | null;
  /** The newest 30-second step whose code was accepted: no code of that step or an earlier one is accepted again. */
  readonly lastUsedStep: number | null;
}

/** One recovery code, sealed (recoveryCodes.get shows them again); spent once. */
export interface RecoveryCode {
  /** `totp-recovery-code-<env>-<uuid>`: the factor's `totp_recovery_code_id`. */
  readonly recoveryCodeId: string;
  readonly totpId: string;
  readonly memberId: string;
  readonly organizationId: string;
  readonly sealedCode: string;
  /** 0–9, the order they were shown in. */
  readonly position: number;
  readonly createdAt: string;
  readonly usedAt: string | null;
}

/** Defaults and bounds Stytch documents for totps.create. */
export const TOTP_REGISTRATION_MINUTES = { default: 60, min: 5, max: 1440 } as const;
export const RECOVERY_CODE_COUNT = 10;
