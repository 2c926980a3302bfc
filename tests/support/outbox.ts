import type { MailMessage } from '../../src/domain/mail/mail-message.js';
import type { EmailTemplateName } from '../../src/domain/mail/outgoing-email.js';
import type { TestServer } from './test-server.js';

/**
 * Reading the mail a test server sent, from its outbox (test servers have no SMTP unless a test sets
 * `config: { smtpUrl, smtpFrom }`; then use tests/support/smtp-test-server.ts instead).
 *
 *   const email = await waitForEmail(server, 'ada@example.com', { template: 'login' });
 *   const token = linkToken(email.link!);          // the magic link's `token` query parameter
 *   const again = await waitForEmail(server, 'ada@example.com', { after: email });  // a newer one
 *   expect(await listEmails(server, 'ada@example.com')).toHaveLength(1);             // nothing else was sent
 *
 * Delivery runs after the sending call answered, so always wait rather than read once; to show that
 * nothing was sent, call `settleEmails(server)` first, then `listEmails`.
 */
export interface OutboxEmail {
  readonly messageId: string;
  readonly template: EmailTemplateName;
  readonly to: string;
  readonly locale: string;
  readonly subject: string;
  readonly text: string;
  readonly html: string;
  /** The magic link (login, signup, invite, discovery). */
  readonly link?: string;
  /** The six-digit code (otp_ templates). */
  readonly code?: string;
  readonly organizationId: string | null;
  readonly memberId: string | null;
  readonly createdAt: string;
}

export interface WaitForEmailOptions {
  readonly template?: EmailTemplateName;
  /** 5000 when omitted. */
  readonly timeoutMs?: number;
  /**
   * Only newer messages: newer than an email this helper returned, or created at or after a time
   * (timestamps have whole seconds, so a time also matches earlier messages of the same second).
   */
  readonly after?: Date | string | OutboxEmail;
}

/** The newest message to `to` (case-insensitive) matching the options; rejects after the timeout, listing what was there. */
export async function waitForEmail(server: TestServer, to: string, options: WaitForEmailOptions = {}): Promise<OutboxEmail> {
  const deadline = performance.now() + (options.timeoutMs ?? 5000);
  for (;;) {
    const messages = await server.server.app.services.outbox.list({ to, limit: 1000 });
    const match = messages.find((message) => matches(message, options));
    if (match !== undefined) return toEmail(match);
    if (performance.now() >= deadline) {
      const seen = messages.map((message) => `${message.template} at ${message.createdAt}`).join(', ') || 'nothing';
      throw new Error(`no ${options.template === undefined ? '' : `${options.template} `}email to ${to} arrived in time (the outbox holds for that address: ${seen})`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Every message to `to` (or to anyone), newest first, as stored now. */
export async function listEmails(server: TestServer, to?: string): Promise<OutboxEmail[]> {
  const messages = await server.server.app.services.outbox.list({ to, limit: 1000 });
  return messages.map(toEmail);
}

/** Resolves once every message handed to the server's mail delivery so far is stored (and, with SMTP, sent or failed). */
export async function settleEmails(server: TestServer): Promise<void> {
  await server.server.app.services.mail.idle();
}

/** The `token` query parameter of a magic link. */
export function linkToken(link: string): string {
  const token = new URL(link).searchParams.get('token');
  if (token === null || token === '') throw new Error(`the link has no token parameter: ${link}`);
  return token;
}

function matches(message: MailMessage, options: WaitForEmailOptions): boolean {
  if (options.template !== undefined && message.template !== options.template) return false;
  const after = options.after;
  if (after === undefined) return true;
  if (typeof after === 'object' && 'messageId' in after) return message.messageId > after.messageId;
  const time = typeof after === 'string' ? Date.parse(after) : after.getTime();
  return Date.parse(message.createdAt) >= Math.floor(time / 1000) * 1000;
}

function toEmail(message: MailMessage): OutboxEmail {
  if (message.text === null || message.html === null) {
    throw new Error(`message ${message.messageId} was sent by SMTP, so its body was not kept: read it from the SMTP test server (tests/support/smtp-test-server.ts)`);
  }
  return {
    messageId: message.messageId,
    template: message.template,
    to: message.to,
    locale: message.locale,
    subject: message.subject,
    text: message.text,
    html: message.html,
    ...(message.link !== null && { link: message.link }),
    ...(message.code !== null && { code: message.code }),
    organizationId: message.organizationId,
    memberId: message.memberId,
    createdAt: message.createdAt,
  };
}
