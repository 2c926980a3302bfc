import type { B2BClient } from 'stytch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/platform/clock.js';
import {
  addMember,
  createImpersonationCast,
  type ImpersonationCast,
  type MintedToken,
  mintToken,
  OPAQUE_TOKEN,
  policyPath,
} from '../../support/impersonation.js';
import { STORES } from '../../support/stores.js';
import { startTestServer, type TestServer } from '../../support/test-server.js';
import { idPattern } from '../../support/wire-formats.js';
import { minutesFrom } from './session-fixtures.js';

/**
 * Minting through our extension POST /v1/b2b/impersonation (docs/impersonation.md): the answer, the
 * token's lifetime, the references it accepts, and the Stytch-shaped impersonation link
 * (`stytch_token_type=multi_tenant_impersonation&token=…` on the login redirect URL). Every minted token is
 * redeemed through the SDK to show it is the one the answer names.
 */
const PROJECT_REDIRECT = 'https://project.example.com/authenticate';
const ORGANIZATION_REDIRECT = 'https://acme.example.com/impersonate';

function linkFor(redirectUrl: string, token: string): string {
  return `${redirectUrl}?stytch_token_type=multi_tenant_impersonation&token=${token}`;
}

async function redeemsFor(client: B2BClient, minted: MintedToken, memberId: string): Promise<void> {
  const redeemed = await client.impersonation.authenticate({ impersonation_token: minted.impersonation_token });
  expect(redeemed.member_id).toBe(memberId);
  expect(redeemed.organization_id).toBe(minted.organization_id);
}

for (const store of STORES) {
  describe(`POST /v1/b2b/impersonation (${store.name})`, () => {
    let server: TestServer;
    let client: B2BClient;
    let clock: ManualClock;
    let cast: ImpersonationCast;

    beforeAll(async () => {
      clock = new ManualClock(new Date());
      server = await startTestServer({ store: store.name, clock });
      client = server.client;
      cast = await createImpersonationCast(client);
    });
    afterAll(async () => server?.stop());

    it('answers a 44-character URL-safe token valid 5 minutes, the member and organization ids, and impersonation_url null without a redirect URL', async () => {
      const member = await addMember(client, cast.organization);
      const now = clock.now();
      const minted = await mintToken(server, { organizationId: cast.organization.organization_id, memberId: member.member_id });
      expect(minted).toEqual({
        request_id: expect.stringMatching(idPattern('request-id')),
        token_id: expect.stringMatching(idPattern('impersonation-token')),
        impersonation_token: expect.stringMatching(OPAQUE_TOKEN),
        expires_at: minutesFrom(now, 5),
        impersonation_url: null,
        member_id: member.member_id,
        organization_id: cast.organization.organization_id,
        status_code: 200,
      });
      await redeemsFor(client, minted, member.member_id);
    });

    for (const minutes of [1, 2, 3, 4, 5]) {
      it(`expiration_minutes ${minutes} makes the token expire ${minutes} minute(s) after minting`, async () => {
        const now = clock.now();
        const minted = await mintToken(server, { organizationId: cast.organization.organization_id, memberId: cast.member.member_id, expirationMinutes: minutes });
        expect(minted.expires_at).toBe(minutesFrom(now, minutes));
      });
    }

    it('every mint answers a different token', async () => {
      const tokens = new Set<string>();
      for (let i = 0; i < 5; i += 1) {
        tokens.add((await mintToken(server, { organizationId: cast.organization.organization_id, memberId: cast.member.member_id })).impersonation_token);
      }
      expect(tokens.size).toBe(5);
    });

    it('names the member by id, external id, email address (in member_id or email_address), always answering the member id', async () => {
      const member = await addMember(client, cast.organization);
      const organizationId = cast.organization.organization_id;
      const references = [
        { memberId: member.member_id },
        { memberId: member.external_id },
        { memberId: member.email_address },
        { memberId: member.email_address.toUpperCase() },
        { emailAddress: member.email_address },
      ];
      for (const reference of references) {
        const minted = await mintToken(server, { organizationId, ...reference });
        expect(minted.member_id, JSON.stringify(reference)).toBe(member.member_id);
        await redeemsFor(client, minted, member.member_id);
      }
    });

    it('names the organization by id, slug or external id, always answering the organization id', async () => {
      const { organization } = cast;
      for (const reference of [organization.organization_id, organization.organization_slug, organization.organization_external_id as string]) {
        const minted = await mintToken(server, { organizationId: reference, memberId: cast.member.email_address });
        expect(minted.organization_id, reference).toBe(organization.organization_id);
        expect(minted.member_id).toBe(cast.member.member_id);
        await redeemsFor(client, minted, cast.member.member_id);
      }
    });

    it("with the organization's impersonation_redirect_url, impersonation_url is that URL plus stytch_token_type and the token", async () => {
      const { organization } = await createImpersonationCast(client);
      const member = await addMember(client, organization);
      const put = await server.fetch(policyPath(organization.organization_id), { method: 'PUT', json: { impersonation_redirect_url: ORGANIZATION_REDIRECT } });
      expect(put.status, JSON.stringify(put.body)).toBe(200);
      const minted = await mintToken(server, { organizationId: organization.organization_id, memberId: member.member_id });
      expect(minted.impersonation_url).toBe(linkFor(ORGANIZATION_REDIRECT, minted.impersonation_token));
      const link = new URL(minted.impersonation_url as string);
      expect(link.searchParams.get('stytch_token_type')).toBe('multi_tenant_impersonation');
      await redeemsFor(client, { ...minted, impersonation_token: link.searchParams.get('token') as string }, member.member_id);
      // Cleared again (null), the link goes away.
      await server.fetch(policyPath(organization.organization_id), { method: 'PUT', json: { impersonation_redirect_url: null } });
      expect((await mintToken(server, { organizationId: organization.organization_id, memberId: member.member_id })).impersonation_url).toBeNull();
    });
  });

  describe(`POST /v1/b2b/impersonation with a project redirect URL (${store.name})`, () => {
    let server: TestServer;
    let cast: ImpersonationCast;

    beforeAll(async () => {
      server = await startTestServer({ store: store.name, config: { impersonationRedirectUrl: PROJECT_REDIRECT } });
      cast = await createImpersonationCast(server.client);
    });
    afterAll(async () => server?.stop());

    it("an organization without its own URL gets the project's impersonation link", async () => {
      const minted = await mintToken(server, { organizationId: cast.organization.organization_id, memberId: cast.member.member_id });
      expect(minted.impersonation_url).toBe(linkFor(PROJECT_REDIRECT, minted.impersonation_token));
      await redeemsFor(server.client, minted, cast.member.member_id);
    });

    it("the organization's own URL wins over the project's", async () => {
      const put = await server.fetch(policyPath(cast.organization.organization_id), { method: 'PUT', json: { impersonation_redirect_url: ORGANIZATION_REDIRECT } });
      expect(put.status, JSON.stringify(put.body)).toBe(200);
      const minted = await mintToken(server, { organizationId: cast.organization.organization_id, memberId: cast.member.member_id });
      expect(minted.impersonation_url).toBe(linkFor(ORGANIZATION_REDIRECT, minted.impersonation_token));
      const other = await createImpersonationCast(server.client);
      const elsewhere = await mintToken(server, { organizationId: other.organization.organization_id, memberId: other.member.member_id });
      expect(elsewhere.impersonation_url).toBe(linkFor(PROJECT_REDIRECT, elsewhere.impersonation_token));
    });
  });
}
