import type { B2BClient } from 'stytch';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/platform/clock.js';
import { expectStytchRejection } from '../../support/openapi.js';
import { waitForEmail } from '../../support/outbox.js';
import { STORES } from '../../support/stores.js';
import { startTestServer, type TestServer } from '../../support/test-server.js';
import { createEmailOrganization, createMember, type EmailOrganization, expectNothingSent, expectSignInRefusalAudited, membersOf, sessionsOf } from './email-sign-in-fixtures.js';

/**
 * Every refusal of otps.email.loginOrSignup and otps.email.authenticate: Stytch's error, nothing
 * written, and each refused code audited as member.sign_in_refused.
 */
const WRONG = { status: 401, errorType: 'unable_to_auth_otp_code' } as const;
const NOT_FOUND = { status: 404, errorType: 'otp_code_not_found' } as const;

for (const store of STORES) {
  describe(`client.otps.email refusals (${store.name})`, () => {
    let server: TestServer;
    let client: B2BClient;
    let clock: ManualClock;
    let acme: EmailOrganization;

    beforeAll(async () => {
      clock = new ManualClock(new Date());
      server = await startTestServer({ store: store.name, clock });
      client = server.client;
      acme = await createEmailOrganization(client);
    });
    afterEach(() => clock.set(new Date()));
    afterAll(async () => server?.stop());

    /** A code sent to a new active member of `organization`, taken from the email. */
    async function codeFor(organization: EmailOrganization = acme, minutes?: number) {
      const member = await createMember(client, organization.organization, organization.address('coder'));
      await client.otps.email.loginOrSignup({
        organization_id: organization.organization.organization_id,
        email_address: member.email_address,
        ...(minutes !== undefined && { login_expiration_minutes: minutes }),
      });
      const message = await waitForEmail(server, member.email_address, { template: 'otp_login' });
      return { member, code: message.code as string, organizationId: organization.organization.organization_id };
    }

    /** A six-digit code other than `code`. */
    function otherThan(code: string): string {
      return String((Number(code) + 1) % 1_000_000).padStart(6, '0');
    }

    describe('loginOrSignup', () => {
      const cases: [string, (org: EmailOrganization, email: string) => Parameters<B2BClient['otps']['email']['loginOrSignup']>[0], { status: number; errorType: string }][] = [
        ['an unknown organization', (_org, email) => ({ organization_id: 'organization-test-00000000-0000-4000-8000-000000000000', email_address: email }), { status: 404, errorType: 'organization_not_found' }],
        ['an invalid address', (org) => ({ organization_id: org.organization.organization_id, email_address: 'nobody@' }), { status: 400, errorType: 'invalid_email' }],
        ['an unknown locale', (org, email) => ({ organization_id: org.organization.organization_id, email_address: email, locale: 'en-GB' }), { status: 400, errorType: 'invalid_locale' }],
        ['1 minute', (org, email) => ({ organization_id: org.organization.organization_id, email_address: email, signup_expiration_minutes: 1 }), { status: 400, errorType: 'invalid_expiration_otp' }],
        ['16 minutes', (org, email) => ({ organization_id: org.organization.organization_id, email_address: email, login_expiration_minutes: 16 }), { status: 400, errorType: 'invalid_expiration_otp' }],
        ['a domain that may not join', (org) => ({ organization_id: org.organization.organization_id, email_address: `eve-${org.domain.length}@elsewhere.example.org` }), { status: 400, errorType: 'invalid_email_for_jit_provisioning' }],
      ];
      it.each(cases)('refuses %s, creating no member and sending nothing', async (_name, body, expected) => {
        const request = body(acme, acme.address('refused'));
        const before = await membersOf(client, acme.organization);
        const error = await expectStytchRejection(client.otps.email.loginOrSignup(request), expected);
        expect(await membersOf(client, acme.organization)).toEqual(before);
        await expectNothingSent(server, request.email_address, error.request_id);
      });

      it('email_jit_provisioning NOT_ALLOWED (403), and auth_methods without email_otp (403), write nothing', async () => {
        const closed = await createEmailOrganization(client, { email_jit_provisioning: 'NOT_ALLOWED' });
        const email = closed.address();
        const error = await expectStytchRejection(client.otps.email.loginOrSignup({ organization_id: closed.organization.organization_id, email_address: email }), {
          status: 403,
          errorType: 'email_jit_provisioning_not_allowed',
        });
        await expectNothingSent(server, email, error.request_id);
        const linksOnly = await createEmailOrganization(client, { auth_methods: 'RESTRICTED', allowed_auth_methods: ['magic_link'] });
        const member = await createMember(client, linksOnly.organization, linksOnly.address());
        const restricted = await expectStytchRejection(client.otps.email.loginOrSignup({ organization_id: linksOnly.organization.organization_id, email_address: member.email_address }), {
          status: 403,
          errorType: 'operation_restricted_by_organization_auth_methods',
        });
        await expectNothingSent(server, member.email_address, restricted.request_id);
        expect(await membersOf(client, closed.organization)).toEqual([]);
      });
    });

    describe('authenticate', () => {
      it('no code was sent: 404 otp_code_not_found, audited', async () => {
        const member = await createMember(client, acme.organization, acme.address('silent'));
        const error = await expectStytchRejection(
          client.otps.email.authenticate({ organization_id: acme.organization.organization_id, email_address: member.email_address, code: '123456' }),
          NOT_FOUND,
        );
        await expectSignInRefusalAudited(server, error.request_id, { errorType: 'otp_code_not_found', why: 'not_found' });
      });

      it('a wrong code: 401, audited; the right one still works after it', async () => {
        const { member, code, organizationId } = await codeFor();
        const error = await expectStytchRejection(client.otps.email.authenticate({ organization_id: organizationId, email_address: member.email_address, code: otherThan(code) }), WRONG);
        await expectSignInRefusalAudited(server, error.request_id, { errorType: 'unable_to_auth_otp_code', why: 'wrong_code', memberId: member.member_id });
        expect(await sessionsOf(client, member)).toEqual([]);
        expect((await client.otps.email.authenticate({ organization_id: organizationId, email_address: member.email_address, code })).member_id).toBe(member.member_id);
      });

      it('five wrong guesses kill the code: then even the right one fails', async () => {
        const { member, code, organizationId } = await codeFor();
        for (let guess = 0; guess < 5; guess += 1) {
          await expectStytchRejection(client.otps.email.authenticate({ organization_id: organizationId, email_address: member.email_address, code: otherThan(code) }), WRONG);
        }
        const error = await expectStytchRejection(client.otps.email.authenticate({ organization_id: organizationId, email_address: member.email_address, code }), NOT_FOUND);
        await expectSignInRefusalAudited(server, error.request_id, { errorType: 'otp_code_not_found' });
        expect(await sessionsOf(client, member)).toEqual([]);
      });

      it('a used code: the second sign-in is refused and there is one session', async () => {
        const { member, code, organizationId } = await codeFor();
        await client.otps.email.authenticate({ organization_id: organizationId, email_address: member.email_address, code });
        const error = await expectStytchRejection(client.otps.email.authenticate({ organization_id: organizationId, email_address: member.email_address, code }), NOT_FOUND);
        await expectSignInRefusalAudited(server, error.request_id, { errorType: 'otp_code_not_found' });
        expect(await sessionsOf(client, member)).toHaveLength(1);
      });

      it('an expired code: 401 unable_to_auth_otp_code', async () => {
        const { member, code, organizationId } = await codeFor(acme, 2);
        clock.advance(2 * 60_000 + 1000);
        const error = await expectStytchRejection(client.otps.email.authenticate({ organization_id: organizationId, email_address: member.email_address, code }), WRONG);
        await expectSignInRefusalAudited(server, error.request_id, { errorType: 'unable_to_auth_otp_code', why: 'expired', memberId: member.member_id });
        expect(await sessionsOf(client, member)).toEqual([]);
      });

      it("a code of organization A presented at organization B (where the address is a member too) is not found there", async () => {
        const other = await createEmailOrganization(client);
        const { member, code } = await codeFor();
        // The same address is a member of B as well: only A's code was sent.
        await client.organizations.members.create({ organization_id: other.organization.organization_id, email_address: member.email_address });
        await expectStytchRejection(client.otps.email.authenticate({ organization_id: other.organization.organization_id, email_address: member.email_address, code }), NOT_FOUND);
        expect((await client.otps.email.authenticate({ organization_id: acme.organization.organization_id, email_address: member.email_address, code })).member_id).toBe(member.member_id);
      });

      it('an unknown organization and an invalid address are refused before any code is looked at', async () => {
        await expectStytchRejection(
          client.otps.email.authenticate({ organization_id: 'organization-test-00000000-0000-4000-8000-000000000000', email_address: 'a@b.example.com', code: '000000' }),
          { status: 404, errorType: 'organization_not_found' },
        );
        await expectStytchRejection(client.otps.email.authenticate({ organization_id: acme.organization.organization_id, email_address: 'nope', code: '000000' }), {
          status: 400,
          errorType: 'invalid_email',
        });
      });

      it('auth_methods changed after the send: 403, audited, no session; the member stays as they were', async () => {
        const changing = await createEmailOrganization(client);
        const email = changing.address();
        const sent = await client.otps.email.loginOrSignup({ organization_id: changing.organization.organization_id, email_address: email });
        const { code } = await waitForEmail(server, email);
        await client.organizations.update({ organization_id: changing.organization.organization_id, auth_methods: 'RESTRICTED', allowed_auth_methods: ['magic_link'] });
        const error = await expectStytchRejection(client.otps.email.authenticate({ organization_id: changing.organization.organization_id, email_address: email, code: code as string }), {
          status: 403,
          errorType: 'operation_restricted_by_organization_auth_methods',
        });
        await expectSignInRefusalAudited(server, error.request_id, { errorType: 'operation_restricted_by_organization_auth_methods', why: 'method_not_allowed', memberId: sent.member_id });
        const member = (await client.organizations.members.get({ organization_id: changing.organization.organization_id, member_id: sent.member_id })).member;
        expect(member.status).toBe('pending');
        expect(await sessionsOf(client, member)).toEqual([]);
      });

      it('a member deleted since the send: their code died with them (otp_code_not_found)', async () => {
        const { member, code, organizationId } = await codeFor();
        await client.organizations.members.delete({ organization_id: organizationId, member_id: member.member_id });
        await expectStytchRejection(client.otps.email.authenticate({ organization_id: organizationId, email_address: member.email_address, code }), NOT_FOUND);
      });
    });
  });
}
