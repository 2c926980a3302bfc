import type { SmsMessage, SmsStatus } from './sms-message.js';

export interface SmsMessageFilter {
  /** Only messages to this number (E.164, compared exactly). */
  readonly to?: string;
  /** At most this many, newest first. */
  readonly limit: number;
}

/** Storage port for sent and kept SMS (the outbox, and provider delivery statuses). */
export interface SmsOutboxStore {
  insertMessage(message: SmsMessage): Promise<void>;
  /**
   * Erases the code and text of every message kept in outbox mode (its row stays, as a record that
   * it was sent): once a provider is configured, no code stays readable in the database. Returns how
   * many messages it erased.
   */
  eraseOutboxSecrets(): Promise<number>;
  /** Deletes all but the newest `keep` messages (by message id, which is time-ordered). */
  pruneMessages(keep: number): Promise<void>;
  /** Records an attempt's outcome; a message already pruned is ignored. */
  updateDelivery(messageId: string, delivery: { readonly status: SmsStatus; readonly attempts: number; readonly lastReply: string | null; readonly at: string }): Promise<void>;
  /** Newest first. */
  listMessages(filter: SmsMessageFilter): Promise<SmsMessage[]>;
  findMessage(messageId: string): Promise<SmsMessage | undefined>;
}
