import type { OperationContext } from '../common/operation-context.js';

/** The languages Stytch's SMS `locale` accepts; English when omitted. */
export const SMS_LOCALES = ['en', 'es', 'pt-br', 'fr', 'it', 'de-DE', 'zh-Hans', 'ca-ES'] as const;
export type SmsLocale = (typeof SMS_LOCALES)[number];

/** One SMS to send: the code and who it is about (for the outbox and the logs, never the code). */
export interface OutgoingSms {
  readonly template: 'sms_otp';
  /** E.164. */
  readonly to: string;
  readonly locale: SmsLocale;
  readonly code: string;
  /** When the code stops working (ISO 8601). */
  readonly expiresAt: string;
  readonly organizationName: string;
  readonly organizationId: string;
  readonly memberId: string;
}

/**
 * The SMS port. `deliver` is called after the transaction that wrote the code committed; it returns
 * at once and never throws for a failed delivery: delivery (the outbox, a signed webhook or a
 * Twilio-shaped API, with retries) runs on its own and its status is recorded in the SMS outbox.
 */
export interface SmsDelivery {
  deliver(context: OperationContext, sms: OutgoingSms): void;
}
