import type { Member } from 'stytch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OperationContext } from '../../../src/domain/common/operation-context.js';
import { createImpersonationCast, type ImpersonationCast, REDEEM } from '../../support/impersonation.js';
import { STORES } from '../../support/stores.js';
import { startTestServer, TEST_MASTER_KEY, TEST_PROJECT_ID, TEST_PROJECT_SECRET, type TestServer } from '../../support/test-server.js';
import { uniqueSuffix } from '../../support/wire-formats.js';
import { killLeftoverProcesses, runCliToExit } from '../cli/cli-process.js';
import { ConsoleClient } from './console-client.js';

/**
 * A console operator impersonating while `understudy operators reset-password` runs for them (a
 * separate process, as an administrator would run it): every token the console answered with must
 * be dead afterwards. A mint that read the operator before the reset committed and wrote its token
 * after the reset revoked the operator's tokens used to keep it; the mint now locks the operator
 * row and refuses when the password it was signed in with is no longer the operator's, and a reset
 * that waits for the mint's lock then finds and revokes the token. Console mints keep firing during
 * the whole reset, so some are in flight when it commits in every round.
 */
const ROUNDS = 3;
const IN_FLIGHT = 4;
const CLI: OperationContext = { requestId: 'request-id-test-00000000-0000-4000-8000-0000000000c2', actor: { type: 'cli' } };

afterAll(killLeftoverProcesses);

for (const store of STORES) {
  describe(`console impersonation racing a password reset (${store.name})`, () => {
    let server: TestServer;
    let cast: ImpersonationCast;

    beforeAll(async () => {
      server = await startTestServer({ store: store.name });
      cast = await createImpersonationCast(server.client);
    });
    afterAll(async () => server?.stop());

    const env = (): Record<string, string> => ({
      UNDERSTUDY_DATA_DIR: server.dataDir,
      UNDERSTUDY_PROJECT_ID: TEST_PROJECT_ID,
      UNDERSTUDY_PROJECT_SECRET: TEST_PROJECT_SECRET,
      UNDERSTUDY_MASTER_KEY: TEST_MASTER_KEY,
      ...(server.databaseUrl !== undefined && { UNDERSTUDY_DATABASE_URL: server.databaseUrl }),
    });

    /** One console mint: the token the page shows, or undefined when the console refused (signed out, or the mint refused). */
    async function consoleMint(browser: ConsoleClient, member: Member, csrf: string): Promise<string | undefined> {
      const response = await browser.post(`/console/organizations/${member.organization_id}/members/${member.member_id}/impersonate`, { _csrf: csrf, reason: 'Ticket 90: reset race' });
      expect(response.status, response.text).toBeLessThan(500);
      if (response.status !== 200) return undefined;
      return /<p class="token" id="token">([A-Za-z0-9_-]{44})<\/p>/.exec(response.text)?.[1];
    }

    it(`no token minted from the console while reset-password runs survives the reset (${ROUNDS} rounds)`, async () => {
      for (let round = 0; round < ROUNDS; round += 1) {
        const emailAddress = `reset-race-${uniqueSuffix()}@operators.example`;
        const created = await server.server.app.services.operators.create(CLI, { emailAddress, name: 'Reset Race', role: 'support' });
        const browser = new ConsoleClient(server.baseUrl);
        await browser.signIn({ emailAddress, password: created.password, totpSecret: created.totpSecret }, new Date());
        const csrf = await browser.csrfFrom(`/console/organizations/${cast.member.organization_id}/members/${cast.member.member_id}`);

        const tokens: string[] = [];
        let resetting = true;
        const minting = Array.from({ length: IN_FLIGHT }, async () => {
          while (resetting) {
            const token = await consoleMint(browser, cast.member, csrf);
            if (token !== undefined) tokens.push(token);
          }
        });
        const reset = await runCliToExit(['operators', 'reset-password', '--email', emailAddress], env());
        resetting = false;
        await Promise.all(minting);
        expect(reset.code, reset.stderr).toBe(0);
        expect(tokens.length, `round ${round}: the console minted while the reset ran`).toBeGreaterThan(0);

        const redemptions = await Promise.all(tokens.map((token) => server.fetch(REDEEM, { method: 'POST', json: { impersonation_token: token } })));
        const survivors = redemptions.filter((response) => response.status !== 401);
        expect(
          survivors.map((response) => response.status),
          `round ${round}: ${survivors.length} of ${tokens.length} tokens redeemed after the reset`,
        ).toEqual([]);
      }
    });
  });
}
