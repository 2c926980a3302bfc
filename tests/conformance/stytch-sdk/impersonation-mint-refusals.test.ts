import type { B2BClient, Member } from 'stytch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  addMember,
  auditEventOf,
  createImpersonationCast,
  expectErrorResponse,
  expectNoSessionOf,
  expectRefusalAudited,
  type ImpersonationCast,
  impersonate,
  mintBody,
  mintRaw,
  mintToken,
  type MintOptions,
  policyPath,
  type RawResponse,
} from '../../support/impersonation.js';
import { startTestSession } from '../../support/sessions.js';
import { STORES } from '../../support/stores.js';
import { startTestServer, type TestServer } from '../../support/test-server.js';

/**
 * Mints POST /v1/b2b/impersonation must refuse (docs/impersonation.md): each answers its error_type
 * and status, mints nothing (no session can follow), and leaves an `impersonation.mint_refused`
 * record naming the error. The member-session headers case covers "no chains".
 */
const MINT_REFUSED = 'impersonation.mint_refused';

for (const store of STORES) {
  describe(`POST /v1/b2b/impersonation refusals (${store.name})`, () => {
    let server: TestServer;
    let client: B2BClient;
    let cast: ImpersonationCast;

    beforeAll(async () => {
      server = await startTestServer({ store: store.name });
      client = server.client;
      cast = await createImpersonationCast(client);
    });
    afterAll(async () => server?.stop());

    /** Asserts the refusal, that no session followed, and its audit record. */
    async function expectMintRefused(response: RawResponse, member: Member, expected: { status: number; errorType: string }): Promise<void> {
      expectErrorResponse(response, expected.status, expected.errorType);
      expect(response.body).not.toHaveProperty('impersonation_token');
      await expectNoSessionOf(server, member);
      await expectRefusalAudited(server, response.body.request_id as string, { type: MINT_REFUSED, errorType: expected.errorType });
    }

    async function mintFor(member: Member, options: Partial<MintOptions> = {}, body: Record<string, unknown> = {}): Promise<RawResponse> {
      return mintRaw(server, { ...mintBody({ organizationId: member.organization_id, memberId: member.member_id, ...options }), ...body }, options.headers);
    }

    const badReasons: Record<string, Record<string, unknown>> = {
      'no reason': { reason: undefined },
      'a blank reason': { reason: '   ' },
      'an empty reason': { reason: '' },
      'a reason of 1025 characters': { reason: 'x'.repeat(1025) },
    };
    for (const [name, body] of Object.entries(badReasons)) {
      it(`${name}: invalid_impersonation_reason (400)`, async () => {
        const member = await addMember(client, cast.organization);
        const sent = Object.fromEntries(Object.entries({ ...mintBody({ organizationId: member.organization_id, memberId: member.member_id }), ...body }).filter(([, v]) => v !== undefined));
        await expectMintRefused(await mintRaw(server, sent), member, { status: 400, errorType: 'invalid_impersonation_reason' });
      });
    }

    it('a reason of exactly 1024 characters is accepted and kept in the audit trail', async () => {
      const minted = await mintToken(server, { organizationId: cast.organization.organization_id, memberId: cast.member.member_id, reason: 'y'.repeat(1024) });
      expect(minted.impersonation_token).toHaveLength(44);
      const event = await auditEventOf(server, minted.request_id);
      expect(event).toMatchObject({ type: 'impersonation.token_minted', details: { reason: 'y'.repeat(1024) } });
    });

    for (const minutes of [0, 6, -1, 2.5]) {
      it(`expiration_minutes ${minutes}: invalid_expiration (400)`, async () => {
        const member = await addMember(client, cast.organization);
        const response = await mintFor(member, { expirationMinutes: minutes });
        // 2.5 is not an integer: the request schema already refuses it as bad_request.
        const errorType = Number.isInteger(minutes) ? 'invalid_expiration' : 'bad_request';
        expectErrorResponse(response, 400, errorType);
        await expectNoSessionOf(server, member);
        if (errorType === 'invalid_expiration') await expectRefusalAudited(server, response.body.request_id as string, { type: MINT_REFUSED, errorType });
      });
    }

    it('no impersonator_email_address (or an invalid one, or no impersonator_id): invalid_impersonator (400)', async () => {
      const member = await addMember(client, cast.organization);
      const { impersonator_email_address: _omitted, ...withoutEmail } = mintBody({ organizationId: member.organization_id, memberId: member.member_id });
      await expectMintRefused(await mintRaw(server, withoutEmail), member, { status: 400, errorType: 'invalid_impersonator' });
      await expectMintRefused(await mintFor(member, { impersonatorEmailAddress: 'not-an-email' }), member, { status: 400, errorType: 'invalid_impersonator' });
      await expectMintRefused(await mintFor(member, { impersonatorId: '  ' }), member, { status: 400, errorType: 'invalid_impersonator' });
    });

    it('a deleted member: member_not_found (404), and an unknown organization: organization_not_found (404)', async () => {
      const member = await addMember(client, cast.organization);
      await client.organizations.members.delete({ organization_id: member.organization_id, member_id: member.member_id });
      const response = await mintFor(member);
      expectErrorResponse(response, 404, 'member_not_found');
      const event = await expectRefusalAudited(server, response.body.request_id as string, { type: MINT_REFUSED, errorType: 'member_not_found' });
      expect(event.organization_id).toBe(member.organization_id);
      const unknown = await mintFor(cast.member, { organizationId: 'organization-test-00000000-0000-4000-8000-000000000000' });
      expectErrorResponse(unknown, 404, 'organization_not_found');
      await expectRefusalAudited(server, unknown.body.request_id as string, { type: MINT_REFUSED, errorType: 'organization_not_found' });
    });

    it('an organization that disabled impersonation: member_impersonation_not_allowed (403)', async () => {
      const other = await createImpersonationCast(client);
      const put = await server.fetch(policyPath(other.organization.organization_id), { method: 'PUT', json: { impersonation_enabled: false } });
      expect(put.status, JSON.stringify(put.body)).toBe(200);
      await expectMintRefused(await mintFor(other.member), other.member, { status: 403, errorType: 'member_impersonation_not_allowed' });
    });

    it('no chains: a mint carrying X-Stytch-Member-Session of an impersonated session is member_impersonation_not_allowed (403)', async () => {
      const { redeemed } = await impersonate(server, cast.admin);
      const target = await addMember(client, cast.organization);
      const response = await mintFor(target, { headers: { 'X-Stytch-Member-Session': redeemed.session_token } });
      await expectMintRefused(response, target, { status: 403, errorType: 'member_impersonation_not_allowed' });
    });

    it('no chains: the same with X-Stytch-Member-SessionJWT of an impersonated session', async () => {
      const { redeemed } = await impersonate(server, cast.admin);
      const target = await addMember(client, cast.organization);
      const response = await mintFor(target, { headers: { 'X-Stytch-Member-SessionJWT': redeemed.session_jwt } });
      await expectMintRefused(response, target, { status: 403, errorType: 'member_impersonation_not_allowed' });
    });

    it("a mint carrying a normal member session's header: unauthorized_action (403) (project credentials alone may mint)", async () => {
      const normal = await startTestSession(server, { organizationId: cast.admin.organization_id, memberId: cast.admin.member_id });
      const target = await addMember(client, cast.organization);
      await expectMintRefused(await mintFor(target, { headers: { 'X-Stytch-Member-Session': normal.sessionToken } }), target, {
        status: 403,
        errorType: 'unauthorized_action',
      });
      await expectMintRefused(await mintFor(target, { headers: { 'X-Stytch-Member-SessionJWT': normal.sessionJwt } }), target, {
        status: 403,
        errorType: 'unauthorized_action',
      });
    });
  });

  describe(`POST /v1/b2b/impersonation with impersonation disabled for the project (${store.name})`, () => {
    let server: TestServer;
    let cast: ImpersonationCast;

    beforeAll(async () => {
      server = await startTestServer({ store: store.name, config: { impersonationEnabled: false } });
      cast = await createImpersonationCast(server.client);
    });
    afterAll(async () => server?.stop());

    it('every mint is member_impersonation_not_allowed (403), audited, and the policy says disabled_by project', async () => {
      const response = await mintRaw(server, mintBody({ organizationId: cast.organization.organization_id, memberId: cast.member.member_id }));
      expectErrorResponse(response, 403, 'member_impersonation_not_allowed');
      await expectNoSessionOf(server, cast.member);
      await expectRefusalAudited(server, response.body.request_id as string, { type: MINT_REFUSED, errorType: 'member_impersonation_not_allowed' });
      const policy = await server.fetch(policyPath(cast.organization.organization_id));
      expect(policy.body).toMatchObject({ project_impersonation_enabled: false, effective_impersonation_enabled: false, disabled_by: 'project' });
    });
  });
}
