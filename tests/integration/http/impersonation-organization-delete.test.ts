import type { Member, Organization } from 'stytch';
import type { AuditEvent } from '../../../src/domain/audit/audit-event.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  activeImpersonations,
  createImpersonationCast,
  expectErrorResponse,
  expectRefusalAudited,
  IMPERSONATOR,
  impersonate,
  mintBody,
  mintRaw,
  mintToken,
  policyPath,
  REDEEM,
  type RawResponse,
} from '../../support/impersonation.js';
import { executeSql, numbersUpTo, sqlText } from '../../support/database-access.js';
import { expectStytchRejection } from '../../support/openapi.js';
import { STORES } from '../../support/stores.js';
import { startTestServer, type TestServer } from '../../support/test-server.js';
import { uniqueSuffix } from '../../support/wire-formats.js';

/**
 * Deleting an organization while its impersonations and members are in use, with real concurrent
 * requests. Every transaction that writes an organization's rows locks the organization row first,
 * so a delete racing mints, a policy switch-off or member changes waits or is waited for (never a
 * deadlock, never a 500); the delete ends the organization's impersonations in its own transaction,
 * audited; and a redemption racing the delete cannot start a session in a deleted organization.
 * On PostgreSQL (READ COMMITTED) each of these raced before; the rounds are enough to have caught it.
 */
const ROUNDS = 25;
const UNABLE = { status: 401, errorType: 'unable_to_auth_impersonation_token' } as const;
const SESSION_NOT_FOUND = { status: 404, errorType: 'session_not_found' } as const;

for (const store of STORES) {
  describe(`deleting an organization while it is in use (${store.name})`, () => {
    let server: TestServer;

    beforeAll(async () => {
      server = await startTestServer({ store: store.name });
    });
    afterAll(async () => server?.stop());

    /** An organization with `count` members, through the SDK. */
    async function organizationWith(count: number): Promise<{ organization: Organization; members: Member[] }> {
      const suffix = uniqueSuffix();
      const { organization } = await server.client.organizations.create({ organization_name: `Deleted ${suffix}`, organization_slug: `deleted-${suffix}` });
      const members: Member[] = [];
      for (let index = 0; index < count; index += 1) {
        members.push((await server.client.organizations.members.create({ organization_id: organization.organization_id, email_address: `m${index}-${suffix}@example.org` })).member);
      }
      return { organization, members };
    }

    /** Every audit event of the organization, oldest first (the impersonation trail API shows only impersonation events). */
    async function eventsOf(organization: Organization): Promise<AuditEvent[]> {
      return (await server.server.store.audit.listEvents({ organizationId: organization.organization_id, limit: 10_000 })).reverse();
    }

    const deleteOrganization = (organization: Organization): Promise<RawResponse> =>
      server.fetch(`/v1/b2b/organizations/${organization.organization_id}`, { method: 'DELETE' });

    /** Every answer is a success or a Stytch-shaped refusal of the deleted organization or member: never a 500. */
    function expectNoServerErrors(responses: readonly RawResponse[], round: number): void {
      for (const response of responses) {
        expect(response.status, `round ${round}: ${JSON.stringify(response.body)}`).toBeLessThan(500);
        if (response.status >= 400) expect(['organization_not_found', 'member_not_found', 'member_impersonation_not_allowed'], `round ${round}`).toContain(response.body.error_type);
      }
    }

    it(`an organization delete racing mints, a policy switch-off, member changes and an organization update: no 500 in ${ROUNDS} rounds`, async () => {
      for (let round = 0; round < ROUNDS; round += 1) {
        const { organization, members } = await organizationWith(3);
        const [first, second, third] = members as [Member, Member, Member];
        const orgPath = `/v1/b2b/organizations/${organization.organization_id}`;
        const responses = await Promise.all([
          ...members.map((member) => mintRaw(server, mintBody({ organizationId: organization.organization_id, memberId: member.member_id }))),
          deleteOrganization(organization),
          server.fetch(policyPath(organization.organization_id), { method: 'PUT', json: { impersonation_enabled: false } }),
          mintRaw(server, mintBody({ organizationId: organization.organization_id, memberId: first.member_id })),
          server.fetch(`${orgPath}/members/${second.member_id}`, { method: 'PUT', json: { name: `Renamed ${round}`, email_address: `renamed-${round}-${uniqueSuffix()}@example.org` } }),
          server.fetch(`${orgPath}/members/${third.member_id}`, { method: 'DELETE' }),
          server.fetch(`${orgPath}/members`, { method: 'POST', json: { email_address: `late-${round}-${uniqueSuffix()}@example.org` } }),
          server.fetch(orgPath, { method: 'PUT', json: { organization_name: `Renamed ${round}` } }),
        ]);
        expectNoServerErrors(responses, round);
        expect(responses[3]?.status, `round ${round}: the delete`).toBe(200);
      }
    });

    it(`an organization delete racing a policy switch-off alone: no 500 in ${ROUNDS} rounds; a switch answered 200 was written before the delete`, async () => {
      for (let round = 0; round < ROUNDS; round += 1) {
        const { organization, members } = await organizationWith(1);
        await impersonate(server, members[0] as Member);
        await mintToken(server, { organizationId: organization.organization_id, memberId: (members[0] as Member).member_id });
        const [switched, deleted] = await Promise.all([
          server.fetch(policyPath(organization.organization_id), { method: 'PUT', json: { impersonation_enabled: false } }),
          deleteOrganization(organization),
        ]);
        expectNoServerErrors([switched, deleted], round);
        expect(deleted.status, `round ${round}`).toBe(200);
        const trail = await eventsOf(organization);
        const policyWrites = trail.filter((event) => event.type === 'impersonation.policy_updated');
        if (switched.status === 404) {
          expectErrorResponse(switched, 404, 'organization_not_found');
          expect(policyWrites, `round ${round}: a refused switch wrote nothing`).toEqual([]);
        } else {
          // Not an orphan policy written after the organization was gone.
          const deletion = trail.findIndex((event) => event.type === 'organization.deleted');
          const write = trail.findIndex((event) => event.type === 'impersonation.policy_updated');
          expect(policyWrites.map((event) => event.requestId), `round ${round}`).toEqual([switched.body.request_id]);
          expect(write, `round ${round}: the switch was written before the delete`).toBeLessThan(deletion);
        }
      }
    });

    it('deleting an organization ends its live impersonated sessions and revokes its unredeemed tokens in the same request, audited', async () => {
      const cast = await createImpersonationCast(server.client);
      const live = await impersonate(server, cast.member);
      const pending = await mintToken(server, { organizationId: cast.organization.organization_id, memberId: cast.admin.member_id });
      const bystander = await createImpersonationCast(server.client);
      const other = await impersonate(server, bystander.member);

      const deleted = await deleteOrganization(cast.organization);
      expect(deleted.status, JSON.stringify(deleted.body)).toBe(200);

      const caused = (await eventsOf(cast.organization)).filter((event) => event.requestId === deleted.body.request_id);
      const endings = caused.filter((event) => event.type.startsWith('impersonation.')).map((event) => [event.type, event.details.why, event.details.member_session_id ?? event.details.token_id]);
      expect(endings.sort()).toEqual(
        [
          ['impersonation.session_revoked', 'organization_deleted', live.redeemed.member_session?.member_session_id],
          ['impersonation.token_revoked', 'organization_deleted', pending.token_id],
        ].sort(),
      );
      expect(caused.map((event) => event.type)).toContain('organization.deleted');

      await expectStytchRejection(server.client.sessions.authenticate({ session_token: live.redeemed.session_token }), SESSION_NOT_FOUND);
      const stillListed = (await activeImpersonations(server, { impersonator_id: IMPERSONATOR.id })).map((session) => session.organization_id);
      expect(stillListed).not.toContain(cast.organization.organization_id);
      expect(stillListed).toContain(bystander.organization.organization_id);
      const refused = await expectStytchRejection(server.client.impersonation.authenticate({ impersonation_token: pending.impersonation_token }), UNABLE);
      await expectRefusalAudited(server, refused.request_id as string, { type: 'impersonation.redemption_refused', errorType: UNABLE.errorType, why: 'organization_deleted' });
      // Other organizations' impersonations go on.
      await server.client.sessions.authenticate({ session_token: other.redeemed.session_token });
    });

    it(`redemptions racing an organization delete start no session in the deleted organization (${ROUNDS} rounds)`, async () => {
      const impersonatorId = `race-${uniqueSuffix()}`;
      const started: string[] = [];
      for (let round = 0; round < ROUNDS; round += 1) {
        const { organization, members } = await organizationWith(3);
        const tokens = await Promise.all(members.map((member) => mintToken(server, { organizationId: organization.organization_id, memberId: member.member_id, impersonatorId })));
        const responses = await Promise.all([
          ...tokens.map((minted) => server.fetch(REDEEM, { method: 'POST', json: { impersonation_token: minted.impersonation_token } })),
          deleteOrganization(organization),
        ]);
        for (const response of responses) expect(response.status, `round ${round}: ${JSON.stringify(response.body)}`).toBeLessThan(500);
        expect(responses.at(-1)?.status, `round ${round}`).toBe(200);
        started.push(...responses.flatMap((response) => (response.status === 200 && typeof response.body.session_token === 'string' ? [response.body.session_token] : [])));
      }
      expect(await activeImpersonations(server, { impersonator_id: impersonatorId })).toEqual([]);
      for (const sessionToken of started) await expectStytchRejection(server.client.sessions.authenticate({ session_token: sessionToken }), SESSION_NOT_FOUND);
    });

    it(`sessions.revoke of impersonated sessions racing a policy switch-off or an organization delete: no 500, each ended once (${ROUNDS} rounds)`, async () => {
      for (let round = 0; round < ROUNDS; round += 1) {
        const { organization, members } = await organizationWith(2);
        const sessions = await Promise.all(members.map(async (member) => (await impersonate(server, member)).redeemed.member_session?.member_session_id as string));
        const ending =
          round % 2 === 0
            ? server.fetch(policyPath(organization.organization_id), { method: 'PUT', json: { impersonation_enabled: false } })
            : deleteOrganization(organization);
        const responses = await Promise.all([...sessions.map((member_session_id) => server.fetch('/v1/b2b/sessions/revoke', { method: 'POST', json: { member_session_id } })), ending]);
        for (const response of responses) expect(response.status, `round ${round}: ${JSON.stringify(response.body)}`).toBeLessThan(500);
        expect(responses.at(-1)?.status, `round ${round}`).toBe(200);
        const ended = (await eventsOf(organization)).filter((event) => event.type === 'impersonation.session_revoked').map((event) => event.details.member_session_id);
        expect(ended.sort(), `round ${round}`).toEqual([...sessions].sort());
      }
    });

    it('deletes an organization with more live sessions than one statement may carry parameters', async () => {
      const { organization, members } = await organizationWith(1);
      const member = members[0] as Member;
      const live = await impersonate(server, member);
      const count = 66_000;
      const { prefix, from, i } = numbersUpTo(server, count);
      const columns = 'member_session_id, token_lookup_id, token_digest, member_id, organization_id, started_at, last_accessed_at, expires_at, authentication_factors, custom_claims, attributes, roles';
      const values = `'session-test-bulk-' || ${i}, ${sqlText(`bulk-${uniqueSuffix()}-`)} || ${i}, 'x', ${sqlText(member.member_id)}, ${sqlText(organization.organization_id)}, '2025-01-01T00:00:00Z', '2025-01-01T00:00:00Z', '2999-01-01T00:00:00Z', '[]', '{}', '{}', '[]'`;
      await executeSql(server, `${prefix}insert into sessions (${columns}) select ${values} ${from}`);

      const deleted = await deleteOrganization(organization);
      expect(deleted.status, JSON.stringify(deleted.body)).toBe(200);
      const ended = (await eventsOf(organization)).filter((event) => event.type === 'impersonation.session_revoked');
      expect(ended.map((event) => [event.details.member_session_id, event.details.why])).toEqual([[live.redeemed.member_session?.member_session_id, 'organization_deleted']]);
      await expectStytchRejection(server.client.sessions.authenticate({ session_token: live.redeemed.session_token }), SESSION_NOT_FOUND);
    });

    it(`redemptions racing a member delete start no session for the deleted member (${ROUNDS} rounds)`, async () => {
      const impersonatorId = `race-${uniqueSuffix()}`;
      const { organization, members } = await organizationWith(ROUNDS);
      for (const [round, member] of members.entries()) {
        const tokens = await Promise.all([1, 2, 3].map(() => mintToken(server, { organizationId: organization.organization_id, memberId: member.member_id, impersonatorId })));
        const responses = await Promise.all([
          ...tokens.map((minted) => server.fetch(REDEEM, { method: 'POST', json: { impersonation_token: minted.impersonation_token } })),
          server.fetch(`/v1/b2b/organizations/${organization.organization_id}/members/${member.member_id}`, { method: 'DELETE' }),
        ]);
        for (const response of responses) expect(response.status, `round ${round}: ${JSON.stringify(response.body)}`).toBeLessThan(500);
        expect(responses.at(-1)?.status, `round ${round}`).toBe(200);
      }
      expect(await activeImpersonations(server, { impersonator_id: impersonatorId })).toEqual([]);
    });
  });
}
