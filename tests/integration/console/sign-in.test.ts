import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { totpCode } from '../../../src/crypto/totp.js';
import { STORES } from '../../support/stores.js';
import type { ConsoleClient } from './console-client.js';
import { type ConsoleHarness, type CreatedOperator, startConsoleHarness } from './console-harness.js';

const MINUTE = 60_000;
const WRONG_CODE_MESSAGE = 'The email address, password or code is wrong.';
const LOCKED_MESSAGE = 'Too many failed attempts. Try again later.';

describe.each(STORES)('console sign-in on $name: password, then TOTP', (factory) => {
  let harness: ConsoleHarness;
  beforeAll(async () => {
    harness = await startConsoleHarness({ store: factory.name });
  });
  afterAll(() => harness.stop());

  const code = (operator: CreatedOperator, offsetMilliseconds = 0): string =>
    totpCode(operator.totpSecret ?? '', new Date(harness.clock.now().getTime() + offsetMilliseconds));

  /** Whether the browser's session can see a page (200) rather than being sent to sign in (303). */
  async function seesOrganizations(browser: ConsoleClient): Promise<boolean> {
    const response = await browser.get('/console/organizations');
    if (response.status === 303) expect(response.location).toBe('/console/login?next=%2Fconsole%2Forganizations');
    else expect(response.status).toBe(200);
    return response.status === 200;
  }

  it('signs in with the password and a current code, lands on the organizations page naming the operator, and audits operator.signed_in once', async () => {
    const operator = await harness.createOperator('support', { name: 'Sam Support' });
    const browser = harness.browser();
    const password = await browser.submitPassword(operator.emailAddress, operator.password);
    expect(password.status).toBe(303);
    expect(password.location).toBe('/console/login/totp?next=%2Fconsole%2Forganizations');
    expect(await harness.operatorEvents(operator.operatorId, 'operator.signed_in')).toEqual([]);

    const totp = await browser.submitTotp(code(operator), '/console/organizations');
    expect(totp.status).toBe(303);
    expect(totp.location).toBe('/console/organizations');
    const page = await browser.get('/console/organizations');
    expect(page.status).toBe(200);
    expect(page.text).toContain('Sam Support');
    const signedIn = await harness.operatorEvents(operator.operatorId, 'operator.signed_in');
    expect(signedIn).toHaveLength(1);
    expect(signedIn[0]?.client?.ipAddress).toBe('127.0.0.1');
  });

  it('replaces the session when TOTP completes: a new cookie, and the password-only cookie no longer works, not even for the TOTP step', async () => {
    const operator = await harness.createOperator('admin');
    const browser = harness.browser();
    expect((await browser.submitPassword(operator.emailAddress, operator.password)).status).toBe(303);
    const halfCookie = browser.cookies.get('understudy_console') ?? '';
    const csrfOfHalf = await browser.csrfFrom('/console/login/totp');
    const totp = await browser.post('/console/login/totp', { _csrf: csrfOfHalf, code: code(operator) });
    expect(totp.status).toBe(303);
    const fullCookie = browser.cookies.get('understudy_console') ?? '';
    expect(totp.setCookies.some((line) => line.startsWith(`understudy_console=${fullCookie};`))).toBe(true);
    expect(fullCookie).not.toBe(halfCookie);
    expect(await seesOrganizations(browser)).toBe(true);

    // Someone who saw (or planted) the cookie of the password step gets nothing once the operator finishes.
    const holder = harness.browser();
    holder.cookies.set('understudy_console', halfCookie);
    expect(await seesOrganizations(holder)).toBe(false);
    expect((await holder.get('/console/login/totp')).location).toBe('/console/login');
    harness.clock.advance(30_000);
    const late = await holder.post('/console/login/totp', { _csrf: csrfOfHalf, code: code(operator) });
    expect(late.status).toBe(303);
    expect(late.location).toBe('/console/login');
    expect(await seesOrganizations(holder)).toBe(false);
    expect(await harness.operatorEvents(operator.operatorId, 'operator.signed_in')).toHaveLength(1);
  });

  it('refuses a wrong password and an unknown email with the same 401 page, keeping the typed email (escaped)', async () => {
    const operator = await harness.createOperator('viewer');
    const wrong = await harness.browser().submitPassword(operator.emailAddress, 'not the password at all');
    const unknown = await harness.browser().submitPassword('"nobody"@example.com', 'not the password at all');
    for (const response of [wrong, unknown]) {
      expect(response.status).toBe(401);
      expect(response.text).toContain(WRONG_CODE_MESSAGE);
      expect(response.setCookies.some((line) => line.startsWith('understudy_console='))).toBe(false);
    }
    expect(unknown.text).toContain('value="&#34;nobody&#34;@example.com"');
    expect(await harness.operatorEvents(operator.operatorId, 'operator.sign_in_failed')).toHaveLength(1);
  });

  it('shows no page to a password-only session, and drops it when TOTP is not done within 5 minutes', async () => {
    const late = await harness.createOperator('admin');
    const lateBrowser = harness.browser();
    await lateBrowser.submitPassword(late.emailAddress, late.password);
    expect(await seesOrganizations(lateBrowser)).toBe(false);
    expect((await lateBrowser.get('/console/operators')).status).toBe(303);
    const csrf = await lateBrowser.csrfFrom('/console/login/totp');
    harness.clock.advance(5 * MINUTE + 1000);
    expect((await lateBrowser.get('/console/login/totp')).location).toBe('/console/login');
    const tooLate = await lateBrowser.post('/console/login/totp', { _csrf: csrf, code: code(late) });
    expect(tooLate.status).toBe(303);
    expect(tooLate.location).toBe('/console/login');
    expect(await seesOrganizations(lateBrowser)).toBe(false);

    const inTime = await harness.createOperator('admin');
    const inTimeBrowser = harness.browser();
    await inTimeBrowser.submitPassword(inTime.emailAddress, inTime.password);
    harness.clock.advance(4 * MINUTE + 50_000);
    expect((await inTimeBrowser.submitTotp(code(inTime))).status).toBe(303);
    expect(await seesOrganizations(inTimeBrowser)).toBe(true);
  });

  it('ends a session idle for 30 minutes, while activity within 30 minutes keeps it alive', async () => {
    const operator = await harness.createOperator('support');
    const browser = await harness.signedIn(operator);
    harness.clock.advance(29 * MINUTE);
    expect(await seesOrganizations(browser)).toBe(true);
    harness.clock.advance(29 * MINUTE + 59_000);
    expect(await seesOrganizations(browser)).toBe(true);
    harness.clock.advance(30 * MINUTE);
    expect(await seesOrganizations(browser)).toBe(false);
  });

  it('ends a session 8 hours after sign-in however active it is', async () => {
    const operator = await harness.createOperator('support');
    const browser = await harness.signedIn(operator);
    for (let elapsed = 25; elapsed <= 475; elapsed += 25) {
      harness.clock.advance(25 * MINUTE);
      expect(await seesOrganizations(browser), `after ${elapsed} minutes`).toBe(true);
    }
    harness.clock.advance(5 * MINUTE);
    expect(await seesOrganizations(browser)).toBe(false);
  });

  it('locks the operator for 15 minutes after 5 wrong passwords: refused even with the right one (the same 401 as a wrong one), and operator.locked is audited', async () => {
    const operator = await harness.createOperator('support');
    for (let attempt = 1; attempt <= 5; attempt += 1) {
      expect((await harness.browser().submitPassword(operator.emailAddress, `wrong password ${attempt}`)).status).toBe(401);
    }
    const locked = await harness.browser().submitPassword(operator.emailAddress, operator.password);
    expect(locked.status).toBe(401);
    expect(locked.text).toContain(WRONG_CODE_MESSAGE);
    expect(locked.text).toContain('After 5 failed attempts in a row, signing in is locked for 15 minutes.');
    expect(locked.setCookies.some((line) => line.startsWith('understudy_console='))).toBe(false);
    expect(await harness.operatorEvents(operator.operatorId, 'operator.sign_in_failed')).toHaveLength(5);
    const lockEvents = await harness.operatorEvents(operator.operatorId, 'operator.locked');
    expect(lockEvents).toHaveLength(1);
    expect(lockEvents[0]?.details).toMatchObject({ why: 'password', failed_attempts: 5 });

    harness.clock.advance(15 * MINUTE + 1000);
    await harness.signedIn(operator);
  });

  it('locks the operator after 5 wrong TOTP codes, even when the password is entered again between them', async () => {
    const operator = await harness.createOperator('admin');
    const first = harness.browser();
    await first.submitPassword(operator.emailAddress, operator.password);
    for (const wrong of ['000000', '111111', '222222']) expect((await first.submitTotp(wrong)).status).toBe(401);
    // A correct password must not wipe the failed codes, or a stolen password would allow unlimited guessing.
    const second = harness.browser();
    await second.submitPassword(operator.emailAddress, operator.password);
    expect((await second.submitTotp('333333')).status).toBe(401);
    const fifth = await second.submitTotp('444444');
    expect(fifth.status).toBe(401);
    expect(await harness.operatorEvents(operator.operatorId, 'operator.locked')).toHaveLength(1);

    const rightCode = await second.submitTotp(code(operator));
    expect(rightCode.status).toBe(429);
    expect(rightCode.text).toContain(LOCKED_MESSAGE);
    expect(await seesOrganizations(second)).toBe(false);
    expect((await harness.browser().submitPassword(operator.emailAddress, operator.password)).status).toBe(401);
  });

  it('refuses a TOTP code already used in its step, and an earlier step, then accepts the next step', async () => {
    const operator = await harness.createOperator('support');
    const used = code(operator);
    const browser = await harness.signedIn(operator);
    expect((await browser.signOut()).location).toBe('/console/login');

    const again = harness.browser();
    await again.submitPassword(operator.emailAddress, operator.password);
    const replay = await again.submitTotp(used);
    expect(replay.status).toBe(401);
    expect(replay.text).toContain(WRONG_CODE_MESSAGE);
    harness.clock.advance(30_000);
    expect((await again.submitTotp(used)).status).toBe(401);
    expect((await again.submitTotp(code(operator))).status).toBe(303);
    expect(await seesOrganizations(again)).toBe(true);
  });

  it('signs out: the cookie is cleared, the old cookie no longer works, and operator.signed_out is audited', async () => {
    const operator = await harness.createOperator('viewer');
    const browser = await harness.signedIn(operator);
    const kept = browser.cookies.get('understudy_console') ?? '';
    const out = await browser.signOut();
    expect(out.status).toBe(303);
    expect(out.setCookies.some((line) => /^understudy_console=;/.test(line))).toBe(true);
    const replayed = await fetch(`${harness.server.baseUrl}/console/organizations`, { headers: { cookie: `understudy_console=${kept}` }, redirect: 'manual' });
    expect(replayed.status).toBe(303);
    expect(await harness.operatorEvents(operator.operatorId, 'operator.signed_out')).toHaveLength(1);
  });

  it('follows `next` only to /console/ paths: absolute URLs, //host, backslashes and control characters go to the organizations page', async () => {
    const operator = await harness.createOperator('viewer');
    const targets: [string, string][] = [
      ['/console/audit?member=x', '/console/audit?member=x'],
      ['https://evil.example/console/', '/console/organizations'],
      ['//evil.example/console/', '/console/organizations'],
      ['/console/\\evil.example', '/console/organizations'],
      ['/console/\r\nSet-Cookie: x=1', '/console/organizations'],
      ['javascript:alert(1)', '/console/organizations'],
    ];
    for (const [next, expected] of targets) {
      harness.clock.advance(1000);
      const browser = harness.browser();
      const response = await browser.submitPassword(operator.emailAddress, operator.password, next);
      expect(response.status, next).toBe(303);
      expect(response.location, next).toBe(expected);
      expect((await browser.get(`/console/login?next=${encodeURIComponent(next)}`)).location, next).toBe(expected);
    }
  });

  it('carries `next` through the TOTP step, and ignores a foreign one posted there', async () => {
    const operator = await harness.createOperator('admin');
    const browser = harness.browser();
    const password = await browser.submitPassword(operator.emailAddress, operator.password, '/console/impersonations');
    expect(password.location).toBe('/console/login/totp?next=%2Fconsole%2Fimpersonations');
    const page = await browser.get(password.location ?? '');
    expect(page.text).toContain('name="next" value="/console/impersonations"');
    const foreign = await browser.submitTotp(code(operator), 'https://evil.example/');
    expect(foreign.location).toBe('/console/organizations');
  });
});
