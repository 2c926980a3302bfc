import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import secureJson from 'secure-json-parse';
import { sharedError } from '../domain/common/errors.js';
import type { DomainError } from '../domain/common/domain-error.js';
import type { Logger } from '../platform/logger.js';
import type { Tracing } from '../platform/tracing.js';
import { isDatabaseUnavailable } from '../storage/database-unavailable.js';
import { errorHeaders, renderError } from './errors.js';
import { LazyRequestLogger } from './lazy-request-logger.js';
import { RouteTable } from './route-table.js';
import { RequestLogController } from './request-log.js';
import type { ProjectAuthenticator } from './project-authenticator.js';

export interface HttpServerOptions {
  readonly logger: Logger;
  readonly bodyLimitBytes: number;
  readonly newRequestId: () => string;
  readonly authenticator: ProjectAuthenticator;
  readonly https?: { readonly key: Buffer; readonly cert: Buffer } | undefined;
  /** How long clients may take to send requests (docs/configuration.md); Node's defaults when omitted. */
  readonly timeouts?: ConnectionTimeouts | undefined;
  /** Reverse proxies (addresses or CIDR ranges) whose X-Forwarded-For sets `request.ip`; none when omitted. */
  readonly trustProxy?: readonly string[] | undefined;
  /** One "request completed" line per request at info (UNDERSTUDY_ACCESS_LOG); at debug when false. On when omitted. */
  readonly accessLog?: boolean | undefined;
}

/** Slow or stalled clients are disconnected so they cannot hold sockets (docs/reliability.md, "Slow clients"). */
export interface ConnectionTimeouts {
  /** Request line and headers must arrive within this time (Node's `headersTimeout`). */
  readonly headersMs: number;
  /** The whole request, body included, must arrive within this time (Node's `requestTimeout`). */
  readonly requestMs: number;
  /** An idle kept-alive connection is closed after this time. */
  readonly keepAliveMs: number;
}

/**
 * Who may call a route. Every route needs the project's credentials unless it declares otherwise:
 * `public` for health checks and the JWKS, `console` for the operator console, which signs its
 * operators in itself. Decided by the route the router matched, never by the spelling of the URL.
 */
export type RouteAccess = 'project' | 'public' | 'console';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Who may call this route; `project` (the project's Basic credentials) when omitted. */
    access?: RouteAccess;
    /** Routes that read member-session headers themselves instead of the generic check. */
    handlesMemberSessionHeaders?: boolean;
    /**
     * The operation's name, for logs, metrics and traces: the SDK method of a Stytch operation
     * (`organizations.members.create`), an extension's own name (`impersonation.mint`).
     * Routes without one (the console, the end page) are named by `operationOf`.
     */
    operation?: string;
  }
  interface FastifyInstance {
    /** Every route registered so far, with who may call it; answers 405 for a known path with the wrong method. */
    routeTable: RouteTable;
  }
}

/**
 * The framework adapter: request ids, JSON-only bodies with a size limit, project authentication
 * on every route that is not declared open, and every failure rendered as Stytch's error envelope.
 */
export function createHttpServer(options: HttpServerOptions): FastifyInstance {
  const timeouts = options.timeouts;
  // Node enforces the headers and request timeouts only when it checks connections (every 30 s by default).
  const serverTimeouts =
    timeouts === undefined
      ? {}
      : {
          headersTimeout: timeouts.headersMs,
          requestTimeout: timeouts.requestMs,
          connectionsCheckingInterval: Math.max(10, Math.min(1000, Math.floor(timeouts.headersMs / 4))),
        };
  const requestLog = new RequestLogController(options.logger, options.accessLog ?? true);
  const app = Fastify({
    loggerInstance: options.logger,
    bodyLimit: options.bodyLimitBytes,
    genReqId: options.newRequestId,
    return503OnClosing: true,
    // One access line per request at info (at debug when the access log is off), and one more at trace (request-log.ts).
    logController: requestLog,
    // The per-request child logger is made only when the request writes a line (lazy-request-logger.ts).
    childLoggerFactory: (logger, bindings, childOptions) => new LazyRequestLogger(logger as Logger, bindings, childOptions) as unknown as Logger,
    // Path parameters may be slugs or external ids of up to 128 characters; the default of 100 refused them.
    routerOptions: { maxParamLength: 1024 },
    // A malformed URL or an over-long path parameter fails before routing and hooks; answer it in the Stytch envelope too.
    // No hooks run for these, so the security headers of the onSend hook below are set here too.
    frameworkErrors: (error, request, reply) => {
      requestLog.answeredBeforeRouting(request, reply);
      void reply.headers({ 'x-request-id': request.id, ...SECURITY_HEADERS });
      const message = error.code === 'FST_ERR_BAD_URL' ? 'The request URL is not correctly encoded.' : 'The request URL is malformed.';
      if (request.url.startsWith('/console/') || request.url === '/console') {
        // The console answers in HTML, even before its own routes and error pages are reached.
        const page = `<!doctype html><title>Bad request</title><p>${message}</p>`;
        return (reply as FastifyReply).code(400).header('content-security-policy', "default-src 'none'; frame-ancestors 'none'").type('text/html; charset=utf-8').send(page);
      }
      return sendError(reply, request, sharedError('bad_request', message));
    },
    // Bodies are validated exactly as sent: a number where a string belongs is a 400, never coerced.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false, allowUnionTypes: true } },
    ...(timeouts !== undefined && { requestTimeout: timeouts.requestMs, keepAliveTimeout: timeouts.keepAliveMs }),
    ...(options.https ? { https: { key: options.https.key, cert: options.https.cert, ...serverTimeouts } } : { http: serverTimeouts }),
    // X-Forwarded-For is believed only from configured proxies: anyone can send it, and it keys rate limits.
    ...(options.trustProxy !== undefined && options.trustProxy.length > 0 ? { trustProxy: [...options.trustProxy] } : {}),
  }) as unknown as FastifyInstance;

  app.decorate('routeTable', new RouteTable());
  // Scopes (the console) add their own onRoute hooks after this one on the same route object, so the
  // table keeps the route and reads its access when asked.
  app.addHook('onRoute', (route) => app.routeTable.add(route));

  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    // The SDK sends `Content-Type: application/json` with an empty body on some calls; treat it as no
    // fields at all, so a route's schema names the required field that is missing (docs/compatibility.md).
    const text = String(body);
    if (text.trim() === '') return done(null, {});
    // JSON.parse copes with deep nesting, but JSON.stringify of a stored 10,000-level document overflows the stack.
    if (nestedDeeperThan(text, MAX_JSON_DEPTH)) {
      return done(sharedError('invalid_json', `The request body is nested more than ${MAX_JSON_DEPTH} levels deep.`) as unknown as Error, undefined);
    }
    try {
      done(null, secureJson.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' }));
    } catch {
      done(sharedError('invalid_json') as unknown as Error, undefined);
    }
  });

  // Callback-style hooks, not async ones: these run on every request, and an async hook costs a promise each.
  app.addHook('onRequest', (request, reply, done) => {
    void reply.header('x-request-id', request.id);
    // Deny by default: only a route that says so is open. The router has already decoded the path
    // (`/%761/…`, `//v1/…`), so this is the route that will run, however the URL was spelled. An
    // unknown path (404) runs no handler and reveals nothing.
    const access = request.routeOptions.config?.access ?? 'project';
    if (access !== 'project' || request.is404) return done();
    // Member-session headers are judged per operation, once its request is decoded (api/member-session-call.ts).
    try {
      options.authenticator.authenticate(request.headers.authorization);
    } catch (error) {
      return done(error as Error);
    }
    done();
  });

  // PostgreSQL cannot store or compare text holding U+0000; refuse it everywhere, on both databases alike.
  app.addHook('preValidation', (request, _reply, done) => {
    if (request.url.includes('%00') || containsNul(request.body)) return done(sharedError('bad_request', 'The request must not contain the NUL character (U+0000).'));
    done();
  });

  // On every response, API and console, success and error. Responses carry tokens and member data, so
  // nothing may cache them unless a route says otherwise (the console sets its own headers first).
  app.addHook('onSend', (_request, reply, payload, done) => {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) if (!reply.hasHeader(name)) void reply.header(name, value);
    done(null, payload);
  });

  app.setNotFoundHandler(async (request, reply) => {
    const path = request.url.split('?')[0] ?? '/';
    const error = app.routeTable.hasOtherMethod(path, request.method) ? sharedError('method_not_allowed') : sharedError('route_not_found');
    return sendError(reply, request, error);
  });

  app.setErrorHandler(async (error: FastifyError, request, reply) => sendError(reply, request, toDomainError(error, request)));
  return app;
}

/** On every response unless a route set its own value (the console's assets are cacheable). */
const SECURITY_HEADERS: Readonly<Record<string, string>> = { 'x-content-type-options': 'nosniff', 'cache-control': 'no-store' };

/** How deep a JSON request body may nest objects and arrays (metadata is the only free-form part). */
const MAX_JSON_DEPTH = 64;

/** Scans the raw text once, skipping strings, so nothing deeper than `limit` reaches the parser. */
function nestedDeeperThan(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let index = 0; index < text.length; index += 1) {
    const code = text.charCodeAt(index);
    if (inString) {
      if (code === 0x5c) index += 1;
      else if (code === 0x22) inString = false;
    } else if (code === 0x22) inString = true;
    else if (code === 0x7b || code === 0x5b) {
      depth += 1;
      if (depth > limit) return true;
    } else if (code === 0x7d || code === 0x5d) depth -= 1;
  }
  return false;
}

/** Whether any string or key in a parsed body (JSON or form) holds U+0000; iterative, bodies are depth-limited anyway. */
function containsNul(body: unknown): boolean {
  const pending: unknown[] = [body];
  while (pending.length > 0) {
    const value = pending.pop();
    if (typeof value === 'string') {
      if (value.includes('\u0000')) return true;
    } else if (value !== null && typeof value === 'object') {
      for (const [key, item] of Object.entries(value)) {
        if (key.includes('\u0000')) return true;
        pending.push(item);
      }
    }
  }
  return false;
}

export function sendError(reply: FastifyReply, request: FastifyRequest, error: unknown): FastifyReply {
  const body = renderError(error, request.id);
  // A 503 was logged with its cause where the outage was recognised (toDomainError); a 501 is no failure of ours.
  if (body.status_code >= 500 && body.status_code !== 503 && body.status_code !== 501) request.log.error({ err: error }, 'request failed');
  return reply.code(body.status_code).headers(errorHeaders(error)).type('application/json').send(body);
}

/** Framework errors become the shared edge codes; domain errors pass through untouched. */
function toDomainError(error: FastifyError, request: FastifyRequest): unknown {
  if (error.validation) {
    const first = error.validation[0];
    const where = first?.instancePath ? first.instancePath.slice(1).replaceAll('/', '.') : '';
    const missing = (first?.params as { missingProperty?: string } | undefined)?.missingProperty;
    // A missing nested field is named with its path (`rbac_email_implicit_role_assignments.0.role_id`).
    const field = missing === undefined ? where : [where, missing].filter((part) => part !== '').join('.');
    const message = missing ? `${field} is required.` : `${field || error.validationContext || 'request'} ${first?.message ?? 'is invalid'}.`;
    return sharedError('bad_request', `Invalid ${error.validationContext ?? 'request'}: ${message}`);
  }
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return sharedError('request_body_too_large');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return sharedError('unsupported_content_type');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return sharedError('invalid_json');
    default:
      break;
  }
  if ((error as unknown as DomainError).kind !== undefined) return error;
  // The one place a database outage becomes Stytch's 503; the cause stays in the log, never in the body.
  if (isDatabaseUnavailable(error)) {
    request.log.error({ err: error }, 'database unavailable');
    return sharedError('server_unavailable');
  }
  // Any other 4xx the framework raises (e.g. a malformed URL) is the client's mistake, not ours.
  if (typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500) {
    request.log.info({ code: error.code }, 'client error from framework');
    return sharedError('bad_request', 'The request could not be understood.');
  }
  return error;
}

/**
 * Records every answered request as a span (src/platform/tracing.ts), for servers started with
 * tracing on. The span is made once the answer has gone out, dated from when its headers were read:
 * one hook that runs after the answer, whatever hooks refused the request before its handler.
 */
export function traceRequests(app: FastifyInstance, tracing: Tracing): void {
  app.addHook('onResponse', (request, reply, done) => {
    tracing.recordRequest({
      operation: operationOf(request),
      method: request.method,
      route: request.is404 ? undefined : request.routeOptions.url,
      status: reply.statusCode,
      requestId: request.id,
      headers: request.headers,
      durationMs: reply.elapsedTime,
    });
    done();
  });
}

/**
 * The name a request is logged, counted and traced under: its route's operation, `console` for the
 * console's pages, the route's URL pattern for other routes, `unmatched` when no route matched.
 * Never the raw URL: it would carry ids and tokens, and make one series per id.
 */
export function operationOf(request: FastifyRequest): string {
  if (request.is404) return 'unmatched';
  const config = request.routeOptions.config;
  if (config?.operation !== undefined) return config.operation;
  if (config?.access === 'console') return 'console';
  return request.routeOptions.url ?? 'unmatched';
}
