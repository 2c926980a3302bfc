import type { B2BClient } from 'stytch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/platform/clock.js';
import { expectStytchRejection, expectToMatchResponseSchema } from '../../support/openapi.js';
import { STORES } from '../../support/stores.js';
import { startTestServer, type TestServer } from '../../support/test-server.js';
import { auditOfRequest, createEmailOrganization, type EmailOrganization } from './email-sign-in-fixtures.js';
import {
  codeAt,
  createMfaOrganization,
  newMemberSignedIn,
  newMemberWithTotp,
  RECOVERY_CODE,
  RECOVERY_CODES_GET,
  RECOVERY_CODES_RECOVER,
  RECOVERY_CODES_ROTATE,
  signInAgain,
} from './mfa-fixtures.js';
import { minutesFrom } from './session-fixtures.js';

/**
 * client.recoveryCodes.recover, .get and .rotate as Stytch answers them: the ten codes of a
 * member's active TOTP registration, each a second factor once.
 */
for (const store of STORES) {
  describe(`client.recoveryCodes (${store.name})`, () => {
    let server: TestServer;
    let client: B2BClient;
    let clock: ManualClock;
    let acme: EmailOrganization;

    beforeAll(async () => {
      clock = new ManualClock(new Date());
      server = await startTestServer({ store: store.name, clock });
      client = server.client;
      acme = await createMfaOrganization(client);
    });
    afterAll(async () => server?.stop());

    const targetOf = (member: { organization_id: string; member_id: string }) => ({ organization_id: member.organization_id, member_id: member.member_id });

    it('recover completes the primary sign-in with a recovery code: a session with the recovery-code factor, and how many codes are left', async () => {
      const ada = await newMemberWithTotp(client, clock, acme);
      const token = await signInAgain(client, acme, ada);
      const now = clock.now();
      const done = await client.recoveryCodes.recover({ ...targetOf(ada.member), recovery_code: ada.recoveryCodes[3] as string, intermediate_session_token: token });
      expectToMatchResponseSchema('post', RECOVERY_CODES_RECOVER, done);
      expect(Object.keys(done)).not.toContain('intermediate_session_token');
      expect(done.recovery_codes_remaining).toBe(9);
      expect(done.member_id).toBe(ada.member.member_id);
      const at = minutesFrom(now, 0);
      const factors = done.member_session?.authentication_factors ?? [];
      expect(factors.map((factor) => factor.type)).toEqual(['password', 'recovery_codes']);
      expect(factors[1]).toEqual({
        type: 'recovery_codes',
        delivery_method: 'recovery_code',
        created_at: at,
        last_authenticated_at: at,
        updated_at: at,
        recovery_code_factor: { totp_recovery_code_id: expect.stringMatching(/^totp-recovery-code-test-[0-9a-f-]{36}$/) },
      });
      expect((await client.sessions.authenticate({ session_token: done.session_token })).member_session.member_session_id).toBe(done.member_session?.member_session_id);
      const events = await auditOfRequest(server, done.request_id);
      expect(events.map((event) => [event.type, event.details.method])).toEqual([['member.signed_in', 'recovery_code']]);
      expect(JSON.stringify(events)).not.toContain(ada.recoveryCodes[3]);
      // The member's MFA columns are the TOTP's: a recovery code changes none of them.
      expect(done.member).toMatchObject({ totp_registration_id: ada.totpRegistrationId, default_mfa_method: 'totp' });
    });

    it('each code works once, in any case; a used one is refused and the count goes down', async () => {
      const ada = await newMemberWithTotp(client, clock, acme);
      const target = targetOf(ada.member);
      const code = ada.recoveryCodes[0] as string;
      const first = await client.recoveryCodes.recover({ ...target, recovery_code: ` ${code.toUpperCase()} `, session_token: ada.sessionToken });
      expect(first.recovery_codes_remaining).toBe(9);
      expect(first.session_token).toBe(ada.sessionToken);
      expect(first.member_session?.authentication_factors.map((factor) => factor.type)).toEqual(['password', 'totp', 'recovery_codes']);
      const token = await signInAgain(client, acme, ada);
      const refused = await expectStytchRejection(client.recoveryCodes.recover({ ...target, recovery_code: code, intermediate_session_token: token }), {
        status: 401,
        errorType: 'unable_to_authenticate_recovery_code',
      });
      const events = await auditOfRequest(server, refused.request_id);
      // A used code is told apart from a wrong one in the trail (someone else may hold the member's codes).
      expect(events.map((event) => [event.type, event.details.method, event.details.why])).toEqual([['member.sign_in_refused', 'recovery_code', 'reused_code']]);
      const second = await client.recoveryCodes.recover({ ...target, recovery_code: ada.recoveryCodes[1] as string, intermediate_session_token: token });
      expect(second.recovery_codes_remaining).toBe(8);
    });

    it('a code of the wrong shape is refused (400) before anything is read, a six-digit TOTP code included', async () => {
      const ada = await newMemberWithTotp(client, clock, acme);
      const token = await signInAgain(client, acme, ada);
      for (const recovery_code of [codeAt(ada.secret, clock), 'abcd-efgh', 'abcd_efgh_ijkl', 'abcdefghijkl', '', 'abcd-efgh-ijk!']) {
        const refused = await expectStytchRejection(client.recoveryCodes.recover({ ...targetOf(ada.member), recovery_code, intermediate_session_token: token }), {
          status: 400,
          errorType: 'invalid_recovery_code',
        });
        expect(await auditOfRequest(server, refused.request_id)).toEqual([]);
      }
      expect((await client.recoveryCodes.get(targetOf(ada.member))).recovery_codes).toHaveLength(10);
    });

    it('get shows the unused codes in their order; rotate replaces them all, and the old ones stop working', async () => {
      const ada = await newMemberWithTotp(client, clock, acme);
      const target = targetOf(ada.member);
      const shown = await client.recoveryCodes.get(target);
      expectToMatchResponseSchema('get', RECOVERY_CODES_GET, shown);
      expect(shown.recovery_codes).toEqual(ada.recoveryCodes);
      expect(shown.member.member_id).toBe(ada.member.member_id);
      await client.recoveryCodes.recover({ ...target, recovery_code: ada.recoveryCodes[2] as string, session_token: ada.sessionToken });
      expect((await client.recoveryCodes.get(target)).recovery_codes).toEqual(ada.recoveryCodes.filter((_, index) => index !== 2));

      const rotated = await client.recoveryCodes.rotate(target);
      expectToMatchResponseSchema('post', RECOVERY_CODES_ROTATE, rotated);
      expect(rotated.recovery_codes).toHaveLength(10);
      for (const code of rotated.recovery_codes) expect(code).toMatch(RECOVERY_CODE);
      expect(rotated.recovery_codes.filter((code) => ada.recoveryCodes.includes(code))).toEqual([]);
      const events = await auditOfRequest(server, rotated.request_id);
      expect(events.map((event) => [event.type, event.details.totp_registration_id])).toEqual([['member.recovery_codes_rotated', ada.totpRegistrationId]]);
      for (const code of rotated.recovery_codes) expect(JSON.stringify(events)).not.toContain(code);
      expect((await client.recoveryCodes.get(target)).recovery_codes).toEqual(rotated.recovery_codes);

      const token = await signInAgain(client, acme, ada);
      await expectStytchRejection(client.recoveryCodes.recover({ ...target, recovery_code: ada.recoveryCodes[0] as string, intermediate_session_token: token }), {
        status: 401,
        errorType: 'unable_to_authenticate_recovery_code',
      });
      const done = await client.recoveryCodes.recover({ ...target, recovery_code: rotated.recovery_codes[9] as string, intermediate_session_token: token });
      expect(done.recovery_codes_remaining).toBe(9);
    });

    it('a member without an active registration has no recovery codes (404), a pending one included', async () => {
      const ada = await newMemberSignedIn(client, acme);
      const target = targetOf(ada.member);
      const notFound = { status: 404, errorType: 'recovery_codes_not_found' } as const;
      await expectStytchRejection(client.recoveryCodes.get(target), notFound);
      await expectStytchRejection(client.recoveryCodes.rotate(target), notFound);
      const created = await client.totps.create({ ...target, intermediate_session_token: ada.intermediateSessionToken });
      await expectStytchRejection(client.recoveryCodes.get(target), notFound);
      await expectStytchRejection(client.recoveryCodes.rotate(target), notFound);
      const refused = await expectStytchRejection(
        client.recoveryCodes.recover({ ...target, recovery_code: created.recovery_codes[0] as string, intermediate_session_token: ada.intermediateSessionToken }),
        notFound,
      );
      expect(await auditOfRequest(server, refused.request_id)).toEqual([]);
      await expectStytchRejection(client.recoveryCodes.get({ ...target, member_id: 'member-test-00000000-0000-4000-8000-000000000000' }), { status: 404, errorType: 'member_not_found' });
    });

    it('recover needs the member’s own intermediate session or session, like any second factor', async () => {
      const ada = await newMemberWithTotp(client, clock, acme);
      const eve = await newMemberWithTotp(client, clock, acme, 'eve');
      const target = targetOf(ada.member);
      const code = ada.recoveryCodes[0] as string;
      await expectStytchRejection(client.recoveryCodes.recover({ ...target, recovery_code: code }), { status: 400, errorType: 'mfa_session_arguments_required' });
      await expectStytchRejection(client.recoveryCodes.recover({ ...target, recovery_code: code, session_token: eve.sessionToken }), {
        status: 400,
        errorType: 'member_session_member_id_mismatch',
      });
      const evesToken = await signInAgain(client, acme, eve);
      await expectStytchRejection(client.recoveryCodes.recover({ ...target, recovery_code: code, intermediate_session_token: evesToken }), {
        status: 400,
        errorType: 'invalid_intermediate_session_token_for_organization',
      });
      // None of those spent the code.
      expect((await client.recoveryCodes.get(target)).recovery_codes).toContain(code);
    });

    it('an organization without MFA required: recover steps up a session', async () => {
      const optional = await createEmailOrganization(client);
      const grace = await newMemberSignedIn(client, optional, 'grace');
      const target = targetOf(grace.member);
      const created = await client.totps.create({ ...target, session_token: grace.sessionToken });
      await client.totps.authenticate({ ...target, code: codeAt(created.secret, clock), session_token: grace.sessionToken });
      const done = await client.recoveryCodes.recover({ ...target, recovery_code: created.recovery_codes[5] as string, session_token: grace.sessionToken });
      expect(done.member_session?.member_session_id).toBe(grace.response.member_session?.member_session_id);
      expect(done.member_session?.authentication_factors.map((factor) => factor.type)).toEqual(['password', 'totp', 'recovery_codes']);
    });
  });
}
