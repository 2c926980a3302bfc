import pino, { type Logger } from 'pino';

export type { Logger } from 'pino';

/**
 * Paths that must never reach a log line. Fastify's default request serializer logs
 * only method, url and ids; these cover anything a later change might log by accident.
 */
const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-stytch-member-session"]',
  'req.headers["x-stytch-member-sessionjwt"]',
  '*.secret',
  '*.session_token',
  '*.session_jwt',
  '*.impersonation_token',
  '*.password',
];

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  const options = { level, redact: { paths: REDACTED_PATHS, censor: '[redacted]' }, serializers: { req: requestForLog } };
  return destination ? pino(options, destination) : pino(options);
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
