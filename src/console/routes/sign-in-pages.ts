import type { FastifyInstance } from 'fastify';
import { RateLimitedError } from '../../domain/rate-limits/errors.js';
import { isDomainError } from '../../domain/common/domain-error.js';
import { noteRateLimitRefusal } from '../../http/metrics-endpoint.js';
import { ANONYMOUS, checkCsrf, type ConsoleDependencies, cookieOptions, csrfFor, field, operatorContext, safeNext, SESSION_COOKIE } from '../console-context.js';
import { needsTotpEnrolment } from '../../domain/operators/operator.js';
import { signInPage, totpEnrolmentPage, totpPage } from '../views/sign-in.js';

/** Sign in (password, then TOTP) and sign out. */
export function registerSignInPages(scope: FastifyInstance, dependencies: ConsoleDependencies): void {
  const { consoleAuth, operatorTotp } = dependencies.services;

  scope.get<{ Querystring: { next?: string } }>('/login', ANONYMOUS, async (request, reply) => {
    if (request.consoleIdentity?.isFullySignedIn) return reply.redirect(safeNext(request.query.next), 303);
    return reply.type('text/html; charset=utf-8').send(signInPage({ csrf: csrfFor(request), next: request.query.next }).value);
  });

  scope.post<{ Querystring: { next?: string } }>('/login', ANONYMOUS, async (request, reply) => {
    checkCsrf(request);
    const emailAddress = field(request.body, 'email') ?? '';
    // The page the operator asked for before being sent to sign in (e.g. after an idle timeout).
    const next = safeNext(field(request.body, 'next') || request.query.next);
    try {
      const { token, identity } = await consoleAuth.signIn(operatorContext(request, null), emailAddress, field(request.body, 'password') ?? '');
      void reply.setCookie(SESSION_COOKIE, token, cookieOptions(dependencies.isHttps));
      return reply.redirect(identity.isFullySignedIn ? next : `/console/login/totp?next=${encodeURIComponent(next)}`, 303);
    } catch (error) {
      if (!isDomainError(error)) throw error;
      // 429 only from the per-client limit, which says nothing about the address tried; every
      // refusal about the operator (unknown, disabled, locked, wrong password) is the same 401.
      if (error instanceof RateLimitedError) {
        // Answered here, not thrown: counted in the metrics' rate-limit refusals once sent.
        noteRateLimitRefusal(request, error);
        void reply.code(429).header('retry-after', String(error.retryAfterSeconds));
      } else void reply.code(401);
      return reply.type('text/html; charset=utf-8').send(signInPage({ csrf: csrfFor(request), error: error.message, emailAddress, next }).value);
    }
  });

  scope.get<{ Querystring: { next?: string } }>('/login/totp', ANONYMOUS, async (request, reply) => {
    const identity = request.consoleIdentity;
    if (identity === null) return reply.redirect('/console/login', 303);
    // An admin reset this operator's TOTP: instead of a code, they set up a new authenticator.
    if (!identity.isFullySignedIn && needsTotpEnrolment(identity.operator)) {
      const enrolment = operatorTotp.startEnrolment(identity);
      return reply.type('text/html; charset=utf-8').send(totpEnrolmentPage({ enrolment, csrf: csrfFor(request), next: request.query.next }).value);
    }
    return reply.type('text/html; charset=utf-8').send(totpPage({ csrf: csrfFor(request), next: request.query.next }).value);
  });

  scope.post('/login/totp', ANONYMOUS, async (request, reply) => {
    const identity = request.consoleIdentity;
    if (identity === null) return reply.redirect('/console/login', 303);
    checkCsrf(request);
    // No code can match a secret that is not there: send them to set one up, counting nothing.
    if (!identity.isFullySignedIn && needsTotpEnrolment(identity.operator)) return reply.redirect(`/console/login/totp?next=${encodeURIComponent(safeNext(field(request.body, 'next')))}`, 303);
    try {
      const verified = await consoleAuth.verifyTotp(operatorContext(request, identity), identity, field(request.body, 'code') ?? '');
      // Signing in is complete: the browser gets the new session's token; the half-signed-in one is revoked.
      void reply.setCookie(SESSION_COOKIE, verified.token, cookieOptions(dependencies.isHttps));
      return reply.redirect(safeNext(field(request.body, 'next')), 303);
    } catch (error) {
      if (!isDomainError(error)) throw error;
      const status = error.code === 'operator_locked' ? 429 : 401;
      return reply.code(status).type('text/html; charset=utf-8').send(totpPage({ csrf: csrfFor(request), error: error.message, next: field(request.body, 'next') }).value);
    }
  });

  // The end of signing in after a TOTP reset: a code from the new secret replaces the missing one.
  scope.post('/login/totp/enrol', ANONYMOUS, async (request, reply) => {
    const identity = request.consoleIdentity;
    if (identity === null || identity.isFullySignedIn) return reply.redirect('/console/login', 303);
    checkCsrf(request);
    const ticket = field(request.body, 'ticket') ?? '';
    const next = field(request.body, 'next');
    try {
      const verified = await operatorTotp.confirm(operatorContext(request, identity), identity, ticket, field(request.body, 'code') ?? '');
      void reply.setCookie(SESSION_COOKIE, verified.token, cookieOptions(dependencies.isHttps));
      return reply.redirect(safeNext(next), 303);
    } catch (error) {
      if (!isDomainError(error) || error.code !== 'invalid_operator_credentials') throw error;
      const enrolment = operatorTotp.reopen(identity, ticket);
      return reply.code(401).type('text/html; charset=utf-8').send(totpEnrolmentPage({ enrolment, csrf: csrfFor(request), next, error: error.message }).value);
    }
  });

  scope.post('/logout', ANONYMOUS, async (request, reply) => {
    const identity = request.consoleIdentity;
    if (identity !== null) {
      checkCsrf(request);
      await consoleAuth.signOut(operatorContext(request, identity), identity);
    }
    void reply.clearCookie(SESSION_COOKIE, { path: '/console' });
    return reply.redirect('/console/login', 303);
  });
}

