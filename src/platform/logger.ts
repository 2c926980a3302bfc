import { createRequire } from 'node:module';
import pino, { type Logger } from 'pino';
import type { LOG_FORMATS } from '../config/schema.js';

export type { Logger } from 'pino';

/** `auto`: readable lines on a terminal, JSON otherwise; `json` and `pretty` force one (UNDERSTUDY_LOG_FORMAT). */
export type LogFormat = (typeof LOG_FORMATS)[number];

/** What a redacted value is written as. */
const CENSOR = '[redacted]';

/**
 * Headers that carry credentials, where a request object logged without its serializer would hold
 * them. Fastify's request serializer (`requestForLog`) writes no headers at all.
 */
const REDACTED_PATHS = ['req.headers.authorization', 'req.headers.cookie', 'req.headers["x-stytch-member-session"]', 'req.headers["x-stytch-member-sessionjwt"]'];

/**
 * Fields that must never reach a log line, as a line's own fields or one level below them
 * (`{ body: { password } }`), whatever a later change logs by accident. Checked here rather than
 * with pino's wildcard redaction paths (`*.password`), which route every field of every line,
 * the access line's included, through the redaction code: about 3 µs a line. (The bindings of
 * child loggers are not checked: the only ones made are Fastify's, binding the request id.)
 */
const SECRET_FIELDS = [
  'secret',
  'session_token',
  'session_jwt',
  'impersonation_token',
  'intermediate_session_token',
  'magic_links_token',
  'sso_token',
  'token',
  'password',
  'authorization',
  // Node's and Fastify's client-error handling attaches the raw request bytes, headers included.
  'rawPacket',
] as const;
const SECRET_FIELD_NAMES: ReadonlySet<string> = new Set(SECRET_FIELDS);

/**
 * Standard output as pino writes it by default (asynchronously, flushed at exit), but with at most
 * 16 MiB waiting: a reader that stops reading (a stalled log collector) loses lines beyond that
 * instead of growing the process's memory by one access line per request.
 */
const JSON_TO_STDOUT = { dest: 1, sync: false, maxLength: 16 * 1024 * 1024 };

/**
 * The server's logger. Lines go to `destination` (standard output when omitted) as JSON, or as
 * readable single lines when `format` asks for them (`auto`: when standard output is a terminal).
 * Redaction happens before either format sees a line, so both are equally safe.
 */
export function createLogger(level: string, destination?: pino.DestinationStream, format: LogFormat = 'json'): Logger {
  const options = {
    level,
    redact: { paths: REDACTED_PATHS, censor: CENSOR },
    formatters: { log: withoutSecretFields },
    serializers: { req: requestForLog },
  };
  const pretty = format === 'pretty' || (format === 'auto' && destination === undefined && process.stdout.isTTY === true);
  if (!pretty) return pino(options, destination ?? pino.destination(JSON_TO_STDOUT));
  return pino(options, prettyDestination(destination ?? pino.destination({ dest: 1, sync: true })));
}

/**
 * Readable lines: one per record, the time of day, the level, the message, then the other fields.
 * Each line is formatted and written synchronously, in the logging call: pino-pretty's own stream
 * (or a worker-thread transport) would hand lines on asynchronously, and the last ones written
 * before the process exits, the shutdown lines among them, could be lost. Colours follow the
 * terminal (none when output is piped or NO_COLOR is set).
 */
function prettyDestination(output: pino.DestinationStream): pino.DestinationStream {
  // Loaded only here: JSON output, the default off a terminal, never needs the formatter.
  const { prettyFactory } = createRequire(import.meta.url)('pino-pretty') as typeof import('pino-pretty');
  const format = prettyFactory({ singleLine: true, translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname' });
  return { write: (line: string) => void output.write(format(line)) };
}

/**
 * The line's fields with every secret field censored: its own, and those of the objects it holds.
 * The fields themselves are never changed; a line with nothing to censor is passed on as it is.
 */
function withoutSecretFields<Fields extends Record<string, unknown>>(fields: Fields): Fields {
  let censored: Record<string, unknown> | undefined;
  for (const key in fields) {
    const value = fields[key];
    if (value === undefined) continue;
    if (SECRET_FIELD_NAMES.has(key)) {
      censored ??= { ...fields };
      censored[key] = CENSOR;
    } else if (value !== null && typeof value === 'object' && SECRET_FIELDS.some((field) => (value as Record<string, unknown>)[field] !== undefined)) {
      censored ??= { ...fields };
      censored[key] = withSecretFieldsCensored(value);
    }
  }
  return (censored ?? fields) as Fields;
}

/**
 * A copy of `value` with its secret fields censored, of the same prototype and own properties, so
 * an error is still serialized with its type, message and stack.
 */
function withSecretFieldsCensored(value: object): object {
  const descriptors: PropertyDescriptorMap = Object.getOwnPropertyDescriptors(value);
  for (const field of SECRET_FIELDS) {
    if ((value as Record<string, unknown>)[field] !== undefined) descriptors[field] = { value: CENSOR, enumerable: true, writable: true, configurable: true };
  }
  return Object.create(Object.getPrototypeOf(value) as object | null, descriptors) as object;
}

interface LoggedRequest {
  readonly method?: string;
  readonly url?: string;
  readonly host?: string;
  readonly ip?: string;
  readonly socket?: { readonly remotePort?: number | undefined } | undefined;
}

/**
 * Fastify's request fields without the query string: a client may put a token there by mistake
 * (an impersonation link pointed at this server, say), and console searches carry email addresses.
 */
function requestForLog(request: LoggedRequest) {
  const url = request.url ?? '';
  const query = url.indexOf('?');
  return {
    method: request.method,
    url: query < 0 ? url : `${url.slice(0, query)}?[query redacted]`,
    host: request.host,
    remoteAddress: request.ip,
    remotePort: request.socket?.remotePort,
  };
}
