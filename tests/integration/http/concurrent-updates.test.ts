import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestSession } from '../../support/sessions.js';
import { STORES } from '../../support/stores.js';
import { startTestServer, type TestServer } from '../../support/test-server.js';

/**
 * Partial updates sent at the same time through the official SDK: each changes other fields, and
 * every change must be kept. A service that reads the row, changes it in JS and writes every column
 * back loses all but the last one on PostgreSQL (READ COMMITTED), and can bring a deleted member back.
 */
const ROUNDS = 8;

describe.each(STORES)('concurrent partial updates on $name', (factory) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ store: factory.name });
  });
  afterAll(() => server.stop());

  it(`keeps every field of ${ROUNDS} rounds of simultaneous members.update calls that each change a different field`, async () => {
    const { organization } = await server.client.organizations.create({ organization_name: 'Concurrent Members', organization_slug: `concurrent-members-${factory.name}` });
    for (let round = 0; round < ROUNDS; round += 1) {
      const { member } = await server.client.organizations.members.create({ organization_id: organization.organization_id, email_address: `round-${round}@members.example` });
      const target = { organization_id: organization.organization_id, member_id: member.member_id };
      await Promise.all([
        server.client.organizations.members.update({ ...target, name: `Name ${round}` }),
        server.client.organizations.members.update({ ...target, external_id: `external-${round}` }),
        server.client.organizations.members.update({ ...target, untrusted_metadata: { round } }),
        server.client.organizations.members.update({ ...target, trusted_metadata: { tier: `gold-${round}` } }),
        server.client.organizations.members.update({ ...target, is_breakglass: true }),
      ]);
      const { member: stored } = await server.client.organizations.members.get(target);
      expect(stored, `round ${round}`).toMatchObject({
        name: `Name ${round}`,
        external_id: `external-${round}`,
        untrusted_metadata: { round },
        trusted_metadata: { tier: `gold-${round}` },
        is_breakglass: true,
      });
    }
  });

  it(`never brings back a member deleted while an update of it runs (${ROUNDS} rounds)`, async () => {
    const { organization } = await server.client.organizations.create({ organization_name: 'Deleted Members', organization_slug: `deleted-members-${factory.name}` });
    for (let round = 0; round < ROUNDS; round += 1) {
      const { member } = await server.client.organizations.members.create({ organization_id: organization.organization_id, email_address: `deleted-${round}@members.example` });
      const target = { organization_id: organization.organization_id, member_id: member.member_id };
      const outcomes = await Promise.allSettled([
        server.client.organizations.members.update({ ...target, name: `Renamed ${round}` }),
        server.client.organizations.members.update({ ...target, untrusted_metadata: { round } }),
        server.client.organizations.members.delete(target),
        server.client.organizations.members.update({ ...target, external_id: `gone-${round}` }),
      ]);
      expect(outcomes[2]?.status, `round ${round}`).toBe('fulfilled');
      const response = await server.fetch('/v1/b2b/organizations/members/search', {
        method: 'POST',
        json: { organization_ids: [organization.organization_id], query: { operator: 'AND', operands: [{ filter_name: 'member_ids', filter_value: [member.member_id] }] } },
      });
      expect(response.status).toBe(200);
      expect((response.body.members as { status: string }[]).map((found) => found.status), `round ${round}`).toEqual(['deleted']);
    }
  });

  it(`keeps every custom claim of ${ROUNDS} rounds of simultaneous sessions.authenticate calls that each add one`, async () => {
    const { organization } = await server.client.organizations.create({ organization_name: 'Claims', organization_slug: `claims-${factory.name}` });
    const { member } = await server.client.organizations.members.create({ organization_id: organization.organization_id, email_address: 'claims@members.example' });
    for (let round = 0; round < ROUNDS; round += 1) {
      const { sessionToken } = await startTestSession(server, { organizationId: organization.organization_id, memberId: member.member_id, customClaims: { kept: round } });
      await Promise.all(
        Array.from({ length: 5 }, (_, index) => server.client.sessions.authenticate({ session_token: sessionToken, session_custom_claims: { [`claim_${index}`]: round } })),
      );
      const { member_session } = await server.client.sessions.authenticate({ session_token: sessionToken });
      expect(member_session.custom_claims, `round ${round}`).toEqual({ kept: round, claim_0: round, claim_1: round, claim_2: round, claim_3: round, claim_4: round });
    }
  });

  it(`keeps every field of ${ROUNDS} rounds of simultaneous organizations.update calls that each change a different field`, async () => {
    for (let round = 0; round < ROUNDS; round += 1) {
      const { organization } = await server.client.organizations.create({ organization_name: `Org ${round}`, organization_slug: `concurrent-org-${factory.name}-${round}` });
      const target = { organization_id: organization.organization_id };
      await Promise.all([
        server.client.organizations.update({ ...target, organization_name: `Renamed ${round}` }),
        server.client.organizations.update({ ...target, organization_logo_url: `https://logo.example/${round}.png` }),
        server.client.organizations.update({ ...target, trusted_metadata: { round } }),
        server.client.organizations.update({ ...target, email_invites: 'RESTRICTED' }),
        server.client.organizations.update({ ...target, mfa_policy: 'REQUIRED_FOR_ALL' }),
      ]);
      const { organization: stored } = await server.client.organizations.get(target);
      expect(stored, `round ${round}`).toMatchObject({
        organization_name: `Renamed ${round}`,
        organization_logo_url: `https://logo.example/${round}.png`,
        trusted_metadata: { round },
        email_invites: 'RESTRICTED',
        mfa_policy: 'REQUIRED_FOR_ALL',
      });
    }
  });
});
