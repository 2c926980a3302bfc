import { parseArgs } from 'node:util';
import { loadConfig } from '../config/load.js';
import type { MailMessage } from '../domain/mail/mail-message.js';
import { MAIL_MESSAGES_KEPT } from '../domain/mail/mail-message.js';
import { printableJson } from '../http/wire/json-text.js';
import { type Output, printable, withCliServices } from './cli-support.js';
import { UsageError } from './keys-command.js';

/** `understudy outbox`: the messages the server kept or sent, newest first, read from the database. */
export const OUTBOX_USAGE = `Usage: understudy outbox [--to <email>] [--limit <n>] [--json] [--config <file>]

  Lists sign-in email newest first: when, to whom, the subject and, without SMTP configured (the
  outbox, for development), the magic link or one-time code to use. With SMTP it shows each
  delivery's status instead (sent, queued for a retry, failed with the server's reply).

  --to <email>   Only messages to this address (any case).
  --limit <n>    At most n messages (default 20, at most ${MAIL_MESSAGES_KEPT}, which is all that is kept).
  --json         A JSON array, one object per message, with the plain-text and HTML bodies.

See docs/email.md.`;

export interface OutboxArguments {
  readonly help: boolean;
  readonly config: string | undefined;
  readonly to: string | undefined;
  readonly limit: number;
  readonly json: boolean;
}

/** Checks the arguments before anything is opened; `argv` starts with `outbox`. */
export function parseOutboxArguments(argv: readonly string[]): OutboxArguments {
  const { positionals, values } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: { config: { type: 'string' }, help: { type: 'boolean', short: 'h' }, to: { type: 'string' }, limit: { type: 'string' }, json: { type: 'boolean' } },
  });
  if (positionals.length > 1) throw new UsageError(`Unexpected argument "${positionals[1]}".`);
  const to = values.to?.trim();
  if (to === '') throw new UsageError('--to needs an email address.');
  const limitText = values.limit ?? '20';
  const limit = /^\d+$/.test(limitText) ? Number(limitText) : Number.NaN;
  if (!(limit >= 1 && limit <= MAIL_MESSAGES_KEPT)) throw new UsageError(`--limit must be a whole number from 1 to ${MAIL_MESSAGES_KEPT} (got "${limitText}").`);
  return { help: values.help === true, config: values.config, to, limit, json: values.json === true };
}

export async function runOutboxCli(argv: readonly string[], io: Output): Promise<number> {
  let args: OutboxArguments;
  try {
    args = parseOutboxArguments(argv);
  } catch (error) {
    if (!(error instanceof UsageError) && !String((error as { code?: unknown }).code).startsWith('ERR_PARSE_ARGS_')) throw error;
    io.err(`${printable((error as Error).message)}\n\n${OUTBOX_USAGE}`);
    return 2;
  }
  if (args.help) {
    io.out(OUTBOX_USAGE);
    return 0;
  }
  // First-start credentials go to stderr, so --json output stays parseable.
  return withCliServices(loadConfig({ configFile: args.config }), { ...io, announce: io.err }, async (services) => {
    const messages = await services.outbox.list({ to: args.to, limit: args.limit });
    if (args.json) io.out(printableJson(messages.map(messageJson)));
    else io.out(messages.length === 0 ? `No messages${args.to === undefined ? '' : ` to ${printable(args.to)}`}.` : messages.map(messageBlock).join('\n\n'));
    return 0;
  });
}

function messageJson(message: MailMessage): unknown {
  return {
    message_id: message.messageId,
    created_at: message.createdAt,
    to: message.to,
    template: message.template,
    locale: message.locale,
    subject: message.subject,
    link: message.link,
    code: message.code,
    expires_at: message.expiresAt,
    mode: message.mode,
    status: message.status,
    attempts: message.attempts,
    last_reply: message.lastReply,
    organization_id: message.organizationId,
    member_id: message.memberId,
    request_id: message.requestId,
    text: message.text,
    html: message.html,
  };
}

/** One block per message; every stored value made safe for a terminal. */
function messageBlock(message: MailMessage): string {
  const line = (label: string, value: string): string => `  ${label.padEnd(9)}${printable(value)}`;
  return [
    `${message.createdAt}  ${message.template} (${message.locale})  to ${printable(message.to)}`,
    line('Subject', message.subject),
    ...(message.link === null ? [] : [line('Link', message.link)]),
    ...(message.code === null ? [] : [line('Code', message.code)]),
    line('Expires', message.expiresAt),
    line('Status', statusOf(message)),
  ].join('\n');
}

function statusOf(message: MailMessage): string {
  if (message.status === 'stored') return 'kept in the outbox (no SMTP configured)';
  const attempts = `${message.attempts} attempt${message.attempts === 1 ? '' : 's'}`;
  return `${message.status} (${attempts}${message.lastReply === null ? '' : `; ${message.lastReply}`})`;
}
