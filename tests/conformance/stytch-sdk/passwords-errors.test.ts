import type { B2BClient, Member } from 'stytch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../../src/domain/audit/audit-event.js';
import { DEFAULT_PASSWORD_SETTINGS } from '../../../src/domain/passwords/password-settings.js';
import { ManualClock } from '../../../src/platform/clock.js';
import { executeSql, sqlText } from '../../support/database-access.js';
import { impersonate } from '../../support/impersonation.js';
import { expectStytchRejection, expectToMatchResponseSchema } from '../../support/openapi.js';
import { emailFactor } from '../../support/sessions.js';
import { STORES } from '../../support/stores.js';
import { startTestServer, type TestServer } from '../../support/test-server.js';
import { auditOfRequest, createEmailOrganization, createMember, type EmailOrganization, sessionsOf } from './email-sign-in-fixtures.js';
import { failuresOf, givePassword, NEW_PASSWORD, PASSWORD, REQUIRE_RESET, storedPasswordOf, WRONG_CREDENTIALS, WRONG_PASSWORD } from './passwords-sign-in-fixtures.js';
import { minutesFrom, startSession } from './session-fixtures.js';

const RESTRICTED = { status: 403, errorType: 'operation_restricted_by_organization_auth_methods' } as const;
const WEAK = { status: 400, errorType: 'weak_password' } as const;

/** The one event a refused request wrote: `member.sign_in_refused`, with these details. */
async function expectRefusalAudited(server: TestServer, requestId: string, details: Record<string, unknown>, memberId: string | null): Promise<AuditEvent> {
  const events = await auditOfRequest(server, requestId);
  expect(events.map((event) => event.type)).toEqual(['member.sign_in_refused']);
  const [event] = events as [AuditEvent];
  expect(event.details).toMatchObject(details);
  expect(event.memberId).toBe(memberId);
  return event;
}

/**
 * Refusals of the organization-scoped password operations: the Stytch error, nothing written
 * (checked by reading back), and for sign-ins a `member.sign_in_refused` event.
 */
for (const store of STORES) {
  describe(`client.passwords refusals (${store.name})`, () => {
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
    afterAll(async () => server?.stop());

    const organizationId = () => acme.organization.organization_id;
    const signIn = (email: string, password: string, organization = organizationId()) =>
      client.passwords.authenticate({ organization_id: organization, email_address: email, password });

    it('a wrong password, an unknown address and an address without a password get the same 401; each is counted and audited, no session starts', async () => {
      const known = acme.address('known');
      const { member } = await givePassword(client, acme.organization, known);
      const bare = await createMember(client, acme.organization, acme.address('bare'));
      const unknown = acme.address('nobody');
      const cases: [string, string, string | null, string][] = [
        [known, WRONG_PASSWORD, member.member_id, 'wrong_password'],
        [unknown, PASSWORD, null, 'unknown_address'],
        [bare.email_address, PASSWORD, bare.member_id, 'no_password'],
      ];
      for (const [email, password, memberId, why] of cases) {
        const error = await expectStytchRejection(signIn(email, password), WRONG_CREDENTIALS);
        expect(error.error_message).toBe('Unauthorized credentials: the email address and password do not match.');
        await expectRefusalAudited(server, error.request_id, { method: 'password', why, failed_attempts: 1 }, memberId);
        expect((await failuresOf(server, organizationId(), email))?.failedAttempts).toBe(1);
      }
      expect(await sessionsOf(client, member)).toEqual([]);
      expect(await sessionsOf(client, bare)).toEqual([]);
    });

    it('an organization whose auth_methods leave out passwords refuses every password sign-in before checking it (403, audited, not counted); break-glass members are exempt', async () => {
      const restricted = await createEmailOrganization(client, { auth_methods: 'RESTRICTED', allowed_auth_methods: ['magic_link'] });
      const email = restricted.address('plain');
      const { member } = await givePassword(client, restricted.organization, email);
      const error = await expectStytchRejection(signIn(email, PASSWORD, restricted.organization.organization_id), RESTRICTED);
      await expectRefusalAudited(server, error.request_id, { method: 'password', why: 'method_not_allowed', error_type: RESTRICTED.errorType }, member.member_id);
      expect(await sessionsOf(client, member)).toEqual([]);
      expect(await failuresOf(server, restricted.organization.organization_id, email)).toBeUndefined();

      const glass = restricted.address('glass');
      await createMember(client, restricted.organization, glass, { is_breakglass: true });
      await givePassword(client, restricted.organization, glass);
      expect((await signIn(glass, PASSWORD, restricted.organization.organization_id)).member_authenticated).toBe(true);
      // Refused before the password is checked, the same for a wrong password and for an unknown
      // address: the answer never tells a right password from a wrong one, nor members from strangers.
      await expectStytchRejection(signIn(email, WRONG_PASSWORD, restricted.organization.organization_id), RESTRICTED);
      await expectStytchRejection(signIn(restricted.address('stranger'), WRONG_PASSWORD, restricted.organization.organization_id), RESTRICTED);
      expect(await failuresOf(server, restricted.organization.organization_id, email)).toBeUndefined();
      // The break-glass member's wrong password is an ordinary failure.
      await expectStytchRejection(signIn(glass, WRONG_PASSWORD, restricted.organization.organization_id), WRONG_CREDENTIALS);
    });

    it('an invited member with a password (written to the database directly) cannot sign in with it: 401, audited', async () => {
      const email = acme.address('invited');
      const { member } = await givePassword(client, acme.organization, email);
      await executeSql(server, `update members set status = 'invited' where member_id = ${sqlText(member.member_id)}`);
      const error = await expectStytchRejection(signIn(email, PASSWORD), WRONG_CREDENTIALS);
      await expectRefusalAudited(server, error.request_id, { method: 'password', why: 'member_not_active', error_type: 'unauthorized_credentials' }, member.member_id);
      expect(await sessionsOf(client, member)).toEqual([]);
    });

    it('an unknown organization is 404 before any password is checked', async () => {
      await expectStytchRejection(signIn(acme.address(), PASSWORD, 'organization-test-00000000-0000-4000-8000-000000000000'), { status: 404, errorType: 'organization_not_found' });
    });

    it('existingPassword.reset refuses a weak new password (400, audited, not counted) and a wrong existing one (401, counted); nothing changes', async () => {
      const email = acme.address('weak');
      const { member } = await givePassword(client, acme.organization, email);
      const other = await startSession(server, member);
      const before = await storedPasswordOf(server, member.member_id);
      const reset = (existing: string, next: string) =>
        client.passwords.existingPassword.reset({ organization_id: organizationId(), email_address: email, existing_password: existing, new_password: next });
      const weak = await expectStytchRejection(reset(PASSWORD, 'password'), WEAK);
      // Audited as a refused attempt, and nothing else written.
      await expectRefusalAudited(server, weak.request_id, { method: 'existing_password_reset', why: 'weak_password', error_type: 'weak_password' }, member.member_id);
      const wrong = await expectStytchRejection(reset(WRONG_PASSWORD, NEW_PASSWORD), WRONG_CREDENTIALS);
      await expectRefusalAudited(server, wrong.request_id, { method: 'existing_password_reset', why: 'wrong_password' }, member.member_id);
      expect(await storedPasswordOf(server, member.member_id)).toEqual(before);
      expect((await sessionsOf(client, member)).map((session) => session.member_session_id)).toEqual([other.memberSessionId]);
      expect((await signIn(email, PASSWORD)).member_id).toBe(member.member_id);
    });

    describe('sessions.reset', () => {
      let member: Member;
      let email: string;

      beforeAll(async () => {
        email = acme.address('holder');
        ({ member } = await givePassword(client, acme.organization, email));
      });

      const reset = (session: { session_token?: string; session_jwt?: string }, password = NEW_PASSWORD, organization = organizationId()) =>
        client.passwords.sessions.reset({ organization_id: organization, password, ...session });
      const recent = () => startSession(server, member, { factor: emailFactor(email, minutesFrom(clock.now(), 0)) });

      async function expectUnchanged(before: Awaited<ReturnType<typeof storedPasswordOf>>) {
        expect(await storedPasswordOf(server, member.member_id)).toEqual(before);
        expect((await signIn(email, PASSWORD)).member_id).toBe(member.member_id);
      }

      it('refuses a session whose factors are older than 5 minutes (400) and a weak password (400)', async () => {
        const before = await storedPasswordOf(server, member.member_id);
        const old = await startSession(server, member, { factor: emailFactor(email, minutesFrom(clock.now(), -6)) });
        await expectStytchRejection(reset({ session_token: old.sessionToken }), { status: 400, errorType: 'session_too_old_to_reset_password' });
        const fresh = await recent();
        await expectStytchRejection(reset({ session_token: fresh.sessionToken }, 'password'), WEAK);
        await expectUnchanged(before);
        // Nothing was revoked by the refusals.
        expect((await sessionsOf(client, member)).map((session) => session.member_session_id)).toEqual(expect.arrayContaining([old.memberSessionId, fresh.memberSessionId]));
      });

      it('refuses a session of another organization (403), an impersonated session (400), and no or two session arguments (400)', async () => {
        const before = await storedPasswordOf(server, member.member_id);
        const fresh = await recent();
        const elsewhere = await createEmailOrganization(client);
        await expectStytchRejection(reset({ session_token: fresh.sessionToken }, NEW_PASSWORD, elsewhere.organization.organization_id), {
          status: 403,
          errorType: 'session_authorization_tenancy_error',
        });
        const { redeemed } = await impersonate(server, member);
        await expectStytchRejection(reset({ session_token: redeemed.session_token }), { status: 400, errorType: 'session_not_mutable_impersonated' });
        await expectStytchRejection(reset({}), { status: 400, errorType: 'no_session_arguments' });
        await expectStytchRejection(reset({ session_token: fresh.sessionToken, session_jwt: fresh.sessionJwt }), { status: 400, errorType: 'too_many_session_arguments' });
        await expectStytchRejection(reset({ session_token: 'A'.repeat(44) }), { status: 404, errorType: 'session_not_found' });
        await expectUnchanged(before);
      });

      it('refuses in an organization whose auth_methods leave out passwords (403)', async () => {
        const restricted = await createEmailOrganization(client, { auth_methods: 'RESTRICTED', allowed_auth_methods: ['magic_link'] });
        const someone = await createMember(client, restricted.organization, restricted.address());
        const session = await startSession(server, someone, { factor: emailFactor(someone.email_address, minutesFrom(clock.now(), 0)) });
        await expectStytchRejection(reset({ session_token: session.sessionToken }, NEW_PASSWORD, restricted.organization.organization_id), RESTRICTED);
        expect(await storedPasswordOf(server, someone.member_id)).toBeUndefined();
      });
    });

    it('deletePassword refuses another organization’s member_password_id and an unknown one (404); the password stays', async () => {
      const elsewhere = await createEmailOrganization(client);
      const email = elsewhere.address('theirs');
      const { member } = await givePassword(client, elsewhere.organization, email);
      await expectStytchRejection(client.organizations.members.deletePassword({ organization_id: organizationId(), member_password_id: member.member_password_id }), {
        status: 404,
        errorType: 'member_password_not_found',
      });
      await expectStytchRejection(
        client.organizations.members.deletePassword({ organization_id: organizationId(), member_password_id: 'member-password-test-00000000-0000-4000-8000-000000000000' }),
        { status: 404, errorType: 'member_password_not_found' },
      );
      expect((await storedPasswordOf(server, member.member_id))?.memberPasswordId).toBe(member.member_password_id);
      expect((await signIn(email, PASSWORD, elsewhere.organization.organization_id)).member_id).toBe(member.member_id);
    });

    it('email.requireReset refuses an unknown address (404), a member_id with another address (404), and no organization without cross-organization passwords (400)', async () => {
      const email = acme.address('kept');
      const { member } = await givePassword(client, acme.organization, email);
      await expectStytchRejection(client.passwords.email.requireReset({ email_address: acme.address('ghost'), organization_id: organizationId() }), {
        status: 404,
        errorType: 'member_not_found',
      });
      const other = await createMember(client, acme.organization, acme.address('other'));
      await expectStytchRejection(client.passwords.email.requireReset({ email_address: email, organization_id: organizationId(), member_id: other.member_id }), {
        status: 404,
        errorType: 'member_not_found',
      });
      await expectStytchRejection(client.passwords.email.requireReset({ email_address: email }), { status: 400, errorType: 'cross_org_passwords_not_enabled' });
      expect((await storedPasswordOf(server, member.member_id))?.memberPasswordId).toBe(member.member_password_id);
    });
  });

  describe(`client.passwords.authenticate with validation on authentication (${store.name})`, () => {
    let server: TestServer;
    let client: B2BClient;

    beforeAll(async () => {
      // LUDS asking for 30 characters: the migrated password (24) is right but below the policy.
      const passwords = { ...DEFAULT_PASSWORD_SETTINGS, validationPolicy: 'luds' as const, ludsMinPasswordLength: 30, validateOnAuthentication: true };
      server = await startTestServer({ store: store.name, config: { passwords } });
      client = server.client;
    });
    afterAll(async () => server?.stop());

    it('a right password below the policy must be reset: 401 member_reset_password, audited, no session, not counted', async () => {
      const acme = await createEmailOrganization(client);
      const email = acme.address('outdated');
      const { member } = await givePassword(client, acme.organization, email);
      const error = await expectStytchRejection(client.passwords.authenticate({ organization_id: acme.organization.organization_id, email_address: email, password: PASSWORD }), {
        status: 401,
        errorType: 'member_reset_password',
      });
      await expectRefusalAudited(server, error.request_id, { method: 'password', why: 'below_policy' }, member.member_id);
      expect(await sessionsOf(client, member)).toEqual([]);
      expect(await failuresOf(server, acme.organization.organization_id, email)).toBeUndefined();
    });
  });

  describe(`client.passwords.email.requireReset with cross-organization passwords (${store.name})`, () => {
    let server: TestServer;
    let client: B2BClient;

    beforeAll(async () => {
      server = await startTestServer({ store: store.name, config: { passwords: { ...DEFAULT_PASSWORD_SETTINGS, crossOrgPasswordsEnabled: true } } });
      client = server.client;
    });
    afterAll(async () => server?.stop());

    it('without organization_id deletes the password of every member with the address; the member is answered only when there is one', async () => {
      const first = await createEmailOrganization(client);
      const second = await createEmailOrganization(client);
      const email = first.address('everywhere');
      const a = (await givePassword(client, first.organization, email)).member;
      const b = (await givePassword(client, second.organization, email)).member;
      const both = await client.passwords.email.requireReset({ email_address: email });
      expectToMatchResponseSchema('post', REQUIRE_RESET, both);
      expect(both.member_id).toBeUndefined();
      expect(await storedPasswordOf(server, a.member_id)).toBeUndefined();
      expect(await storedPasswordOf(server, b.member_id)).toBeUndefined();

      const lone = first.address('lone');
      const c = (await givePassword(client, first.organization, lone)).member;
      const one = await client.passwords.email.requireReset({ email_address: lone });
      expectToMatchResponseSchema('post', REQUIRE_RESET, one);
      expect(one.member_id).toBe(c.member_id);
      await expectStytchRejection(client.passwords.email.requireReset({ email_address: first.address('ghost') }), { status: 404, errorType: 'member_not_found' });
    });

    it('with organization_id answers that member, and still deletes the address’s one password everywhere', async () => {
      const first = await createEmailOrganization(client);
      const second = await createEmailOrganization(client);
      const email = first.address('shared');
      const a = (await givePassword(client, first.organization, email)).member;
      const b = (await givePassword(client, second.organization, email)).member;
      const required = await client.passwords.email.requireReset({ email_address: email, organization_id: second.organization.organization_id });
      expectToMatchResponseSchema('post', REQUIRE_RESET, required);
      expect(required.member_id).toBe(b.member_id);
      expect(required.member?.member_password_id).toBe('');
      expect(await storedPasswordOf(server, a.member_id)).toBeUndefined();
      expect(await storedPasswordOf(server, b.member_id)).toBeUndefined();
    });
  });
}
