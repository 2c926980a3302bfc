import type { B2BClient, Member } from 'stytch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  activeImpersonations,
  addMember,
  auditEvents,
  createImpersonationCast,
  expectErrorResponse,
  expectRefusalAudited,
  type ImpersonationCast,
  impersonate,
  type MintedToken,
  mintToken,
  policyPath,
  type WireAuditEvent,
} from '../../support/impersonation.js';
import { startMemberSession } from '../../support/member-session-cast.js';
import { expectStytchRejection } from '../../support/openapi.js';
import { STORES } from '../../support/stores.js';
import { startTestServer, type TestServer } from '../../support/test-server.js';
import { uniqueSuffix } from '../../support/wire-formats.js';

/**
 * Tokens and impersonated sessions across the changes that must end them: a token is bound to the
 * member as they were at mint (deleted since, or a new address, and it never redeems, even after a
 * reactivation or a change back), and switching an organization's policy off ends its live
 * impersonations and tokens at once, so switching it on again revives none. Every ending is in the
 * audit trail under the request that caused it.
 */
const UNABLE = { status: 401, errorType: 'unable_to_auth_impersonation_token' } as const;
const SESSION_NOT_FOUND = { status: 404, errorType: 'session_not_found' } as const;
const TOKENS_REVOKE = '/v1/b2b/impersonation/tokens/revoke';

for (const store of STORES) {
  describe(`impersonation across member and policy changes (${store.name})`, () => {
    let server: TestServer;
    let client: B2BClient;
    let cast: ImpersonationCast;

    beforeAll(async () => {
      server = await startTestServer({ store: store.name });
      client = server.client;
      cast = await createImpersonationCast(client);
    });
    afterAll(async () => server?.stop());

    const mintFor = (member: Member, options: { impersonatorId?: string } = {}): Promise<MintedToken> =>
      mintToken(server, { organizationId: member.organization_id, memberId: member.member_id, ...options });

    /** The redemption is refused (401), audited with `why`; answers its audit record. */
    async function expectRedemptionRefused(minted: MintedToken, why: string): Promise<WireAuditEvent> {
      const error = await expectStytchRejection(client.impersonation.authenticate({ impersonation_token: minted.impersonation_token }), UNABLE);
      return expectRefusalAudited(server, error.request_id as string, { type: 'impersonation.redemption_refused', errorType: UNABLE.errorType, why });
    }

    /** The audit events one request wrote, in order. */
    async function eventsOf(requestId: string, query: Record<string, string> = {}): Promise<WireAuditEvent[]> {
      return (await auditEvents(server, query)).filter((event) => event.request_id === requestId);
    }

    it('a token minted before the member was deleted does not redeem after members.reactivate; the deletion revoked it, audited', async () => {
      const member = await addMember(client, cast.organization);
      const minted = await mintFor(member);
      const deleted = await client.organizations.members.delete({ organization_id: member.organization_id, member_id: member.member_id });
      await client.organizations.members.reactivate({ organization_id: member.organization_id, member_id: member.member_id });
      await expectRedemptionRefused(minted, 'revoked');
      expect(await eventsOf(deleted.request_id, { member_id: member.member_id })).toEqual([
        expect.objectContaining({ type: 'impersonation.token_revoked', member_id: member.member_id, details: expect.objectContaining({ token_id: minted.token_id, why: 'member_deleted' }) }),
      ]);
      // The reactivated member can be impersonated again with a token minted now.
      const fresh = await client.impersonation.authenticate({ impersonation_token: (await mintFor(member)).impersonation_token });
      expect(fresh.member_id).toBe(member.member_id);
    });

    it('a token minted before an email change does not redeem after it, nor after changing the address back', async () => {
      const member = await addMember(client, cast.organization);
      const update = (email_address: string, preserve_existing_sessions?: boolean) =>
        client.organizations.members.update({ organization_id: member.organization_id, member_id: member.member_id, email_address, preserve_existing_sessions });
      const forOldAddress = await mintFor(member);
      const changed = await update(`moved-${uniqueSuffix()}@example.org`, true);
      // Bound to the address at mint: the account now answers to someone else's address.
      await expectRedemptionRefused(forOldAddress, 'member_changed');
      expect(await eventsOf(changed.request_id, { member_id: member.member_id })).toEqual([
        expect.objectContaining({ type: 'impersonation.token_revoked', details: expect.objectContaining({ token_id: forOldAddress.token_id, why: 'member_email_changed' }) }),
      ]);
      const beforeRoundTrip = await mintFor(member);
      await update(`elsewhere-${uniqueSuffix()}@example.org`, true);
      await update(changed.member.email_address, true);
      // Same address as at mint again, but the change in between revoked it for good.
      await expectRedemptionRefused(beforeRoundTrip, 'revoked');
    });

    it("switching the organization's policy off ends its live impersonated sessions and unredeemed tokens at once, audited; switching it on revives none", async () => {
      const other = await createImpersonationCast(client);
      const { redeemed } = await impersonate(server, other.member);
      const pending = await mintFor(other.admin);
      const bystander = await impersonate(server, cast.member);
      const off = await server.fetch(policyPath(other.organization.organization_id), { method: 'PUT', json: { impersonation_enabled: false } });
      expect(off.status, JSON.stringify(off.body)).toBe(200);
      await expectStytchRejection(client.sessions.authenticate({ session_token: redeemed.session_token }), SESSION_NOT_FOUND);
      expect(await activeImpersonations(server, { organization_id: other.organization.organization_id })).toEqual([]);
      const written = await eventsOf(off.body.request_id as string, { organization_id: other.organization.organization_id });
      expect(written.map((event) => [event.type, event.details.why ?? null])).toEqual([
        ['impersonation.policy_updated', null],
        ['impersonation.token_revoked', 'disabled_by_organization'],
        ['impersonation.session_revoked', 'disabled_by_organization'],
      ]);
      expect(written[1]?.details.token_id).toBe(pending.token_id);
      expect(written[2]?.details.member_session_id).toBe(redeemed.member_session?.member_session_id);

      // Switched on again by the organization's admin (the project's credentials may not reopen it).
      const organizations = { 'X-Stytch-Member-Session': (await startMemberSession(server, other.admin)).sessionToken };
      const on = await server.fetch(policyPath(other.organization.organization_id), { method: 'PUT', json: { impersonation_enabled: true }, headers: organizations });
      expect(on.status, JSON.stringify(on.body)).toBe(200);
      await expectRedemptionRefused(pending, 'revoked');
      await expectStytchRejection(client.sessions.authenticate({ session_token: redeemed.session_token }), SESSION_NOT_FOUND);
      // Another organization's impersonation went on throughout, and new ones work again.
      await client.sessions.authenticate({ session_token: bystander.redeemed.session_token });
      expect((await impersonate(server, other.member)).redeemed.member_id).toBe(other.member.member_id);
    });

    it('redemptions racing a policy switch-off or a member deletion leave no live impersonated session behind', async () => {
      const other = await createImpersonationCast(client);
      const members = [other.member, other.admin, ...(await Promise.all([1, 2, 3].map(() => addMember(client, other.organization))))];
      const tokens = await Promise.all(members.flatMap((member) => [mintFor(member), mintFor(member)]));
      const target = members[2] as Member;
      const targetTokens = await Promise.all([1, 2, 3, 4].map(() => mintFor(target)));
      const outcomes = await Promise.allSettled([
        ...tokens.map((minted) => client.impersonation.authenticate({ impersonation_token: minted.impersonation_token })),
        server.fetch(policyPath(other.organization.organization_id), { method: 'PUT', json: { impersonation_enabled: false } }),
      ]);
      const started = outcomes.flatMap((outcome) => (outcome.status === 'fulfilled' && 'session_token' in outcome.value ? [outcome.value.session_token] : []));
      expect(await activeImpersonations(server, { organization_id: other.organization.organization_id })).toEqual([]);
      for (const sessionToken of started) await expectStytchRejection(client.sessions.authenticate({ session_token: sessionToken }), SESSION_NOT_FOUND);

      const reopened = await server.fetch(policyPath(other.organization.organization_id), {
        method: 'PUT',
        json: { impersonation_enabled: true },
        headers: { 'X-Stytch-Member-Session': (await startMemberSession(server, other.admin)).sessionToken },
      });
      expect(reopened.status, JSON.stringify(reopened.body)).toBe(200);
      const raced = await Promise.allSettled([
        ...targetTokens.map((minted) => client.impersonation.authenticate({ impersonation_token: minted.impersonation_token })),
        client.organizations.members.delete({ organization_id: target.organization_id, member_id: target.member_id }),
      ]);
      expect(raced.at(-1)?.status).toBe('fulfilled');
      expect(await activeImpersonations(server, { member_id: target.member_id })).toEqual([]);
    });

    it('POST /v1/b2b/impersonation/tokens/revoke revokes unredeemed tokens by token_id, member or impersonator, audited; they never redeem', async () => {
      const [ann, bob] = [await addMember(client, cast.organization), await addMember(client, cast.organization)];
      const rogue = `support-${uniqueSuffix()}`;
      const [first, second, third, used] = [await mintFor(ann), await mintFor(ann), await mintFor(bob, { impersonatorId: rogue }), await mintFor(bob)];
      await client.impersonation.authenticate({ impersonation_token: used.impersonation_token });
      const revoke = (json: Record<string, string>) => server.fetch(TOKENS_REVOKE, { method: 'POST', json });

      const byId = await revoke({ token_id: first.token_id });
      expect(byId.status, JSON.stringify(byId.body)).toBe(200);
      expect(byId.body.revoked_tokens).toEqual([
        expect.objectContaining({ token_id: first.token_id, member_id: ann.member_id, impersonator_id: 'support-17', revoked_at: expect.any(String) }),
      ]);
      expect(JSON.stringify(byId.body)).not.toContain(first.impersonation_token);
      const byMember = await revoke({ organization_id: cast.organization.organization_slug, member_id: ann.email_address });
      expect((byMember.body.revoked_tokens as { token_id: string }[]).map((token) => token.token_id)).toEqual([second.token_id]);
      const byImpersonator = await revoke({ impersonator_id: rogue });
      expect((byImpersonator.body.revoked_tokens as { token_id: string }[]).map((token) => token.token_id)).toEqual([third.token_id]);
      // Nothing left to revoke (the redeemed one is a session, not a token): an empty answer, not an error.
      expect((await revoke({ member_id: bob.member_id })).body.revoked_tokens).toEqual([]);
      expectErrorResponse(await revoke({}), 400, 'no_impersonation_revoke_arguments');

      for (const minted of [first, second, third]) await expectRedemptionRefused(minted, 'revoked');
      const revokedEvents = (await eventsOf(byId.body.request_id as string)).map((event) => [event.type, event.details.token_id, event.details.why]);
      expect(revokedEvents).toEqual([['impersonation.token_revoked', first.token_id, 'revoked']]);
    });
  });
}
