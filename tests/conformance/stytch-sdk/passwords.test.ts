import type { B2BClient } from 'stytch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/platform/clock.js';
import { expectStytchRejection, expectToMatchResponseSchema } from '../../support/openapi.js';
import { emailFactor } from '../../support/sessions.js';
import { STORES } from '../../support/stores.js';
import { startTestServer, type TestServer } from '../../support/test-server.js';
import { idPattern } from '../../support/wire-formats.js';
import { auditOfRequest, createEmailOrganization, createMember, type EmailOrganization, sessionsOf } from './email-sign-in-fixtures.js';
import {
  DELETE_PASSWORD,
  EXISTING_PASSWORD_RESET,
  givePassword,
  NEW_PASSWORD,
  PASSWORD,
  PASSWORD_AUTHENTICATE,
  REQUIRE_RESET,
  SESSION_RESET,
  storedPasswordOf,
  WRONG_CREDENTIALS,
} from './passwords-sign-in-fixtures.js';
import { AUTHENTICATE, minutesFrom, startSession } from './session-fixtures.js';

/**
 * client.passwords.authenticate, .existingPassword.reset, .sessions.reset, .email.requireReset and
 * client.organizations.members.deletePassword as Stytch answers them. Members get their password
 * through passwords.migrate (its own suite: passwords-migrate.test.ts). The server's clock is a
 * ManualClock at real time, so the SDK's own JWT checks agree with it.
 */
for (const store of STORES) {
  describe(`client.passwords, organization-scoped (${store.name})`, () => {
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

    it('authenticate starts a session with a password factor; the address stays unverified and the sign-in is audited', async () => {
      const email = acme.address('ada');
      // members.create leaves the address unverified (migrate would verify it): the first password comes from a session.
      const created = await createMember(client, acme.organization, email);
      const setup = await startSession(server, created, { factor: emailFactor(email, minutesFrom(clock.now(), 0)) });
      await client.passwords.sessions.reset({ organization_id: acme.organization.organization_id, password: PASSWORD, session_token: setup.sessionToken });
      clock.advance(60_000);
      const now = clock.now();
      const signedIn = await client.passwords.authenticate({ organization_id: acme.organization.organization_id, email_address: email, password: PASSWORD, session_duration_minutes: 120 });
      expectToMatchResponseSchema('post', PASSWORD_AUTHENTICATE, signedIn);
      expect(signedIn).toMatchObject({
        status_code: 200,
        member_id: created.member_id,
        organization_id: acme.organization.organization_id,
        member_authenticated: true,
        intermediate_session_token: '',
        mfa_required: null,
      });
      expect(signedIn.request_id).toMatch(idPattern('request-id'));
      expect(signedIn.member).toMatchObject({ status: 'active', email_address_verified: false });
      expect(signedIn.member.member_password_id).toMatch(idPattern('member-password'));
      const at = minutesFrom(now, 0);
      expect(signedIn.member_session?.authentication_factors).toEqual([{ type: 'password', delivery_method: 'knowledge', created_at: at, last_authenticated_at: at, updated_at: at }]);
      expect(signedIn.member_session?.expires_at).toBe(minutesFrom(now, 120));
      const checked = await client.sessions.authenticate({ session_token: signedIn.session_token });
      expectToMatchResponseSchema('post', AUTHENTICATE, checked);
      expect(checked.member_session.member_session_id).toBe(signedIn.member_session?.member_session_id);
      expect((await client.sessions.authenticate({ session_jwt: signedIn.session_jwt })).member.member_id).toBe(created.member_id);

      const events = await auditOfRequest(server, signedIn.request_id);
      expect(events.map((event) => event.type)).toEqual(['member.signed_in']);
      expect(events[0]?.details).toMatchObject({ method: 'password', factor: 'password', member_authenticated: true, wrote: 'session.started' });
    });

    it('authenticate accepts the organization slug and any case of the address', async () => {
      const email = acme.address('grace');
      await givePassword(client, acme.organization, email);
      const signedIn = await client.passwords.authenticate({ organization_id: acme.organization.organization_slug, email_address: email.toUpperCase(), password: PASSWORD });
      expect(signedIn.member.email_address).toBe(email);
    });

    it('authenticate with a live session of the same member adds the password factor to it instead of starting another', async () => {
      const email = acme.address('linus');
      const { member } = await givePassword(client, acme.organization, email);
      const started = await startSession(server, member, { factor: emailFactor(email, minutesFrom(clock.now(), 0)) });
      const signedIn = await client.passwords.authenticate({ organization_id: acme.organization.organization_id, email_address: email, password: PASSWORD, session_token: started.sessionToken });
      expectToMatchResponseSchema('post', PASSWORD_AUTHENTICATE, signedIn);
      expect(signedIn.session_token).toBe(started.sessionToken);
      expect(signedIn.member_session?.member_session_id).toBe(started.memberSessionId);
      expect(signedIn.member_session?.authentication_factors.map((factor) => factor.type)).toEqual(['magic_link', 'password']);
      expect(await sessionsOf(client, member)).toHaveLength(1);
    });

    it('authenticate in an organization that requires MFA answers an intermediate session; an existing session skips MFA', async () => {
      const strict = await createEmailOrganization(client, { mfa_policy: 'REQUIRED_FOR_ALL' });
      const email = strict.address('mfa');
      const { member } = await givePassword(client, strict.organization, email);
      const pending = await client.passwords.authenticate({ organization_id: strict.organization.organization_id, email_address: email, password: PASSWORD });
      expectToMatchResponseSchema('post', PASSWORD_AUTHENTICATE, pending);
      expect(pending).toMatchObject({ member_authenticated: false, session_token: '', session_jwt: '', member_session: null, primary_required: null });
      expect(pending.intermediate_session_token).not.toBe('');
      expect(pending.mfa_required).toEqual({ member_options: null, secondary_auth_initiated: null });
      expect(await sessionsOf(client, member)).toEqual([]);

      // A second password sign-in with that intermediate session adds to it (still one factor: the same one, refreshed).
      const again = await client.passwords.authenticate({
        organization_id: strict.organization.organization_id,
        email_address: email,
        password: PASSWORD,
        intermediate_session_token: pending.intermediate_session_token,
      });
      expectToMatchResponseSchema('post', PASSWORD_AUTHENTICATE, again);
      expect(again).toMatchObject({ member_authenticated: false, intermediate_session_token: pending.intermediate_session_token });
    });

    it('existingPassword.reset: the old password proves the member, the new one replaces it, every other session ends and a new one starts', async () => {
      const email = acme.address('reset');
      const { member } = await givePassword(client, acme.organization, email);
      const other = await startSession(server, member);
      const before = await storedPasswordOf(server, member.member_id);
      const reset = await client.passwords.existingPassword.reset({
        organization_id: acme.organization.organization_id,
        email_address: email,
        existing_password: PASSWORD,
        new_password: NEW_PASSWORD,
      });
      expectToMatchResponseSchema('post', EXISTING_PASSWORD_RESET, reset);
      expect(reset).not.toHaveProperty('organization_id');
      expect(reset).toMatchObject({ status_code: 200, member_id: member.member_id, member_authenticated: true, intermediate_session_token: '' });
      expect(reset.member_session?.authentication_factors.map((factor) => factor.type)).toEqual(['password']);
      const live = await sessionsOf(client, member);
      expect(live.map((session) => session.member_session_id)).toEqual([reset.member_session?.member_session_id]);
      await expectStytchRejection(client.sessions.authenticate({ session_token: other.sessionToken }), { status: 404, errorType: 'session_not_found' });

      // Same member_password_id, a new hash; the old password no longer signs in.
      const after = await storedPasswordOf(server, member.member_id);
      expect(after?.memberPasswordId).toBe(before?.memberPasswordId);
      expect(after?.hash).not.toBe(before?.hash);
      await expectStytchRejection(
        client.passwords.authenticate({ organization_id: acme.organization.organization_id, email_address: email, password: PASSWORD }),
        WRONG_CREDENTIALS,
      );
      const signedIn = await client.passwords.authenticate({ organization_id: acme.organization.organization_id, email_address: email, password: NEW_PASSWORD });
      expect(signedIn.member_id).toBe(member.member_id);

      const events = (await auditOfRequest(server, reset.request_id)).map((event) => event.type);
      expect(events).toEqual(expect.arrayContaining(['member.password_set', 'session.revoked', 'member.sessions_reset', 'member.signed_in']));
    });

    it('existingPassword.reset with a session of the member keeps that session (with the password factor) and ends the others', async () => {
      const email = acme.address('keep');
      const { member } = await givePassword(client, acme.organization, email);
      const kept = await startSession(server, member, { factor: emailFactor(email, minutesFrom(clock.now(), 0)) });
      const other = await startSession(server, member);
      const reset = await client.passwords.existingPassword.reset({
        organization_id: acme.organization.organization_id,
        email_address: email,
        existing_password: PASSWORD,
        new_password: NEW_PASSWORD,
        session_token: kept.sessionToken,
      });
      expectToMatchResponseSchema('post', EXISTING_PASSWORD_RESET, reset);
      expect(reset.member_session?.member_session_id).toBe(kept.memberSessionId);
      expect(reset.member_session?.authentication_factors.map((factor) => factor.type)).toEqual(['magic_link', 'password']);
      expect((await sessionsOf(client, member)).map((session) => session.member_session_id)).toEqual([kept.memberSessionId]);
      await expectStytchRejection(client.sessions.authenticate({ session_token: other.sessionToken }), { status: 404, errorType: 'session_not_found' });
    });

    it('sessions.reset: a session authenticated in the last 5 minutes sets the password; it stays with a new JWT, the others end', async () => {
      const email = acme.address('session');
      const { member } = await givePassword(client, acme.organization, email);
      const current = await startSession(server, member, { factor: emailFactor(email, minutesFrom(clock.now(), 0)) });
      const other = await startSession(server, member);
      const now = clock.now();
      const reset = await client.passwords.sessions.reset({
        organization_id: acme.organization.organization_id,
        password: NEW_PASSWORD,
        session_token: current.sessionToken,
        session_duration_minutes: 90,
        session_custom_claims: { team: 'blue' },
      });
      expectToMatchResponseSchema('post', SESSION_RESET, reset);
      expect(reset).not.toHaveProperty('organization_id');
      expect(reset).not.toHaveProperty('primary_required');
      expect(reset).toMatchObject({ member_id: member.member_id, member_authenticated: true, session_token: current.sessionToken, intermediate_session_token: '', mfa_required: null });
      expect(reset.member_session?.member_session_id).toBe(current.memberSessionId);
      expect(reset.member_session?.expires_at).toBe(minutesFrom(now, 90));
      expect(reset.member_session?.custom_claims).toEqual({ team: 'blue' });
      // Setting a password proves nothing: no factor is added.
      expect(reset.member_session?.authentication_factors.map((factor) => factor.type)).toEqual(['magic_link']);
      expect(reset.session_jwt).not.toBe(current.sessionJwt);
      expect((await client.sessions.authenticate({ session_jwt: reset.session_jwt })).member_session.custom_claims).toEqual({ team: 'blue' });
      expect((await sessionsOf(client, member)).map((session) => session.member_session_id)).toEqual([current.memberSessionId]);
      await expectStytchRejection(client.sessions.authenticate({ session_token: other.sessionToken }), { status: 404, errorType: 'session_not_found' });
      await expectStytchRejection(
        client.passwords.authenticate({ organization_id: acme.organization.organization_id, email_address: email, password: PASSWORD }),
        WRONG_CREDENTIALS,
      );
      expect((await client.passwords.authenticate({ organization_id: acme.organization.organization_id, email_address: email, password: NEW_PASSWORD })).member_id).toBe(member.member_id);
    });

    it('sessions.reset by JWT answers an empty session_token; a member without a password gets their first one', async () => {
      const email = acme.address('first');
      const member = await createMember(client, acme.organization, email);
      const current = await startSession(server, member, { factor: emailFactor(email, minutesFrom(clock.now(), 0)) });
      const reset = await client.passwords.sessions.reset({ organization_id: acme.organization.organization_id, password: PASSWORD, session_jwt: current.sessionJwt });
      expectToMatchResponseSchema('post', SESSION_RESET, reset);
      expect(reset.session_token).toBe('');
      expect(reset.member.member_password_id).toMatch(idPattern('member-password'));
      expect((await client.passwords.authenticate({ organization_id: acme.organization.organization_id, email_address: email, password: PASSWORD })).member_id).toBe(member.member_id);
    });

    it('organizations.members.deletePassword removes the password: member_password_id is empty and the password no longer signs in', async () => {
      const email = acme.address('delete');
      const { member } = await givePassword(client, acme.organization, email);
      const deleted = await client.organizations.members.deletePassword({ organization_id: acme.organization.organization_id, member_password_id: member.member_password_id });
      expectToMatchResponseSchema('delete', DELETE_PASSWORD, deleted);
      expect(deleted).toMatchObject({ status_code: 200, member_id: member.member_id });
      expect(deleted.member.member_password_id).toBe('');
      expect(deleted.organization.organization_id).toBe(acme.organization.organization_id);
      expect((await client.organizations.members.get({ organization_id: acme.organization.organization_id, member_id: member.member_id })).member).toEqual(deleted.member);
      expect(await storedPasswordOf(server, member.member_id)).toBeUndefined();
      await expectStytchRejection(
        client.passwords.authenticate({ organization_id: acme.organization.organization_id, email_address: email, password: PASSWORD }),
        WRONG_CREDENTIALS,
      );
      expect((await auditOfRequest(server, deleted.request_id)).map((event) => event.type)).toEqual(['member.password_deleted']);
      // Deleted once: the id names nothing any more.
      await expectStytchRejection(
        client.organizations.members.deletePassword({ organization_id: acme.organization.organization_id, member_password_id: member.member_password_id }),
        { status: 404, errorType: 'member_password_not_found' },
      );
    });

    it('email.requireReset with organization_id deletes that member’s password and answers the member', async () => {
      const email = acme.address('require');
      const { member } = await givePassword(client, acme.organization, email);
      const required = await client.passwords.email.requireReset({ email_address: email, organization_id: acme.organization.organization_id });
      expectToMatchResponseSchema('post', REQUIRE_RESET, required);
      expect(required).toMatchObject({ status_code: 200, member_id: member.member_id });
      expect(required.member?.member_password_id).toBe('');
      expect(required.organization?.organization_id).toBe(acme.organization.organization_id);
      expect(await storedPasswordOf(server, member.member_id)).toBeUndefined();
      await expectStytchRejection(
        client.passwords.authenticate({ organization_id: acme.organization.organization_id, email_address: email, password: PASSWORD }),
        WRONG_CREDENTIALS,
      );
      // By member_id too (with or without the organization); a member without a password stays as is.
      const again = await client.passwords.email.requireReset({ email_address: email, member_id: member.member_id });
      expect(again.member_id).toBe(member.member_id);
    });

    it('a deleted member’s password goes with them: a reactivated member has none', async () => {
      const email = acme.address('gone');
      const { member } = await givePassword(client, acme.organization, email);
      await client.organizations.members.delete({ organization_id: acme.organization.organization_id, member_id: member.member_id });
      expect(await storedPasswordOf(server, member.member_id)).toBeUndefined();
      const { member: back } = await client.organizations.members.reactivate({ organization_id: acme.organization.organization_id, member_id: member.member_id });
      expect(back.member_password_id).toBe('');
      await expectStytchRejection(
        client.passwords.authenticate({ organization_id: acme.organization.organization_id, email_address: email, password: PASSWORD }),
        WRONG_CREDENTIALS,
      );
    });

    it('a deleted organization’s passwords go with it', async () => {
      const doomed = await createEmailOrganization(client);
      const { member } = await givePassword(client, doomed.organization, doomed.address());
      await client.organizations.delete({ organization_id: doomed.organization.organization_id });
      expect(await storedPasswordOf(server, member.member_id)).toBeUndefined();
    });
  });
}
