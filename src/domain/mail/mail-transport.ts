import type { RenderedEmail } from './mail-message.js';

/** What a transport reports for one attempt. It never throws: a failure is an answer too. */
export type SendResult =
  | { readonly ok: true; readonly reply: string }
  /** `permanent`: retrying cannot help (SMTP 5xx, refused credentials); otherwise try again later. */
  | { readonly ok: false; readonly permanent: boolean; readonly reply: string };

/** The way out of the process for a rendered message (SMTP, implemented in src/mail). */
export interface MailTransport {
  send(message: RenderedEmail & { readonly to: string }): Promise<SendResult>;
  close(): void;
}
