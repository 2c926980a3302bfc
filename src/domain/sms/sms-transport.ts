import type { SendResult } from '../common/delivery-queue.js';
import type { SmsLocale } from './outgoing-sms.js';

export type { SendResult } from '../common/delivery-queue.js';

/** One rendered SMS as a provider receives it. */
export interface SmsToSend {
  /** The same on every attempt, so a receiver can drop a repeat (the webhook's `webhook-id`). */
  readonly messageId: string;
  readonly to: string;
  readonly body: string;
  readonly locale: SmsLocale;
  readonly template: 'sms_otp';
  readonly organizationId: string | null;
  readonly memberId: string | null;
  readonly expiresAt: string;
}

/** The way out of the process for an SMS (a signed webhook or a Twilio-shaped API, in src/sms). */
export interface SmsTransport {
  /** Recorded with every message, and shown in the console and the CLI. */
  readonly mode: 'webhook' | 'twilio';
  send(message: SmsToSend): Promise<SendResult>;
  close(): void;
}
