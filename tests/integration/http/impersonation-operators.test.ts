import type { Member } from 'stytch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  activeImpersonations,
  auditEvents,
  createImpersonationCast,
  expectErrorResponse,
  expectRefusalAudited,
  type ImpersonationCast,
  mintBody,
  mintRaw,
  mintToken,
  type WireAuditEvent,
} from '../../support/impersonation.js';
import { expectStytchRejection } from '../../support/openapi.js';
import { STORES } from '../../support/stores.js';
import type { ConsoleClient } from '../console/console-client.js';
import { type ConsoleHarness, startConsoleHarness } from '../console/console-harness.js';

/**
 * Console operators as impersonators, over HTTP: one identity whether they act in the console or
 * are named by the API (by operator id or email address), audit and session filters that find them
 * by either, and disabling an operator ending every impersonation in their name (live sessions and
 * unredeemed tokens) in the same transaction as the disable, audited.
 */
const UNABLE = { status: 401, errorType: 'unable_to_auth_impersonation_token' } as const;
const SESSION_NOT_FOUND = { status: 404, errorType: 'session_not_found' } as const;

for (const store of STORES) {
  describe(`operators as impersonators (${store.name})`, () => {
    let harness: ConsoleHarness;
    let cast: ImpersonationCast;

    beforeAll(async () => {
      harness = await startConsoleHarness({ store: store.name });
      cast = await createImpersonationCast(harness.server.client);
    });
    afterAll(async () => harness?.stop());

    const memberPath = (member: Member): string => `/console/organizations/${member.organization_id}/members/${member.member_id}`;

    /** Impersonates from the console as the signed-in operator; answers the token the page shows. */
    async function consoleMint(browser: ConsoleClient, member: Member): Promise<string> {
      const page = memberPath(member);
      const response = await browser.post(`${page}/impersonate`, { _csrf: await browser.csrfFrom(page), reason: 'Ticket 88: console' });
      expect(response.status, response.text).toBe(200);
      const token = /<p class="token" id="token">([A-Za-z0-9_-]{44})<\/p>/.exec(response.text)?.[1];
      expect(token, response.text).toBeDefined();
      return token as string;
    }

    const redeem = (token: string) => harness.server.client.impersonation.authenticate({ impersonation_token: token });
    const ids = (events: readonly WireAuditEvent[]): string[] => events.map((event) => event.event_id);

    it('the console and an API mint naming the operator by address record one impersonator, found by id or address alike', async () => {
      const support = await harness.createOperator('support');
      const browser = await harness.signedIn(support);
      const fromConsole = await redeem(await consoleMint(browser, cast.member));
      // The caller's own staff id gives way to the operator id; it is kept in the mint record.
      const viaApi = await mintToken(harness.server, {
        organizationId: cast.organization.organization_id,
        memberId: cast.member.member_id,
        impersonatorId: 'staff-9',
        impersonatorEmailAddress: support.emailAddress.toUpperCase(),
      });
      const fromApi = await redeem(viaApi.impersonation_token);
      for (const redeemed of [fromConsole, fromApi]) {
        expect(redeemed.member_session?.authentication_factors[0]?.impersonated_factor).toEqual({ impersonator_id: support.operatorId, impersonator_email_address: support.emailAddress });
      }

      const byId = await auditEvents(harness.server, { impersonator_id: support.operatorId });
      const byAddress = await auditEvents(harness.server, { impersonator_id: support.emailAddress });
      expect(byId.map((event) => event.type)).toEqual(['impersonation.token_minted', 'impersonation.token_redeemed', 'impersonation.token_minted', 'impersonation.token_redeemed']);
      expect(ids(byAddress)).toEqual(ids(byId));
      expect(byId.every((event) => event.impersonator_id === support.operatorId)).toBe(true);
      expect(byId[2]?.details).toMatchObject({ impersonator_email_address: support.emailAddress, requested_impersonator_id: 'staff-9' });
      const sessions = [fromConsole, fromApi].map((redeemed) => redeemed.member_session?.member_session_id).sort();
      for (const impersonator_id of [support.operatorId, support.emailAddress.toUpperCase()]) {
        expect((await activeImpersonations(harness.server, { impersonator_id })).map((session) => session.member_session_id).sort()).toEqual(sessions);
      }
    });

    it("an API mint naming an operator's id with another address is invalid_impersonator (400), audited under the organization and member", async () => {
      const support = await harness.createOperator('support');
      const response = await mintRaw(
        harness.server,
        mintBody({ organizationId: cast.organization.organization_id, memberId: cast.member.member_id, impersonatorId: support.operatorId, impersonatorEmailAddress: 'someone@else.example' }),
      );
      expectErrorResponse(response, 400, 'invalid_impersonator');
      const event = await expectRefusalAudited(harness.server, response.body.request_id as string, { type: 'impersonation.mint_refused', errorType: 'invalid_impersonator' });
      expect(event).toMatchObject({ organization_id: cast.organization.organization_id, member_id: cast.member.member_id });
    });

    it("disabling an operator (console) ends their live impersonated sessions and revokes their unredeemed tokens in the same transaction, audited", async () => {
      const [support, colleague, admin] = [await harness.createOperator('support'), await harness.createOperator('support'), await harness.createOperator('admin')];
      const browser = await harness.signedIn(support);
      const live = await redeem(await consoleMint(browser, cast.member));
      const pendingFromConsole = await consoleMint(browser, cast.admin);
      const pendingFromApi = await mintToken(harness.server, {
        organizationId: cast.organization.organization_id,
        memberId: cast.admin.member_id,
        impersonatorId: support.emailAddress,
        impersonatorEmailAddress: support.emailAddress,
      });
      const bystander = await redeem(await consoleMint(await harness.signedIn(colleague), cast.member));

      const adminBrowser = await harness.signedIn(admin);
      const disabled = await adminBrowser.post(`/console/operators/${support.operatorId}/disable`, { _csrf: await adminBrowser.csrfFrom('/console/operators') });
      expect(disabled.status, disabled.text).toBe(303);

      await expectStytchRejection(harness.server.client.sessions.authenticate({ session_token: live.session_token }), SESSION_NOT_FOUND);
      for (const token of [pendingFromConsole, pendingFromApi.impersonation_token]) {
        const error = await expectStytchRejection(redeem(token), UNABLE);
        // Revoked by the disable (see its events below); the refusal names the cause that still holds.
        await expectRefusalAudited(harness.server, error.request_id as string, { type: 'impersonation.redemption_refused', errorType: UNABLE.errorType, why: 'operator_disabled' });
      }
      await harness.server.client.sessions.authenticate({ session_token: bystander.session_token });

      // One request wrote the disable and every ending it caused.
      const disable = (await harness.operatorEvents(support.operatorId, 'operator.disabled'))[0] as { requestId: string };
      const caused = (await harness.auditEvents()).filter((event) => event.requestId === disable.requestId);
      expect(caused.map((event) => [event.type, event.details.why ?? null]).sort()).toEqual(
        [
          ['impersonation.session_revoked', 'operator_disabled'],
          ['impersonation.token_revoked', 'operator_disabled'],
          ['impersonation.token_revoked', 'operator_disabled'],
          ['operator.disabled', null],
          ['session.revoked', null],
        ].sort(),
      );
      expect(caused.every((event) => event.actor.type === 'operator')).toBe(true);

      // A disabled operator impersonates nobody, however the API names them.
      for (const named of [{ impersonatorId: support.operatorId, impersonatorEmailAddress: '' }, { impersonatorEmailAddress: support.emailAddress }]) {
        const refused = await mintRaw(harness.server, mintBody({ organizationId: cast.organization.organization_id, memberId: cast.member.member_id, ...named }));
        expectErrorResponse(refused, 403, 'member_impersonation_not_allowed');
        const event = await expectRefusalAudited(harness.server, refused.body.request_id as string, { type: 'impersonation.mint_refused', errorType: 'member_impersonation_not_allowed' });
        expect(event).toMatchObject({ organization_id: cast.organization.organization_id, impersonator_id: support.operatorId });
      }
    });
  });
}
