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
  /** The access grant it was minted under (organizations in `by_grant` mode), else null. */
  readonly grantId: string | null;
  /** Who minted it: the vendor's support (project credentials, CLI, console) or an admin of the organization itself. */
  readonly kind: ImpersonationKind;
  /** What the impersonated session may do; null means everything the member's roles grant. */
  readonly permissionMask: PermissionMask | null;
}

/** `support`: minted with the project's credentials, the CLI or the console; `delegated`: by an organization admin's member session. */
export type ImpersonationKind = 'support' | 'delegated';

/**
 * A restriction on an impersonated session (restricted impersonation): `read_only` lets it perform
 * only reading actions (read-actions.ts), `actions` only the listed resource and action pairs. Either
 * way the member's roles must grant the action too: a mask only ever takes away.
 */
export type PermissionMask = { readonly readOnly: true } | { readonly actions: readonly MaskedAction[] };

/**
 * One action a mask allows, as the mint's `resource:action` text was read against the policy then:
 * kept as the pair, since ids and actions may hold `:` and a later policy could read the text otherwise.
 */
export interface MaskedAction {
  readonly resourceId: string;
  readonly action: string;
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
  readonly grantId: string | null;
  readonly kind: ImpersonationKind;
  readonly permissionMask: PermissionMask | null;
}

/**
 * Whether the vendor's support may impersonate in an organization: `open` whenever the project and
 * organization allow it (the behaviour before modes existed), `by_grant` only while an access grant
 * the organization opened covers the member, `off` never (delegated impersonation included).
 */
export type AccessMode = 'open' | 'by_grant' | 'off';

/** Whether the organization's own admins may impersonate its members: none, members who are not admins, or admins too. */
export type DelegatedImpersonation = 'off' | 'members' | 'members_and_admins';

/** An organization's own say over impersonation; absent means "open, no redirect URL, delegated to admins for members, no emails". */
export interface ImpersonationPolicy {
  readonly organizationId: string;
  /** The mode is not `off`. */
  readonly enabled: boolean;
  readonly accessMode: AccessMode;
  readonly delegated: DelegatedImpersonation;
  /** Email the impersonated member when an impersonation of them starts. */
  readonly notifyMember: boolean;
  /** Email the organization's admins (members holding stytch_admin) when any impersonation starts. */
  readonly notifyAdmins: boolean;
  /**
   * The organization itself (an admin's member session) has set this policy: from then on the
   * project's credentials may tighten it but not loosen it (docs/impersonation.md, "Access windows").
   */
  readonly chosenByOrganization: boolean;
  readonly redirectUrl: string | null;
  readonly updatedAt: string | null;
}

/** Only the parts given are written; `enabled: true` turns `off` into `open` and leaves other modes alone. */
export interface ImpersonationPolicyChange {
  readonly enabled?: boolean | undefined;
  readonly accessMode?: AccessMode | undefined;
  readonly delegated?: DelegatedImpersonation | undefined;
  readonly notifyMember?: boolean | undefined;
  readonly notifyAdmins?: boolean | undefined;
  /** Set (never cleared) when the organization itself makes the change. */
  readonly chosenByOrganization?: true | undefined;
  readonly redirectUrl?: string | null | undefined;
}

export const DEFAULT_DELEGATED_IMPERSONATION: DelegatedImpersonation = 'members';

/** Access grants last at most this long (UNDERSTUDY_IMPERSONATION_MAX_GRANT_HOURS may lower it, never raise it). */
export const MAX_GRANT_HOURS = 72;

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
  /** Minted under this access grant; `null` matches those minted under none. */
  readonly grantId?: string | null | undefined;
  /** Minted by support or by an organization admin (delegated). */
  readonly kind?: ImpersonationKind | undefined;
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
  | 'disabled_by_project'
  /** The access grant it was minted or started under was revoked. */
  | 'grant_revoked'
  /** The organization switched to `by_grant` and it was not minted under a grant. */
  | 'access_mode_changed'
  /** The impersonated member ended it from the notification email's link. */
  | 'ended_by_member'
  /** A delegated impersonation whose impersonator, a member of the organization, was deleted. */
  | 'impersonator_removed'
  /** A delegated impersonation the organization's `delegated_impersonation` no longer allows (`off`, or `members` for an admin). */
  | 'delegation_disabled';
