import type { MailMessage, MailStatus } from './mail-message.js';

export interface MailMessageFilter {
  /** Only messages to this address (compared without regard to case). */
  readonly to?: string;
  /** At most this many, newest first. */
  readonly limit: number;
}

/** Storage port for sent and kept messages (the outbox, and SMTP delivery statuses). */
export interface MailOutboxStore {
  insertMessage(message: MailMessage): Promise<void>;
  /**
   * Erases the link, code and bodies of every message kept in outbox mode (its row stays, as a record
   * that it was sent): once SMTP is configured, no sign-in secret stays readable in the database.
   * Returns how many messages it erased.
   */
  eraseOutboxSecrets(): Promise<number>;
  /** Deletes all but the newest `keep` messages (by message id, which is time-ordered). */
  pruneMessages(keep: number): Promise<void>;
  /** Records an SMTP attempt's outcome; a message already pruned is ignored. */
  updateDelivery(messageId: string, delivery: { readonly status: MailStatus; readonly attempts: number; readonly lastReply: string | null; readonly at: string }): Promise<void>;
  /** Newest first. */
  listMessages(filter: MailMessageFilter): Promise<MailMessage[]>;
  findMessage(messageId: string): Promise<MailMessage | undefined>;
}
