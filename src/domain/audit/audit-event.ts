import type { Actor } from '../common/operation-context.js';

/** Past-tense event types (style rule 18). Each state change writes exactly one, in its transaction. */
export type AuditEventType =
  | 'project.created'
  | 'organization.created'
  | 'organization.updated'
  | 'organization.deleted'
  | 'organization.external_id_deleted'
  | 'member.created'
  | 'member.updated'
  | 'member.deleted'
  | 'member.reactivated'
  | 'member.external_id_deleted'
  | 'session.started'
  | 'session.updated'
  | 'session.revoked'
  | 'intermediate_session.started'
  | 'intermediate_session.updated'
  | 'signing_key.created'
  | 'signing_key.rotated'
  | 'impersonation.token_minted'
  | 'impersonation.mint_refused'
  | 'impersonation.token_redeemed'
  | 'impersonation.redemption_refused'
  | 'impersonation.session_revoked'
  | 'impersonation.session_expired'
  | 'impersonation.token_revoked'
  | 'impersonation.policy_updated'
  | 'operator.created'
  | 'operator.disabled'
  | 'operator.password_reset'
  | 'operator.signed_in'
  | 'operator.sign_in_failed'
  | 'operator.locked'
  | 'operator.signed_out'
  /** An operator proved their password (and code, when they have TOTP) again, before replacing their authenticator. */
  | 'operator.reauthenticated'
  // Operators' TOTP: reset by an admin or the CLI, set up again at sign-in, or replaced by its operator.
  | 'operator.totp_reset'
  | 'operator.totp_enrolled'
  | 'operator.totp_replaced'
  // Signing in by email (magic links, one-time codes, invitations, discovery).
  | 'member.signed_in'
  | 'member.sign_in_refused'
  | 'member.invited'
  | 'magic_link.sent'
  | 'email_otp.sent'
  | 'discovery.organization_created'
  // Passwords.
  | 'member.password_set'
  | 'member.password_deleted'
  | 'password_reset.sent'
  | 'member.sessions_reset'
  // TOTP and recovery codes (a second factor): registered (totps.create, totps.migrate), deleted, codes rotated.
  | 'member.totp_created'
  | 'member.totp_deleted'
  | 'member.mfa_updated'
  | 'member.recovery_codes_rotated'
  // SMS codes (a second factor): sent by otps.sms.send or by a sign-in that ended needing MFA.
  | 'member.sms_code_sent'
  | 'member.mfa_phone_number_deleted'
  // Redirect URLs edited in the console or the CLI.
  | 'redirect_url.added'
  | 'redirect_url.updated'
  | 'redirect_url.removed'
  // RBAC: the project's policy (file, console, CLI) and organizations' custom roles, each with its diff.
  | 'rbac.policy_updated'
  | 'organization.rbac_policy_updated'
  /** A call made with an impersonated session's member-session headers, allowed or refused: what, by whom, as whom. */
  | 'impersonation.session_acted'
  // Impersonation customers can trust: access grants, delegated impersonation, emails and links, settings.
  | 'impersonation.access_requested'
  | 'impersonation.access_granted'
  | 'impersonation.access_denied'
  | 'impersonation.access_revoked'
  | 'impersonation.notification_sent'
  | 'impersonation.ended_by_member'
  | 'impersonation.history_exported'
  // Webhook endpoints (the vendor's and organizations').
  | 'webhook.endpoint_added'
  | 'webhook.endpoint_disabled'
  // The audit chains' heads, published so an outside copy can prove the past was not rewritten.
  | 'audit.chain_head_published'
  // SSO: connections changed (their certificates with them), an identity provider's answers
  // accepted (an SSO token issued) or refused (the attacks docs/sso.md lists), and console tests.
  | 'sso.connection_created'
  | 'sso.connection_updated'
  | 'sso.connection_deleted'
  /** In the lending organization: an external connection of another organization started or ended borrowing one of its connections. */
  | 'sso.connection_borrowers_changed'
  | 'sso.idp_response_accepted'
  | 'sso.idp_response_refused'
  | 'sso.connection_tested';

export interface AuditEvent {
  readonly eventId: string;
  readonly type: AuditEventType;
  readonly occurredAt: string;
  readonly requestId: string;
  readonly actor: Actor;
  readonly organizationId: string | null;
  readonly memberId: string | null;
  /** For impersonation events: who is (or tried to be) acting as the member. */
  readonly impersonatorId: string | null;
  /** The HTTP client behind the call, when there was one. */
  readonly client: { readonly ipAddress: string; readonly userAgent: string } | null;
  /** What changed, by wire field name; never secrets. */
  readonly details: Readonly<Record<string, unknown>>;
}
