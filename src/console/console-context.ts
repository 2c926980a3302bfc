import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ConsoleIdentity } from '../domain/operators/console-auth-service.js';
import { operatorError } from '../domain/operators/errors.js';
import type { OperatorRole } from '../domain/operators/operator.js';
import type { OperationContext } from '../domain/common/operation-context.js';
import type { Random } from '../platform/random.js';
import type { Services } from '../services.js';
import { csrfMatches, csrfTokenForSession, PRE_SESSION_COOKIE } from './csrf.js';

/** What the console plugin and its pages share; the pages import it from here, never from the plugin. */
export interface ConsoleDependencies {
  readonly services: Services;
  readonly random: Random;
  /** Cookies get `Secure` when the server speaks HTTPS. */
  readonly isHttps: boolean;
}

export const SESSION_COOKIE = 'understudy_console';

declare module 'fastify' {
  interface FastifyRequest {
    /** The operator behind the console cookie, resolved once per request; null when none. */
    consoleIdentity: ConsoleIdentity | null;
  }
  interface FastifyContextConfig {
    /** Console pages open to visitors who are not (fully) signed in: sign-in steps and assets. */
    consoleAccess?: 'anonymous';
  }
}

/** Route options of a console page that needs no signed-in operator. */
export const ANONYMOUS = { config: { consoleAccess: 'anonymous' as const } };

export function cookieOptions(isHttps: boolean) {
  return { path: '/console', httpOnly: true, sameSite: 'strict' as const, secure: isHttps };
}

/** The signed-in operator, or a redirect to the sign-in page (answered here). */
export function requireOperator(request: FastifyRequest, reply: FastifyReply, roles?: readonly OperatorRole[]): ConsoleIdentity | undefined {
  const identity = request.consoleIdentity;
  if (identity === null || !identity.isFullySignedIn) {
    void reply.redirect(`/console/login?next=${encodeURIComponent(request.url)}`, 303);
    return undefined;
  }
  if (roles !== undefined && !roles.includes(identity.operator.role)) throw operatorError('operator_forbidden');
  return identity;
}

/** The CSRF token this request's forms must carry. */
export function csrfFor(request: FastifyRequest): string {
  const sessionToken = request.cookies[SESSION_COOKIE];
  if (request.consoleIdentity !== null && sessionToken !== undefined) return csrfTokenForSession(sessionToken);
  return request.cookies[PRE_SESSION_COOKIE] ?? '';
}

/** Refuses a form post that does not carry this request's CSRF token. */
export function checkCsrf(request: FastifyRequest): void {
  const body = (request.body ?? {}) as Record<string, unknown>;
  const expected = csrfFor(request);
  if (expected === '' || !csrfMatches(expected, body._csrf)) throw operatorError('operator_forbidden', 'The form has expired or did not come from this console. Reload the page and try again.');
}

export function operatorContext(request: FastifyRequest, identity: ConsoleIdentity | null): OperationContext {
  return {
    requestId: request.id,
    actor: identity === null ? { type: 'system' } : { type: 'operator', operatorId: identity.operator.operatorId, emailAddress: identity.operator.emailAddress },
    client: { ipAddress: request.ip, userAgent: request.headers['user-agent'] ?? '' },
  };
}

/**
 * Only same-console paths may be the target of a post-sign-in redirect. Printable ASCII only: a
 * control character (a CR LF from a decoded %0d%0a) or a non-Latin-1 one cannot go into a Location header.
 */
export function safeNext(next: unknown): string {
  return typeof next === 'string' && next.startsWith('/console/') && /^[\x21-\x7e]*$/.test(next) && !next.includes('\\') ? next : '/console/organizations';
}

/** Form fields arrive as strings (or arrays when repeated); anything else counts as absent. */
export function field(body: unknown, name: string): string | undefined {
  const value = (body as Record<string, unknown> | undefined)?.[name];
  return typeof value === 'string' ? value : undefined;
}
