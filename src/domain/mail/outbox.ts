import type { MailMessage, MailMode } from './mail-message.js';
import { MAIL_MESSAGES_KEPT } from './mail-message.js';
import type { MailOutboxStore } from './mail-outbox-store.js';

/**
 * Reading what was sent: the outbox (outbox mode, links and codes included) or the delivery statuses
 * (SMTP mode). For the console page, the `understudy outbox` command and tests.
 */
export class Outbox {
  readonly #store: { mailOutbox: MailOutboxStore };
  /** How this process delivers; the table may hold messages of the other mode from earlier runs. */
  readonly mode: MailMode;

  constructor(options: { store: { mailOutbox: MailOutboxStore }; mode: MailMode }) {
    this.#store = options.store;
    this.mode = options.mode;
  }

  /** Newest first; `limit` defaults to 100 and is capped at what the table keeps. */
  list(filter: { readonly to?: string | undefined; readonly limit?: number | undefined } = {}): Promise<MailMessage[]> {
    const limit = Math.max(1, Math.min(filter.limit ?? 100, MAIL_MESSAGES_KEPT));
    return this.#store.mailOutbox.listMessages({ limit, ...(filter.to !== undefined && filter.to !== '' && { to: filter.to }) });
  }

  find(messageId: string): Promise<MailMessage | undefined> {
    return this.#store.mailOutbox.findMessage(messageId);
  }
}
