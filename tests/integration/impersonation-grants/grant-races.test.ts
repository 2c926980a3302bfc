import type { B2BClient } from 'stytch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asMember, createGrant, grantActionRaw, listGrants, setPolicy } from '../../support/access-grants.js';
import { activeImpersonations, auditEvents, createImpersonationCast, type ImpersonationCast, mintBody, mintRaw, type MintedToken } from '../../support/impersonation.js';
import { type StartedSession, startMemberSession } from '../../support/member-session-cast.js';
import { POSTGRES_SKIP_REASON, POSTGRES_URL } from '../../support/stores.js';
import { startTestServer, type TestServer } from '../../support/test-server.js';

/**
 * Racing changes of one grant on PostgreSQL, where requests really run at once (SQLite serializes
 * every writer): of an approval and a denial, or of two revocations, exactly one wins and the
 * other is `access_grant_not_pending`; a mint or a redemption racing a revocation never leaves a
 * token that redeems or a session that lives past it.
 */
const ROUNDS = 8;

describe.skipIf(POSTGRES_URL === undefined)(`racing changes of access grants (postgres)${POSTGRES_URL === undefined ? `: ${POSTGRES_SKIP_REASON}` : ''}`, () => {
  let server: TestServer;
  let client: B2BClient;
  let cast: ImpersonationCast;
  let admin: StartedSession;

  beforeAll(async () => {
    server = await startTestServer({ store: 'postgres' });
    client = server.client;
    cast = await createImpersonationCast(client);
    admin = await startMemberSession(server, cast.admin);
    await setPolicy(server, cast.organization.organization_id, { access_mode: 'by_grant' });
  });
  afterAll(async () => server?.stop());

  const organizationId = () => cast.organization.organization_id;
  const openGrant = () => createGrant(server, { organization_id: organizationId(), duration_minutes: 30, reason: 'Ticket 4730' }, asMember(admin));
  /** The audit events of this grant's transitions. */
  const transitionsOf = async (grantId: string) =>
    (await auditEvents(server, { organization_id: organizationId() })).filter((event) => event.details.grant_id === grantId && event.type !== 'impersonation.access_requested');

  it('an approval and a denial of one request: exactly one wins, the other is access_grant_not_pending, one event recorded', async () => {
    for (let round = 0; round < ROUNDS; round += 1) {
      const requested = await createGrant(server, { organization_id: organizationId(), duration_minutes: 30, reason: `Ticket 4731-${round}` });
      const [approve, deny] = await Promise.all([grantActionRaw(server, requested.grant_id, 'approve', asMember(admin)), grantActionRaw(server, requested.grant_id, 'deny', asMember(admin))]);
      const statuses = [approve.status, deny.status].sort();
      expect(statuses, JSON.stringify([approve.body, deny.body])).toEqual([200, 400]);
      const loser = approve.status === 400 ? approve : deny;
      expect(loser.body.error_type).toBe('access_grant_not_pending');
      const [stored] = (await listGrants(server, { organization_id: organizationId() })).filter((grant) => grant.grant_id === requested.grant_id);
      expect(stored?.status).toBe(approve.status === 200 ? 'open' : 'denied');
      expect((await transitionsOf(requested.grant_id)).map((event) => event.type)).toEqual([approve.status === 200 ? 'impersonation.access_granted' : 'impersonation.access_denied']);
      if (stored?.status === 'open') expect((await grantActionRaw(server, requested.grant_id, 'revoke')).status).toBe(200);
    }
  });

  it("two revocations of one grant (the admin's and the vendor's): exactly one wins", async () => {
    for (let round = 0; round < ROUNDS; round += 1) {
      const grant = await openGrant();
      const results = await Promise.all([grantActionRaw(server, grant.grant_id, 'revoke', asMember(admin)), grantActionRaw(server, grant.grant_id, 'revoke')]);
      expect(results.map((result) => result.status).sort(), JSON.stringify(results.map((result) => result.body))).toEqual([200, 400]);
      expect(results.find((result) => result.status === 400)?.body.error_type).toBe('access_grant_not_pending');
      expect((await transitionsOf(grant.grant_id)).filter((event) => event.type === 'impersonation.access_revoked')).toHaveLength(1);
    }
  });

  it('a mint racing the revocation of its grant: the token is refused or revoked, never redeemable', async () => {
    for (let round = 0; round < ROUNDS; round += 1) {
      const grant = await openGrant();
      const [mint, revoke] = await Promise.all([mintRaw(server, mintBody({ organizationId: organizationId(), memberId: cast.member.member_id })), grantActionRaw(server, grant.grant_id, 'revoke', asMember(admin))]);
      expect(revoke.status, JSON.stringify(revoke.body)).toBe(200);
      if (mint.status !== 200) {
        expect(mint.body.error_type).toBe('impersonation_access_not_granted');
        continue;
      }
      const token = (mint.body as unknown as MintedToken).impersonation_token;
      await expect(client.impersonation.authenticate({ impersonation_token: token })).rejects.toMatchObject({ error_type: 'impersonation_access_not_granted' });
    }
  });

  it('a redemption racing the revocation of its grant: no impersonated session outlives the revocation', async () => {
    for (let round = 0; round < ROUNDS; round += 1) {
      const grant = await openGrant();
      const minted = await mintRaw(server, mintBody({ organizationId: organizationId(), memberId: cast.member.member_id }));
      expect(minted.status, JSON.stringify(minted.body)).toBe(200);
      const token = (minted.body as unknown as MintedToken).impersonation_token;
      const [redeemed, revoke] = await Promise.allSettled([client.impersonation.authenticate({ impersonation_token: token }), grantActionRaw(server, grant.grant_id, 'revoke', asMember(admin))]);
      expect(revoke.status === 'fulfilled' && revoke.value.status).toBe(200);
      if (redeemed.status === 'fulfilled') {
        await expect(client.sessions.authenticate({ session_token: redeemed.value.session_token })).rejects.toMatchObject({ error_type: 'session_not_found' });
      } else {
        expect(redeemed.reason).toMatchObject({ error_type: 'impersonation_access_not_granted' });
      }
      expect(await activeImpersonations(server, { organization_id: organizationId() })).toEqual([]);
    }
  });
});
