import type { SmsMessage, SmsMode } from './sms-message.js';
import { SMS_MESSAGES_KEPT } from './sms-message.js';
import type { SmsOutboxStore } from './sms-outbox-store.js';

/**
 * Reading what was sent by SMS: the outbox (outbox mode, codes included) or the delivery statuses
 * (with a provider). For the console page, the `understudy outbox` command and tests.
 */
export class SmsOutbox {
  readonly #store: { smsOutbox: SmsOutboxStore };
  /** How this process delivers; the table may hold messages of another mode from earlier runs. */
  readonly mode: SmsMode;

  constructor(options: { store: { smsOutbox: SmsOutboxStore }; mode: SmsMode }) {
    this.#store = options.store;
    this.mode = options.mode;
  }

  /** Newest first; `limit` defaults to 100 and is capped at what the table keeps. */
  list(filter: { readonly to?: string | undefined; readonly limit?: number | undefined } = {}): Promise<SmsMessage[]> {
    const limit = Math.max(1, Math.min(filter.limit ?? 100, SMS_MESSAGES_KEPT));
    return this.#store.smsOutbox.listMessages({ limit, ...(filter.to !== undefined && filter.to !== '' && { to: filter.to }) });
  }

  find(messageId: string): Promise<SmsMessage | undefined> {
    return this.#store.smsOutbox.findMessage(messageId);
  }
}
