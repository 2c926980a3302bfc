/** A minted impersonation token as stored: never the token, only its lookup id and digest. */
export interface ImpersonationToken {
  readonly tokenId: string;
  readonly organizationId: string;
  readonly memberId: string;
  readonly impersonatorId: string;
  readonly impersonatorEmailAddress: string;
  readonly reason: string;
  readonly createdAt: string;
  readonly expiresAt: string;
  readonly redeemedAt: string | null;
  readonly memberSessionId: string | null;
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

/** Stytch: impersonation tokens live 5 minutes; impersonated sessions exactly 60 (reference §A.2, §A.3). */
export const DEFAULT_TOKEN_MINUTES = 5;
export const MAX_TOKEN_MINUTES = 5;
export const IMPERSONATED_SESSION_MINUTES = 60;
export const MAX_REASON_LENGTH = 1024;

/** Who can narrow an impersonated-session listing or a revocation. */
export interface ImpersonatedSessionSelector {
  readonly memberSessionId?: string | undefined;
  readonly organizationId?: string | undefined;
  readonly memberId?: string | undefined;
  readonly impersonatorId?: string | undefined;
}
