import type { FastifyInstance, FastifyRequest } from 'fastify';
import { canManageOperators } from '../../domain/operators/operator.js';
import { operatorError } from '../../domain/operators/errors.js';
import type { RedirectUrlTypeSetting } from '../../domain/redirect-urls/redirect-url.js';
import { REDIRECT_URL_TYPES, type RedirectUrlType } from '../../domain/redirect-urls/redirect-urls.js';
import { checkCsrf, type ConsoleDependencies, csrfFor, field, operatorContext, requireOperator } from '../console-context.js';
import { page } from '../views/layout.js';
import { redirectUrlsPage } from '../views/redirect-url-views.js';

/** Fixed texts for `?done=…` after a post, so nothing from the query string is shown. */
const MESSAGES = { added: 'Redirect URL added.', saved: 'Redirect URL saved.', removed: 'Redirect URL removed.', default: 'Default changed.' } as const;

/** The project's allowed redirect URLs: every operator sees them; admins add, edit, remove and pick defaults. */
export function registerRedirectUrlPages(scope: FastifyInstance, dependencies: ConsoleDependencies): void {
  const { redirectUrlsAdmin } = dependencies.services;

  scope.get<{ Querystring: { edit?: string; done?: string } }>('/redirect-urls', async (request, reply) => {
    const identity = requireOperator(request, reply);
    if (identity === undefined) return reply;
    const listing = await redirectUrlsAdmin.list();
    const editing = listing.redirectUrls.find((entry) => entry.source === 'database' && entry.url === request.query.edit);
    const done = request.query.done;
    const body = redirectUrlsPage({
      listing,
      canEdit: canManageOperators(identity.operator.role),
      csrf: csrfFor(request),
      editing,
      message: done !== undefined && Object.hasOwn(MESSAGES, done) ? MESSAGES[done as keyof typeof MESSAGES] : undefined,
    });
    return reply.type('text/html; charset=utf-8').send(page({ title: 'Redirect URLs', identity, csrf: csrfFor(request), current: '/console/redirect-urls', body }).value);
  });

  scope.post('/redirect-urls', async (request, reply) => {
    const identity = adminFor(request, reply);
    if (identity === undefined) return reply;
    const types = REDIRECT_URL_TYPES.flatMap((type): RedirectUrlTypeSetting[] => {
      const choice = field(request.body, `type_${type}`);
      return choice === 'allowed' || choice === 'default' ? [{ type, isDefault: choice === 'default' }] : [];
    });
    const { created } = await redirectUrlsAdmin.save(operatorContext(request, identity), { url: (field(request.body, 'url') ?? '').trim(), types });
    return reply.redirect(`/console/redirect-urls?done=${created ? 'added' : 'saved'}`, 303);
  });

  scope.post('/redirect-urls/remove', async (request, reply) => {
    const identity = adminFor(request, reply);
    if (identity === undefined) return reply;
    await redirectUrlsAdmin.remove(operatorContext(request, identity), field(request.body, 'url') ?? '');
    return reply.redirect('/console/redirect-urls?done=removed', 303);
  });

  scope.post('/redirect-urls/default', async (request, reply) => {
    const identity = adminFor(request, reply);
    if (identity === undefined) return reply;
    const type = field(request.body, 'type') ?? '';
    await redirectUrlsAdmin.setDefault(operatorContext(request, identity), field(request.body, 'url') ?? '', type as RedirectUrlType);
    return reply.redirect('/console/redirect-urls?done=default', 303);
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
