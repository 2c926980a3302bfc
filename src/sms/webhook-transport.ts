import type { Clock } from '../platform/clock.js';
import type { SendResult, SmsToSend, SmsTransport } from '../domain/sms/sms-transport.js';
import { postOnce, resultOf } from './http-attempt.js';
import type { WebhookSettings } from './sms-settings.js';
import { webhookSignature, webhookSigningKey } from './standard-webhooks.js';

/**
 * Posts each SMS as a signed JSON event to the application's own endpoint, which sends it however
 * it likes (docs/sms.md). Signed the Standard Webhooks way, so the receiver can use any of that
 * spec's libraries; `webhook-id` is the message id, the same on every retry, for deduplication.
 */
export class WebhookTransport implements SmsTransport {
  readonly mode = 'webhook';
  readonly #url: string;
  readonly #key: Buffer;
  readonly #clock: Clock;
  readonly #timeoutMs: number;

  constructor(settings: WebhookSettings, options: { readonly clock: Clock; readonly timeoutMs: number }) {
    const key = webhookSigningKey(settings.secret);
    // The configuration loader refuses such a secret first; this guards other callers.
    if (key === undefined) throw new Error('the SMS webhook secret must be whsec_ followed by a base64 key of 24 to 64 bytes');
    this.#url = settings.url;
    this.#key = key;
    this.#clock = options.clock;
    this.#timeoutMs = options.timeoutMs;
  }

  async send(message: SmsToSend): Promise<SendResult> {
    const now = this.#clock.now();
    // Signed anew on every attempt: a receiver refuses timestamps too far from its clock.
    const timestamp = Math.floor(now.getTime() / 1000);
    const body = JSON.stringify({
      type: 'sms.send',
      timestamp: now.toISOString(),
      data: {
        to: message.to,
        body: message.body,
        locale: message.locale,
        template: message.template,
        organization_id: message.organizationId,
        member_id: message.memberId,
        expires_at: message.expiresAt,
      },
    });
    const answer = await postOnce(
      this.#url,
      {
        headers: {
          'content-type': 'application/json',
          'user-agent': 'Understudy',
          'webhook-id': message.messageId,
          'webhook-timestamp': String(timestamp),
          'webhook-signature': webhookSignature(this.#key, message.messageId, timestamp, body),
        },
        body,
      },
      this.#timeoutMs,
    );
    return resultOf(answer, ({ status, text }) => (text.trim() === '' ? `HTTP ${status}` : `HTTP ${status}: ${text}`));
  }

  close(): void {}
}
