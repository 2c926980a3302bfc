import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { totpCode } from '../../../src/crypto/totp.js';
import type { OperationContext } from '../../../src/domain/common/operation-context.js';
import { STORES } from '../../support/stores.js';
import { TEST_MASTER_KEY, TEST_PROJECT_ID, TEST_PROJECT_SECRET } from '../../support/test-server.js';
import { killLeftoverProcesses, runCliToExit } from '../cli/cli-process.js';
import type { ConsoleClient } from './console-client.js';
import { type ConsoleHarness, type CreatedOperator, startConsoleHarness } from './console-harness.js';

/**
 * Console sign-in attempts racing each other and racing `operators disable` / `reset-password`,
 * over HTTP against a running server with real argon2id (each check takes milliseconds, which is
 * the window a read-modify-write of the operator row would lose a change in).
 */
const CLI: OperationContext = { requestId: 'request-id-test-00000000-0000-4000-8000-0000000000c2', actor: { type: 'cli' } };
const MINUTE = 60_000;
const ROUNDS = 4;
const WRONG_MESSAGE = 'The email address, password or code is wrong.';

afterAll(() => killLeftoverProcesses());

describe.each(STORES)('console sign-in under concurrency on $name', (factory) => {
  let harness: ConsoleHarness;
  beforeAll(async () => {
    harness = await startConsoleHarness({ store: factory.name });
  });
  afterAll(() => harness.stop());

  /**
   * Browsers posting wrong passwords for `emailAddress` back to back, `parallel` at a time, until
   * stopped. `answered(n)` resolves once n answers came back (so attempts are in flight).
   */
  function wrongPasswordStream(emailAddress: string, parallel = 4) {
    let running = true;
    const statuses: number[] = [];
    const waiters: { count: number; wake: () => void }[] = [];
    const loops = Array.from({ length: parallel }, async (_, index) => {
      const browser = harness.browser();
      const csrf = await browser.csrfFrom('/console/login');
      while (running) {
        const response = await browser.post('/console/login', { _csrf: csrf, email: emailAddress, password: `wrong password number ${index}` });
        statuses.push(response.status);
        for (const waiter of waiters.filter((candidate) => statuses.length >= candidate.count)) waiter.wake();
      }
    });
    return {
      answered: (count: number) => new Promise<void>((wake) => (statuses.length >= count ? wake() : waiters.push({ count, wake }))),
      async stop(): Promise<number[]> {
        running = false;
        await Promise.all(loops);
        return statuses;
      },
    };
  }

  /** Runs `change` while wrong passwords stream in, and keeps them coming for a while after it; returns its result and the statuses of the wrong attempts. */
  async function duringFailedSignIns<T>(operator: CreatedOperator, change: () => Promise<T>): Promise<{ result: T; statuses: number[] }> {
    const stream = wrongPasswordStream(operator.emailAddress);
    let result: T;
    try {
      await stream.answered(4);
      result = await change();
    } finally {
      await stream.stop();
    }
    const statuses = await stream.stop();
    const more = wrongPasswordStream(operator.emailAddress);
    await more.answered(8);
    statuses.push(...(await more.stop()));
    return { result, statuses };
  }

  /** Every refusal is the same 401, locked or not, disabled or not. */
  function expectAllRefusedAlike(statuses: readonly number[]): void {
    expect(new Set(statuses)).toEqual(new Set([401]));
  }

  async function expectRefused(login: { emailAddress: string; password: string }): Promise<void> {
    const response = await harness.browser().submitPassword(login.emailAddress, login.password);
    expect(response.status).toBe(401);
    expect(response.text).toContain(WRONG_MESSAGE);
    expect(response.setCookies.some((line) => line.startsWith('understudy_console='))).toBe(false);
  }

  it(`a disable committed while failed sign-ins are being checked stays: ${ROUNDS} rounds, then the right password is refused`, async () => {
    for (let round = 0; round < ROUNDS; round += 1) {
      const operator = await harness.createOperator('viewer');
      const { statuses } = await duringFailedSignIns(operator, () => harness.server.server.app.services.operators.disable(CLI, operator.emailAddress));
      const stored = await harness.server.server.store.operators.findOperatorById(operator.operatorId);
      expect(stored?.disabledAt, `round ${round}`).not.toBeNull();
      harness.clock.advance(16 * MINUTE);
      await expectRefused(operator);
      expect(await harness.operatorEvents(operator.operatorId, 'operator.signed_in')).toEqual([]);
      expectAllRefusedAlike(statuses);
    }
  });

  it(`a password reset committed while failed sign-ins are being checked stays: ${ROUNDS} rounds, then only the new password signs in`, async () => {
    for (let round = 0; round < ROUNDS; round += 1) {
      const operator = await harness.createOperator('viewer');
      const { result: reset, statuses } = await duringFailedSignIns(operator, () => harness.server.server.app.services.operators.resetPassword(CLI, operator.emailAddress));
      // The stream after the reset may have locked the operator again; that lock ends.
      harness.clock.advance(16 * MINUTE);
      await expectRefused(operator);
      const fresh = await harness.browser().submitPassword(operator.emailAddress, reset.password);
      expect(fresh.status, `round ${round}`).toBe(303);
      expectAllRefusedAlike(statuses);
    }
  });

  it('`understudy operators disable` and `reset-password` beside the running server are not undone by failed sign-ins in flight', async () => {
    const env = {
      UNDERSTUDY_DATA_DIR: harness.server.dataDir,
      ...(harness.server.databaseUrl !== undefined && { UNDERSTUDY_DATABASE_URL: harness.server.databaseUrl }),
      UNDERSTUDY_PROJECT_ID: TEST_PROJECT_ID,
      UNDERSTUDY_PROJECT_SECRET: TEST_PROJECT_SECRET,
      UNDERSTUDY_MASTER_KEY: TEST_MASTER_KEY,
    };
    const disabled = await harness.createOperator('viewer');
    const reset = await harness.createOperator('viewer');
    const [{ result: disableRun, statuses: duringDisable }, { result: resetRun, statuses: duringReset }] = await Promise.all([
      duringFailedSignIns(disabled, () => runCliToExit(['operators', 'disable', '--email', disabled.emailAddress], env)),
      duringFailedSignIns(reset, () => runCliToExit(['operators', 'reset-password', '--email', reset.emailAddress], env)),
    ]);
    expect(disableRun.code, disableRun.stderr).toBe(0);
    expect(resetRun.code, resetRun.stderr).toBe(0);
    const newPassword = /^ {2}password: +(\S+)$/m.exec(resetRun.stdout)?.[1] ?? '';
    expect(newPassword).not.toBe('');
    harness.clock.advance(16 * MINUTE);
    expect((await harness.server.server.store.operators.findOperatorById(disabled.operatorId))?.disabledAt).not.toBeNull();
    await expectRefused(disabled);
    await expectRefused(reset);
    expect((await harness.browser().submitPassword(reset.emailAddress, newPassword)).status).toBe(303);
    expectAllRefusedAlike([...duringDisable, ...duringReset]);
  });

  it('a burst of 60 wrong passwords gets 5 checked, and the right one sent in the same burst after them is refused', async () => {
    const operator = await harness.createOperator('viewer');
    const browsers = Array.from({ length: 61 }, () => harness.browser());
    const csrfs = await Promise.all(browsers.map((browser) => browser.csrfFrom('/console/login')));
    const post = (index: number, password: string) => (browsers[index] as ConsoleClient).post('/console/login', { _csrf: csrfs[index] ?? '', email: operator.emailAddress, password });
    let answered = 0;
    let fifth: () => void = () => undefined;
    const fiveAnswered = new Promise<void>((wake) => {
      fifth = wake;
    });
    const wrong = Array.from({ length: 60 }, async (_, index) => {
      const response = await post(index, `wrong password in a burst ${index}`);
      answered += 1;
      if (answered === 5) fifth();
      return response;
    });
    // While the rest of the burst is still in flight.
    await fiveAnswered;
    const right = await post(60, operator.password);
    const responses = await Promise.all(wrong);
    expect(right.status).toBe(401);
    expect(right.setCookies.some((line) => line.startsWith('understudy_console='))).toBe(false);
    for (const response of responses) expect(response.status).toBe(401);

    const events = await harness.operatorEvents(operator.operatorId, 'operator.sign_in_failed', 'operator.locked', 'operator.signed_in');
    const checked = events.filter((event) => event.details.why === 'password');
    expect(checked.map((event) => event.details.failed_attempts).sort()).toEqual([1, 2, 3, 4, 5]);
    expect(events.filter((event) => event.type === 'operator.locked')).toHaveLength(1);
    expect(events.filter((event) => event.details.why === 'locked')).toHaveLength(56);
    expect(events.filter((event) => event.type === 'operator.signed_in')).toEqual([]);
    expect(await harness.server.server.store.operators.findOperatorById(operator.operatorId)).toMatchObject({ failedAttempts: 5, lockedUntil: expect.any(String) });
    await expectRefused(operator);

    harness.clock.advance(15 * MINUTE);
    expect((await harness.browser().submitPassword(operator.emailAddress, operator.password)).status).toBe(303);
  });

  it('the same TOTP code posted from two half-signed-in browsers at once signs in only one of them', async () => {
    const operator = await harness.createOperator('support');
    const first = harness.browser();
    const second = harness.browser();
    for (const browser of [first, second]) expect((await browser.submitPassword(operator.emailAddress, operator.password)).status).toBe(303);
    const code = totpCode(operator.totpSecret ?? '', harness.clock.now());
    const csrfs = await Promise.all([first, second].map((browser) => browser.csrfFrom('/console/login/totp')));
    const answers = await Promise.all([first, second].map((browser, index) => browser.post('/console/login/totp', { _csrf: csrfs[index] ?? '', code })));
    expect(answers.map((answer) => answer.status).sort()).toEqual([303, 401]);
    expect(await harness.operatorEvents(operator.operatorId, 'operator.signed_in')).toHaveLength(1);
  });
});
