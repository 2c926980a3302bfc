import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import secureJson from 'secure-json-parse';
import { sharedError } from '../domain/shared/errors.js';
import type { DomainError } from '../domain/shared/domain-error.js';
import type { Logger } from '../platform/logger.js';
import { renderError } from './errors.js';
import { MethodTable } from './method-table.js';
import type { ProjectAuthenticator } from './project-authenticator.js';

export interface HttpServerOptions {
  readonly logger: Logger;
  readonly bodyLimitBytes: number;
  readonly newRequestId: () => string;
  readonly authenticator: ProjectAuthenticator;
  readonly https?: { readonly key: Buffer; readonly cert: Buffer } | undefined;
  /**
   * Called when a request carries `X-Stytch-Member-Session` / `X-Stytch-Member-SessionJWT`, which ask
   * for the call to run with that member's permissions (reference §1). It throws to refuse the call.
   */
  readonly memberSessionHeaders: (headers: { sessionToken: string | undefined; sessionJwt: string | undefined }) => Promise<void>;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Routes that need no project credentials (health checks, the JWKS). */
    isPublic?: boolean;
    /** Routes that read member-session headers themselves instead of the generic check. */
    handlesMemberSessionHeaders?: boolean;
  }
  interface FastifyInstance {
    /** Every method/path pair registered so far; answers 405 for a known path with the wrong method. */
    methodTable: MethodTable;
  }
}

/**
 * The framework adapter: request ids, JSON-only bodies with a size limit, project authentication
 * on every `/v1/` route, and every failure rendered as Stytch's error envelope.
 */
export function createHttpServer(options: HttpServerOptions): FastifyInstance {
  const app = Fastify({
    loggerInstance: options.logger,
    bodyLimit: options.bodyLimitBytes,
    genReqId: options.newRequestId,
    return503OnClosing: true,
    // Path parameters may be slugs or external ids of up to 128 characters (reference §1); the default of 100 refused them.
    routerOptions: { maxParamLength: 1024 },
    // A malformed URL or an over-long path parameter fails before routing and hooks; answer it in the Stytch envelope too.
    frameworkErrors: (error, request, reply) => {
      void reply.header('x-request-id', request.id);
      const message = error.code === 'FST_ERR_BAD_URL' ? 'The request URL is not correctly encoded.' : 'The request URL is malformed.';
      return sendError(reply, request, sharedError('bad_request', message));
    },
    // Bodies are validated exactly as sent: a number where a string belongs is a 400, never coerced.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false, allowUnionTypes: true } },
    ...(options.https ? { https: { key: options.https.key, cert: options.https.cert } } : {}),
  }) as unknown as FastifyInstance;

  app.decorate('methodTable', new MethodTable());
  app.addHook('onRoute', (route) => app.methodTable.add(route.method, route.url));

  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    // The SDK sends `Content-Type: application/json` with an empty body on some calls; treat it as no
    // fields at all, so a route's schema names the required field that is missing (docs/compatibility.md).
    const text = String(body);
    if (text.trim() === '') return done(null, {});
    try {
      done(null, secureJson.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' }));
    } catch {
      done(sharedError('invalid_json') as unknown as Error, undefined);
    }
  });

  app.addHook('onRequest', async (request, reply) => {
    void reply.header('x-request-id', request.id);
    if (request.routeOptions.config?.isPublic === true) return;
    if (!request.url.startsWith('/v1/')) return;
    options.authenticator.authenticate(request.headers.authorization);
    const sessionToken = headerValue(request.headers['x-stytch-member-session']);
    const sessionJwt = headerValue(request.headers['x-stytch-member-sessionjwt']);
    if (request.routeOptions.config?.handlesMemberSessionHeaders === true) return;
    if (sessionToken !== undefined || sessionJwt !== undefined) await options.memberSessionHeaders({ sessionToken, sessionJwt });
  });

  app.setNotFoundHandler(async (request, reply) => {
    const path = request.url.split('?')[0] ?? '/';
    const error = app.methodTable.hasOtherMethod(path, request.method) ? sharedError('method_not_allowed') : sharedError('route_not_found');
    return sendError(reply, request, error);
  });

  app.setErrorHandler(async (error: FastifyError, request, reply) => sendError(reply, request, toDomainError(error, request)));
  return app;
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

export function sendError(reply: FastifyReply, request: FastifyRequest, error: unknown): FastifyReply {
  const body = renderError(error, request.id);
  if (body.status_code >= 500) request.log.error({ err: error }, 'request failed');
  return reply.code(body.status_code).type('application/json').send(body);
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
  // Any other 4xx the framework raises (e.g. a malformed URL) is the client's mistake, not ours.
  if (typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500) {
    request.log.info({ code: error.code }, 'client error from framework');
    return sharedError('bad_request', 'The request could not be understood.');
  }
  return error;
}
