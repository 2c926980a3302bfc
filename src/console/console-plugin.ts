import fastifyCookie from '@fastify/cookie';
import fastifyFormbody from '@fastify/formbody';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isDomainError } from '../domain/common/domain-error.js';
import { isDatabaseUnavailable } from '../storage/database-unavailable.js';
import { CONSOLE_CSS, CONSOLE_JS } from './assets.js';
import { ANONYMOUS, type ConsoleDependencies, cookieOptions, SESSION_COOKIE } from './console-context.js';
import { newPreSessionToken, PRE_SESSION_COOKIE } from './csrf.js';
import { registerAccountPages } from './routes/account-pages.js';
import { registerAuditPages } from './routes/audit-pages.js';
import { registerAuditChainPages } from './routes/audit-chain-pages.js';
import { registerImpersonationPages } from './routes/impersonation-pages.js';
import { registerMemberMfaPages } from './routes/member-mfa-pages.js';
import { registerOperatorPages } from './routes/operator-pages.js';
import { registerOrganizationPages } from './routes/organization-pages.js';
import { registerOutboxPages } from './routes/outbox-pages.js';
import { registerRbacPages } from './routes/rbac-pages.js';
import { registerRedirectUrlPages } from './routes/redirect-url-pages.js';
import { registerSignInPages } from './routes/sign-in-pages.js';
import { registerSsoPages } from './routes/sso-pages.js';
import { registerWebhookPages } from './routes/webhook-pages.js';
import { errorPage } from './views/sign-in.js';

export interface ConsoleOptions {
  /** The RBAC policy file the server applies at start (UNDERSTUDY_RBAC_POLICY_FILE): the RBAC page warns that it replaces console edits. */
  readonly policyFile?: string | undefined;
}

/**
 * The operator console under /console: server-rendered pages, form posts with CSRF tokens, a
 * strict Content-Security-Policy, and cookies that scripts cannot read. Its own scope, so its
 * form parsing and HTML errors never touch the Stytch API.
 */
export function registerConsole(app: FastifyInstance, dependencies: ConsoleDependencies & ConsoleOptions): void {
  void app.register(
    async (scope) => {
      // The console signs its operators in itself (cookies, not the project's credentials); inside it,
      // every page needs a fully signed-in operator unless it declares `consoleAccess: 'anonymous'`.
      scope.addHook('onRoute', (route) => {
        route.config = { ...route.config, access: 'console' };
      });
      await scope.register(fastifyCookie);
      await scope.register(fastifyFormbody, { bodyLimit: 64 * 1024 });
      scope.decorateRequest('consoleIdentity', null);

      scope.addHook('onRequest', async (request, reply) => {
        setSecurityHeaders(reply);
        // A repeated query parameter (?q=a&q=b) arrives as a list; the pages read one value, the first.
        const query = request.query as Record<string, unknown>;
        for (const [name, value] of Object.entries(query)) if (Array.isArray(value)) query[name] = value[0];
        request.consoleIdentity = (await dependencies.services.consoleAuth.resolve(request.cookies[SESSION_COOKIE])) ?? null;
        if (request.cookies[PRE_SESSION_COOKIE] === undefined) {
          const token = newPreSessionToken(dependencies.random);
          request.cookies[PRE_SESSION_COOKIE] = token;
          void reply.setCookie(PRE_SESSION_COOKIE, token, cookieOptions(dependencies.isHttps));
        }
        if (request.is404 || request.routeOptions.config?.consoleAccess === 'anonymous') return;
        // Deny by default: a page that forgot to ask for an operator still gets none.
        if (request.consoleIdentity?.isFullySignedIn !== true) return reply.redirect(`/console/login?next=${encodeURIComponent(request.url)}`, 303);
      });

      scope.setErrorHandler(async (error, request, reply) => renderError(error, request, reply));
      scope.setNotFoundHandler(async (request, reply) =>
        reply.code(404).type('text/html; charset=utf-8').send(errorPage({ title: 'Not found', message: 'There is no such page.', status: 404, signedIn: request.consoleIdentity !== null }).value),
      );

      scope.get('/assets/console.css', ANONYMOUS, async (_request, reply) => reply.type('text/css; charset=utf-8').header('cache-control', 'public, max-age=300').send(CONSOLE_CSS));
      scope.get('/assets/console.js', ANONYMOUS, async (_request, reply) => reply.type('text/javascript; charset=utf-8').header('cache-control', 'public, max-age=300').send(CONSOLE_JS));
      scope.get('/', async (_request, reply) => reply.redirect('/console/organizations', 303));

      registerSignInPages(scope, dependencies);
      registerOrganizationPages(scope, dependencies);
      registerMemberMfaPages(scope, dependencies);
      registerAccountPages(scope, dependencies);
      registerImpersonationPages(scope, dependencies);
      registerAuditPages(scope, dependencies);
      registerAuditChainPages(scope, dependencies);
      registerOperatorPages(scope, dependencies);
      registerOutboxPages(scope, dependencies);
      registerRedirectUrlPages(scope, dependencies);
      registerWebhookPages(scope, dependencies);
      registerSsoPages(scope, dependencies);
      registerRbacPages(scope, dependencies, { policyFile: dependencies.policyFile });
    },
    { prefix: '/console' },
  );
}

/** No inline script or style, no framing, no third-party anything, no referrer leaking tokens. */
function setSecurityHeaders(reply: FastifyReply): void {
  void reply.headers({
    'content-security-policy':
      "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'referrer-policy': 'no-referrer',
    'cache-control': 'no-store',
  });
}

function renderError(error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const signedIn = request.consoleIdentity?.isFullySignedIn === true;
  if (isDomainError(error)) {
    const status = error.kind === 'permission_denied' ? 403 : error.kind === 'not_found' ? 404 : error.kind === 'unauthenticated' ? 401 : error.kind === 'rate_limited' ? 429 : 400;
    return reply.code(status).type('text/html; charset=utf-8').send(errorPage({ title: status === 403 ? 'Not allowed' : 'Something is wrong', message: error.message, status, signedIn }).value);
  }
  const validation = (error as { validation?: unknown }).validation !== undefined;
  if (validation) return reply.code(400).type('text/html; charset=utf-8').send(errorPage({ title: 'Something is wrong', message: 'The form is incomplete.', status: 400, signedIn }).value);
  // Fastify's own client errors (unsupported content type 415, body too large 413, malformed form 400) keep their status.
  const statusCode = (error as { statusCode?: unknown }).statusCode;
  if (typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500) {
    return reply.code(statusCode).type('text/html; charset=utf-8').send(errorPage({ title: 'Something is wrong', message: 'The request could not be read. Reload the page and try again.', status: statusCode, signedIn }).value);
  }
  // As the API answers 503 server_unavailable while the database is away, the console says so too, and that it will pass.
  if (isDatabaseUnavailable(error)) {
    request.log.error({ err: error }, 'database unavailable');
    return reply
      .code(503)
      .header('retry-after', '5')
      .type('text/html; charset=utf-8')
      .send(errorPage({ title: 'Temporarily unavailable', message: `The console cannot reach its database. Try again in a moment. Request id: ${request.id}`, status: 503, signedIn }).value);
  }
  request.log.error({ err: error }, 'console request failed');
  return reply.code(500).type('text/html; charset=utf-8').send(errorPage({ title: 'Something went wrong', message: `Please try again. Request id: ${request.id}`, status: 500, signedIn }).value);
}
