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
  type WireAuditEvent,
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

    /** Asserts the refusal, that no session followed, and its audit record, filed under the member's organization. */
    async function expectMintRefused(response: RawResponse, member: Member, expected: { status: number; errorType: string }): Promise<WireAuditEvent> {
      expectErrorResponse(response, expected.status, expected.errorType);
      expect(response.body).not.toHaveProperty('impersonation_token');
      await expectNoSessionOf(server, member);
      const event = await expectRefusalAudited(server, response.body.request_id as string, { type: MINT_REFUSED, errorType: expected.errorType });
      expect({ organization_id: event.organization_id, member_id: event.member_id }).toEqual({ organization_id: member.organization_id, member_id: member.member_id });
      return event;
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
        // 2.5 too: the service, not the request schema, refuses it, so the refusal is audited.
        await expectMintRefused(await mintFor(member, { expirationMinutes: minutes }), member, { status: 400, errorType: 'invalid_expiration' });
      });
    }

    it('no impersonator_email_address (or an invalid one, or no impersonator_id): invalid_impersonator (400)', async () => {
      const member = await addMember(client, cast.organization);
      const { impersonator_email_address: _omitted, ...withoutEmail } = mintBody({ organizationId: member.organization_id, memberId: member.member_id });
      await expectMintRefused(await mintRaw(server, withoutEmail), member, { status: 400, errorType: 'invalid_impersonator' });
      await expectMintRefused(await mintFor(member, { impersonatorEmailAddress: 'not-an-email' }), member, { status: 400, errorType: 'invalid_impersonator' });
      await expectMintRefused(await mintFor(member, { impersonatorId: '  ' }), member, { status: 400, errorType: 'invalid_impersonator' });
    });

    it('an impersonator address the member rules refuse (x@localhost, no dot in the domain) is invalid_impersonator (400), audited like any other', async () => {
      const member = await addMember(client, cast.organization);
      for (const impersonatorEmailAddress of ['x@localhost', 'sam@support..example', 'sam@-support.example']) {
        await expectMintRefused(await mintFor(member, { impersonatorEmailAddress }), member, { status: 400, errorType: 'invalid_impersonator' });
      }
    });

    it('a body the request schema refuses (a field of the wrong type, no organization_id) is bad_request (400), audited too', async () => {
      const member = await addMember(client, cast.organization);
      for (const body of [{ reason: 42 }, { impersonator_email_address: ['sam@support.example'] }, { expiration_minutes: '5' }]) {
        const event = await expectMintRefused(await mintFor(member, {}, body), member, { status: 400, errorType: 'bad_request' });
        expect(event.details).toMatchObject({ error_type: 'bad_request' });
      }
      const { organization_id: _omitted, ...withoutOrganization } = mintBody({ organizationId: member.organization_id, memberId: member.member_id });
      const response = await mintRaw(server, withoutOrganization);
      expectErrorResponse(response, 400, 'bad_request');
      expect(response.body.error_message).toBe('Invalid body: organization_id is required.');
      const event = await expectRefusalAudited(server, response.body.request_id as string, { type: MINT_REFUSED, errorType: 'bad_request' });
      expect(event.organization_id).toBeNull();
    });

    // (NUL never gets this far: the edge refuses it in any request.)
    const controls: Record<string, string> = { 'an ANSI escape': '\u001b[2J\u001b[1;1H', 'a C1 CSI': '\u009b31m', 'a bidi override': '\u202e', 'a bell': '\u0007', 'DEL': '\u007f' };
    for (const [name, control] of Object.entries(controls)) {
      it(`${name} in reason, impersonator_id or impersonator_email_address is refused (400) and recorded escaped`, async () => {
        const member = await addMember(client, cast.organization);
        const reason = await expectMintRefused(await mintFor(member, { reason: `Ticket 1${control}` }), member, { status: 400, errorType: 'invalid_impersonation_reason' });
        const id = await expectMintRefused(await mintFor(member, { impersonatorId: `support${control}17` }), member, { status: 400, errorType: 'invalid_impersonator' });
        const email = await expectMintRefused(await mintFor(member, { impersonatorEmailAddress: `sam${control}@support.example` }), member, { status: 400, errorType: 'invalid_impersonator' });
        // The trail keeps what was tried, with each control character written out as \uXXXX, never raw.
        const written = (text: string): string => text.replace(/[\p{Cc}\p{Bidi_Control}]/gu, (c) => `\\u${(c.codePointAt(0) ?? 0).toString(16).padStart(4, '0')}`);
        expect([reason.details.reason, id.impersonator_id, email.details.impersonator_email_address]).toEqual([
          written(`Ticket 1${control}`),
          written(`support${control}17`),
          written(`sam${control}@support.example`),
        ]);
        expect(written(`x${control}`)).not.toBe(`x${control}`);
      });
    }

    it('a reason may span lines (a console text box): line breaks and tabs are kept', async () => {
      const minted = await mintToken(server, { organizationId: cast.organization.organization_id, memberId: cast.member.member_id, reason: 'Ticket 7:\r\n\tinvoices' });
      expect((await auditEventOf(server, minted.request_id)).details.reason).toBe('Ticket 7:\r\n\tinvoices');
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

    it("a mint carrying a plain member's session header is that member's delegated mint: session_authorization_error (403) without understudy.impersonation:create", async () => {
      const plain = await addMember(client, cast.organization);
      const normal = await startTestSession(server, { organizationId: plain.organization_id, memberId: plain.member_id });
      const target = await addMember(client, cast.organization);
      await expectMintRefused(await mintFor(target, { headers: { 'X-Stytch-Member-Session': normal.sessionToken } }), target, {
        status: 403,
        errorType: 'session_authorization_error',
      });
      await expectMintRefused(await mintFor(target, { headers: { 'X-Stytch-Member-SessionJWT': normal.sessionJwt } }), target, {
        status: 403,
        errorType: 'session_authorization_error',
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
