import { afterAll, describe, expect, it } from 'vitest';
import { isDomainError } from '../../../src/domain/common/domain-error.js';
import { sharedError } from '../../../src/domain/common/errors.js';
import { DEFAULT_PASSWORD_SETTINGS, type PasswordSettings } from '../../../src/domain/passwords/password-settings.js';
import type { BreachedPasswords } from '../../../src/domain/passwords/password-strength.js';
import { createPasswordStrengthChecker } from '../../../src/domain/passwords/strength/create-password-strength-checker.js';
import { ludsFeedback } from '../../../src/domain/passwords/strength/luds.js';
import { userInputWords, zxcvbnEstimate } from '../../../src/domain/passwords/strength/zxcvbn-estimate.js';
import { InThreadZxcvbn, type ZxcvbnEstimator } from '../../../src/domain/passwords/strength/zxcvbn-estimator.js';
import { rateLimitError, RateLimitedError } from '../../../src/domain/rate-limits/errors.js';
import { ZxcvbnWorkerPool } from '../../../src/passwords/zxcvbn/zxcvbn-worker-pool.js';

/**
 * Password strength as the project's policy judges it: LUDS counts, zxcvbn's score and feedback
 * (with the address counting against the password), and how a breach source's answer, absence or
 * failure changes the verdict.
 */
const STRONG = 'vault-Orbit-7-quiet-Lantern';
const LUDS_8_3 = { minLength: 8, minComplexity: 3 };

/** A breach source that knows a fixed set of passwords and records what it was asked. */
class KnownBreaches implements BreachedPasswords {
  readonly asked: string[] = [];
  constructor(private readonly known: readonly string[]) {}
  async isBreached(password: string): Promise<boolean> {
    this.asked.push(password);
    return this.known.includes(password);
  }
}

class FailingSource implements BreachedPasswords {
  async isBreached(): Promise<boolean> {
    throw new Error('connect ECONNREFUSED 127.0.0.1:9');
  }
}

function settings(overrides: Partial<PasswordSettings> = {}): PasswordSettings {
  return { ...DEFAULT_PASSWORD_SETTINGS, ...overrides };
}

describe('LUDS', () => {
  it('sees each character kind, and counts what is missing from the policy', () => {
    expect(ludsFeedback('abc', LUDS_8_3)).toEqual({ hasLowerCase: true, hasUpperCase: false, hasDigit: false, hasSymbol: false, missingComplexity: 2, missingCharacters: 5 });
    expect(ludsFeedback('ABCdef12', LUDS_8_3)).toEqual({ hasLowerCase: true, hasUpperCase: true, hasDigit: true, hasSymbol: false, missingComplexity: 0, missingCharacters: 0 });
    expect(ludsFeedback('a!', { minLength: 8, minComplexity: 4 })).toMatchObject({ hasSymbol: true, missingComplexity: 2, missingCharacters: 6 });
    expect(ludsFeedback('', { minLength: 32, minComplexity: 1 })).toEqual({ hasLowerCase: false, hasUpperCase: false, hasDigit: false, hasSymbol: false, missingComplexity: 1, missingCharacters: 32 });
  });

  it('counts every character outside a-z, A-Z and 0-9 as a symbol: spaces, accented letters, other scripts, emoji', () => {
    for (const symbol of [' ', 'é', 'ß', 'Ж', '中', '😀', '\t', '_', '٣']) {
      expect(ludsFeedback(`abc${symbol}`, LUDS_8_3), JSON.stringify(symbol)).toMatchObject({ hasLowerCase: true, hasUpperCase: false, hasDigit: false, hasSymbol: true, missingComplexity: 1 });
    }
    // Non-ASCII upper case letters and digits are symbols, not upper case or digits.
    expect(ludsFeedback('ÉÀ٣', LUDS_8_3)).toMatchObject({ hasUpperCase: false, hasDigit: false, hasSymbol: true });
  });

  it('counts length in characters: an emoji is one, not two UTF-16 units', () => {
    expect(ludsFeedback('😀😀😀😀', LUDS_8_3).missingCharacters).toBe(4);
    expect(ludsFeedback('Aa1😀😀😀😀😀', LUDS_8_3).missingCharacters).toBe(0);
    expect(ludsFeedback('a'.repeat(40), { minLength: 32, minComplexity: 1 }).missingCharacters).toBe(0);
  });
});

describe('zxcvbn', () => {
  it('scores a common password below 3 with a warning and suggestions', () => {
    for (const weak of ['password', 'password1', 'qwerty123', 'P@ssw0rd']) {
      const estimate = zxcvbnEstimate(weak, []);
      expect(estimate.score, weak).toBeLessThan(3);
      expect(estimate.warning, weak).not.toBe('');
      expect(estimate.suggestions.length, weak).toBeGreaterThan(0);
    }
  });

  it('scores a long random password 3 or more, with no warning and no suggestions', () => {
    expect(zxcvbnEstimate('x7Gq!pL2#vR9@mK4', [])).toEqual({ score: 4, warning: '', suggestions: [] });
    expect(zxcvbnEstimate(STRONG, []).score).toBeGreaterThanOrEqual(3);
  });

  it('counts the email address against a password built from it', () => {
    for (const password of ['janedoe2024', 'Jane.Doe.Acme', 'j4n3.d03@4cm3']) {
      const alone = zxcvbnEstimate(password, []);
      const withAddress = zxcvbnEstimate(password, ['jane.doe@acme-widgets.com']);
      expect(withAddress.score, password).toBeLessThan(alone.score);
      expect(withAddress.score, password).toBeLessThan(3);
    }
    expect(zxcvbnEstimate('jane.doe@acme-widgets.com', ['jane.doe@acme-widgets.com'])).toMatchObject({ score: 0, warning: expect.stringMatching(/personal/) });
  });

  it('expands an address into the words a password should not be built from', () => {
    expect(userInputWords(['  Jane.Doe+test@Acme-Widgets.com ', '', 'Jo'])).toEqual(
      expect.arrayContaining(['jane.doe+test@acme-widgets.com', 'jane.doe+test', 'janedoetest', 'jane', 'doe', 'test', 'acme', 'widgets', 'jo']),
    );
    expect(userInputWords(['', '   '])).toEqual([]);
  });

  it('judges a very long password by its first characters, whatever follows', () => {
    expect(zxcvbnEstimate('password'.repeat(500), []).score).toBe(0);
    expect(zxcvbnEstimate(`${STRONG}${STRONG}${STRONG}`.slice(0, 64) + 'a'.repeat(4000), []).score).toBe(4);
  });
});

// The same verdicts whether zxcvbn runs on the calling thread or on the server's worker pool.
describe.each([
  { where: 'in thread', start: (): ZxcvbnEstimator => new InThreadZxcvbn() },
  { where: 'on worker threads', start: (): ZxcvbnEstimator => new ZxcvbnWorkerPool() },
])('PasswordStrengthService, zxcvbn $where', ({ start }) => {
  const zxcvbn = start();
  afterAll(() => zxcvbn.close());

  it('zxcvbn policy: valid iff the score is 3 or more; both feedback objects are filled', async () => {
    const checker = createPasswordStrengthChecker({ zxcvbn, settings: settings(), breached: undefined });
    const weak = await checker.check('password', { userInputs: [], checkBreach: true });
    expect(weak).toMatchObject({ validPassword: false, breachedPassword: false, strengthPolicy: 'zxcvbn', breachDetectionOnCreate: false });
    expect(weak.score).toBeLessThan(3);
    expect(weak.zxcvbnFeedback.warning).not.toBe('');
    expect(weak.ludsFeedback).toEqual({ hasLowerCase: true, hasUpperCase: false, hasDigit: false, hasSymbol: false, missingComplexity: 2, missingCharacters: 0 });
    const strong = await checker.check(STRONG, { userInputs: [], checkBreach: true });
    expect(strong).toMatchObject({ validPassword: true, zxcvbnFeedback: { warning: '', suggestions: [] } });
    expect(strong.score).toBeGreaterThanOrEqual(3);
  });

  it('LUDS policy: valid iff nothing is missing; the score stays zxcvbn\'s, for information', async () => {
    const checker = createPasswordStrengthChecker({ zxcvbn, settings: settings({ validationPolicy: 'luds', ludsMinPasswordLength: 10, ludsMinPasswordComplexity: 4 }), breached: undefined });
    const common = await checker.check('Password1!', { userInputs: [], checkBreach: false });
    expect(common).toMatchObject({ validPassword: true, strengthPolicy: 'luds', ludsFeedback: { missingComplexity: 0, missingCharacters: 0 } });
    expect(common.score).toBeLessThan(3);
    const short = await checker.check('Pw1!', { userInputs: [], checkBreach: false });
    expect(short).toMatchObject({ validPassword: false, ludsFeedback: { missingCharacters: 6, missingComplexity: 0 } });
    const plain = await checker.check('correcthorsebatterystaple', { userInputs: [], checkBreach: false });
    expect(plain).toMatchObject({ validPassword: false, ludsFeedback: { missingComplexity: 3, missingCharacters: 0 } });
    expect(plain.score).toBeGreaterThanOrEqual(3);
  });

  it('a breached password is never valid; the source is asked only when the caller asks for it', async () => {
    const source = new KnownBreaches([STRONG]);
    const checker = createPasswordStrengthChecker({ zxcvbn, settings: settings(), breached: source });
    expect(checker.breachDetectionOnCreate).toBe(true);
    expect(await checker.check(STRONG, { userInputs: [], checkBreach: true })).toMatchObject({ validPassword: false, breachedPassword: true, breachDetectionOnCreate: true });
    expect(await checker.check(STRONG, { userInputs: [], checkBreach: false })).toMatchObject({ validPassword: true, breachedPassword: false });
    expect(source.asked).toEqual([STRONG]);
    expect(await checker.check(`${STRONG}!`, { userInputs: [], checkBreach: true })).toMatchObject({ validPassword: true, breachedPassword: false });
  });

  it('breach detection on creation needs both the setting and a source', () => {
    expect(createPasswordStrengthChecker({ zxcvbn, settings: settings({ checkBreachOnCreation: false }), breached: new KnownBreaches([]) }).breachDetectionOnCreate).toBe(false);
    expect(createPasswordStrengthChecker({ zxcvbn, settings: settings({ checkBreachOnCreation: true }), breached: undefined }).breachDetectionOnCreate).toBe(false);
  });

  it('strengthCheck consults the source only with an email address, and only when breach detection on creation is on', async () => {
    const source = new KnownBreaches([STRONG]);
    const checker = createPasswordStrengthChecker({ zxcvbn, settings: settings(), breached: source });
    expect(await checker.strengthCheck({ password: STRONG })).toMatchObject({ breachedPassword: false, validPassword: true });
    expect(await checker.strengthCheck({ password: STRONG, emailAddress: '' })).toMatchObject({ breachedPassword: false, validPassword: true });
    expect(source.asked).toEqual([]);
    expect(await checker.strengthCheck({ password: STRONG, emailAddress: 'ada@example.com' })).toMatchObject({ breachedPassword: true, validPassword: false });
    expect(source.asked).toEqual([STRONG]);

    const off = new KnownBreaches([STRONG]);
    const notOnCreation = createPasswordStrengthChecker({ zxcvbn, settings: settings({ checkBreachOnCreation: false, checkBreachOnAuthentication: true }), breached: off });
    expect(await notOnCreation.strengthCheck({ password: STRONG, emailAddress: 'ada@example.com' })).toMatchObject({ breachedPassword: false, breachDetectionOnCreate: false });
    expect(off.asked).toEqual([]);
    // Authentication's own check still reaches the source when asked.
    expect(await notOnCreation.check(STRONG, { userInputs: [], checkBreach: true })).toMatchObject({ breachedPassword: true });
  });

  it('strengthCheck counts the address against the password', async () => {
    const checker = createPasswordStrengthChecker({ zxcvbn, settings: settings(), breached: undefined });
    expect(await checker.strengthCheck({ password: 'janedoe2024' })).toMatchObject({ validPassword: true });
    expect(await checker.strengthCheck({ password: 'janedoe2024', emailAddress: 'jane.doe@example.com' })).toMatchObject({ validPassword: false });
  });

  it('a source that cannot answer fails the check with server_unavailable, and the cause goes to the log only', async () => {
    const causes: unknown[] = [];
    const checker = createPasswordStrengthChecker({ zxcvbn, settings: settings(), breached: new FailingSource(), onBreachSourceFailure: (error) => causes.push(error) });
    const failure = await checker.check(STRONG, { userInputs: [], checkBreach: true }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(isDomainError(failure) && { kind: failure.kind, code: failure.code }).toEqual({ kind: 'unavailable', code: 'server_unavailable' });
    expect((failure as Error).message).not.toMatch(/ECONNREFUSED|127\.0\.0\.1/);
    expect(String(causes[0])).toMatch(/ECONNREFUSED/);
    // Without an address no lookup happens, so the failing source does not matter.
    expect(await checker.strengthCheck({ password: STRONG })).toMatchObject({ validPassword: true });
  });
});

/** An estimator that refuses every estimate with `error`, as the pool does when full or failing. */
class RefusingZxcvbn implements ZxcvbnEstimator {
  constructor(private readonly error: Error) {}
  async estimate(): Promise<never> {
    throw this.error;
  }
  async close(): Promise<void> {}
}

describe('PasswordStrengthService, when zxcvbn refuses', () => {
  it('passes the pool\'s refusal on as it is: 429 with its Retry-After, or 503', async () => {
    const source = new KnownBreaches([STRONG]);
    const full = createPasswordStrengthChecker({ zxcvbn: new RefusingZxcvbn(rateLimitError(3)), settings: settings(), breached: source });
    const refusal = await full.strengthCheck({ password: STRONG, emailAddress: 'ada@example.com' }).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(RateLimitedError);
    expect((refusal as RateLimitedError).retryAfterSeconds).toBe(3);

    const failing = createPasswordStrengthChecker({ zxcvbn: new RefusingZxcvbn(sharedError('server_unavailable')), settings: settings(), breached: source });
    const failure = await failing.check(STRONG, { userInputs: [], checkBreach: true }).catch((error: unknown) => error);
    expect(isDomainError(failure) && { kind: failure.kind, code: failure.code }).toEqual({ kind: 'unavailable', code: 'server_unavailable' });
  });
});
