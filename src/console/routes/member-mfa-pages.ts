import type { FastifyInstance, FastifyRequest } from 'fastify';
import { isDomainError } from '../../domain/common/domain-error.js';
import type { Member } from '../../domain/members/member.js';
import { operatorError } from '../../domain/operators/errors.js';
import { canResetMemberFactors } from '../../domain/operators/operator.js';
import { checkReason } from '../../domain/operators/reason.js';
import type { Organization } from '../../domain/organizations/organization.js';
import type { Services } from '../../services.js';
import { checkCsrf, type ConsoleDependencies, csrfFor, field, operatorContext, requireOperator } from '../console-context.js';
import { page } from '../views/layout.js';
import { factorResetConfirmation, MEMBER_FACTOR_RESETS, type MemberFactorReset, memberPath } from '../views/member-mfa-views.js';

type MemberParams = { Params: { organization: string; member: string } };

/**
 * Admins reset a member's TOTP or MFA phone number (a lost authenticator or phone): a page that
 * says what will happen and asks for a reason, then a form post. The role is checked on every
 * request, before anything is read or written; the audit event names the operator and the reason.
 */
export function registerMemberMfaPages(scope: FastifyInstance, dependencies: ConsoleDependencies): void {
  const { services } = dependencies;

  for (const reset of Object.keys(MEMBER_FACTOR_RESETS) as MemberFactorReset[]) {
    const path = `/organizations/:organization/members/:member/${reset}`;
    const title = MEMBER_FACTOR_RESETS[reset].title;

    scope.get<MemberParams>(path, async (request, reply) => {
      const identity = requireOperator(request, reply);
      if (identity === undefined) return reply;
      if (!canResetMemberFactors(identity.operator.role)) throw operatorError('operator_forbidden');
      const { organization, member } = await memberOfOrganization(services, request);
      const body = factorResetConfirmation({ organization, member, reset, csrf: csrfFor(request) });
      return reply.type('text/html; charset=utf-8').send(page({ title, identity, csrf: csrfFor(request), current: '/console/organizations', body }).value);
    });

    scope.post<MemberParams>(path, async (request, reply) => {
      const identity = requireOperator(request, reply);
      if (identity === undefined) return reply;
      // Deny by default: a forged post from a support or viewer operator is refused before anything is read.
      if (!canResetMemberFactors(identity.operator.role)) throw operatorError('operator_forbidden');
      checkCsrf(request);
      const { organization, member } = await memberOfOrganization(services, request);
      const given = field(request.body, 'reason');
      let reason: string;
      try {
        reason = checkReason(given);
      } catch (error) {
        if (!isDomainError(error)) throw error;
        const body = factorResetConfirmation({ organization, member, reset, csrf: csrfFor(request), reason: given, error: error.message });
        return reply.code(400).type('text/html; charset=utf-8').send(page({ title, identity, csrf: csrfFor(request), current: '/console/organizations', body }).value);
      }
      const context = operatorContext(request, identity);
      const { deleted } =
        reset === 'reset-totp'
          ? await services.totps.deleteTotp(context, organization.organizationId, member.memberId, reason)
          : await services.members.deleteMFAPhoneNumber(context, organization.organizationId, member.memberId, reason);
      // A factor already gone (a crafted or repeated post) is said to be so, not reported as reset.
      return reply.redirect(`${memberPath(organization, member)}?${deleted ? 'reset' : 'unchanged'}=${reset}`, 303);
    });
  }
}

/** The member in the path, which must belong to the organization in the path (ids, slugs or external ids of another one are refused). */
async function memberOfOrganization(services: Services, request: FastifyRequest<MemberParams>): Promise<{ organization: Organization; member: Member }> {
  const organization = await services.organizations.get(request.params.organization);
  const { member } = await services.members.dangerouslyGet(request.params.member, { includeDeleted: true });
  if (member.organizationId !== organization.organizationId) throw operatorError('operator_forbidden', 'This member belongs to another organization.');
  return { organization, member };
}
