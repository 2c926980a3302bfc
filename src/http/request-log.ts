import { LogController, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from '../platform/logger.js';
import { operationOf } from './server.js';

/**
 * Fastify's per-request lines, replaced by one access line per request. Fastify writes "incoming
 * request" and "request completed" at info with the URL, query string included; here a request
 * that was answered writes one "request completed" line with its operation (never the URL),
 * method, status, duration in milliseconds and request id: at info when the access log is on
 * (UNDERSTUDY_ACCESS_LOG, the default), at debug when it is off. "incoming request" is written at
 * trace only. A request that fails while being answered still logs Fastify's "request errored"
 * at error, and 5xx answers log "request failed" at error besides (server.ts).
 */
export class RequestLogController extends LogController {
  readonly #logger: Logger;
  readonly #level: 'info' | 'debug';

  constructor(logger: Logger, accessLog: boolean) {
    super();
    this.#logger = logger;
    this.#level = accessLog ? 'info' : 'debug';
  }

  override incomingRequest(request: FastifyRequest): void {
    request.log.trace({ req: request }, 'incoming request');
  }

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (error) {
      super.requestCompleted(error, request, reply);
      return;
    }
    this.#access(request, reply, reply.elapsedTime);
  }

  /**
   * For a request answered before routing (a malformed URL, server.ts `frameworkErrors`): Fastify
   * neither times it nor reports its completion, so the access line is written here once it is answered.
   */
  answeredBeforeRouting(request: FastifyRequest, reply: FastifyReply): void {
    const started = performance.now();
    reply.raw.once('finish', () => this.#access(request, reply, performance.now() - started));
  }

  #access(request: FastifyRequest, reply: FastifyReply, durationMs: number): void {
    // Written on the server's logger with the request id as a field, not on the request's own logger:
    // that one is a child made on first use (lazy-request-logger.ts), which this line would make on
    // every request.
    if (!this.#logger.isLevelEnabled(this.#level)) return;
    this.#logger[this.#level](
      {
        reqId: request.id,
        operation: operationOf(request),
        method: request.method,
        status: reply.statusCode,
        duration_ms: Math.round(durationMs * 100) / 100,
      },
      'request completed',
    );
  }
}
