import type { SmsLocale } from './outgoing-sms.js';

/**
 * How an SMS leaves: kept in the outbox (no provider configured, a development setting), posted to
 * a signed webhook, or sent through a Twilio-shaped API.
 */
export type SmsMode = 'outbox' | 'webhook' | 'twilio';

/**
 * Where a message is: `stored` in the outbox (outbox mode: that is its end), `queued` for the
 * provider (not yet accepted; retried after a temporary failure), `sent` (the provider accepted it),
 * `failed` (refused for good, or out of attempts).
 */
export type SmsStatus = 'stored' | 'queued' | 'sent' | 'failed';

/**
 * One SMS as recorded. In outbox mode it holds the code and the text in clear (that is what the
 * outbox is for); with a provider those stay null and only the delivery status is kept.
 */
export interface SmsMessage {
  readonly messageId: string;
  readonly mode: SmsMode;
  readonly status: SmsStatus;
  readonly template: 'sms_otp';
  readonly locale: SmsLocale;
  /** E.164. */
  readonly to: string;
  readonly organizationId: string | null;
  readonly memberId: string | null;
  /** The request that caused the message, to find it in the logs and the audit trail. */
  readonly requestId: string;
  /** When the code stops working. */
  readonly expiresAt: string;
  /** Outbox mode only. */
  readonly code: string | null;
  /** Outbox mode only. */
  readonly text: string | null;
  /** Provider attempts made so far (0 in outbox mode). */
  readonly attempts: number;
  /** The provider's last answer (status, and its error or message id), or the connection error. */
  readonly lastReply: string | null;
  readonly createdAt: string;
  readonly updatedAt: string;
}

/** How many messages the table keeps: the newest ones; older ones are dropped as new ones arrive. */
export const SMS_MESSAGES_KEPT = 1000;
