import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { B2BClient } from 'stytch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_PASSWORD_SETTINGS } from '../../../src/domain/passwords/password-settings.js';
import { pwnedSha1, writeBreachRanges, type BreachRanges } from '../../support/breach-ranges.js';
import { expectStytchRejection, expectToMatchResponseSchema } from '../../support/openapi.js';
import { STORES } from '../../support/stores.js';
import { startTestServer, type TestServer } from '../../support/test-server.js';
import { idPattern } from '../../support/wire-formats.js';

/**
 * client.passwords.strengthCheck as Stytch answers it: zxcvbn (the default: valid at a score of 3)
 * or LUDS (length and character kinds), both feedback objects in every answer, the address counting
 * against the password, and the breach source consulted only when an address is given.
 */
const STRENGTH_CHECK = '/v1/b2b/passwords/strength_check';
/** Strong by zxcvbn, yet in the breach ranges this suite writes. */
const BREACHED_BUT_STRONG = 'Correct-Horse-Battery-Staple-1987';
/** Strong by zxcvbn, in no range at all. */
const STRONG = 'vault-Orbit-7-quiet-Lantern';
/** Its range file is made unreadable, so looking it up fails. */
const UNLUCKY = 'amber-Quokka-41-drifting-Kettle';

for (const store of STORES) {
  describe(`client.passwords.strengthCheck, zxcvbn with a breach range directory (${store.name})`, () => {
    let server: TestServer;
    let client: B2BClient;
    let ranges: BreachRanges;

    beforeAll(async () => {
      ranges = writeBreachRanges(['password', 'qwerty123', BREACHED_BUT_STRONG]);
      mkdirSync(join(ranges.dir, `${pwnedSha1(UNLUCKY).slice(0, 5)}.txt`));
      server = await startTestServer({ store: store.name, config: { passwordBreachRangesDir: ranges.dir } });
      client = server.client;
    });
    afterAll(async () => {
      await server?.stop();
      ranges?.cleanup();
    });

    it('a common password: not valid, a low score, a warning and suggestions; LUDS feedback too', async () => {
      const answer = await client.passwords.strengthCheck({ password: 'password' });
      expectToMatchResponseSchema('post', STRENGTH_CHECK, answer);
      expect(answer.request_id).toMatch(idPattern('request-id'));
      expect(answer).toMatchObject({
        status_code: 200,
        valid_password: false,
        breached_password: false,
        strength_policy: 'zxcvbn',
        breach_detection_on_create: true,
        luds_feedback: { has_lower_case: true, has_upper_case: false, has_digit: false, has_symbol: false, missing_complexity: 2, missing_characters: 0 },
      });
      expect(answer.score).toBeLessThan(3);
      expect(answer.zxcvbn_feedback?.warning).toMatch(/\w/);
      expect(answer.zxcvbn_feedback?.suggestions.length).toBeGreaterThan(0);
    });

    it('a strong password: valid, a score of 3 or 4, an empty warning and no suggestions', async () => {
      const answer = await client.passwords.strengthCheck({ password: STRONG, email_address: 'ada@example.com' });
      expectToMatchResponseSchema('post', STRENGTH_CHECK, answer);
      expect(answer).toMatchObject({ valid_password: true, breached_password: false, zxcvbn_feedback: { warning: '', suggestions: [] } });
      expect(answer.score).toBeGreaterThanOrEqual(3);
      expect(Number.isInteger(answer.score)).toBe(true);
    });

    it('the breach source is consulted only when an email address is given', async () => {
      const withoutAddress = await client.passwords.strengthCheck({ password: BREACHED_BUT_STRONG });
      expect(withoutAddress).toMatchObject({ valid_password: true, breached_password: false, breach_detection_on_create: true });
      const withAddress = await client.passwords.strengthCheck({ password: BREACHED_BUT_STRONG, email_address: 'ada@example.com' });
      expectToMatchResponseSchema('post', STRENGTH_CHECK, withAddress);
      expect(withAddress).toMatchObject({ valid_password: false, breached_password: true });
      expect(withAddress.score).toBeGreaterThanOrEqual(3);
      const weakAndBreached = await client.passwords.strengthCheck({ password: 'qwerty123', email_address: 'ada@example.com' });
      expect(weakAndBreached).toMatchObject({ valid_password: false, breached_password: true });
    });

    it('the email address counts against a password made from it', async () => {
      const alone = await client.passwords.strengthCheck({ password: 'janedoe2024' });
      const withAddress = await client.passwords.strengthCheck({ password: 'janedoe2024', email_address: 'jane.doe@example.com' });
      expect(alone.valid_password).toBe(true);
      expect(withAddress).toMatchObject({ valid_password: false, breached_password: false });
      expect(withAddress.score).toBeLessThan(alone.score);
    });

    it('a breach source that cannot answer is a retryable 503, never a 500 nor a password called safe', async () => {
      await expectStytchRejection(client.passwords.strengthCheck({ password: UNLUCKY, email_address: 'ada@example.com' }), { status: 503, errorType: 'server_unavailable' });
      // Without an address there is no lookup, so the same password is judged.
      expect(await client.passwords.strengthCheck({ password: UNLUCKY })).toMatchObject({ valid_password: true });
    });

    it('any UTF-8 up to 4096 characters is judged; a longer password or a missing one is a 400', async () => {
      const unicode = await client.passwords.strengthCheck({ password: '🦊 zorro-águila-Ωmega-漢字 🦊' });
      expectToMatchResponseSchema('post', STRENGTH_CHECK, unicode);
      expect(unicode).toMatchObject({ valid_password: true, luds_feedback: { has_symbol: true, has_upper_case: false, has_digit: false } });
      const longest = await client.passwords.strengthCheck({ password: `${STRONG}${'x'.repeat(4096 - STRONG.length)}` });
      expect(longest.valid_password).toBe(true);
      await expectStytchRejection(client.passwords.strengthCheck({ password: 'x'.repeat(4097) }), { status: 400, errorType: 'bad_request' });
      await expectStytchRejection(client.passwords.strengthCheck({} as { password: string }), { status: 400, errorType: 'bad_request' });
      const wrongType = await server.fetch('/v1/b2b/passwords/strength_check', { method: 'POST', json: { password: ['not', 'a', 'string'] } });
      expect(wrongType).toMatchObject({ status: 400, body: { error_type: 'bad_request' } });
    });
  });

  describe(`client.passwords.strengthCheck, LUDS without a breach source (${store.name})`, () => {
    let server: TestServer;
    let client: B2BClient;

    beforeAll(async () => {
      server = await startTestServer({
        store: store.name,
        config: { passwords: { ...DEFAULT_PASSWORD_SETTINGS, validationPolicy: 'luds', ludsMinPasswordLength: 10, ludsMinPasswordComplexity: 3 } },
      });
      client = server.client;
    });
    afterAll(async () => server?.stop());

    it('valid when long enough with enough character kinds, whatever zxcvbn thinks; the score is still zxcvbn\'s', async () => {
      const answer = await client.passwords.strengthCheck({ password: 'Password1!', email_address: 'ada@example.com' });
      expectToMatchResponseSchema('post', STRENGTH_CHECK, answer);
      expect(answer).toMatchObject({
        valid_password: true,
        breached_password: false,
        strength_policy: 'luds',
        breach_detection_on_create: false,
        luds_feedback: { has_lower_case: true, has_upper_case: true, has_digit: true, has_symbol: true, missing_complexity: 0, missing_characters: 0 },
      });
      expect(answer.score).toBeLessThan(3);
      expect(answer.zxcvbn_feedback?.warning).toMatch(/\w/);
    });

    it('says how many characters and character kinds are missing', async () => {
      const short = await client.passwords.strengthCheck({ password: 'abc' });
      expectToMatchResponseSchema('post', STRENGTH_CHECK, short);
      expect(short).toMatchObject({
        valid_password: false,
        luds_feedback: { has_lower_case: true, has_upper_case: false, has_digit: false, has_symbol: false, missing_complexity: 2, missing_characters: 7 },
      });
      const oneKind = await client.passwords.strengthCheck({ password: STRONG.toLowerCase().replace(/[^a-z]/g, '') });
      expect(oneKind).toMatchObject({ valid_password: false, luds_feedback: { missing_complexity: 2, missing_characters: 0 } });
      expect(oneKind.score).toBeGreaterThanOrEqual(3);
    });

    it('any character outside a-z, A-Z and 0-9 is a symbol', async () => {
      const answer = await client.passwords.strengthCheck({ password: 'éèàçûöñßЖ中' });
      expect(answer).toMatchObject({ luds_feedback: { has_lower_case: false, has_upper_case: false, has_digit: false, has_symbol: true, missing_complexity: 2, missing_characters: 0 } });
      const mixed = await client.passwords.strengthCheck({ password: 'abcdefgh1😀' });
      expect(mixed).toMatchObject({ valid_password: true, luds_feedback: { has_symbol: true, missing_complexity: 0, missing_characters: 0 } });
    });
  });
}
