import nodemailer, { type Transporter } from 'nodemailer';
import type { RenderedEmail } from '../domain/mail/mail-message.js';
import type { MailTransport, SendResult } from '../domain/mail/mail-transport.js';

/** UNDERSTUDY_SMTP_URL, UNDERSTUDY_SMTP_FROM and UNDERSTUDY_SMTP_REPLY_TO. */
export interface SmtpSettings {
  /**
   * smtp://user:pass@host:587 (STARTTLS, required unless the host is this machine or the URL says
   * `?requireTLS=false`) or smtps://user:pass@host:465 (TLS from the start).
   */
  readonly url: string;
  readonly from: string;
  readonly replyTo?: string | undefined;
  /** Extra TLS options, e.g. a private CA (`{ ca }`); tests use it for self-signed certificates. */
  readonly tls?: { readonly ca?: string | undefined } | undefined;
}

/** Error codes nodemailer gives without an SMTP reply that retrying cannot fix (bad address, refused or missing credentials, bad settings). */
const PERMANENT_CODES = new Set(['EENVELOPE', 'EMESSAGE', 'EAUTH', 'ENOAUTH', 'ECONFIG', 'EMAXRECIPIENTS']);

/** The longest reply kept: a server's reply can be long, and it is stored and shown as is. */
const MAX_REPLY_LENGTH = 500;

/**
 * Sends through an SMTP server with nodemailer: one connection per message (no pool: sign-in mail
 * is sparse, and a pool would hold connections open between messages). Timeouts are short so a
 * dead server is a temporary failure in seconds, not minutes.
 */
export class SmtpTransport implements MailTransport {
  readonly #transporter: Transporter;

  constructor(settings: SmtpSettings) {
    this.#transporter = nodemailer.createTransport(
      {
        url: settings.url,
        // The URL's own `?requireTLS=false` wins (nodemailer reads URL options over these).
        requireTLS: requiresStartTls(settings.url),
        connectionTimeout: 10_000,
        greetingTimeout: 10_000,
        socketTimeout: 30_000,
        ...(settings.tls?.ca !== undefined && { tls: { ca: settings.tls.ca } }),
      },
      { from: settings.from, ...(settings.replyTo !== undefined && { replyTo: settings.replyTo }) },
    );
  }

  async send(message: RenderedEmail & { readonly to: string }): Promise<SendResult> {
    try {
      const info = (await this.#transporter.sendMail({ to: message.to, subject: message.subject, text: message.text, html: message.html })) as { response?: unknown };
      return { ok: true, reply: clip(typeof info.response === 'string' ? info.response : '250 accepted') };
    } catch (error) {
      return classify(error);
    }
  }

  close(): void {
    this.#transporter.close();
  }
}

/**
 * Whether an `smtp://` connection must upgrade with STARTTLS before it authenticates or sends.
 * Otherwise someone on the path who strips the server's STARTTLS offer would read the password and
 * every sign-in link. Only a server on this machine (a local relay) is spoken to in plain text.
 */
export function requiresStartTls(url: string): boolean {
  const parsed = new URL(url);
  if (parsed.protocol !== 'smtp:') return false;
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  return !(host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host));
}

/** SMTP 5xx and configuration errors are permanent; 4xx, timeouts and dropped connections are worth another try. */
export function classify(error: unknown): SendResult & { ok: false } {
  const failure = (error ?? {}) as { responseCode?: unknown; response?: unknown; code?: unknown; message?: unknown };
  const responseCode = typeof failure.responseCode === 'number' ? failure.responseCode : undefined;
  const response = typeof failure.response === 'string' && failure.response !== '' ? failure.response : undefined;
  const code = typeof failure.code === 'string' ? failure.code : undefined;
  const message = typeof failure.message === 'string' ? failure.message : String(error);
  const reply = clip(response ?? (code === undefined ? message : `${code}: ${message}`));
  if (responseCode !== undefined) return { ok: false, permanent: responseCode >= 500, reply };
  return { ok: false, permanent: code !== undefined && PERMANENT_CODES.has(code), reply };
}

function clip(text: string): string {
  const oneLine = text.replace(/[\r\n]+/g, ' ').trim();
  return oneLine.length > MAX_REPLY_LENGTH ? `${oneLine.slice(0, MAX_REPLY_LENGTH)}…` : oneLine;
}
