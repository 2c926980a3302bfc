import { describe, expect, it } from 'vitest';
import { memberCall, organizationCall } from '../../src/api/member-requirements.js';
import { runAsCaller } from '../../src/api/member-session-call.js';
import type { ApiServices, OperationCall } from '../../src/api/operation.js';
import { DEFAULT_ROLES } from '../../src/domain/rbac/policy.js';
import { aMember } from '../support/builders/member-builder.js';
import { anOrganization } from '../support/builders/organization-builder.js';

/**
 * A member-session call runs on the ids it was judged on: a slug or external id in the path is
 * resolved once, checked, and the operation is handed the ids, so a reference renamed and taken by
 * another organization or member between the check and the write cannot redirect it.
 */
describe('member-session calls run on the ids they were judged on', () => {
  const organization = anOrganization({ organizationSlug: 'acme' });
  const admin = aMember({ organizationId: organization.organizationId, assignedRoles: ['stytch_admin'] });
  const target = aMember({ organizationId: organization.organizationId, externalId: 'crm-42' });
  const session = { memberSessionId: 'session-test-1', organizationId: organization.organizationId, authenticationFactors: [] };

  const services = {
    projectId: 'project-test-1',
    sessions: { resolveLive: async () => ({ session, member: admin, organization }), permissionMaskOf: async () => null },
    rbacPolicy: { rolesOf: async () => [...DEFAULT_ROLES] },
    impersonatedCalls: { record: async () => undefined },
    organizations: {
      get: async (reference: string) => {
        if (reference === organization.organizationId || reference === organization.organizationSlug) return organization;
        throw Object.assign(new Error('not found'), { kind: 'not_found' });
      },
    },
    members: {
      get: async (_organizationId: string, by: { memberId?: string }) => {
        if (by.memberId === target.memberId || by.memberId === target.externalId) return { member: target, organization };
        throw Object.assign(new Error('not found'), { kind: 'not_found' });
      },
    },
  } as unknown as ApiServices;

  const call = (params: Record<string, string>): OperationCall<unknown, unknown, unknown> =>
    ({
      body: {},
      query: {},
      params,
      context: { requestId: 'request-id-test-1', actor: { type: 'project', projectId: 'project-test-1' } },
      request: { headers: { 'x-stytch-member-session': 'a-session-token' } },
      reply: {},
    }) as unknown as OperationCall<unknown, unknown, unknown>;

  it('resolves a slug and an external id to the ids', async () => {
    expect((await organizationCall(services, 'acme', ['delete'])).resolvedParams).toEqual({ organization_id: organization.organizationId });
    expect((await memberCall(services, 'acme', 'crm-42', ['delete'])).resolvedParams).toEqual({ organization_id: organization.organizationId, member_id: target.memberId });
  });

  it('hands the operation those ids, as the member', async () => {
    const seen = await runAsCaller(
      call({ organization_id: 'acme', member_id: 'crm-42' }),
      { name: 'organizations.members.delete', memberAuthorization: (asMember) => memberCall(services, String((asMember.params as Record<string, string>).organization_id), 'crm-42', ['delete']) },
      services,
      async (asMember) => ({ params: asMember.params, actor: asMember.context.actor }),
    );
    expect(seen.params).toEqual({ organization_id: organization.organizationId, member_id: target.memberId });
    expect(seen.actor).toMatchObject({ type: 'member_session', memberId: admin.memberId, memberSessionId: 'session-test-1' });
  });
});
