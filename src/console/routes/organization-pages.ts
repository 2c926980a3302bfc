import type { FastifyInstance } from 'fastify';
import { canImpersonate, canManageOperators, canResetMemberFactors } from '../../domain/operators/operator.js';
import { operatorError } from '../../domain/operators/errors.js';
import { checkCsrf, type ConsoleDependencies, csrfFor, field, operatorContext, requireOperator } from '../console-context.js';
import { page } from '../views/layout.js';
import { MEMBER_FACTOR_RESETS, type MemberFactorReset } from '../views/member-mfa-views.js';
import { memberDetail, type ImpersonateAbility } from '../views/member-views.js';
import { organizationDetail, organizationsList } from '../views/organization-views.js';

const PAGE_SIZE = 20;

/** Organizations, one organization (settings, policy, members), and one member. */
export function registerOrganizationPages(scope: FastifyInstance, dependencies: ConsoleDependencies): void {
  const { organizations, members, sessions, impersonationAdmin, consoleAuth } = dependencies.services;

  scope.get<{ Querystring: { q?: string; cursor?: string } }>('/organizations', async (request, reply) => {
    const identity = requireOperator(request, reply);
    if (identity === undefined) return reply;
    const q = (request.query.q ?? '').trim();
    const query =
      q === ''
        ? undefined
        : {
            operator: 'OR',
            operands: [
              { filter_name: 'organization_name_fuzzy', filter_value: q },
              { filter_name: 'organization_slug_fuzzy', filter_value: q },
              { filter_name: 'organization_ids', filter_value: [q] },
            ],
          };
    const result = await organizations.search({ query, limit: PAGE_SIZE, cursor: request.query.cursor });
    const body = organizationsList({ query: q, organizations: result.items, nextCursor: result.nextCursor, total: result.total });
    return reply.type('text/html; charset=utf-8').send(page({ title: 'Organizations', identity, csrf: csrfFor(request), current: '/console/organizations', body }).value);
  });

  scope.get<{ Params: { organization: string }; Querystring: { q?: string; cursor?: string; saved?: string } }>('/organizations/:organization', async (request, reply) => {
    const identity = requireOperator(request, reply);
    if (identity === undefined) return reply;
    const organization = await organizations.get(request.params.organization);
    const q = (request.query.q ?? '').trim();
    const operands = q === '' ? [] : [{ filter_name: 'member_email_fuzzy', filter_value: q }];
    const found = await members.search({ organizationIds: [organization.organizationId], query: { operator: 'AND', operands }, limit: PAGE_SIZE, cursor: request.query.cursor });
    const body = organizationDetail({
      organization,
      policy: await impersonationAdmin.getPolicy(organization.organizationId),
      members: found.items,
      memberQuery: q,
      nextCursor: found.nextCursor,
      canChangePolicy: canManageOperators(identity.operator.role),
      csrf: csrfFor(request),
      message: request.query.saved === '1' ? 'Impersonation policy saved.' : undefined,
    });
    return reply.type('text/html; charset=utf-8').send(page({ title: organization.organizationName, identity, csrf: csrfFor(request), current: '/console/organizations', body }).value);
  });

  scope.post<{ Params: { organization: string } }>('/organizations/:organization/policy', async (request, reply) => {
    const identity = requireOperator(request, reply);
    if (identity === undefined) return reply;
    checkCsrf(request);
    if (!canManageOperators(identity.operator.role)) throw operatorError('operator_forbidden');
    const redirectUrl = (field(request.body, 'redirect_url') ?? '').trim();
    const view = await impersonationAdmin.setPolicy(operatorContext(request, identity), request.params.organization, {
      enabled: field(request.body, 'enabled') !== 'false',
      redirectUrl: redirectUrl === '' ? null : redirectUrl,
    });
    return reply.redirect(`/console/organizations/${encodeURIComponent(view.organization.organizationId)}?saved=1`, 303);
  });

  scope.get<{ Params: { organization: string; member: string }; Querystring: { reset?: string; unchanged?: string } }>('/organizations/:organization/members/:member', async (request, reply) => {
    const identity = requireOperator(request, reply);
    if (identity === undefined) return reply;
    const organization = await organizations.get(request.params.organization);
    const { member } = await members.dangerouslyGet(request.params.member, { includeDeleted: true });
    if (member.organizationId !== organization.organizationId) throw operatorError('operator_forbidden', 'This member belongs to another organization.');
    const policy = await impersonationAdmin.getPolicy(organization.organizationId);
    const live = member.status === 'deleted' ? [] : (await sessions.get(organization.organizationId, member.memberId)).sessions;
    const history = await impersonationAdmin.auditTrail({ organization: organization.organizationId, member: member.memberId, limit: 100 });
    const ability: ImpersonateAbility = {
      blockedBecause: !canImpersonate(identity.operator.role)
        ? 'hidden'
        : member.status === 'deleted'
          ? 'This member is deleted and cannot be impersonated.'
          : !policy.effective.enabled
            ? `Impersonation is disabled by the ${policy.effective.disabledBy}'s policy.`
            : null,
      needsTotp: consoleAuth.needsFreshTotp(identity),
    };
    const reset = request.query.reset;
    const unchanged = request.query.unchanged;
    const body = memberDetail({
      organization,
      member,
      sessions: live,
      history: history.events,
      ability,
      canResetFactors: canResetMemberFactors(identity.operator.role),
      mfaMessage: mfaMessageOf(reset, unchanged),
      csrf: csrfFor(request),
    });
    return reply.type('text/html; charset=utf-8').send(page({ title: member.emailAddress, identity, csrf: csrfFor(request), current: '/console/organizations', body }).value);
  });
}

/** After a factor reset, what the member page says: that it was reset, or that there was nothing to reset. */
function mfaMessageOf(reset: string | undefined, unchanged: string | undefined): string | undefined {
  if (reset !== undefined && Object.hasOwn(MEMBER_FACTOR_RESETS, reset)) return MEMBER_FACTOR_RESETS[reset as MemberFactorReset].done;
  if (unchanged !== undefined && Object.hasOwn(MEMBER_FACTOR_RESETS, unchanged)) return MEMBER_FACTOR_RESETS[unchanged as MemberFactorReset].unchanged;
  return undefined;
}
