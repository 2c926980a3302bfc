import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isDomainError } from '../../domain/common/domain-error.js';
import type { ConsoleIdentity, VerifiedIdentity } from '../../domain/operators/console-auth-service.js';
import { checkCsrf, type ConsoleDependencies, cookieOptions, csrfFor, field, operatorContext, requireOperator, SESSION_COOKIE } from '../console-context.js';
import { page } from '../views/layout.js';
import { accountBody, totpEnrolmentBody } from '../views/totp-views.js';

const REPLACE_INTRO = 'Add this new entry to your authenticator app. Your current one keeps working until you confirm the new one below.';

/** The signed-in operator's own account: replacing their authenticator (or adding one, for viewers without). */
export function registerAccountPages(scope: FastifyInstance, dependencies: ConsoleDependencies): void {
  const { operatorTotp } = dependencies.services;

  scope.get<{ Querystring: { totp?: string } }>('/account', async (request, reply) => {
    const identity = requireOperator(request, reply);
    if (identity === undefined) return reply;
    const message = request.query.totp === 'replaced' ? 'Your new authenticator is set up. Your other console sessions have ended.' : undefined;
    return sendPage(reply, identity, request, 'Your account', accountBody({ identity, csrf: csrfFor(request), message }));
  });

  // Step one: the password and a current code again; the answer shows the new secret once.
  scope.post('/account/totp', async (request, reply) => {
    const identity = requireOperator(request, reply);
    if (identity === undefined) return reply;
    checkCsrf(request);
    try {
      const started = await operatorTotp.startReplacement(operatorContext(request, identity), identity, field(request.body, 'password') ?? '', field(request.body, 'code') ?? '');
      // The proof replaced the session: the browser gets the new token, and the form its CSRF token.
      adoptSession(request, reply, started.identity, dependencies.isHttps);
      const body = totpEnrolmentBody({ enrolment: started.enrolment, action: '/console/account/totp/confirm', csrf: csrfFor(request), intro: REPLACE_INTRO });
      return sendPage(reply, started.identity, request, 'New authenticator', body);
    } catch (error) {
      if (!isDomainError(error) || (error.code !== 'invalid_operator_credentials' && error.code !== 'operator_locked')) throw error;
      void reply.code(error.code === 'operator_locked' ? 429 : 401);
      return sendPage(reply, identity, request, 'Your account', accountBody({ identity, csrf: csrfFor(request), error: error.message }));
    }
  });

  // Step two: a code from the new secret; only then does it replace the old one.
  scope.post('/account/totp/confirm', async (request, reply) => {
    const identity = requireOperator(request, reply);
    if (identity === undefined) return reply;
    checkCsrf(request);
    const ticket = field(request.body, 'ticket') ?? '';
    try {
      const verified = await operatorTotp.confirm(operatorContext(request, identity), identity, ticket, field(request.body, 'code') ?? '');
      adoptSession(request, reply, verified, dependencies.isHttps);
      return reply.redirect('/console/account?totp=replaced', 303);
    } catch (error) {
      if (!isDomainError(error) || error.code !== 'invalid_operator_credentials') throw error;
      // A mistyped code: the same secret again (the old authenticator still works meanwhile).
      const body = totpEnrolmentBody({ enrolment: operatorTotp.reopen(identity, ticket), action: '/console/account/totp/confirm', csrf: csrfFor(request), intro: REPLACE_INTRO, error: error.message });
      return sendPage(reply.code(401), identity, request, 'New authenticator', body);
    }
  });
}

/** From now on this request, and the browser, use the session that replaced the old one. */
export function adoptSession(request: FastifyRequest, reply: FastifyReply, verified: VerifiedIdentity, isHttps: boolean): void {
  void reply.setCookie(SESSION_COOKIE, verified.token, cookieOptions(isHttps));
  request.cookies[SESSION_COOKIE] = verified.token;
  request.consoleIdentity = verified;
}

function sendPage(reply: FastifyReply, identity: ConsoleIdentity, request: FastifyRequest, title: string, body: ReturnType<typeof accountBody>): FastifyReply {
  return reply.type('text/html; charset=utf-8').send(page({ title, identity, csrf: csrfFor(request), current: '/console/account', body }).value);
}
