import type { FastifyInstance, FastifyRequest } from 'fastify';
import { canManageOperators } from '../../domain/operators/operator.js';
import { operatorError } from '../../domain/operators/errors.js';
import { PROJECT_VIEWER } from '../../domain/webhooks/webhooks-service.js';
import { checkCsrf, type ConsoleDependencies, csrfFor, field, operatorContext, requireOperator } from '../console-context.js';
import { page } from '../views/layout.js';
import { endpointAddedPage, webhooksPage } from '../views/webhook-views.js';

/** Deliveries shown at once, newest first. */
const SHOWN = 200;
const STATUSES = ['pending', 'delivered', 'failed'];

/** Webhook endpoints and the delivery log: every operator sees them; admins add and disable endpoints. */
export function registerWebhookPages(scope: FastifyInstance, dependencies: ConsoleDependencies): void {
  const { webhooks } = dependencies.services;

  scope.get<{ Querystring: { status?: string; done?: string } }>('/webhooks', async (request, reply) => {
    const identity = requireOperator(request, reply);
    if (identity === undefined) return reply;
    const status = typeof request.query.status === 'string' && STATUSES.includes(request.query.status) ? request.query.status : '';
    const body = webhooksPage({
      endpoints: await webhooks.listEndpoints(PROJECT_VIEWER, undefined),
      deliveries: await webhooks.listDeliveries(PROJECT_VIEWER, { status: status === '' ? undefined : status, limit: SHOWN }),
      canEdit: canManageOperators(identity.operator.role),
      csrf: csrfFor(request),
      status,
      message: request.query.done === 'disabled' ? 'Endpoint disabled.' : undefined,
    });
    return reply.type('text/html; charset=utf-8').send(page({ title: 'Webhooks', identity, csrf: csrfFor(request), current: '/console/webhooks', body }).value);
  });

  scope.post('/webhooks', async (request, reply) => {
    const identity = adminFor(request, reply);
    if (identity === undefined) return reply;
    const organization = (field(request.body, 'organization') ?? '').trim();
    const { endpoint, secret } = await webhooks.addEndpoint(operatorContext(request, identity), {
      organization: organization === '' ? null : organization,
      url: field(request.body, 'url') ?? '',
      description: field(request.body, 'description'),
    });
    // Shown in this answer only (no redirect: the secret must not travel in a URL or be shown twice).
    return reply.type('text/html; charset=utf-8').send(page({ title: 'Endpoint added', identity, csrf: csrfFor(request), current: '/console/webhooks', body: endpointAddedPage(endpoint, secret) }).value);
  });

  scope.post('/webhooks/disable', async (request, reply) => {
    const identity = adminFor(request, reply);
    if (identity === undefined) return reply;
    await webhooks.disableEndpoint(operatorContext(request, identity), PROJECT_VIEWER, field(request.body, 'endpoint_id') ?? '');
    return reply.redirect('/console/webhooks?done=disabled', 303);
  });
}

/** A signed-in admin whose form carries its CSRF token; others are refused before anything is read. */
function adminFor(request: FastifyRequest, reply: Parameters<typeof requireOperator>[1]): ReturnType<typeof requireOperator> {
  const identity = requireOperator(request, reply);
  if (identity === undefined) return undefined;
  checkCsrf(request);
  if (!canManageOperators(identity.operator.role)) throw operatorError('operator_forbidden');
  return identity;
}
