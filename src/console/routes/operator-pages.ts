import type { FastifyInstance } from 'fastify';
import { checkCsrf, type ConsoleDependencies, csrfFor, field, operatorContext, requireOperator } from '../console-context.js';
import { html } from '../html.js';
import { isDomainError } from '../../domain/common/domain-error.js';
import type { ConsoleIdentity } from '../../domain/operators/console-auth-service.js';
import { operatorError } from '../../domain/operators/errors.js';
import { needsTotpEnrolment, type Operator } from '../../domain/operators/operator.js';
import { csrfField, notice, page } from '../views/layout.js';
import { operatorTotpResetConfirmation } from '../views/totp-views.js';

/** Operators, for admins: list, create (credentials shown once), disable, reset another's TOTP. */
export function registerOperatorPages(scope: FastifyInstance, dependencies: ConsoleDependencies): void {
  const { operators } = dependencies.services;

  scope.get<{ Querystring: { totp_reset?: string } }>('/operators', async (request, reply) => {
    const identity = requireOperator(request, reply, ['admin']);
    if (identity === undefined) return reply;
    const all = await operators.list();
    const csrf = csrfFor(request);
    const reset = all.find((operator) => operator.operatorId === request.query.totp_reset);
    const body = html`${notice('success', reset === undefined ? undefined : `TOTP of ${reset.emailAddress} reset; their console sessions and impersonations have ended.`)}
<div class="table-wrap"><table><thead><tr><th scope="col">Email</th><th scope="col">Name</th><th scope="col">Role</th><th scope="col">TOTP</th><th scope="col">Status</th><th scope="col"><span class="muted">Action</span></th></tr></thead><tbody>${all.map(
      (operator) => html`<tr><td>${operator.emailAddress}</td><td>${operator.name}</td><td>${operator.role}</td><td>${operator.sealedTotpSecret !== null ? 'yes' : needsTotpEnrolment(operator) ? html`<span class="badge warn">reset: set up at next sign-in</span>` : 'no'}</td>
<td>${operator.disabledAt === null ? html`<span class="badge ok">active</span>` : html`<span class="badge warn">disabled</span>`}</td>
<td>${
        operator.disabledAt === null && operator.operatorId !== identity.operator.operatorId
          ? html`<form method="post" action="/console/operators/${encodeURIComponent(operator.operatorId)}/disable" data-confirm="Disable this operator and end their sessions?">${csrfField(csrf)}<button class="danger" type="submit">Disable</button></form>${
              operator.sealedTotpSecret === null ? '' : html` <a class="button secondary" href="/console/operators/${encodeURIComponent(operator.operatorId)}/reset-totp">Reset TOTP…</a>`
            }`
          : ''
      }</td></tr>`,
    )}</tbody></table></div>
<section class="card"><h2>Add an operator</h2>
<form method="post" action="/console/operators" class="inline">
  ${csrfField(csrf)}
  <div><label for="email">Email</label><input id="email" name="email" type="email" required></div>
  <div><label for="name">Name</label><input id="name" name="name" required></div>
  <div><label for="role">Role</label><select id="role" name="role"><option>support</option><option>viewer</option><option>admin</option></select></div>
  <button type="submit">Create</button>
</form>
<p class="muted">The password and TOTP secret are shown once, on the next page.</p></section>`;
    return reply.type('text/html; charset=utf-8').send(page({ title: 'Operators', identity, csrf, current: '/console/operators', body }).value);
  });

  scope.post('/operators', async (request, reply) => {
    const identity = requireOperator(request, reply, ['admin']);
    if (identity === undefined) return reply;
    checkCsrf(request);
    const created = await operators.create(operatorContext(request, identity), {
      emailAddress: field(request.body, 'email') ?? '',
      name: field(request.body, 'name') ?? '',
      role: field(request.body, 'role') ?? '',
    });
    const body = html`<p class="notice success" role="status">Created ${created.operator.emailAddress} (${created.operator.role}). Give them these credentials over a safe channel; they are not shown again.</p>
<div class="card"><dl class="facts">
  <dt>Password</dt><dd><span class="token" id="password">${created.password}</span> <button type="button" class="secondary" data-copy="password">Copy</button></dd>
  ${created.totpUri === null ? '' : html`<dt>TOTP secret</dt><dd><span class="token" id="totp">${created.totpSecret ?? ''}</span></dd><dt>TOTP URI</dt><dd><span class="token">${created.totpUri}</span></dd>`}
</dl></div><p><a href="/console/operators">Back to operators</a></p>`;
    return reply.type('text/html; charset=utf-8').send(page({ title: 'Operator created', identity, csrf: csrfFor(request), body }).value);
  });

  // An admin resets another operator's TOTP (a lost or exposed authenticator): a page that says
  // what happens and asks for a reason, then the post. Their own they replace on their account page.
  scope.get<{ Params: { operator: string } }>('/operators/:operator/reset-totp', async (request, reply) => {
    const identity = requireOperator(request, reply, ['admin']);
    if (identity === undefined) return reply;
    const target = await otherOperator(identity, request.params.operator);
    // The list offers no reset without a secret; a typed or stale link gets the reason, not a form.
    if (target.sealedTotpSecret === null) throw operatorError('operator_totp_not_set');
    const body = operatorTotpResetConfirmation({ operator: target, csrf: csrfFor(request) });
    return reply.type('text/html; charset=utf-8').send(page({ title: 'Reset TOTP', identity, csrf: csrfFor(request), current: '/console/operators', body }).value);
  });

  scope.post<{ Params: { operator: string } }>('/operators/:operator/reset-totp', async (request, reply) => {
    const identity = requireOperator(request, reply, ['admin']);
    if (identity === undefined) return reply;
    checkCsrf(request);
    const target = await otherOperator(identity, request.params.operator);
    const reason = field(request.body, 'reason');
    try {
      await operators.resetTotp(operatorContext(request, identity), target.operatorId, reason);
    } catch (error) {
      if (!isDomainError(error) || error.code !== 'invalid_operator_reason') throw error;
      const body = operatorTotpResetConfirmation({ operator: target, csrf: csrfFor(request), reason, error: error.message });
      return reply.code(400).type('text/html; charset=utf-8').send(page({ title: 'Reset TOTP', identity, csrf: csrfFor(request), current: '/console/operators', body }).value);
    }
    return reply.redirect(`/console/operators?totp_reset=${encodeURIComponent(target.operatorId)}`, 303);
  });

  /** The operator named in the path, never the signed-in one (who replaces their own TOTP on their account page). */
  async function otherOperator(identity: ConsoleIdentity, operatorId: string): Promise<Operator> {
    if (operatorId === identity.operator.operatorId) throw operatorError('operator_forbidden', 'Replace your own authenticator on your account page.');
    const found = (await operators.list()).find((operator) => operator.operatorId === operatorId);
    if (found === undefined) throw operatorError('operator_not_found');
    return found;
  }

  scope.post<{ Params: { operator: string } }>('/operators/:operator/disable', async (request, reply) => {
    const identity = requireOperator(request, reply, ['admin']);
    if (identity === undefined) return reply;
    checkCsrf(request);
    await operators.disable(operatorContext(request, identity), request.params.operator);
    return reply.redirect('/console/operators', 303);
  });
}
