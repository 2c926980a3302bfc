import type { FastifyInstance } from 'fastify';
import { operatorError } from '../../domain/operators/errors.js';
import type { OperatorRole } from '../../domain/operators/operator.js';
import { ssoTestResultPath } from '../../domain/sso/sso-flows.js';
import { ANONYMOUS, checkCsrf, type ConsoleDependencies, csrfFor, requireOperator } from '../console-context.js';
import { page } from '../views/layout.js';
import { sameSiteBouncePage, ssoConnectionsPage, testResultPage, testStartedPage } from '../views/sso-views.js';

/**
 * Who may test a connection: a test signs someone in at the customer's IdP and records what it
 * asserted (no member, session or token), so it is support's and admins' work; viewers only look.
 */
const TESTERS: readonly OperatorRole[] = ['admin', 'support'];

/** An organization's SSO connections, "Test this connection", and a test's result. */
export function registerSsoPages(scope: FastifyInstance, dependencies: ConsoleDependencies): void {
  const { organizations, ssoConsole, ssoFlows, publicOrigin } = dependencies.services;

  scope.get<{ Params: { organization: string } }>('/organizations/:organization/sso', async (request, reply) => {
    const identity = requireOperator(request, reply);
    if (identity === undefined) return reply;
    const organization = await organizations.get(request.params.organization);
    const { now, connections } = await ssoConsole.connections(organization.organizationId);
    const body = ssoConnectionsPage({ organization, connections, now, origin: publicOrigin.url, canTest: TESTERS.includes(identity.operator.role), csrf: csrfFor(request) });
    return reply.type('text/html; charset=utf-8').send(page({ title: `SSO connections of ${organization.organizationName}`, identity, csrf: csrfFor(request), current: '/console/organizations', body }).value);
  });

  scope.post<{ Params: { organization: string; connection: string } }>('/organizations/:organization/sso/:connection/test', async (request, reply) => {
    const identity = requireOperator(request, reply);
    if (identity === undefined) return reply;
    checkCsrf(request);
    if (!TESTERS.includes(identity.operator.role)) throw operatorError('operator_forbidden');
    const organization = await organizations.get(request.params.organization);
    const location = await ssoFlows.startTest(organization.organizationId, request.params.connection, identity.operator.operatorId);
    // A page that moves on by script (or its link), not a 303: the console's CSP (form-action 'self')
    // stops a form post from being redirected to another origin, the IdP's.
    return reply.type('text/html; charset=utf-8').send(page({ title: 'SSO test', identity, csrf: csrfFor(request), current: '/console/organizations', body: testStartedPage({ location }) }).value);
  });

  scope.get<{ Params: { organization: string; connection: string; request: string }; Querystring: { continued?: string } }>(
    '/organizations/:organization/sso/:connection/tests/:request',
    ANONYMOUS,
    async (request, reply) => {
      const { params } = request;
      if (request.consoleIdentity?.isFullySignedIn !== true && request.query.continued !== '1') {
        // Arriving from the IdP's cross-site redirect chain, without the SameSite=Strict session cookie.
        const path = `${ssoTestResultPath(params.organization, params.connection, params.request)}?continued=1`;
        return reply.type('text/html; charset=utf-8').send(page({ title: 'SSO test', body: sameSiteBouncePage(path) }).value);
      }
      const identity = requireOperator(request, reply);
      if (identity === undefined) return reply;
      const organization = await organizations.get(params.organization);
      const found = await ssoConsole.testRequest({ organizationId: organization.organizationId, connectionId: params.connection, requestId: params.request, operatorId: identity.operator.operatorId });
      if (found === undefined) return reply.callNotFound();
      const body = testResultPage({ organization, ...found, canTest: TESTERS.includes(identity.operator.role), csrf: csrfFor(request) });
      return reply.type('text/html; charset=utf-8').send(page({ title: 'SSO test result', identity, csrf: csrfFor(request), current: '/console/organizations', body }).value);
    },
  );
}
