import type { SendResult } from '../common/delivery-queue.js';
import type { RenderedEmail } from './mail-message.js';

export type { SendResult } from '../common/delivery-queue.js';

/** The way out of the process for a rendered message (SMTP, implemented in src/mail). */
export interface MailTransport {
  send(message: RenderedEmail & { readonly to: string }): Promise<SendResult>;
  close(): void;
}
