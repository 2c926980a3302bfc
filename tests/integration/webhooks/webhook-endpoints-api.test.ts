import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createImpersonationCast, expectErrorResponse, impersonate, type ImpersonationCast } from '../../support/impersonation.js';
import { startTestSession } from '../../support/sessions.js';
import { STORES } from '../../support/stores.js';
import { startTestServer, type TestServer } from '../../support/test-server.js';
import { startWebhookReceiver, type WebhookReceiver } from '../../support/webhook-receiver.js';

const ENDPOINTS = '/v1/b2b/impersonation/webhooks/endpoints';
const DELIVERIES = '/v1/b2b/impersonation/webhooks/deliveries';

interface WireEndpoint {
  readonly endpoint_id: string;
  readonly organization_id: string | null;
  readonly url: string;
  readonly description: string;
  readonly disabled_at: string | null;
}

describe.each(STORES)('webhook endpoints with member-session headers ($name)', ({ name: store }) => {
  let server: TestServer;
  let receiver: WebhookReceiver;
  let ours: ImpersonationCast;
  let theirs: ImpersonationCast;
  let adminHeaders: Record<string, string>;
  let theirEndpoint: WireEndpoint;

  beforeAll(async () => {
    server = await startTestServer({ store });
    receiver = await startWebhookReceiver();
    ours = await createImpersonationCast(server.client);
    theirs = await createImpersonationCast(server.client);
    const session = await startTestSession(server, { organizationId: ours.organization.organization_id, memberId: ours.admin.member_id });
    adminHeaders = { 'x-stytch-member-session': session.sessionToken };
    const created = await server.fetch(ENDPOINTS, { method: 'POST', json: { url: `${receiver.url}/theirs`, organization_id: theirs.organization.organization_id } });
    theirEndpoint = created.body.endpoint as WireEndpoint;
  });
  afterAll(async () => {
    await server?.stop();
    await receiver?.close();
  });

  it("adds an endpoint for the caller's own organization, answers the secret once, and audits it without the secret", async () => {
    const response = await server.fetch(ENDPOINTS, { method: 'POST', json: { url: `${receiver.url}/ours`, description: 'Our SIEM' }, headers: adminHeaders });
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    const endpoint = response.body.endpoint as WireEndpoint;
    expect(endpoint).toMatchObject({ organization_id: ours.organization.organization_id, url: `${receiver.url}/ours`, description: 'Our SIEM', disabled_at: null });
    const secret = response.body.secret as string;
    expect(secret).toMatch(/^whsec_/);

    const listed = await server.fetch(ENDPOINTS, { headers: adminHeaders });
    expect(listed.status).toBe(200);
    expect((listed.body.endpoints as WireEndpoint[]).map((entry) => entry.endpoint_id)).toEqual([endpoint.endpoint_id]);
    expect(JSON.stringify(listed.body)).not.toContain(secret);

    const audit = await server.fetch(`/v1/b2b/impersonation/audit?organization_id=${ours.organization.organization_id}`);
    expect(JSON.stringify(audit.body)).not.toContain(secret);
    // webhook.* events are not impersonation events; the whole trail is read through the store.
    const events = await server.server.store.audit.listEvents({ organizationId: ours.organization.organization_id, limit: 100 });
    const added = events.find((event) => event.type === 'webhook.endpoint_added');
    expect(added?.details).toEqual({ endpoint_id: endpoint.endpoint_id, url: endpoint.url, description: 'Our SIEM' });
    expect(added?.actor).toMatchObject({ type: 'member_session', memberId: ours.admin.member_id });
    expect(JSON.stringify(events)).not.toContain(secret);
  });

  it("cannot see, disable or read the deliveries of another organization's endpoint", async () => {
    expectErrorResponse(await server.fetch(`${ENDPOINTS}/${theirEndpoint.endpoint_id}/disable`, { method: 'POST', headers: adminHeaders }), 404, 'webhook_endpoint_not_found');
    expectErrorResponse(await server.fetch(`${DELIVERIES}?endpoint_id=${theirEndpoint.endpoint_id}`, { headers: adminHeaders }), 404, 'webhook_endpoint_not_found');
    expectErrorResponse(await server.fetch(`${ENDPOINTS}?organization_id=${theirs.organization.organization_id}`, { headers: adminHeaders }), 403, 'session_authorization_tenancy_error');
    expectErrorResponse(
      await server.fetch(ENDPOINTS, { method: 'POST', json: { url: receiver.url, organization_id: theirs.organization.organization_id }, headers: adminHeaders }),
      403,
      'session_authorization_tenancy_error',
    );
    const stillThere = await server.fetch(`${ENDPOINTS}?organization_id=${theirs.organization.organization_id}`);
    expect((stillThere.body.endpoints as WireEndpoint[]).find((entry) => entry.endpoint_id === theirEndpoint.endpoint_id)?.disabled_at).toBeNull();

    // Their organization's events reach their endpoint; our member session's log never shows them.
    await impersonate(server, theirs.member);
    await receiver.waitFor((request) => request.body.data.organization_id === theirs.organization.organization_id);
    const ourLog = await server.fetch(DELIVERIES, { headers: adminHeaders });
    expect(ourLog.status).toBe(200);
    for (const delivery of ourLog.body.deliveries as { endpoint_id: string }[]) expect(delivery.endpoint_id).not.toBe(theirEndpoint.endpoint_id);
    const projectLog = await server.fetch(`${DELIVERIES}?endpoint_id=${theirEndpoint.endpoint_id}`);
    expect((projectLog.body.deliveries as unknown[]).length).toBeGreaterThan(0);
  });

  it('needs understudy.support-access:update.settings, and never from an impersonated session', async () => {
    const plain = await startTestSession(server, { organizationId: ours.organization.organization_id, memberId: ours.member.member_id });
    expectErrorResponse(
      await server.fetch(ENDPOINTS, { method: 'POST', json: { url: receiver.url }, headers: { 'x-stytch-member-session': plain.sessionToken } }),
      403,
      'session_authorization_error',
    );
    expectErrorResponse(await server.fetch(DELIVERIES, { headers: { 'x-stytch-member-session': plain.sessionToken } }), 403, 'session_authorization_error');
    const { redeemed } = await impersonate(server, ours.admin);
    const asImpersonated = await server.fetch(ENDPOINTS, { method: 'POST', json: { url: receiver.url }, headers: { 'x-stytch-member-session': redeemed.session_token } });
    expect(asImpersonated.status).toBe(403);
  });

  it("disables the caller's own endpoint, once", async () => {
    const created = await server.fetch(ENDPOINTS, { method: 'POST', json: { url: `${receiver.url}/short-lived` }, headers: adminHeaders });
    const endpoint = created.body.endpoint as WireEndpoint;
    const disabled = await server.fetch(`${ENDPOINTS}/${endpoint.endpoint_id}/disable`, { method: 'POST', headers: adminHeaders });
    expect(disabled.status).toBe(200);
    const first = (disabled.body.endpoint as WireEndpoint).disabled_at;
    expect(first).not.toBeNull();
    const again = await server.fetch(`${ENDPOINTS}/${endpoint.endpoint_id}/disable`, { method: 'POST', headers: adminHeaders });
    expect((again.body.endpoint as WireEndpoint).disabled_at).toBe(first);
    const events = await server.server.store.audit.listEvents({ organizationId: ours.organization.organization_id, limit: 100 });
    expect(events.filter((event) => event.type === 'webhook.endpoint_disabled' && event.details.endpoint_id === endpoint.endpoint_id)).toHaveLength(1);
  });
});
