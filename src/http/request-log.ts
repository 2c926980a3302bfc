import { LogController, type FastifyReply, type FastifyRequest } from 'fastify';

/**
 * Fastify's own per-request lines, quieter. By default it writes "incoming request" and "request
 * completed" at info for every request: two synchronous log writes, which cost about a tenth of
 * a session authentication's CPU time (docs/performance.md). Here a request that succeeds writes
 * one "request completed" line at debug (method, url, status, response time) and its "incoming
 * request" line at trace; at the default info level it writes none. A request that fails while
 * being answered still logs "request errored" at error, and 5xx answers log at error (server.ts).
 */
export class RequestLogController extends LogController {
  override incomingRequest(request: FastifyRequest): void {
    request.log.trace({ req: request }, 'incoming request');
  }

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (error) {
      super.requestCompleted(error, request, reply);
      return;
    }
    reply.log.debug({ req: request, res: reply, responseTime: reply.elapsedTime }, 'request completed');
  }
}
