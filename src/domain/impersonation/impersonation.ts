/** A minted impersonation token as stored: never the token, only its lookup id and digest. */
export interface ImpersonationToken {
  readonly tokenId: string;
  readonly organizationId: string;
  readonly memberId: string;
  readonly impersonatorId: string;
  readonly impersonatorEmailAddress: string;
  readonly reason: string;
  /** The member's email address when the token was minted: a token redeems only while it is still theirs. */
  readonly memberEmailAddress: string;
  readonly createdAt: string;
  readonly expiresAt: string;
  readonly redeemedAt: string | null;
  readonly memberSessionId: string | null;
  /** Set when the token was revoked before it was redeemed; a revoked token never redeems. */
  readonly revokedAt: string | null;
}

export type ImpersonationEndReason = 'revoked' | 'expired';

/** The life of one impersonated session, kept beside the session for listing and accountability. */
export interface ImpersonatedSession {
  readonly memberSessionId: string;
  readonly tokenId: string;
  readonly organizationId: string;
  readonly memberId: string;
  readonly impersonatorId: string;
  readonly impersonatorEmailAddress: string;
  readonly reason: string;
  readonly startedAt: string;
  readonly expiresAt: string;
  readonly endedAt: string | null;
  readonly endReason: ImpersonationEndReason | null;
}

/** An organization's own say over impersonation; absent means "allowed, no redirect URL". */
export interface ImpersonationPolicy {
  readonly organizationId: string;
  readonly enabled: boolean;
  readonly redirectUrl: string | null;
  readonly updatedAt: string | null;
}

/** Stytch: impersonation tokens live 5 minutes; impersonated sessions exactly 60. */
export const DEFAULT_TOKEN_MINUTES = 5;
export const MAX_TOKEN_MINUTES = 5;
export const IMPERSONATED_SESSION_MINUTES = 60;
export const MAX_REASON_LENGTH = 1024;

/**
 * One person acting as impersonator, by every id and email address recorded for them: an operator
 * is known by their operator id and email address, and older records may carry either.
 */
export interface ImpersonatorIdentity {
  readonly ids: readonly string[];
  readonly emailAddresses: readonly string[];
}

/** What narrows a listing or a revocation of impersonated sessions and unredeemed tokens; every given field must match. */
export interface ImpersonationSelector {
  readonly memberSessionId?: string | undefined;
  readonly tokenId?: string | undefined;
  readonly organizationId?: string | undefined;
  readonly memberId?: string | undefined;
  /** Matches records whose impersonator id is one of `ids` or whose impersonator email is one of `emailAddresses`. */
  readonly impersonator?: ImpersonatorIdentity | undefined;
}

/** Why impersonations were ended, recorded as `why` on each `session_revoked` and `token_revoked` event. */
export type ImpersonationEndCause =
  | 'revoked'
  | 'operator_disabled'
  | 'operator_password_reset'
  | 'operator_totp_reset'
  | 'organization_deleted'
  | 'member_deleted'
  | 'member_email_changed'
  | 'disabled_by_organization'
  | 'disabled_by_project';
