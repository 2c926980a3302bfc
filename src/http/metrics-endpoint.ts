import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { digestsMatch } from '../crypto/opaque-token.js';
import { secretDigestBytes } from '../crypto/secret-digest.js';
import { sharedError } from '../domain/common/errors.js';
import type { Logger } from '../platform/logger.js';
import type { RateLimitName } from '../domain/rate-limits/rate-limit.js';
import { RateLimitRefusal } from '../domain/rate-limits/rate-limiter.js';
import type { Metrics } from '../metrics/metrics.js';
import { renderError } from './errors.js';
import { operationOf, type ConnectionTimeouts } from './server.js';

/** The path metrics are served at, on the API port or on their own listener. */
export const METRICS_PATH = '/metrics';

const REFUSAL = 'The metrics token is missing or wrong: send Authorization: Bearer <UNDERSTUDY_METRICS_TOKEN>.';

/** Who may read the metrics: the bearers of the token, or anyone when none is configured (a listener on a private network). */
export class MetricsAccess {
  readonly #tokenDigest: Buffer | undefined;

  constructor(token: string | undefined) {
    this.#tokenDigest = token === undefined ? undefined : secretDigestBytes(token);
  }

  get requiresToken(): boolean {
    return this.#tokenDigest !== undefined;
  }

  /** Whether `authorization` (the header as sent) lets its bearer read the metrics. */
  allows(authorization: string | undefined): boolean {
    if (this.#tokenDigest === undefined) return true;
    const presented = /^Bearer +(\S+) *$/i.exec(authorization ?? '')?.[1] ?? '';
    // Digests of both, compared in constant time: neither where the token differs nor its length shows.
    return digestsMatch(secretDigestBytes(presented), this.#tokenDigest);
  }
}

/** The rate limit that refused a request, kept with the request until its answer is counted. */
const refusedBy = new WeakMap<FastifyRequest, RateLimitName>();

/**
 * For a handler that answers a rate limit's refusal itself instead of throwing it (the console's
 * sign-in page): the refusal is counted like a thrown one once its 429 goes out.
 */
export function noteRateLimitRefusal(request: FastifyRequest, error: unknown): void {
  if (error instanceof RateLimitRefusal) refusedBy.set(request, error.limit);
}

/**
 * Counts every answered request by operation and status, timed, and a 429 a rate limit caused by
 * that limit: at the answer, so a refusal a call absorbed (a sign-in that sends no SMS code) or one
 * in a transaction run again after a deadlock counts as what the client saw, once or not at all.
 * Callback-style hooks, no promises: they run on every request.
 */
export function countRequests(app: FastifyInstance, metrics: Metrics): void {
  // Before the error handler renders it: the refusal thrown is the only place its limit is named.
  app.addHook('onError', (request, _reply, error, done) => {
    noteRateLimitRefusal(request, error);
    done();
  });
  app.addHook('onResponse', (request, reply, done) => {
    // Named by operation, never by URL.
    metrics.recordRequest(operationOf(request), reply.statusCode, reply.elapsedTime / 1000);
    if (reply.statusCode === 429) {
      const limit = refusedBy.get(request);
      if (limit !== undefined) metrics.rateLimited(limit);
    }
    done();
  });
}

/**
 * `GET /metrics` on the API port. Open to the router's deny-by-default check (`access: 'public'`)
 * because it needs no project credentials: it checks the metrics token itself.
 */
export function registerMetricsRoute(app: FastifyInstance, metrics: Metrics, access: MetricsAccess): void {
  app.get(METRICS_PATH, { config: { access: 'public', operation: 'metrics' } }, async (request, reply) => {
    if (!access.allows(request.headers.authorization)) {
      void reply.header('www-authenticate', 'Bearer');
      throw sharedError('unauthorized_credentials', REFUSAL);
    }
    const text = await metrics.render();
    return reply.type(metrics.contentType).send(text);
  });
}

export interface MetricsListenerOptions {
  readonly host: string;
  readonly port: number;
  readonly metrics: Metrics;
  readonly access: MetricsAccess;
  readonly newRequestId: () => string;
  readonly logger: Logger;
  /** As the API port's (docs/configuration.md), so a slow client cannot hold this listener's sockets either. */
  readonly timeouts: ConnectionTimeouts;
}

export interface MetricsListener {
  /** Where the metrics are read, e.g. `http://127.0.0.1:9464/metrics`. */
  readonly url: string;
  /** Stops listening and lets a scrape under way finish. */
  close(): Promise<void>;
}

/**
 * A listener of its own (UNDERSTUDY_METRICS_ADDRESS) that serves only `GET /metrics`, so a scraper
 * on a private network reaches the metrics without reaching the API. Anything else is answered in
 * Stytch's error envelope, as on the API port: 404 for another path, 405 for another method.
 */
export async function startMetricsListener(options: MetricsListenerOptions): Promise<MetricsListener> {
  const { headersMs, requestMs, keepAliveMs } = options.timeouts;
  // Every open connection, and those with a request being answered: close() lets only the latter finish.
  const connections = new Set<Socket>();
  const answering = new Set<Socket>();
  let closing = false;
  const server = createServer(
    {
      requestTimeout: requestMs,
      headersTimeout: headersMs,
      keepAliveTimeout: keepAliveMs,
      // Node enforces the headers and request timeouts only when it checks connections (every 30 s by
      // default): checked as often as on the API port (src/http/server.ts), a client dripping its
      // headers is cut off near the timeout.
      connectionsCheckingInterval: Math.max(10, Math.min(1000, Math.floor(headersMs / 4))),
    },
    (request, response) => {
      const socket = request.socket;
      answering.add(socket);
      response.once('close', () => {
        answering.delete(socket);
        // Closing: the answer has gone out, and the connection is not kept for another scrape.
        if (closing) socket.end();
      });
      void answer(request, response, options);
    },
  );
  server.on('connection', (socket: Socket) => {
    connections.add(socket);
    socket.once('close', () => connections.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    url: `http://${host}:${port}${METRICS_PATH}`,
    close: () =>
      new Promise<void>((resolve) => {
        closing = true;
        server.close(() => resolve());
        // Node stops enforcing the timeouts once the server closes, so a connection without a request
        // being answered (idle between Prometheus's scrapes, or still dripping its headers) would hold
        // the shutdown for as long as its client likes: it is closed now. A scrape under way finishes.
        for (const socket of connections) if (!answering.has(socket)) socket.destroy();
      }),
  };
}

async function answer(request: IncomingMessage, response: ServerResponse, options: MetricsListenerOptions): Promise<void> {
  const requestId = options.newRequestId();
  const path = (request.url ?? '/').split('?')[0];
  if (path !== METRICS_PATH) return sendError(response, requestId, sharedError('route_not_found'));
  if (request.method !== 'GET' && request.method !== 'HEAD') return sendError(response, requestId, sharedError('method_not_allowed'));
  if (!options.access.allows(request.headers.authorization)) return sendError(response, requestId, sharedError('unauthorized_credentials', REFUSAL), { 'www-authenticate': 'Bearer' });
  let text: string;
  try {
    text = await options.metrics.render();
  } catch (error) {
    options.logger.error({ err: error, request_id: requestId }, 'rendering the metrics failed');
    return sendError(response, requestId, sharedError('internal_server_error'));
  }
  response.writeHead(200, { ...HEADERS, 'x-request-id': requestId, 'content-type': options.metrics.contentType });
  response.end(request.method === 'HEAD' ? undefined : text);
}

/** As the API port's responses carry (src/http/server.ts). */
const HEADERS = { 'x-content-type-options': 'nosniff', 'cache-control': 'no-store' } as const;

function sendError(response: ServerResponse, requestId: string, error: unknown, headers: Readonly<Record<string, string>> = {}): void {
  const body = renderError(error, requestId);
  response.writeHead(body.status_code, { ...HEADERS, ...headers, 'x-request-id': requestId, 'content-type': 'application/json; charset=utf-8' });
  response.end(JSON.stringify(body));
}
