import type { FastifyInstance } from 'fastify';
import { type ConsoleDependencies, csrfFor, requireOperator } from '../console-context.js';
import { html } from '../html.js';
import { page } from '../views/layout.js';
import { messageDetails, modeNotice, outboxTable } from '../views/outbox-views.js';
import { smsMessageDetails, smsModeNotice, smsOutboxTable } from '../views/sms-outbox-views.js';

/** Messages shown at once, newest first. */
const SHOWN = 200;

/**
 * The outbox, for admins only: in outbox mode its links and codes sign anyone in as the recipient.
 * In SMTP mode it shows delivery statuses, so failed deliveries can be found. SMS codes (MFA) have
 * their own section below the email, the same way.
 */
export function registerOutboxPages(scope: FastifyInstance, dependencies: ConsoleDependencies): void {
  const { outbox, smsOutbox } = dependencies.services;

  scope.get<{ Querystring: { to?: string } }>('/outbox', async (request, reply) => {
    const identity = requireOperator(request, reply, ['admin']);
    if (identity === undefined) return reply;
    const to = typeof request.query.to === 'string' ? request.query.to.trim() : '';
    const messages = await outbox.list({ to, limit: SHOWN });
    const sms = await smsOutbox.list({ to, limit: SHOWN });
    const body = html`${modeNotice(outbox.mode)}
<form method="get" action="/console/outbox" class="inline" role="search">
  <div><label for="to">Recipient</label><input id="to" name="to" type="search" value="${to}" placeholder="ada@example.com or +14155550100"></div>
  <button type="submit">Filter</button>
</form>
${outboxTable(messages)}
${messages.length === SHOWN ? html`<p class="muted">The newest ${SHOWN} are shown; filter by recipient to find older ones (the newest 1,000 are kept).</p>` : ''}
<h2 id="sms">SMS</h2>
${smsModeNotice(smsOutbox.mode)}
${smsOutboxTable(sms)}
${sms.length === SHOWN ? html`<p class="muted">The newest ${SHOWN} SMS are shown; filter by number to find older ones (the newest 1,000 are kept).</p>` : ''}`;
    return reply.type('text/html; charset=utf-8').send(page({ title: 'Outbox', identity, csrf: csrfFor(request), current: '/console/outbox', body }).value);
  });

  scope.get<{ Params: { message: string } }>('/outbox/sms/:message', async (request, reply) => {
    const identity = requireOperator(request, reply, ['admin']);
    if (identity === undefined) return reply;
    const message = await smsOutbox.find(request.params.message);
    if (message === undefined) return reply.callNotFound();
    return reply.type('text/html; charset=utf-8').send(page({ title: 'SMS', identity, csrf: csrfFor(request), current: '/console/outbox', body: smsMessageDetails(message) }).value);
  });

  scope.get<{ Params: { message: string } }>('/outbox/:message', async (request, reply) => {
    const identity = requireOperator(request, reply, ['admin']);
    if (identity === undefined) return reply;
    const message = await outbox.find(request.params.message);
    if (message === undefined) return reply.callNotFound();
    return reply.type('text/html; charset=utf-8').send(page({ title: 'Message', identity, csrf: csrfFor(request), current: '/console/outbox', body: messageDetails(message) }).value);
  });
}
