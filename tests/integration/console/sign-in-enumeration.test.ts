import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OperationContext } from '../../../src/domain/common/operation-context.js';
import { STORES } from '../../support/stores.js';
import { ConsoleClient, type ConsoleResponse } from './console-client.js';
import { type ConsoleHarness, startConsoleHarness } from './console-harness.js';

/**
 * What console sign-in tells a stranger: the same answer whether the address is unknown, disabled,
 * locked or just got a wrong password; and a limit on attempts per client address, whatever
 * addresses they try. The server trusts the loopback proxy, so each browser can name its client.
 */
const CLI: OperationContext = { requestId: 'request-id-test-00000000-0000-4000-8000-0000000000c3', actor: { type: 'cli' } };
const LIMIT = 10;
let clientSequence = 0;

describe.each(STORES)('console sign-in enumeration and the per-client limit on $name', (factory) => {
  let harness: ConsoleHarness;
  beforeAll(async () => {
    harness = await startConsoleHarness({
      store: factory.name,
      config: { rateLimitsEnabled: true, rateLimitConsoleSignInsPerMinute: LIMIT, trustProxy: '127.0.0.1' },
    });
  });
  afterAll(() => harness.stop());

  /** A browser whose requests come from their own client address (X-Forwarded-For through the trusted proxy). */
  function browserAt(address?: string): ConsoleClient {
    clientSequence += 1;
    return new ConsoleClient(harness.server.baseUrl, { headers: { 'x-forwarded-for': address ?? `198.51.100.${clientSequence % 250}` } });
  }

  /** The start of the next rate-limit minute, so a test's attempts all fall in one window. */
  function startOfNextMinute(): void {
    harness.clock.set(new Date((Math.floor(harness.clock.now().getTime() / 60_000) + 1) * 60_000));
  }

  /** The page with what legitimately differs (the typed address, the CSRF token) taken out. */
  function normalized(response: ConsoleResponse, emailAddress: string): string {
    return response.text.replaceAll(emailAddress, '<email>').replace(/name="_csrf" value="[^"]*"/g, 'name="_csrf" value="<csrf>"');
  }

  it('answers an unknown address, a disabled operator, a locked operator and a wrong password with the same 401 page, even given the right password', async () => {
    startOfNextMinute();
    const wrong = await harness.createOperator('support');
    const disabled = await harness.createOperator('viewer');
    const locked = await harness.createOperator('admin');
    await harness.server.server.app.services.operators.disable(CLI, disabled.emailAddress);
    for (let attempt = 0; attempt < 5; attempt += 1) expect((await browserAt().submitPassword(locked.emailAddress, `not it ${attempt}`)).status).toBe(401);

    const cases: [string, string, string][] = [
      ['wrong password', wrong.emailAddress, 'not the password at all'],
      ['unknown address', 'nobody-here@operators.example', wrong.password],
      ['disabled, right password', disabled.emailAddress, disabled.password],
      ['locked, right password', locked.emailAddress, locked.password],
    ];
    const answers = await Promise.all(cases.map(async ([, email, password]) => ({ email, response: await browserAt().submitPassword(email, password) })));
    const [first] = answers;
    for (const [index, { email, response }] of answers.entries()) {
      const label = cases[index]?.[0];
      expect(response.status, label).toBe(401);
      expect(response.headers.get('retry-after'), label).toBeNull();
      expect(response.setCookies.filter((line) => line.startsWith('understudy_console=')), label).toEqual([]);
      expect(normalized(response, email), label).toBe(normalized(first?.response as ConsoleResponse, first?.email ?? ''));
    }
    expect(first?.response.text).toContain('The email address, password or code is wrong.');
    expect(first?.response.text).toContain('After 5 failed attempts in a row, signing in is locked for 15 minutes.');
  });

  it(`allows ${LIMIT} sign-in attempts per client address and minute across addresses; the next gets 429 with Retry-After, even with the right password`, async () => {
    startOfNextMinute();
    const operator = await harness.createOperator('viewer');
    const sprayer = '203.0.113.7';
    for (let attempt = 0; attempt < LIMIT; attempt += 1) {
      const email = attempt % 3 === 1 ? operator.emailAddress : `guess-${attempt}@operators.example`;
      expect((await browserAt(sprayer).submitPassword(email, `guess number ${attempt}`)).status).toBe(401);
    }
    harness.clock.advance(20_000);
    const refused = await browserAt(sprayer).submitPassword(operator.emailAddress, operator.password);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('40');
    expect(refused.text).toContain('Too many requests have been made');
    expect(refused.setCookies.filter((line) => line.startsWith('understudy_console='))).toEqual([]);
    // Refused before the password is looked at: no failure is counted against the operator (3 wrong ones were, not enough to lock).
    expect(await harness.operatorEvents(operator.operatorId, 'operator.sign_in_failed', 'operator.locked')).toHaveLength(3);

    // Another client is not affected, and the sprayer may try again the next minute.
    expect((await browserAt('203.0.113.8').submitPassword(operator.emailAddress, operator.password)).status).toBe(303);
    harness.clock.advance(40_000);
    expect((await browserAt(sprayer).submitPassword(operator.emailAddress, operator.password)).status).toBe(303);
  });

  it(`lets exactly ${LIMIT} of 30 concurrent attempts from one client through`, async () => {
    startOfNextMinute();
    const browsers = Array.from({ length: 30 }, () => browserAt('203.0.113.9'));
    const csrfs = await Promise.all(browsers.map((browser) => browser.csrfFrom('/console/login')));
    const answers = await Promise.all(
      browsers.map((browser, index) => browser.post('/console/login', { _csrf: csrfs[index] ?? '', email: `burst-${index}@operators.example`, password: 'a guessed password' })),
    );
    const statuses = answers.map((answer) => answer.status);
    expect(statuses.filter((status) => status === 401)).toHaveLength(LIMIT);
    expect(statuses.filter((status) => status === 429)).toHaveLength(30 - LIMIT);
  });
});
