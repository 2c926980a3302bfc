import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createImpersonationCast, type ImpersonationCast } from '../../support/impersonation.js';
import { startTestSession } from '../../support/sessions.js';
import { STORES } from '../../support/stores.js';
import { startTestServer, TEST_PROJECT_ID, TEST_PROJECT_SECRET, type TestServer } from '../../support/test-server.js';

/**
 * sessions.authenticate reuses the member and organization it mapped and encoded while their rows
 * are unchanged (row-memo.ts, answer-json.ts). Every change must still show on the very next call,
 * and the answer must stay byte for byte what JSON.stringify makes of it.
 */
describe.each(STORES)('answers built from shared members and organizations ($name)', ({ name: store }) => {
  let server: TestServer;
  let cast: ImpersonationCast;
  const authorization = `Basic ${Buffer.from(`${TEST_PROJECT_ID}:${TEST_PROJECT_SECRET}`).toString('base64')}`;

  beforeAll(async () => {
    server = await startTestServer({ store });
    cast = await createImpersonationCast(server.client);
  });
  afterAll(async () => server?.stop());

  /** The raw text of a sessions.authenticate answer, and it parsed. */
  async function authenticate(sessionToken: string): Promise<{ status: number; text: string; body: Record<string, unknown> }> {
    const response = await fetch(`${server.server.url}/v1/b2b/sessions/authenticate`, {
      method: 'POST',
      headers: { authorization, 'content-type': 'application/json' },
      body: JSON.stringify({ session_token: sessionToken }),
    });
    const text = await response.text();
    return { status: response.status, text, body: JSON.parse(text) as Record<string, unknown> };
  }

  it('shows every change to the member and the organization on the next call, and stays JSON.stringify-exact', async () => {
    const { organization, member } = cast;
    const { sessionToken } = await startTestSession(server, { organizationId: organization.organization_id, memberId: member.member_id });
    for (let call = 0; call < 3; call += 1) {
      const answer = await authenticate(sessionToken);
      expect(answer.status).toBe(200);
      expect(answer.text).toBe(JSON.stringify(answer.body));
    }
    await server.client.organizations.members.update({ organization_id: organization.organization_id, member_id: member.member_id, name: 'Renamed Member', roles: ['stytch_admin'] });
    await server.client.organizations.update({ organization_id: organization.organization_id, organization_name: 'Renamed Organization' });
    const changed = await authenticate(sessionToken);
    expect(changed.text).toBe(JSON.stringify(changed.body));
    expect((changed.body.member as { name: string }).name).toBe('Renamed Member');
    expect((changed.body.member as { roles: { role_id: string }[] }).roles.map((role) => role.role_id)).toContain('stytch_admin');
    expect((changed.body.member_session as { roles: string[] }).roles).toContain('stytch_admin');
    expect((changed.body.organization as { organization_name: string }).organization_name).toBe('Renamed Organization');
    // An implicit role granted by a change of the organization alone (its email domain rule) shows too.
    const domain = member.email_address.split('@')[1] as string;
    await server.client.organizations.update({
      organization_id: organization.organization_id,
      email_allowed_domains: [domain],
      rbac_email_implicit_role_assignments: [{ domain, role_id: 'stytch_admin' }],
    });
    await server.client.organizations.members.update({ organization_id: organization.organization_id, member_id: member.member_id, roles: [] });
    const implicit = await authenticate(sessionToken);
    const roles = (implicit.body.member as { roles: { role_id: string; sources: { type: string }[] }[] }).roles;
    expect(roles.find((role) => role.role_id === 'stytch_admin')?.sources.map((source) => source.type)).toEqual(['email_assignment']);
    await server.client.sessions.revoke({ session_token: sessionToken });
    expect((await authenticate(sessionToken)).status).toBe(404);
  });
});
