import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerAuthentication, type SMTPServerSession } from 'smtp-server';
import type { SelfSignedCertificate } from './tls.js';

/**
 * A real SMTP server inside the test process (the `smtp-server` package), for delivery tests:
 *
 *   const smtp = await startSmtpTestServer({ script: failFirst(2) });   // 421 twice, then accept
 *   const server = await startTestServer({ config: { smtpUrl: smtp.url, smtpFrom: 'login@acme.example' } });
 *   ...
 *   const [message] = await smtp.waitForMessages(1);   // { to, subject, text, html, headers, secure, user }
 *   await smtp.close();
 *
 * `url` carries the credentials when `auth` is set. Without `tls` the server offers no STARTTLS, so
 * a client speaks plain SMTP; with it, STARTTLS (or TLS from the start with `secure: true`) using
 * that certificate, which the client must trust (SmtpTransport's `tls.ca`).
 */
export interface ReceivedMessage {
  readonly from: string;
  readonly to: readonly string[];
  readonly subject: string;
  readonly text: string;
  readonly html: string;
  /** Top-level headers, names in lower case, values unfolded and decoded. */
  readonly headers: ReadonlyMap<string, string>;
  readonly raw: string;
  /** Whether the session was encrypted (STARTTLS or TLS from the start). */
  readonly secure: boolean;
  /** The user that authenticated, when one did. */
  readonly user: string | undefined;
}

/** What the server answers a message instead of accepting it. */
export interface SmtpRefusal {
  readonly code: number;
  readonly message?: string;
}

/** Decides per message (`attempt` counts every DATA received, from 0) whether to refuse it. */
export type SmtpScript = (attempt: number) => SmtpRefusal | undefined;

/** Refuses the first `count` messages with `code` (421: try again later), then accepts. */
export function failFirst(count: number, code = 421): SmtpScript {
  return (attempt) => (attempt < count ? { code, message: `${code} test server says try again later` } : undefined);
}

/** Refuses every message with `code` (550: no such mailbox). */
export function failAlways(code = 550): SmtpScript {
  return () => ({ code, message: `${code} test server refuses this message` });
}

export interface SmtpTestServerOptions {
  readonly script?: SmtpScript;
  /** Require this user and password (AUTH PLAIN/LOGIN); others get 535. */
  readonly auth?: { readonly user: string; readonly pass: string };
  /** Offer STARTTLS with this certificate. */
  readonly tls?: SelfSignedCertificate;
  /** With `tls`: TLS from the first byte (smtps://) instead of STARTTLS. */
  readonly secure?: boolean;
}

export interface SmtpTestServer {
  readonly url: string;
  readonly port: number;
  /** Messages accepted so far, in order. */
  readonly messages: readonly ReceivedMessage[];
  /** DATA commands received so far, accepted or refused. */
  readonly attempts: number;
  /** Resolves with the accepted messages once there are at least `count`; rejects after `timeoutMs` (5000). */
  waitForMessages(count: number, timeoutMs?: number): Promise<readonly ReceivedMessage[]>;
  close(): Promise<void>;
}

export async function startSmtpTestServer(options: SmtpTestServerOptions = {}): Promise<SmtpTestServer> {
  const messages: ReceivedMessage[] = [];
  let attempts = 0;
  const server = new SMTPServer({
    logger: false,
    secure: options.tls !== undefined && options.secure === true,
    ...(options.tls !== undefined && { key: readFileSync(options.tls.key, 'utf8'), cert: options.tls.pem }),
    disabledCommands: [...(options.tls === undefined ? ['STARTTLS'] : []), ...(options.auth === undefined ? ['AUTH'] : [])],
    authOptional: options.auth === undefined,
    allowInsecureAuth: true,
    onAuth(auth: SMTPServerAuthentication, _session: SMTPServerSession, callback) {
      if (options.auth !== undefined && auth.username === options.auth.user && auth.password === options.auth.pass) return callback(null, { user: auth.username });
      const refusal = Object.assign(new Error('Authentication failed'), { responseCode: 535 });
      return callback(refusal);
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const refusal = options.script?.(attempts);
        attempts += 1;
        if (refusal !== undefined) {
          return callback(Object.assign(new Error(refusal.message ?? `${refusal.code} refused`), { responseCode: refusal.code }));
        }
        messages.push(parseMessage(Buffer.concat(chunks).toString('utf8'), session));
        return callback(null);
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.server.address() as AddressInfo).port;
  const credentials = options.auth === undefined ? '' : `${encodeURIComponent(options.auth.user)}:${encodeURIComponent(options.auth.pass)}@`;
  const scheme = options.tls !== undefined && options.secure === true ? 'smtps' : 'smtp';
  return {
    url: `${scheme}://${credentials}${options.tls === undefined ? '127.0.0.1' : 'localhost'}:${port}`,
    port,
    messages,
    get attempts() {
      return attempts;
    },
    async waitForMessages(count, timeoutMs = 5000) {
      const deadline = performance.now() + timeoutMs;
      while (messages.length < count) {
        if (performance.now() > deadline) throw new Error(`the SMTP test server received ${messages.length} message(s), not ${count}, in ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      return messages;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Just enough MIME to read what nodemailer writes: headers, multipart/alternative, quoted-printable and base64 parts. */
function parseMessage(raw: string, session: SMTPServerSession): ReceivedMessage {
  const { headers, body } = splitEntity(raw);
  const parts = leafParts(headers, body);
  const partOf = (type: string) => parts.find((part) => (part.headers.get('content-type') ?? 'text/plain').toLowerCase().startsWith(type));
  return {
    from: session.envelope.mailFrom === false ? '' : session.envelope.mailFrom.address,
    to: session.envelope.rcptTo.map((recipient) => recipient.address),
    subject: headers.get('subject') ?? '',
    text: decodePart(partOf('text/plain')),
    html: decodePart(partOf('text/html')),
    headers,
    raw,
    secure: session.secure,
    user: typeof session.user === 'string' ? session.user : undefined,
  };
}

interface Entity {
  readonly headers: Map<string, string>;
  readonly body: string;
}

function splitEntity(text: string): Entity {
  const normalized = text.replace(/\r\n/g, '\n');
  const end = normalized.indexOf('\n\n');
  const head = end === -1 ? normalized : normalized.slice(0, end);
  const body = end === -1 ? '' : normalized.slice(end + 2);
  const headers = new Map<string, string>();
  for (const line of head.replace(/\n[ \t]+/g, ' ').split('\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), decodeWords(line.slice(colon + 1).trim()));
  }
  return { headers, body };
}

function leafParts(headers: Map<string, string>, body: string): Entity[] {
  const type = headers.get('content-type') ?? 'text/plain';
  const boundary = /boundary="?([^";]+)"?/i.exec(type)?.[1];
  if (!type.toLowerCase().startsWith('multipart/') || boundary === undefined) return [{ headers, body }];
  return body
    .split(`--${boundary}`)
    .slice(1)
    .filter((section) => !section.startsWith('--'))
    .flatMap((section) => {
      const entity = splitEntity(section.replace(/^\n/, ''));
      return leafParts(entity.headers, entity.body);
    });
}

function decodePart(part: Entity | undefined): string {
  if (part === undefined) return '';
  const encoding = (part.headers.get('content-transfer-encoding') ?? '7bit').toLowerCase();
  if (encoding === 'base64') return Buffer.from(part.body.replace(/\s+/g, ''), 'base64').toString('utf8');
  if (encoding === 'quoted-printable') return decodeQuotedPrintable(part.body);
  return part.body.replace(/\n$/, '');
}

function decodeQuotedPrintable(text: string): string {
  const bytes = text
    .replace(/=\n/g, '')
    .replace(/\n$/, '')
    .replace(/\n/g, '\r\n');
  const out: number[] = [];
  for (let index = 0; index < bytes.length; index++) {
    const character = bytes[index] as string;
    const hex = bytes.slice(index + 1, index + 3);
    if (character === '=' && /^[0-9A-F]{2}$/i.test(hex)) {
      out.push(Number.parseInt(hex, 16));
      index += 2;
    } else {
      out.push(...Buffer.from(character, 'utf8'));
    }
  }
  return Buffer.from(out).toString('utf8').replace(/\r\n/g, '\n');
}

/** RFC 2047 encoded words (`=?UTF-8?Q?…?=`, `=?UTF-8?B?…?=`), as nodemailer writes non-ASCII headers. */
function decodeWords(value: string): string {
  return value
    .replace(/\?=\s+=\?/g, '?==?')
    .replace(/=\?([^?]+)\?([QqBb])\?([^?]*)\?=/g, (_match, _charset: string, kind: string, data: string) =>
      kind.toUpperCase() === 'B' ? Buffer.from(data, 'base64').toString('utf8') : decodeQuotedPrintable(data.replace(/_/g, ' ')),
    );
}
