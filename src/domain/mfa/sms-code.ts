/** The one live SMS code of a member: a new one replaces it. Only its digest is kept. */
export interface SmsCode {
  readonly smsCodeId: string;
  readonly memberId: string;
  readonly organizationId: string;
  /** E.164: the number it was sent to. */
  readonly phoneNumber: string;
  /** digestOneTimeCode(smsCodeId, code), hex. */
  readonly digest: string;
  readonly failedAttempts: number;
  readonly createdAt: string;
  readonly expiresAt: string;
  readonly consumedAt: string | null;
}

/** Stytch's SMS codes last two minutes, fixed. */
export const SMS_CODE_MINUTES = 2;
/** Wrong codes after which a code is void (as for email codes). */
export const SMS_CODE_MAX_ATTEMPTS = 5;
