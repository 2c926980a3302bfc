import type { FastifyInstance } from 'fastify';
import { canImpersonate, canManageOperators } from '../../domain/operators/operator.js';
import { operatorError } from '../../domain/operators/errors.js';
import { checkCsrf, type ConsoleDependencies, cookieOptions, csrfFor, field, operatorContext, requireOperator, SESSION_COOKIE } from '../console-context.js';
import { html } from '../html.js';
import { csrfField, notice, page } from '../views/layout.js';
import { organizationImpersonation } from '../views/impersonation-views.js';
import { impersonationResult } from '../views/member-views.js';
import { MAX_SEARCH_LIMIT } from '../../domain/common/pagination.js';

/** What the organization's impersonation page says after a change it redirected from. */
const DONE: Readonly<Record<string, string>> = {
  saved: 'Access policy saved.',
  requested: 'Access requested. It opens when a member of the organization approves it.',
  revoked: 'Access grant revoked; the impersonations under it have ended.',
};

/** Impersonating a member as the signed-in operator, and ending impersonations. */
export function registerImpersonationPages(scope: FastifyInstance, dependencies: ConsoleDependencies): void {
  const { impersonation, impersonationAdmin, accessGrants, organizations, members, consoleAuth } = dependencies.services;
  const pagePath = (organizationId: string, done: string) => `/console/organizations/${encodeURIComponent(organizationId)}/impersonation?done=${done}`;

  scope.get<{ Params: { organization: string }; Querystring: { done?: string } }>('/organizations/:organization/impersonation', async (request, reply) => {
    const identity = requireOperator(request, reply);
    if (identity === undefined) return reply;
    const organization = await organizations.get(request.params.organization);
    const done = request.query.done;
    const grants = await accessGrants.list({ organization: organization.organizationId });
    // The members grants name, shown by address: one search for all of them.
    const memberIds = [...new Set(grants.flatMap((grant) => grant.memberIds ?? []))].slice(0, MAX_SEARCH_LIMIT);
    const named =
      memberIds.length === 0
        ? []
        : (await members.search({ organizationIds: [organization.organizationId], query: { operator: 'AND', operands: [{ filter_name: 'member_ids', filter_value: memberIds }] }, limit: MAX_SEARCH_LIMIT })).items;
    const body = organizationImpersonation({
      organization,
      policy: await impersonationAdmin.getPolicy(organization.organizationId),
      grants,
      memberEmails: new Map(named.map((member) => [member.memberId, member.emailAddress])),
      canChangePolicy: canManageOperators(identity.operator.role),
      canRequestAccess: canImpersonate(identity.operator.role),
      maxGrantMinutes: accessGrants.maxDurationMinutes,
      csrf: csrfFor(request),
      message: done !== undefined && Object.hasOwn(DONE, done) ? DONE[done] : undefined,
    });
    return reply.type('text/html; charset=utf-8').send(page({ title: `Impersonation · ${organization.organizationName}`, identity, csrf: csrfFor(request), current: '/console/organizations', body }).value);
  });

  // The access mode and the other policy settings: admins only, as the organization page's policy form.
  scope.post<{ Params: { organization: string } }>('/organizations/:organization/impersonation/policy', async (request, reply) => {
    const identity = requireOperator(request, reply);
    if (identity === undefined) return reply;
    checkCsrf(request);
    if (!canManageOperators(identity.operator.role)) throw operatorError('operator_forbidden');
    const view = await impersonationAdmin.setPolicy(operatorContext(request, identity), request.params.organization, {
      accessMode: field(request.body, 'access_mode'),
      delegated: field(request.body, 'delegated_impersonation'),
      // Unticked boxes send nothing: the form always shows both, so absent means no.
      notifyMember: field(request.body, 'notify_member') === 'true',
      notifyAdmins: field(request.body, 'notify_admins') === 'true',
    });
    return reply.redirect(pagePath(view.organization.organizationId, 'saved'), 303);
  });

  // Support asks the organization for access: requested until a member of it approves.
  scope.post<{ Params: { organization: string } }>('/organizations/:organization/impersonation/grants', async (request, reply) => {
    const identity = requireOperator(request, reply);
    if (identity === undefined) return reply;
    checkCsrf(request);
    if (!canImpersonate(identity.operator.role)) throw operatorError('operator_forbidden');
    const members = (field(request.body, 'members') ?? '')
      .split(/[,\n]/)
      .map((reference) => reference.trim())
      .filter((reference) => reference !== '');
    const duration = (field(request.body, 'duration_minutes') ?? '').trim();
    const grant = await accessGrants.create(operatorContext(request, identity), {
      organizationReference: request.params.organization,
      memberReferences: members.length === 0 ? undefined : members,
      // Not a number stays text, which the service refuses like any other bad duration.
      durationMinutes: /^\d+$/.test(duration) ? Number(duration) : duration,
      reason: field(request.body, 'reason'),
    });
    return reply.redirect(pagePath(grant.organizationId, 'requested'), 303);
  });

  scope.post<{ Params: { organization: string; grant: string } }>('/organizations/:organization/impersonation/grants/:grant/revoke', async (request, reply) => {
    const identity = requireOperator(request, reply);
    if (identity === undefined) return reply;
    checkCsrf(request);
    if (!canImpersonate(identity.operator.role)) throw operatorError('operator_forbidden');
    const organization = await organizations.get(request.params.organization);
    // Only a grant of the organization this page is about; another's is not found here.
    await accessGrants.revoke(operatorContext(request, identity), request.params.grant, organization.organizationId);
    return reply.redirect(pagePath(organization.organizationId, 'revoked'), 303);
  });

  scope.post<{ Params: { organization: string; member: string } }>('/organizations/:organization/members/:member/impersonate', async (request, reply) => {
    let identity = requireOperator(request, reply);
    if (identity === undefined) return reply;
    checkCsrf(request);
    // Viewers can be sent here by a forged form too: the role is checked on the server, not only by hiding the button.
    if (!canImpersonate(identity.operator.role)) throw operatorError('operator_forbidden');
    const context = operatorContext(request, identity);
    if (consoleAuth.needsFreshTotp(identity)) {
      // The fresh code replaces the session: the browser gets the new token, and this page's forms its CSRF token.
      const verified = await consoleAuth.verifyTotp(context, identity, field(request.body, 'totp') ?? '');
      void reply.setCookie(SESSION_COOKIE, verified.token, cookieOptions(dependencies.isHttps));
      request.cookies[SESSION_COOKIE] = verified.token;
      request.consoleIdentity = verified;
      identity = verified;
    }
    // The impersonator is the signed-in operator, never a typed-in name.
    const minted = await impersonation.mint(context, {
      organizationReference: request.params.organization,
      memberReference: request.params.member,
      impersonatorId: identity.operator.operatorId,
      impersonatorEmailAddress: identity.operator.emailAddress,
      // A password reset committing while this request runs refuses the mint (or revokes its token).
      operatorPasswordHash: identity.operator.passwordHash,
      reason: field(request.body, 'reason'),
    });
    const body = impersonationResult({ url: minted.impersonationUrl, token: minted.impersonationToken, expiresAt: minted.expiresAt, memberEmail: minted.member.emailAddress });
    return reply.type('text/html; charset=utf-8').send(page({ title: 'Impersonation', identity, csrf: csrfFor(request), body }).value);
  });

  scope.get<{ Querystring: { revoked?: string } }>('/impersonations', async (request, reply) => {
    const identity = requireOperator(request, reply);
    if (identity === undefined) return reply;
    const active = await impersonationAdmin.listActive({});
    const mayRevoke = canImpersonate(identity.operator.role);
    const body = html`${notice('success', request.query.revoked === undefined ? undefined : `Revoked ${request.query.revoked} impersonated session(s).`)}
${
  active.length === 0
    ? html`<p class="empty">Nobody is impersonating a member right now.</p>`
    : html`<div class="table-wrap"><table><thead><tr><th scope="col">Member</th><th scope="col">Impersonator</th><th scope="col">Reason</th><th scope="col">Started</th><th scope="col">Expires</th><th scope="col"><span class="muted">Action</span></th></tr></thead><tbody>${active.map(
        (session) => html`<tr>
  <td><a href="/console/organizations/${encodeURIComponent(session.organizationId)}/members/${encodeURIComponent(session.memberId)}"><code>${session.memberId}</code></a></td>
  <td>${session.impersonatorEmailAddress}</td><td>${session.reason}</td><td>${session.startedAt}</td><td>${session.expiresAt}</td>
  <td>${
    mayRevoke
      ? html`<form method="post" action="/console/impersonations/revoke" data-confirm="End this impersonation now?">${csrfField(csrfFor(request))}<input type="hidden" name="member_session_id" value="${session.memberSessionId}"><button class="danger" type="submit">Revoke</button></form>`
      : ''
  }</td>
</tr>`,
      )}</tbody></table></div>`
}`;
    return reply.type('text/html; charset=utf-8').send(page({ title: 'Active impersonations', identity, csrf: csrfFor(request), current: '/console/impersonations', body }).value);
  });

  scope.post('/impersonations/revoke', async (request, reply) => {
    const identity = requireOperator(request, reply);
    if (identity === undefined) return reply;
    checkCsrf(request);
    if (!canImpersonate(identity.operator.role)) throw operatorError('operator_forbidden');
    const memberSessionId = field(request.body, 'member_session_id');
    if (memberSessionId === undefined || memberSessionId === '') throw operatorError('operator_forbidden', 'Choose an impersonated session to revoke.');
    const revoked = await impersonationAdmin.revoke(operatorContext(request, identity), { memberSessionId });
    return reply.redirect(`/console/impersonations?revoked=${revoked.length}`, 303);
  });
}
