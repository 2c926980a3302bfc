import type { OperationContext } from '../common/operation-context.js';

/** The languages Stytch's email `locale` accepts; English when omitted. */
export const EMAIL_LOCALES = ['en', 'es', 'pt-br', 'fr'] as const;
export type EmailLocale = (typeof EMAIL_LOCALES)[number];

/**
 * The messages Understudy sends, one template each (HTML and plain text, in every locale). The
 * magic-link ones carry a link; the one-time-code ones a six-digit code; the password reset ones
 * the reset link and, below it, a magic link to sign in without a password.
 */
export const EMAIL_TEMPLATES = [
  'login',
  'signup',
  'invite',
  'discovery',
  'otp_login',
  'otp_signup',
  'otp_discovery',
  'reset_password',
  'discovery_reset_password',
  // Not a sign-in: the notice that an impersonation started (docs/impersonation.md), with the member's link to end it.
  'impersonation_started',
] as const;
export type EmailTemplateName = (typeof EMAIL_TEMPLATES)[number];

/** One message to send: what the template needs, and who it is about (for the outbox and the logs, never the secret). */
export interface OutgoingEmail {
  readonly template: EmailTemplateName;
  readonly to: string;
  readonly locale: EmailLocale;
  /** The magic link, for login, signup, invite and discovery; the password reset link, for the reset_ templates. */
  readonly link?: string;
  /** The reset_ templates' second link: a magic link to sign in without a password (login, or discovery). */
  readonly loginLink?: string;
  /** The six-digit code, for the otp_ templates. */
  readonly code?: string;
  /** When the link or code stops working (ISO 8601). */
  readonly expiresAt: string;
  /** The organization signed in to (absent for discovery, which spans organizations). */
  readonly organizationName?: string;
  /** Who invited the member (invite only), when known. */
  readonly inviterName?: string;
  readonly organizationId: string | null;
  readonly memberId: string | null;
  /** impersonation_started: what started; `link` (to the member only) ends it. */
  readonly impersonation?: ImpersonationNotice;
}

/** The facts of an impersonation notice, as the email states them. */
export interface ImpersonationNotice {
  readonly impersonatorEmailAddress: string;
  /** An admin of the organization itself (delegated impersonation), worded as such. */
  readonly delegated: boolean;
  /** The member acted as, for admins' copies; undefined in the member's own. */
  readonly memberEmailAddress?: string | undefined;
  readonly reason: string;
  readonly startedAt: string;
  readonly expiresAt: string;
  /** The permission mask: `read_only`, the allowed `resource:action` pairs, or null for none. */
  readonly restrictions: 'read_only' | readonly string[] | null;
}

/**
 * The mail port of every sign-in method. `deliver` is called after the transaction that wrote the
 * message's link or code committed; it returns at once and never throws for a failed delivery:
 * delivery (SMTP with retries, or the outbox) runs on its own, and a permanent failure is logged
 * without the secret and shown in the console.
 */
export interface MailDelivery {
  deliver(context: OperationContext, email: OutgoingEmail): void;
}
