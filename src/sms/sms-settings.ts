/** UNDERSTUDY_SMS_WEBHOOK_URL and UNDERSTUDY_SMS_WEBHOOK_SECRET. */
export interface WebhookSettings {
  /** https:// (http:// only to this machine). */
  readonly url: string;
  /** Standard Webhooks format: `whsec_` and the base64 of the signing key. Never log it. */
  readonly secret: string;
}

/** UNDERSTUDY_TWILIO_*: an account and either a sending number or a messaging service. */
export interface TwilioSettings {
  readonly accountSid: string;
  /** Never log it. */
  readonly authToken: string;
  /** E.164; exactly one of `from` and `messagingServiceSid`. */
  readonly from?: string | undefined;
  readonly messagingServiceSid?: string | undefined;
  /** https://api.twilio.com, or a stand-in. */
  readonly baseUrl: string;
}

/** UNDERSTUDY_SMS_PROVIDER and the provider's own keys (checked in src/config/sms-config.ts). */
export type SmsProviderSettings =
  | { readonly provider: 'outbox' }
  | { readonly provider: 'webhook'; readonly webhook: WebhookSettings }
  | { readonly provider: 'twilio'; readonly twilio: TwilioSettings };

export const SMS_PROVIDERS = ['outbox', 'webhook', 'twilio'] as const;

export const DEFAULT_TWILIO_BASE_URL = 'https://api.twilio.com';
