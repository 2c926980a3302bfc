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
  const options = { level, redact: { paths: REDACTED_PATHS, censor: '[redacted]' } };
  return destination ? pino(options, destination) : pino(options);
}
