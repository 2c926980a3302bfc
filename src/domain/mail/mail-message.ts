import type { EmailLocale, EmailTemplateName } from './outgoing-email.js';

/**
 * How a message leaves: kept in the outbox (no SMTP server configured, a development setting) or
 * handed to the SMTP server.
 */
export type MailMode = 'outbox' | 'smtp';

/**
 * Where a message is: `stored` in the outbox (outbox mode: that is its end), `queued` for SMTP (not
 * yet accepted; retried after a temporary failure), `sent` (the SMTP server accepted it), `failed`
 * (refused for good, or out of attempts).
 */
export type MailStatus = 'stored' | 'queued' | 'sent' | 'failed';

/** What a template produces: the subject and both bodies. */
export interface RenderedEmail {
  readonly subject: string;
  readonly text: string;
  readonly html: string;
}

/**
 * One message as recorded. In outbox mode it holds the link or code and both bodies in clear (that is
 * what the outbox is for); in SMTP mode those stay null and only the delivery status is kept.
 */
export interface MailMessage {
  readonly messageId: string;
  readonly mode: MailMode;
  readonly status: MailStatus;
  readonly template: EmailTemplateName;
  readonly locale: EmailLocale;
  readonly to: string;
  readonly subject: string;
  readonly organizationId: string | null;
  readonly memberId: string | null;
  /** The request that caused the message, to find it in the logs and the audit trail. */
  readonly requestId: string;
  /** When the link or code stops working. */
  readonly expiresAt: string;
  /** Outbox mode only. */
  readonly link: string | null;
  /** Outbox mode only. */
  readonly code: string | null;
  /** Outbox mode only. */
  readonly text: string | null;
  /** Outbox mode only. */
  readonly html: string | null;
  /** SMTP attempts made so far (0 in outbox mode). */
  readonly attempts: number;
  /** The SMTP server's last reply, or the connection error, when there was one. */
  readonly lastReply: string | null;
  readonly createdAt: string;
  readonly updatedAt: string;
}

/** How many messages the table keeps: the newest ones; older ones are dropped as new ones arrive. */
export const MAIL_MESSAGES_KEPT = 1000;
