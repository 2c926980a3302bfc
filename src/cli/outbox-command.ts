import { parseArgs } from 'node:util';
import { loadConfig } from '../config/load.js';
import type { MailMessage } from '../domain/mail/mail-message.js';
import { MAIL_MESSAGES_KEPT } from '../domain/mail/mail-message.js';
import type { SmsMessage } from '../domain/sms/sms-message.js';
import { printableJson } from '../http/wire/json-text.js';
import { type Output, printable, withCliServices, parsedOrUsage } from './cli-support.js';
import { UsageError } from './keys-command.js';

/** `understudy outbox`: the messages the server kept or sent, newest first, read from the database. */
export const OUTBOX_USAGE = `Usage: understudy outbox [--to <email or number>] [--email | --sms] [--limit <n>] [--json] [--config <file>]

  Lists sign-in email and SMS codes newest first: when, to whom, the subject or text and, without
  SMTP or an SMS provider configured (the outbox, for development), the magic link or code to use.
  With one it shows each delivery's status instead (sent, queued for a retry, failed with the
  server's or provider's reply). SMS blocks start with "SMS".

  --to <email or number>  Only messages to this address (any case) or phone number (E.164).
  --email, --sms          Only email, or only SMS.
  --limit <n>             At most n messages (default 20, at most ${MAIL_MESSAGES_KEPT}, which is all that is kept).
  --json                  A JSON array, one object per message, with its "channel" ("email" or "sms")
                          and its bodies.

See docs/email.md and docs/sms.md.`;

export interface OutboxArguments {
  readonly help: boolean;
  readonly config: string | undefined;
  readonly to: string | undefined;
  readonly limit: number;
  readonly json: boolean;
  /** Both when neither --email nor --sms is given. */
  readonly channels: readonly ('email' | 'sms')[];
}

/** Checks the arguments before anything is opened; `argv` starts with `outbox`. */
export function parseOutboxArguments(argv: readonly string[]): OutboxArguments {
  const { positionals, values } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      config: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
      to: { type: 'string' },
      limit: { type: 'string' },
      json: { type: 'boolean' },
      email: { type: 'boolean' },
      sms: { type: 'boolean' },
    },
  });
  if (positionals.length > 1) throw new UsageError(`Unexpected argument "${positionals[1]}".`);
  const to = values.to?.trim();
  if (to === '') throw new UsageError('--to needs an email address or a phone number.');
  if (values.email === true && values.sms === true) throw new UsageError('Give --email or --sms, not both (neither lists both).');
  const limitText = values.limit ?? '20';
  const limit = /^\d+$/.test(limitText) ? Number(limitText) : Number.NaN;
  if (!(limit >= 1 && limit <= MAIL_MESSAGES_KEPT)) throw new UsageError(`--limit must be a whole number from 1 to ${MAIL_MESSAGES_KEPT} (got "${limitText}").`);
  const channels = values.email === true ? (['email'] as const) : values.sms === true ? (['sms'] as const) : (['email', 'sms'] as const);
  return { help: values.help === true, config: values.config, to, limit, json: values.json === true, channels };
}

export async function runOutboxCli(argv: readonly string[], io: Output): Promise<number> {
  const parsed = parsedOrUsage(() => parseOutboxArguments(argv), OUTBOX_USAGE, io);
  if ('exitCode' in parsed) return parsed.exitCode;
  const args = parsed.args;
  if (args.help) {
    io.out(OUTBOX_USAGE);
    return 0;
  }
  // First-start credentials go to stderr, so --json output stays parseable.
  return withCliServices(loadConfig({ configFile: args.config }), { ...io, announce: io.err }, async (services) => {
    const emails = args.channels.includes('email') ? await services.outbox.list({ to: args.to, limit: args.limit }) : [];
    const sms = args.channels.includes('sms') ? await services.smsOutbox.list({ to: args.to, limit: args.limit }) : [];
    // Newest first across both tables (each is newest first already); a stable sort keeps each table's order within a second.
    const entries: Entry[] = [...emails.map((message) => ({ channel: 'email' as const, message })), ...sms.map((message) => ({ channel: 'sms' as const, message }))]
      .sort((a, b) => b.message.createdAt.localeCompare(a.message.createdAt))
      .slice(0, args.limit);
    if (args.json) io.out(printableJson(entries.map((entry) => (entry.channel === 'email' ? messageJson(entry.message) : smsJson(entry.message)))));
    else
      io.out(
        entries.length === 0
          ? `No messages${args.to === undefined ? '' : ` to ${printable(args.to)}`}.`
          : entries.map((entry) => (entry.channel === 'email' ? messageBlock(entry.message) : smsBlock(entry.message))).join('\n\n'),
      );
    return 0;
  });
}

type Entry = { readonly channel: 'email'; readonly message: MailMessage } | { readonly channel: 'sms'; readonly message: SmsMessage };

/** What an email and an SMS share in the JSON output, in the same order. */
function commonJson(channel: 'email' | 'sms', message: MailMessage | SmsMessage): Record<string, unknown> {
  return { channel, message_id: message.messageId, created_at: message.createdAt, to: message.to, template: message.template, locale: message.locale };
}

/** Where the message is: its delivery and who it was for (no secrets beyond the outbox's own). */
function deliveryJson(message: MailMessage | SmsMessage): Record<string, unknown> {
  return {
    code: message.code,
    expires_at: message.expiresAt,
    mode: message.mode,
    status: message.status,
    attempts: message.attempts,
    last_reply: message.lastReply,
    organization_id: message.organizationId,
    member_id: message.memberId,
    request_id: message.requestId,
  };
}

function messageJson(message: MailMessage): unknown {
  return { ...commonJson('email', message), subject: message.subject, link: message.link, ...deliveryJson(message), text: message.text, html: message.html };
}

function smsJson(message: SmsMessage): unknown {
  return { ...commonJson('sms', message), ...deliveryJson(message), text: message.text };
}

/** A labelled line of a block, its value made safe for a terminal. */
function line(label: string, value: string): string {
  return `  ${label.padEnd(9)}${printable(value)}`;
}

/** One block per message. */
function messageBlock(message: MailMessage): string {
  return [
    `${message.createdAt}  ${message.template} (${message.locale})  to ${printable(message.to)}`,
    line('Subject', message.subject),
    ...(message.link === null ? [] : [line('Link', message.link)]),
    ...(message.code === null ? [] : [line('Code', message.code)]),
    line('Expires', message.expiresAt),
    line('Status', statusOf(message, 'no SMTP configured', '')),
  ].join('\n');
}

/** Like an email's block, marked SMS; the text shown only where the outbox kept it. */
function smsBlock(message: SmsMessage): string {
  return [
    `${message.createdAt}  SMS ${message.template} (${message.locale})  to ${printable(message.to)}`,
    ...(message.text === null ? [] : [line('Text', message.text)]),
    ...(message.code === null ? [] : [line('Code', message.code)]),
    line('Expires', message.expiresAt),
    line('Status', statusOf(message, 'no SMS provider configured', ` via ${message.mode}`)),
  ].join('\n');
}

/** `kept in the outbox (…)`, or the delivery status with its attempts and the last reply. */
function statusOf(message: MailMessage | SmsMessage, outboxWhy: string, via: string): string {
  if (message.status === 'stored') return `kept in the outbox (${outboxWhy})`;
  const attempts = `${message.attempts} attempt${message.attempts === 1 ? '' : 's'}`;
  return `${message.status}${via} (${attempts}${message.lastReply === null ? '' : `; ${message.lastReply}`})`;
}
