import type { Member } from 'stytch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { totpCode } from '../../../src/crypto/totp.js';
import { createImpersonationCast, type ImpersonationCast } from '../../support/impersonation.js';
import { expectStytchRejection } from '../../support/openapi.js';
import { STORES } from '../../support/stores.js';
import { TEST_MASTER_KEY, TEST_PROJECT_ID, TEST_PROJECT_SECRET } from '../../support/test-server.js';
import { killLeftoverProcesses, runCliToExit } from '../cli/cli-process.js';
import { type ConsoleClient, type ConsoleResponse, csrfIn } from './console-client.js';
import { type ConsoleHarness, type CreatedOperator, startConsoleHarness } from './console-harness.js';

const MINUTE = 60_000;
const STEP = 30_000;
const BASE32 = /^[A-Z2-7]{32}$/;
const NOT_ALLOWED = 'Your role does not allow this.';
const SETUP_INVALID = 'This authenticator setup has expired, was finished already or belongs to another session. Start again.';
const REASON = 'Ticket 5150: lost phone';
const NO_TOTP = 'This operator has no TOTP to reset.';
const UNABLE = { status: 401, errorType: 'unable_to_auth_impersonation_token' } as const;
const SESSION_NOT_FOUND = { status: 404, errorType: 'session_not_found' } as const;
const ROUNDS = 40;
/**
 * PostgreSQL's default deadlock_timeout: two transactions waiting for each other are only found out
 * (and one aborted and run again by the store) after one has waited this long, so a round that
 * deadlocked takes at least this long, however it ends.
 */
const DEADLOCK_TIMEOUT_MS = 1000;

afterAll(() => killLeftoverProcesses());

/** What an authenticator setup page shows: the new secret, its URI and the confirmation form's fields. */
interface SetupPage {
  readonly secret: string;
  readonly uri: string;
  readonly ticket: string;
  readonly csrf: string;
  readonly action: string;
}

function setupPage(response: ConsoleResponse, status = 200): SetupPage {
  expect(response.status, response.text.slice(0, 300)).toBe(status);
  const secret = /id="totp-secret">([^<]*)</.exec(response.text)?.[1] ?? '';
  const uri = (/id="totp-uri">([^<]*)</.exec(response.text)?.[1] ?? '').replaceAll('&#38;', '&');
  const ticket = /name="ticket" value="([^"]*)"/.exec(response.text)?.[1] ?? '';
  const action = /<form method="post" action="([^"]*)"[^>]*>\s*<input type="hidden" name="_csrf" value="[^"]*">\s*<input type="hidden" name="ticket"/.exec(response.text)?.[1] ?? '';
  // The confirmation form's CSRF token: on the account flow the header's sign-out form comes first, with the same token.
  const csrf = csrfIn(response.text) ?? '';
  expect(secret).toMatch(BASE32);
  expect(response.text).toContain('<svg class="qr"');
  return { secret, uri, ticket, csrf, action };
}

describe.each(STORES)('operators replace and reset their TOTP on $name', (factory) => {
  let harness: ConsoleHarness;
  let cast: ImpersonationCast;
  beforeAll(async () => {
    harness = await startConsoleHarness({ store: factory.name });
    cast = await createImpersonationCast(harness.server.client);
  });
  afterAll(() => harness.stop());

  const store = () => harness.server.server.store;
  /** A code of `secret` for the next 30-second step (the server refuses a step already used). */
  function nextCode(secret: string): string {
    harness.clock.advance(STEP);
    return totpCode(secret, harness.clock.now());
  }
  async function sealedOf(operator: CreatedOperator): Promise<string | null | undefined> {
    return (await store().operators.findOperatorById(operator.operatorId))?.sealedTotpSecret;
  }
  async function seesOrganizations(browser: ConsoleClient): Promise<boolean> {
    const response = await browser.get('/console/organizations');
    expect([200, 303]).toContain(response.status);
    return response.status === 200;
  }
  /** Signs in a fresh browser with `secret` (the password first, then a code of the next step). */
  async function signInWith(operator: CreatedOperator, secret: string): Promise<{ browser: ConsoleClient; totp: ConsoleResponse }> {
    const browser = harness.browser();
    expect((await browser.submitPassword(operator.emailAddress, operator.password)).status).toBe(303);
    return { browser, totp: await browser.submitTotp(nextCode(secret)) };
  }
  async function startReplacement(browser: ConsoleClient, password: string, code: string): Promise<ConsoleResponse> {
    return browser.post('/console/account/totp', { _csrf: await browser.csrfFrom('/console/account'), password, code });
  }
  const envOf = () => ({
    UNDERSTUDY_DATA_DIR: harness.server.dataDir,
    ...(harness.server.databaseUrl !== undefined && { UNDERSTUDY_DATABASE_URL: harness.server.databaseUrl }),
    UNDERSTUDY_PROJECT_ID: TEST_PROJECT_ID,
    UNDERSTUDY_PROJECT_SECRET: TEST_PROJECT_SECRET,
    UNDERSTUDY_MASTER_KEY: TEST_MASTER_KEY,
  });
  /** Impersonates `member` from the console as the signed-in operator; answers the token the page shows. */
  async function consoleMint(browser: ConsoleClient, member: Member): Promise<string> {
    const page = `/console/organizations/${member.organization_id}/members/${member.member_id}`;
    const response = await browser.post(`${page}/impersonate`, { _csrf: await browser.csrfFrom(page), reason: 'Ticket 5151: checking invoices' });
    expect(response.status, response.text.slice(0, 300)).toBe(200);
    return /<p class="token" id="token">([A-Za-z0-9_-]{44})<\/p>/.exec(response.text)?.[1] ?? '';
  }
  const redeem = (token: string) => harness.server.client.impersonation.authenticate({ impersonation_token: token });
  /** A live impersonated session (redeemed) and an unredeemed token, both started from the console in `browser`. */
  async function impersonating(browser: ConsoleClient): Promise<{ sessionToken: string; pendingToken: string }> {
    const live = await redeem(await consoleMint(browser, cast.member));
    return { sessionToken: live.session_token, pendingToken: await consoleMint(browser, cast.admin) };
  }
  /** Both are dead, ended by the reset of `requestId` (audited with why operator_totp_reset, in that request). */
  async function expectEndedBy(requestId: string, ended: { sessionToken: string; pendingToken: string }): Promise<void> {
    await expectStytchRejection(harness.server.client.sessions.authenticate({ session_token: ended.sessionToken }), SESSION_NOT_FOUND);
    await expectStytchRejection(redeem(ended.pendingToken), UNABLE);
    const caused = (await harness.auditEvents()).filter((event) => event.requestId === requestId && event.type.startsWith('impersonation.'));
    expect(caused.map((event) => [event.type, event.details.why]).sort()).toEqual([
      ['impersonation.session_revoked', 'operator_totp_reset'],
      ['impersonation.token_revoked', 'operator_totp_reset'],
    ]);
  }

  describe('replacing one’s own authenticator', () => {
    it('needs the password and a current code, shows a new secret once, and replaces the old one only after a code from it; other sessions end', async () => {
      const operator = await harness.createOperator('support');
      const oldSecret = operator.totpSecret ?? '';
      harness.clock.advance(STEP);
      const browser = await harness.signedIn(operator);
      harness.clock.advance(STEP);
      const elsewhere = await harness.signedIn(operator);
      const sealedBefore = await sealedOf(operator);

      const account = await browser.get('/console/account');
      expect(account.status).toBe(200);
      expect(account.text).toContain('Replace your authenticator');
      expect(account.text).not.toContain(oldSecret);

      // A wrong password, then a wrong code: 401, counted as failed sign-in attempts, nothing else changes.
      const wrongPassword = await startReplacement(browser, 'not the password', nextCode(oldSecret));
      expect(wrongPassword.status).toBe(401);
      expect(wrongPassword.text).not.toContain('totp-secret');
      const wrongCode = await startReplacement(browser, operator.password, '000000');
      expect(wrongCode.status).toBe(401);
      expect((await harness.operatorEvents(operator.operatorId, 'operator.sign_in_failed')).map((event) => event.details.why)).toEqual(['password', 'totp']);
      expect(await sealedOf(operator)).toBe(sealedBefore);

      const cookieBefore = browser.cookies.get('understudy_console');
      const started = await startReplacement(browser, operator.password, nextCode(oldSecret));
      const setup = setupPage(started);
      expect(browser.cookies.get('understudy_console')).not.toBe(cookieBefore);
      // Only the proof that succeeded is recorded as one, with whether a code was part of it.
      const proofs = await harness.operatorEvents(operator.operatorId, 'operator.reauthenticated');
      expect(proofs.map((event) => event.details)).toEqual([{ operator_id: operator.operatorId, with_totp: true }]);
      expect(proofs[0]?.actor).toEqual({ type: 'operator', operatorId: operator.operatorId, emailAddress: operator.emailAddress });
      expect(setup.action).toBe('/console/account/totp/confirm');
      expect(setup.secret).not.toBe(oldSecret);
      const uri = new URL(setup.uri);
      expect(uri.protocol).toBe('otpauth:');
      expect(uri.searchParams.get('secret')).toBe(setup.secret);
      expect(decodeURIComponent(uri.pathname)).toContain(operator.emailAddress);
      // Nothing is stored yet: the old authenticator still signs in.
      expect(await sealedOf(operator)).toBe(sealedBefore);

      // A mistyped code shows the same secret again and changes nothing.
      const typo = await browser.post(setup.action, { _csrf: setup.csrf, ticket: setup.ticket, code: '123456' });
      expect(typo.status).toBe(401);
      expect(typo.text).toContain('That code does not match the new authenticator entry.');
      expect(setupPage(typo, 401).secret).toBe(setup.secret);
      expect(await sealedOf(operator)).toBe(sealedBefore);
      expect((await signInWith(operator, oldSecret)).totp.status).toBe(303);

      const confirmed = await browser.post(setup.action, { _csrf: setup.csrf, ticket: setup.ticket, code: nextCode(setup.secret) });
      expect(confirmed.status).toBe(303);
      expect(confirmed.location).toBe('/console/account?totp=replaced');
      expect((await browser.get('/console/account?totp=replaced')).text).toContain('Your new authenticator is set up.');
      expect(await sealedOf(operator)).not.toBe(sealedBefore);
      const replaced = await harness.operatorEvents(operator.operatorId, 'operator.totp_replaced');
      expect(replaced).toHaveLength(1);
      expect(replaced[0]?.actor).toEqual({ type: 'operator', operatorId: operator.operatorId, emailAddress: operator.emailAddress });
      expect(JSON.stringify(replaced[0])).not.toContain(setup.secret);

      // The other browser was signed out; the old secret no longer signs in, the new one does.
      expect(await seesOrganizations(elsewhere)).toBe(false);
      expect((await signInWith(operator, oldSecret)).totp.status).toBe(401);
      const withNew = await signInWith(operator, setup.secret);
      expect(withNew.totp.status).toBe(303);
      expect(await seesOrganizations(withNew.browser)).toBe(true);
      expect(await seesOrganizations(browser)).toBe(true);
    });

    it('a setup confirms once, only in the session that started it, before it expires, and never with a forged or tampered ticket', async () => {
      const operator = await harness.createOperator('admin');
      harness.clock.advance(STEP);
      const browser = await harness.signedIn(operator);
      harness.clock.advance(STEP);
      const other = await harness.signedIn(operator);
      const setup = setupPage(await startReplacement(browser, operator.password, nextCode(operator.totpSecret ?? '')));
      const sealedBefore = await sealedOf(operator);

      // Another session of the same operator cannot use it (nor a CSRF-less post).
      const fromOther = await other.post('/console/account/totp/confirm', { _csrf: await other.csrfFrom('/console/account'), ticket: setup.ticket, code: totpCode(setup.secret, harness.clock.now()) });
      expect(fromOther.status).toBe(400);
      expect(fromOther.text).toContain(SETUP_INVALID);
      const noCsrf = await browser.post(setup.action, { ticket: setup.ticket, code: totpCode(setup.secret, harness.clock.now()) });
      expect(noCsrf.status).toBe(403);
      // A ticket changed by one character fails its seal.
      const flipped = setup.ticket.slice(0, -2) + (setup.ticket.at(-2) === 'A' ? 'B' : 'A') + setup.ticket.at(-1);
      expect((await browser.post(setup.action, { _csrf: setup.csrf, ticket: flipped, code: totpCode(setup.secret, harness.clock.now()) })).status).toBe(400);
      // A later expiry written into the ticket does not open it either.
      const [version, , ...sealed] = setup.ticket.split('.');
      const extended = [version, String(Date.parse('2100-01-01T00:00:00Z')), ...sealed].join('.');
      expect((await browser.post(setup.action, { _csrf: setup.csrf, ticket: extended, code: totpCode(setup.secret, harness.clock.now()) })).status).toBe(400);
      expect(await sealedOf(operator)).toBe(sealedBefore);

      // Two posts of the right code at once: one replaces the secret; the other is refused, or finds
      // its session already replaced and is sent to sign in.
      const code = nextCode(setup.secret);
      const both = await Promise.all([0, 1].map(() => browser.post(setup.action, { _csrf: setup.csrf, ticket: setup.ticket, code })));
      expect(both.filter((response) => response.location === '/console/account?totp=replaced')).toHaveLength(1);
      expect(both.filter((response) => response.status === 400 || response.location?.startsWith('/console/login?'))).toHaveLength(1);
      expect(await harness.operatorEvents(operator.operatorId, 'operator.totp_replaced')).toHaveLength(1);
      const sealedAfter = await sealedOf(operator);
      expect(sealedAfter).not.toBe(sealedBefore);

      // Replaying the finished setup later (with the cookie it ended in) changes nothing.
      const again = await browser.post(setup.action, { _csrf: await browser.csrfFrom('/console/account'), ticket: setup.ticket, code: nextCode(setup.secret) });
      expect(again.status).toBe(400);
      expect(await sealedOf(operator)).toBe(sealedAfter);
    });

    it('an unconfirmed setup expires after 10 minutes; the old authenticator keeps working', async () => {
      const operator = await harness.createOperator('support');
      harness.clock.advance(STEP);
      const browser = await harness.signedIn(operator);
      const setup = setupPage(await startReplacement(browser, operator.password, nextCode(operator.totpSecret ?? '')));
      harness.clock.advance(10 * MINUTE);
      const late = await browser.post(setup.action, { _csrf: setup.csrf, ticket: setup.ticket, code: totpCode(setup.secret, harness.clock.now()) });
      expect(late.status).toBe(400);
      expect(late.text).toContain(SETUP_INVALID);
      expect((await signInWith(operator, operator.totpSecret ?? '')).totp.status).toBe(303);
    });

    it('a viewer without TOTP adds one with their password; signing in then asks for its code', async () => {
      const viewer = await harness.createOperator('viewer');
      const browser = await harness.signedIn(viewer);
      const account = await browser.get('/console/account');
      expect(account.text).toContain('Add an authenticator');
      const setup = setupPage(await startReplacement(browser, viewer.password, ''));
      expect((await harness.operatorEvents(viewer.operatorId, 'operator.reauthenticated')).map((event) => event.details)).toEqual([{ operator_id: viewer.operatorId, with_totp: false }]);
      expect((await browser.post(setup.action, { _csrf: setup.csrf, ticket: setup.ticket, code: nextCode(setup.secret) })).status).toBe(303);
      const fresh = harness.browser();
      const password = await fresh.submitPassword(viewer.emailAddress, viewer.password);
      expect(password.location).toMatch(/^\/console\/login\/totp/);
      expect((await fresh.submitTotp(nextCode(setup.secret))).status).toBe(303);
    });
  });

  describe('an admin resets another operator’s TOTP', () => {
    it('asks for a reason first, then clears it, ends their sessions and audits it; they set up a new one at their next sign-in', async () => {
      const admin = await harness.createOperator('admin');
      const support = await harness.createOperator('support');
      const bystander = await harness.createOperator('support');
      harness.clock.advance(STEP);
      const adminBrowser = await harness.signedIn(admin);
      const supportBrowser = await harness.signedIn(support);
      const path = `/console/operators/${support.operatorId}/reset-totp`;
      const theirs = await impersonating(supportBrowser);
      const others = await impersonating(await harness.signedIn(bystander));

      const list = await adminBrowser.get('/console/operators');
      expect(list.text).toContain(`href="${path}"`);
      const confirmation = await adminBrowser.get(path);
      expect(confirmation.status).toBe(200);
      expect(confirmation.text).toContain(`Reset the TOTP of ${support.emailAddress} (support)?`);
      expect(confirmation.text).toContain('their console sessions and the impersonations they started end now.');
      expect(confirmation.text).not.toContain('keep running');
      const csrf = csrfIn(confirmation.text) ?? '';

      // No reason, a blank one or one too long: 400 on the same page, nothing written.
      for (const reason of [undefined, '   ', 'x'.repeat(1025)]) {
        const refused = await adminBrowser.post(path, { _csrf: csrf, ...(reason !== undefined && { reason }) });
        expect(refused.status).toBe(400);
        expect(refused.text).toContain('A reason is required, up to 1024 characters.');
      }
      expect(await sealedOf(support)).not.toBeNull();
      expect(await harness.operatorEvents(support.operatorId, 'operator.totp_reset')).toEqual([]);
      expect(await seesOrganizations(supportBrowser)).toBe(true);
      // Refused resets end no impersonation either.
      await harness.server.client.sessions.authenticate({ session_token: theirs.sessionToken });

      const reset = await adminBrowser.post(path, { _csrf: csrf, reason: REASON });
      expect(reset.status).toBe(303);
      expect(reset.location).toBe(`/console/operators?totp_reset=${support.operatorId}`);
      const after = await adminBrowser.get(reset.location ?? '');
      expect(after.text).toContain(`TOTP of ${support.emailAddress} reset; their console sessions and impersonations have ended.`);
      expect(after.text).toContain('reset: set up at next sign-in');
      expect(await sealedOf(support)).toBeNull();
      const events = await harness.operatorEvents(support.operatorId, 'operator.totp_reset');
      expect(events).toHaveLength(1);
      expect(events[0]?.details).toEqual({ operator_id: support.operatorId, email_address: support.emailAddress, reason: REASON });
      expect(events[0]?.actor).toEqual({ type: 'operator', operatorId: admin.operatorId, emailAddress: admin.emailAddress });
      expect(await seesOrganizations(supportBrowser)).toBe(false);
      // What they impersonated ended in the reset's transaction; a colleague's impersonations run on.
      await expectEndedBy(events[0]?.requestId ?? '', theirs);
      await harness.server.client.sessions.authenticate({ session_token: others.sessionToken });
      expect((await redeem(others.pendingToken)).member_id).toBe(cast.admin.member_id);

      // Their next sign-in: the password, then setting up an authenticator; no page before that.
      const browser = harness.browser();
      const password = await browser.submitPassword(support.emailAddress, support.password);
      expect(password.status).toBe(303);
      expect(password.location).toBe('/console/login/totp?next=%2Fconsole%2Forganizations');
      expect(await seesOrganizations(browser)).toBe(false);
      // A code for the old secret posted to the code form sends them to the setup, counting nothing.
      const shown = setupPage(await browser.get('/console/login/totp?next=%2Fconsole%2Forganizations'));
      const codeForm = await browser.post('/console/login/totp', { _csrf: shown.csrf, code: nextCode(support.totpSecret ?? ''), next: '/console/organizations' });
      expect(codeForm.status).toBe(303);
      expect(codeForm.location).toBe('/console/login/totp?next=%2Fconsole%2Forganizations');
      expect(await harness.operatorEvents(support.operatorId, 'operator.sign_in_failed')).toEqual([]);

      const setup = setupPage(await browser.get('/console/login/totp?next=%2Fconsole%2Forganizations'));
      expect(setup.action).toBe('/console/login/totp/enrol');
      const typo = await browser.post(setup.action, { _csrf: setup.csrf, ticket: setup.ticket, code: '000000', next: '/console/organizations' });
      expect(typo.status).toBe(401);
      expect(setupPage(typo, 401).secret).toBe(setup.secret);
      expect(await seesOrganizations(browser)).toBe(false);
      expect(await sealedOf(support)).toBeNull();

      const done = await browser.post(setup.action, { _csrf: setup.csrf, ticket: setup.ticket, code: nextCode(setup.secret), next: '/console/organizations' });
      expect(done.status).toBe(303);
      expect(done.location).toBe('/console/organizations');
      expect(await seesOrganizations(browser)).toBe(true);
      expect((await harness.operatorEvents(support.operatorId, 'operator.totp_enrolled', 'operator.signed_in')).map((event) => event.type)).toEqual([
        'operator.signed_in',
        'operator.totp_enrolled',
        'operator.signed_in',
      ]);
      expect((await signInWith(support, setup.secret)).totp.status).toBe(303);
      expect((await signInWith(support, support.totpSecret ?? '')).totp.status).toBe(401);
    });

    it('support and viewers are refused (403, nothing written); an admin cannot reset their own here', async () => {
      const admin = await harness.createOperator('admin');
      const target = await harness.createOperator('support');
      harness.clock.advance(STEP);
      const path = `/console/operators/${target.operatorId}/reset-totp`;
      for (const role of ['support', 'viewer'] as const) {
        const browser = await harness.signedIn(await harness.createOperator(role));
        expect((await browser.get(path)).status).toBe(403);
        const forged = await browser.post(path, { _csrf: await browser.csrfFrom('/console/organizations'), reason: REASON });
        expect(forged.status).toBe(403);
        expect(forged.text).toContain(NOT_ALLOWED);
        harness.clock.advance(STEP);
      }
      const adminBrowser = await harness.signedIn(admin);
      expect((await adminBrowser.post(path, { reason: REASON })).status).toBe(403);
      const own = await adminBrowser.post(`/console/operators/${admin.operatorId}/reset-totp`, { _csrf: await adminBrowser.csrfFrom('/console/operators'), reason: REASON });
      expect(own.status).toBe(403);
      expect(own.text).toContain('Replace your own authenticator on your account page.');
      expect(await sealedOf(target)).not.toBeNull();
      expect(await sealedOf(admin)).not.toBeNull();
      expect((await harness.auditEvents()).filter((event) => event.type === 'operator.totp_reset' && [target.operatorId, admin.operatorId].includes(String(event.details.operator_id)))).toEqual([]);
    });

    it('a viewer whose TOTP is reset signs in with the password alone afterwards', async () => {
      const admin = await harness.createOperator('admin');
      const viewer = await harness.createOperator('viewer', { withTotp: true });
      harness.clock.advance(STEP);
      const adminBrowser = await harness.signedIn(admin);
      const path = `/console/operators/${viewer.operatorId}/reset-totp`;
      expect((await adminBrowser.get(path)).text).toContain('sign in with their password alone');
      expect((await adminBrowser.post(path, { _csrf: await adminBrowser.csrfFrom(path), reason: REASON })).status).toBe(303);
      const browser = harness.browser();
      const password = await browser.submitPassword(viewer.emailAddress, viewer.password);
      expect(password.location).toBe('/console/organizations');
      expect(await seesOrganizations(browser)).toBe(true);
    });

    it('`understudy operators reset-totp --email --reason` does the same beside the running server, as the cli actor', async () => {
      const support = await harness.createOperator('support');
      harness.clock.advance(STEP);
      const browser = await harness.signedIn(support);
      const env = envOf();
      const noReason = await runCliToExit(['operators', 'reset-totp', '--email', support.emailAddress], env);
      expect(noReason.code).toBe(2);
      expect(noReason.stderr).toContain('Missing --reason.');
      const unknown = await runCliToExit(['operators', 'reset-totp', '--email', 'nobody@operators.example', '--reason', REASON], env);
      expect(unknown.code).toBe(1);
      expect(unknown.stderr).toContain('operator_not_found');
      expect(await sealedOf(support)).not.toBeNull();

      const run = await runCliToExit(['operators', 'reset-totp', '--email', support.emailAddress.toUpperCase(), '--reason', REASON], env);
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toContain(`Reset the TOTP of ${support.emailAddress}; their console sessions and impersonations have ended.`);
      expect(run.stdout).toContain('they set up a new authenticator');
      expect(await sealedOf(support)).toBeNull();
      const [event] = await harness.operatorEvents(support.operatorId, 'operator.totp_reset');
      expect(event?.actor).toEqual({ type: 'cli' });
      expect(event?.details.reason).toBe(REASON);
      expect(await seesOrganizations(browser)).toBe(false);
      const list = await runCliToExit(['operators', 'list'], env);
      expect(list.stdout.split('\n').find((line) => line.startsWith(support.emailAddress))).toMatch(/ {2}no {2}/);
      // Run again: nothing left to reset, refused, and nothing more written.
      const again = await runCliToExit(['operators', 'reset-totp', '--email', support.emailAddress, '--reason', REASON], env);
      expect(again.code).toBe(1);
      expect(again.stderr).toContain('operator_totp_not_set');
      expect(await harness.operatorEvents(support.operatorId, 'operator.totp_reset')).toHaveLength(1);
    });

    it('an operator without TOTP has nothing to reset: the page, a crafted post and the CLI refuse (operator_totp_not_set) and write nothing', async () => {
      const admin = await harness.createOperator('admin');
      const viewer = await harness.createOperator('viewer');
      const support = await harness.createOperator('support');
      harness.clock.advance(STEP);
      const adminBrowser = await harness.signedIn(admin);
      const viewerBrowser = await harness.signedIn(viewer);
      // A support operator reset once already, not set up again since.
      expect((await runCliToExit(['operators', 'reset-totp', '--email', support.emailAddress, '--reason', REASON], envOf())).code).toBe(0);
      const list = await adminBrowser.get('/console/operators');
      const before = await Promise.all([viewer, support].map((operator) => store().operators.findOperatorById(operator.operatorId)));
      const eventsBefore = (await harness.auditEvents()).length;

      for (const target of [viewer, support]) {
        const path = `/console/operators/${target.operatorId}/reset-totp`;
        expect(list.text).not.toContain(`href="${path}"`);
        const shown = await adminBrowser.get(path);
        expect(shown.status).toBe(400);
        expect(shown.text).toContain(NO_TOTP);
        expect(shown.text).not.toContain('name="reason"');
        const crafted = await adminBrowser.post(path, { _csrf: await adminBrowser.csrfFrom('/console/operators'), reason: REASON });
        expect(crafted.status).toBe(400);
        expect(crafted.text).toContain(NO_TOTP);
        const cli = await runCliToExit(['operators', 'reset-totp', '--email', target.emailAddress, '--reason', REASON], envOf());
        expect(cli.code).toBe(1);
        expect(cli.stderr).toContain('operator_totp_not_set');
      }
      expect(await Promise.all([viewer, support].map((operator) => store().operators.findOperatorById(operator.operatorId)))).toEqual(before);
      expect((await harness.auditEvents()).length).toBe(eventsBefore);
      expect(await seesOrganizations(viewerBrowser)).toBe(true);
    });

    it(`a setup confirmed while an admin resets the same operator's TOTP ends one way or the other, without a deadlock or a 500 (${ROUNDS} rounds)`, async () => {
      const admin = await harness.createOperator('admin');
      harness.clock.advance(STEP);
      const adminBrowser = await harness.signedIn(admin);
      const csrf = await adminBrowser.csrfFrom('/console/operators');
      for (let round = 0; round < ROUNDS; round += 1) {
        const support = await harness.createOperator('support');
        harness.clock.advance(STEP);
        const browser = await harness.signedIn(support);
        const setup = setupPage(await startReplacement(browser, support.password, nextCode(support.totpSecret ?? '')));
        const code = nextCode(setup.secret);
        // The confirmation locks the operator row before its session, as the reset does: neither waits
        // for the other in a cycle. The confirmation starts 0 to 5 ms later from round to round, so
        // that in some rounds each has taken its first lock when the other asks for it.
        const started = performance.now();
        const [confirmed, reset] = await Promise.all([
          new Promise((resolve) => setTimeout(resolve, round % 6)).then(() => browser.post(setup.action, { _csrf: setup.csrf, ticket: setup.ticket, code })),
          adminBrowser.post(`/console/operators/${support.operatorId}/reset-totp`, { _csrf: csrf, reason: REASON }),
        ]);
        const elapsed = performance.now() - started;
        if (factory.name === 'postgres') expect(elapsed, `round ${round} waited for PostgreSQL to break a deadlock`).toBeLessThan(DEADLOCK_TIMEOUT_MS);
        expect(reset.status, `round ${round}: ${reset.text.slice(0, 300)}`).toBe(303);
        expect([303, 400], `round ${round}: ${confirmed.text.slice(0, 300)}`).toContain(confirmed.status);
        // Whichever committed first, the reset has the last word: no secret, no session of theirs.
        expect(await sealedOf(support)).toBeNull();
        expect(await seesOrganizations(browser)).toBe(false);
        const replaced = await harness.operatorEvents(support.operatorId, 'operator.totp_replaced');
        expect(replaced).toHaveLength(confirmed.location === '/console/account?totp=replaced' ? 1 : 0);
        expect(await harness.operatorEvents(support.operatorId, 'operator.totp_reset')).toHaveLength(1);
      }
    });

    it('operator events appear in the console’s audit trail with who did it and why', async () => {
      const admin = await harness.createOperator('admin');
      const target = await harness.createOperator('support');
      harness.clock.advance(STEP);
      const browser = await harness.signedIn(admin);
      const path = `/console/operators/${target.operatorId}/reset-totp`;
      const reason = 'Ticket <b>42</b> & "phone" stolen';
      // This test's events only: the suite has written more than a page of operator events before it.
      const since = harness.clock.now().toISOString().replace(/\.\d{3}Z$/, 'Z');
      expect((await browser.post(path, { _csrf: await browser.csrfFrom(path), reason })).status).toBe(303);
      const trail = await browser.get(`/console/audit?${new URLSearchParams({ trail: 'operator', since })}`);
      expect(trail.status).toBe(200);
      const row = trail.text.split('<tr>').find((candidate) => candidate.includes('operator.totp_reset') && candidate.includes(target.emailAddress)) ?? '';
      expect(row).toContain(`operator ${admin.emailAddress}`);
      expect(row).toContain('Ticket &#60;b&#62;42&#60;/b&#62; &#38; &#34;phone&#34; stolen');
      expect(trail.text).not.toContain('<b>42</b>');
    });
  });
});
