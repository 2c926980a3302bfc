import type { B2BClient } from 'stytch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/platform/clock.js';
import { expectStytchRejection } from '../../support/openapi.js';
import { STORES } from '../../support/stores.js';
import { startTestServer, type TestServer } from '../../support/test-server.js';
import { auditOfRequest, sessionsOf, type EmailOrganization } from '../../conformance/stytch-sdk/email-sign-in-fixtures.js';
import { codeAt, createMfaOrganization, newMemberWithTotp, nextTotpStep, signInAgain, wrongCodeAt } from '../../conformance/stytch-sdk/mfa-fixtures.js';

const TOO_MANY = { status: 429, errorType: 'too_many_requests' } as const;
/** The documented bounds on wrong codes per member (docs/mfa.md): five per ten-minute window, twenty per UTC day. */
const GUESSES_PER_WINDOW = 5;
const WINDOW_SECONDS = 600;
const GUESSES_PER_DAY = 20;
const DAY_MS = 86_400_000;

/**
 * Attacks on the second factor a customer's security team would try: guessing codes, replaying a
 * code or spending a recovery code twice with concurrent requests, and reading the database.
 */
for (const store of STORES) {
  describe(`TOTP and recovery codes under attack (${store.name})`, () => {
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
    /** Moves the clock into the next guess window (and to a fresh TOTP step). */
    const nextGuessWindow = () => {
      const windowMs = WINDOW_SECONDS * 1000;
      clock.advance(windowMs - (clock.now().getTime() % windowMs) + 1_000);
    };

    it('five wrong TOTP or recovery codes per member stop every code for the window, the right ones too; the member’s others are unaffected', async () => {
      const ada = await newMemberWithTotp(client, clock, acme);
      const eve = await newMemberWithTotp(client, clock, acme, 'eve');
      // Guesses right after a window starts, so the window does not end in the middle of the test.
      nextGuessWindow();
      const target = targetOf(ada.member);
      const token = await signInAgain(client, acme, ada);
      for (let guess = 0; guess < GUESSES_PER_WINDOW; guess += 1) {
        const wrong =
          guess % 2 === 0
            ? client.totps.authenticate({ ...target, code: wrongCodeAt(ada.secret, clock), intermediate_session_token: token })
            : client.recoveryCodes.recover({ ...target, recovery_code: 'zzzz-zzzz-zzzz', intermediate_session_token: token });
        await expectStytchRejection(wrong, { status: 401, errorType: guess % 2 === 0 ? 'unable_to_authenticate_totp' : 'unable_to_authenticate_recovery_code' });
      }
      const refused = await expectStytchRejection(client.totps.authenticate({ ...target, code: codeAt(ada.secret, clock), intermediate_session_token: token }), TOO_MANY);
      // Refused without being judged or counted; only its refusal is written.
      expect((await auditOfRequest(server, refused.request_id)).map((event) => [event.type, event.details.why, event.details.error_type])).toEqual([['member.sign_in_refused', 'guess_limit', 'too_many_requests']]);
      await expectStytchRejection(client.recoveryCodes.recover({ ...target, recovery_code: ada.recoveryCodes[0] as string, intermediate_session_token: token }), TOO_MANY);
      await expectStytchRejection(client.totps.authenticate({ ...target, code: codeAt(ada.secret, clock), session_token: ada.sessionToken }), TOO_MANY);
      const raw = await server.fetch('/v1/b2b/totp/authenticate', { method: 'POST', json: { ...target, code: codeAt(ada.secret, clock), intermediate_session_token: token } });
      expect(raw.status).toBe(429);
      const retryAfter = Number(raw.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(WINDOW_SECONDS);
      expect(await sessionsOf(client, ada.member)).toHaveLength(1);

      // Another member of the organization signs in as usual.
      const evesToken = await signInAgain(client, acme, eve);
      expect((await client.totps.authenticate({ ...targetOf(eve.member), code: codeAt(eve.secret, clock), intermediate_session_token: evesToken })).member_id).toBe(eve.member.member_id);

      // The next window: the member's right code works again (with a new primary sign-in, the old one having lapsed).
      nextGuessWindow();
      const fresh = await signInAgain(client, acme, ada);
      const done = await client.totps.authenticate({ ...target, code: codeAt(ada.secret, clock), intermediate_session_token: fresh });
      expect(done.member_session?.authentication_factors.map((factor) => factor.type)).toEqual(['password', 'totp']);
    });

    it('a burst of concurrent wrong codes gets exactly five judged; the rest, and the right code among them, are refused 429', async () => {
      const ada = await newMemberWithTotp(client, clock, acme);
      nextGuessWindow();
      const target = targetOf(ada.member);
      const token = await signInAgain(client, acme, ada);
      const wrong = wrongCodeAt(ada.secret, clock);
      const outcomes = await Promise.allSettled(
        Array.from({ length: 12 }, () => client.totps.authenticate({ ...target, code: wrong, intermediate_session_token: token })),
      );
      const statuses = outcomes.map((outcome) => (outcome.status === 'rejected' ? (outcome.reason as { status_code: number }).status_code : 200));
      expect(statuses.filter((status) => status === 401)).toHaveLength(GUESSES_PER_WINDOW);
      expect(statuses.filter((status) => status === 429)).toHaveLength(12 - GUESSES_PER_WINDOW);
      await expectStytchRejection(client.totps.authenticate({ ...target, code: codeAt(ada.secret, clock), intermediate_session_token: token }), TOO_MANY);
      nextGuessWindow();
    });

    it('the same code sent twice at once gives exactly one session', async () => {
      const ada = await newMemberWithTotp(client, clock, acme);
      const target = targetOf(ada.member);
      // Two primary sign-ins (two browser tabs, or an attacker who saw the code), one code.
      const tokens = [await signInAgain(client, acme, ada), await signInAgain(client, acme, ada)];
      const code = codeAt(ada.secret, clock);
      const outcomes = await Promise.allSettled(tokens.map((token) => client.totps.authenticate({ ...target, code, intermediate_session_token: token })));
      const succeeded = outcomes.filter((outcome) => outcome.status === 'fulfilled');
      expect(succeeded).toHaveLength(1);
      const failed = outcomes.find((outcome) => outcome.status === 'rejected');
      expect((failed as PromiseRejectedResult).reason).toMatchObject({ status_code: 401, error_type: 'totp_code_already_authenticated' });
      // The member's first session (from setup) and exactly one more.
      expect(await sessionsOf(client, ada.member)).toHaveLength(2);
      nextTotpStep(clock);
    });

    it('a recovery code spent twice at once gives exactly one session', async () => {
      const ada = await newMemberWithTotp(client, clock, acme);
      const target = targetOf(ada.member);
      const tokens = [await signInAgain(client, acme, ada), await signInAgain(client, acme, ada), await signInAgain(client, acme, ada)];
      const code = ada.recoveryCodes[4] as string;
      const outcomes = await Promise.allSettled(tokens.map((token) => client.recoveryCodes.recover({ ...target, recovery_code: code, intermediate_session_token: token })));
      const succeeded = outcomes.filter((outcome) => outcome.status === 'fulfilled');
      expect(succeeded).toHaveLength(1);
      expect((succeeded[0] as PromiseFulfilledResult<{ recovery_codes_remaining: number }>).value.recovery_codes_remaining).toBe(9);
      for (const outcome of outcomes.filter((each) => each.status === 'rejected')) {
        expect((outcome as PromiseRejectedResult).reason).toMatchObject({ status_code: 401, error_type: 'unable_to_authenticate_recovery_code' });
      }
      expect(await sessionsOf(client, ada.member)).toHaveLength(2);
      expect((await client.recoveryCodes.get(target)).recovery_codes).not.toContain(code);
      nextGuessWindow();
    });

    it('keeps secrets and recovery codes only sealed, each bound to its own row', async () => {
      const ada = await newMemberWithTotp(client, clock, acme);
      const stored = await server.server.store.totps.findTotp(ada.member.member_id);
      expect(stored?.sealedSecret).toMatch(/^v1\./);
      expect(stored?.sealedSecret).not.toContain(ada.secret);
      const codes = await server.server.store.totps.listRecoveryCodes(ada.totpRegistrationId);
      expect(codes).toHaveLength(10);
      for (const code of codes) for (const plain of ada.recoveryCodes) expect(code.sealedCode).not.toContain(plain);
      // A sealed code copied onto another code's row does not open: recoveryCodes.get fails rather than show it.
      const [first, second] = codes;
      if (first === undefined || second === undefined) throw new Error('expected recovery codes');
      await server.server.store.totps.replaceRecoveryCodes(ada.totpRegistrationId, [{ ...first, sealedCode: second.sealedCode }, ...codes.slice(1)]);
      const answer = await server.fetch(`/v1/b2b/recovery_codes/${ada.member.organization_id}/${ada.member.member_id}`);
      expect(answer.status).toBe(500);
      expect(JSON.stringify(answer.body)).not.toContain(ada.recoveryCodes[1]);
    });

    it('a deleted member’s, or organization’s, registrations and recovery codes are deleted with it', async () => {
      const ada = await newMemberWithTotp(client, clock, acme);
      await client.organizations.members.delete(targetOf(ada.member));
      expect(await server.server.store.totps.findTotp(ada.member.member_id)).toBeUndefined();
      expect(await server.server.store.totps.listRecoveryCodes(ada.totpRegistrationId)).toEqual([]);

      const doomed = await createMfaOrganization(client);
      const grace = await newMemberWithTotp(client, clock, doomed, 'grace');
      await client.organizations.delete({ organization_id: doomed.organization.organization_id });
      expect(await server.server.store.totps.findTotp(grace.member.member_id)).toBeUndefined();
      expect(await server.server.store.totps.listRecoveryCodes(grace.totpRegistrationId)).toEqual([]);
    });

    // Last: it moves the shared clock two days on.
    it('twenty wrong codes in a UTC day, five in each of four windows, stop every code until the day ends', async () => {
      const ada = await newMemberWithTotp(client, clock, acme);
      const target = targetOf(ada.member);
      // Just after midnight UTC, so the four windows and the fifth fall in one day.
      const nextDay = () => clock.advance(DAY_MS - (clock.now().getTime() % DAY_MS) + 1_000);
      // Two midnights on, not one: the clock starts at the real time of day, and just before midnight
      // one would leave the session made at setup still running.
      nextDay();
      nextDay();
      const dayEnd = clock.now().getTime() - 1_000 + DAY_MS;
      for (let window = 0; window < GUESSES_PER_DAY / GUESSES_PER_WINDOW; window += 1) {
        const token = await signInAgain(client, acme, ada);
        for (let guess = 0; guess < GUESSES_PER_WINDOW; guess += 1) {
          await expectStytchRejection(client.totps.authenticate({ ...target, code: wrongCodeAt(ada.secret, clock), intermediate_session_token: token }), {
            status: 401,
            errorType: 'unable_to_authenticate_totp',
          });
        }
        nextGuessWindow();
      }

      // A fresh ten-minute window, no wrong code in it: the day's twenty still refuse the right code.
      const token = await signInAgain(client, acme, ada);
      await expectStytchRejection(client.totps.authenticate({ ...target, code: codeAt(ada.secret, clock), intermediate_session_token: token }), TOO_MANY);
      await expectStytchRejection(client.recoveryCodes.recover({ ...target, recovery_code: ada.recoveryCodes[0] as string, intermediate_session_token: token }), TOO_MANY);
      const raw = await server.fetch('/v1/b2b/totp/authenticate', { method: 'POST', json: { ...target, code: codeAt(ada.secret, clock), intermediate_session_token: token } });
      expect(raw.status).toBe(429);
      expect(Number(raw.headers.get('retry-after'))).toBe((dayEnd - clock.now().getTime()) / 1000);
      // No session came of it (the one from setup lapsed a day ago).
      expect(await sessionsOf(client, ada.member)).toEqual([]);

      // The next day the right code works again.
      nextDay();
      const fresh = await signInAgain(client, acme, ada);
      const done = await client.totps.authenticate({ ...target, code: codeAt(ada.secret, clock), intermediate_session_token: fresh });
      expect(done.member_session?.authentication_factors.map((factor) => factor.type)).toEqual(['password', 'totp']);
    });
  });
}
