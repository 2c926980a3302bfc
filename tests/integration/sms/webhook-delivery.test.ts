import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { OutgoingSms } from '../../../src/domain/sms/outgoing-sms.js';
import { createLogger } from '../../../src/platform/logger.js';
import { systemClock } from '../../../src/platform/clock.js';
import { WebhookTransport } from '../../../src/sms/webhook-transport.js';
import { expectStytchRejection } from '../../support/openapi.js';
import { listSms, settleSms } from '../../support/sms.js';
import { STORES } from '../../support/stores.js';
import { startTestServer, type TestServer } from '../../support/test-server.js';
import { createMfaOrganization, newMemberSignedIn } from '../../conformance/stytch-sdk/mfa-fixtures.js';
import { startHttpStandIn, type Answer, type HttpStandIn, type ReceivedRequest } from './http-stand-in.js';

const CONTEXT = { requestId: 'request-test-sms-webhook', actor: { type: 'system' } } as const;
const KEY = randomBytes(32);
const SECRET = `whsec_${KEY.toString('base64')}`;

function codeSms(to: string, code: string): OutgoingSms {
  return {
    template: 'sms_otp',
    to,
    locale: 'fr',
    code,
    expiresAt: new Date(Date.now() + 2 * 60_000).toISOString(),
    organizationName: 'Acme Corp',
    organizationId: 'organization-test-1',
    memberId: 'member-test-1',
  };
}

/**
 * The receiver's check, written from the Standard Webhooks spec alone: the HMAC-SHA256 of
 * `id.timestamp.body` under the secret's key, base64, among the header's `v1,` signatures, and a
 * timestamp within five minutes of now.
 */
function verifyStandardWebhook(secret: string, headers: { id: string; timestamp: string; signature: string }, body: string, nowSeconds: number): boolean {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const timestamp = Number(headers.timestamp);
  if (!Number.isInteger(timestamp) || Math.abs(nowSeconds - timestamp) > 300) return false;
  const expected = createHmac('sha256', key).update(`${headers.id}.${headers.timestamp}.${body}`).digest();
  return headers.signature.split(' ').some((entry) => {
    const [version, encoded] = entry.split(',');
    if (version !== 'v1' || encoded === undefined) return false;
    const given = Buffer.from(encoded, 'base64');
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}

function signedParts(request: ReceivedRequest): { id: string; timestamp: string; signature: string } {
  return { id: String(request.headers['webhook-id']), timestamp: String(request.headers['webhook-timestamp']), signature: String(request.headers['webhook-signature']) };
}

for (const store of STORES) {
  describe(`SMS by signed webhook on ${store.name}`, () => {
    let receiver: HttpStandIn | undefined;
    let server: TestServer | undefined;
    let logLines: string[] = [];

    async function start(answer: (request: ReceivedRequest, index: number) => Answer): Promise<{ receiver: HttpStandIn; server: TestServer }> {
      // The receiver answers 401 to a request whose signature does not hold, as a real one would.
      receiver = await startHttpStandIn((request, index) =>
        verifyStandardWebhook(SECRET, signedParts(request), request.body, Math.floor(Date.now() / 1000)) ? answer(request, index) : { status: 401, text: 'bad signature' },
      );
      logLines = [];
      server = await startTestServer({
        store: store.name,
        config: { sms: { provider: 'webhook', webhook: { url: `${receiver.url}/hooks/sms`, secret: SECRET } } },
        logger: createLogger('info', { write: (line: string) => logLines.push(line) }),
      });
      return { receiver, server };
    }

    afterEach(async () => {
      await server?.stop();
      await receiver?.close();
      server = undefined;
      receiver = undefined;
    });

    it('posts the message as a signed event the receiver can verify, and records only its status', async () => {
      const { receiver, server } = await start(() => ({ status: 204 }));
      const services = server.server.app.services;
      expect(services.smsOutbox.mode).toBe('webhook');
      services.sms.deliver(CONTEXT, codeSms('+33612345678', '482913'));
      await settleSms(server);

      expect(receiver.requests).toHaveLength(1);
      const [request] = receiver.requests as [ReceivedRequest];
      expect(request.method).toBe('POST');
      expect(request.path).toBe('/hooks/sms');
      expect(request.headers['content-type']).toBe('application/json');
      const [recorded] = await listSms(server, '+33612345678');
      expect(request.headers['webhook-id']).toBe(recorded?.messageId);
      expect(String(request.headers['webhook-timestamp'])).toMatch(/^\d{10}$/);
      expect(String(request.headers['webhook-signature'])).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
      expect(verifyStandardWebhook(SECRET, signedParts(request), request.body, Math.floor(Date.now() / 1000))).toBe(true);
      const event = JSON.parse(request.body) as { type: string; data: Record<string, unknown> };
      expect(event.type).toBe('sms.send');
      expect(event.data).toEqual({
        to: '+33612345678',
        body: 'Votre code de vérification Acme Corp est 482913. Il expire dans 2 minutes.',
        locale: 'fr',
        template: 'sms_otp',
        organization_id: 'organization-test-1',
        member_id: 'member-test-1',
        expires_at: recorded?.expiresAt,
      });

      expect(recorded).toMatchObject({ mode: 'webhook', status: 'sent', attempts: 1, lastReply: 'HTTP 204', code: null, text: null });
    });

    it('a code otps.sms.send sends reaches the receiver signed, and that code completes the MFA sign-in', async () => {
      const { receiver, server } = await start(() => ({ status: 204 }));
      const client = server.client;
      const ada = await newMemberSignedIn(client, await createMfaOrganization(client));
      const target = { organization_id: ada.member.organization_id, member_id: ada.member.member_id };
      const phone = '+33612345690';
      await client.otps.sms.send({ ...target, mfa_phone_number: phone, intermediate_session_token: ada.intermediateSessionToken });
      await settleSms(server);

      // Only requests whose signature holds get past the receiver (see start).
      expect(receiver.requests.map((request) => request.path)).toEqual(['/hooks/sms']);
      const event = JSON.parse((receiver.requests[0] as ReceivedRequest).body) as { type: string; data: { to: string; body: string; member_id: string } };
      expect(event).toMatchObject({ type: 'sms.send', data: { to: phone, member_id: ada.member.member_id } });
      const code = /verification code is (\d{6})\./.exec(event.data.body)?.[1] as string;
      expect(code).toMatch(/^\d{6}$/);
      const wrong = code === '000000' ? '111111' : '000000';
      await expectStytchRejection(client.otps.sms.authenticate({ ...target, code: wrong, intermediate_session_token: ada.intermediateSessionToken }), { status: 401, errorType: 'unable_to_auth_otp_code' });
      const done = await client.otps.sms.authenticate({ ...target, code, intermediate_session_token: ada.intermediateSessionToken });
      expect(done.session_token).not.toBe('');
      expect(done.member_session?.authentication_factors.map((factor) => factor.type)).toEqual(['password', 'otp']);
      expect(done.member).toMatchObject({ mfa_phone_number: phone, mfa_phone_number_verified: true });

      const rows = await listSms(server, phone);
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ mode: 'webhook', status: 'sent', attempts: 1, code: null, text: null, memberId: ada.member.member_id });
    });

    it("the receiver's check holds for the server's signature only: not with the body, id or timestamp altered, another key, or an old timestamp", async () => {
      const { receiver, server } = await start(() => ({ status: 200, text: 'ok' }));
      server.server.app.services.sms.deliver(CONTEXT, codeSms('+33612345679', '111222'));
      await settleSms(server);
      const [request] = receiver.requests as [ReceivedRequest];
      const parts = signedParts(request);
      const now = Math.floor(Date.now() / 1000);
      expect(verifyStandardWebhook(SECRET, parts, request.body, now)).toBe(true);
      expect(verifyStandardWebhook(SECRET, parts, request.body.replace('+33612345679', '+33600000000'), now)).toBe(false);
      expect(verifyStandardWebhook(`whsec_${randomBytes(32).toString('base64')}`, parts, request.body, now)).toBe(false);
      expect(verifyStandardWebhook(SECRET, { ...parts, id: 'sms-message-test-other' }, request.body, now)).toBe(false);
      // Ten minutes later the same request is a replay, outside the five-minute window.
      expect(verifyStandardWebhook(SECRET, parts, request.body, now + 600)).toBe(false);
      // A timestamp moved back into the window breaks the signature instead.
      expect(verifyStandardWebhook(SECRET, { ...parts, timestamp: String(now + 600) }, request.body, now + 600)).toBe(false);

      // A server configured with another secret is refused by this receiver (401), which fails the message for good.
      const other = await startTestServer({ store: store.name, config: { sms: { provider: 'webhook', webhook: { url: `${receiver.url}/hooks/sms`, secret: `whsec_${randomBytes(32).toString('base64')}` } } } });
      try {
        other.server.app.services.sms.deliver(CONTEXT, codeSms('+33612345691', '111333'));
        await settleSms(other);
        expect((await listSms(other, '+33612345691'))[0]).toMatchObject({ status: 'failed', attempts: 1, lastReply: 'HTTP 401: bad signature' });
      } finally {
        await other.stop();
      }
    });

    it('retries after a 500 and delivers once, with the same webhook-id', async () => {
      const { receiver, server } = await start((_request, index) => (index === 0 ? { status: 500, text: 'busy' } : { status: 200, json: { ok: true } }));
      server.server.app.services.sms.deliver(CONTEXT, codeSms('+33612345680', '333444'));
      await settleSms(server);
      expect(receiver.requests).toHaveLength(2);
      expect(receiver.requests[1]?.headers['webhook-id']).toBe(receiver.requests[0]?.headers['webhook-id']);
      const [recorded] = await listSms(server, '+33612345680');
      expect(recorded).toMatchObject({ status: 'sent', attempts: 2, lastReply: 'HTTP 200: {"ok":true}', code: null });
    });

    it('retries 429 and 408 too, and gives up after five attempts of 503', async () => {
      const { receiver, server } = await start((_request, index) => (index === 0 ? { status: 429 } : index === 1 ? { status: 408 } : { status: 503, text: 'down' }));
      server.server.app.services.sms.deliver(CONTEXT, codeSms('+33612345681', '555666'));
      await settleSms(server);
      expect(receiver.requests).toHaveLength(5);
      const [recorded] = await listSms(server, '+33612345681');
      expect(recorded).toMatchObject({ status: 'failed', attempts: 5, lastReply: 'HTTP 503: down' });
    });

    it('fails for good on a 400, visible in the outbox rows and logged without the code', async () => {
      const { receiver, server } = await start(() => ({ status: 400, json: { error: 'unknown number', echo: 'code 777888' } }));
      server.server.app.services.sms.deliver(CONTEXT, codeSms('+33612345682', '777888'));
      await settleSms(server);
      expect(receiver.requests).toHaveLength(1);
      const [recorded] = await listSms(server, '+33612345682');
      // The receiver echoed the code: it is not kept.
      expect(recorded).toMatchObject({ status: 'failed', attempts: 1, lastReply: 'HTTP 400: {"error":"unknown number","echo":"code [code]"}', code: null, text: null });
      const failure = logLines.map((line) => JSON.parse(line) as Record<string, unknown>).find((line) => line.msg === 'SMS delivery failed permanently');
      expect(failure).toMatchObject({ message_id: recorded?.messageId, to: '+33612345682', attempts: 1, member_id: 'member-test-1' });
      expect(logLines.join('\n')).not.toContain('777888');
    });

    it('stops without waiting for a pending retry, recording it as failed', async () => {
      receiver = await startHttpStandIn(() => ({ status: 503, text: 'later' }));
      server = await startTestServer({ store: store.name, config: { sms: { provider: 'webhook', webhook: { url: receiver.url, secret: SECRET } } }, smsRetryDelaysMs: [60_000] });
      const services = server.server.app.services;
      services.sms.deliver(CONTEXT, codeSms('+33612345686', '121212'));
      while ((await listSms(server, '+33612345686'))[0]?.attempts !== 1) await new Promise((resolve) => setTimeout(resolve, 10));
      const started = Date.now();
      await services.sms.close();
      expect(Date.now() - started).toBeLessThan(2000);
      expect((await listSms(server, '+33612345686'))[0]).toMatchObject({ status: 'failed', attempts: 1, lastReply: 'HTTP 503: later (not retried: the server stopped)' });
      expect(receiver.requests).toHaveLength(1);
    });

    it('erases the codes kept in the outbox when a restart configures a provider', async () => {
      const plain = await startTestServer({ store: store.name });
      try {
        plain.server.app.services.sms.deliver(CONTEXT, codeSms('+33612345683', '909090'));
        await settleSms(plain);
        expect((await listSms(plain, '+33612345683'))[0]?.code).toBe('909090');
        await plain.server.close();
        receiver = await startHttpStandIn(() => ({ status: 204 }));
        server = await startTestServer({ sharing: plain, config: { sms: { provider: 'webhook', webhook: { url: receiver.url, secret: SECRET } } } });
        const [kept] = await listSms(server, '+33612345683');
        expect(kept).toMatchObject({ mode: 'outbox', status: 'stored', code: null, text: null });
      } finally {
        await server?.stop();
        server = undefined;
        await plain.stop().catch(() => {});
      }
    });
  });
}

describe('the webhook transport', () => {
  it('counts a receiver that does not answer in time as a temporary failure', async () => {
    const receiver = await startHttpStandIn(() => 'hang');
    try {
      const transport = new WebhookTransport({ url: receiver.url, secret: SECRET }, { clock: systemClock, timeoutMs: 100 });
      const result = await transport.send({ messageId: 'sms-message-test-1', to: '+33612345684', body: 'x', locale: 'en', template: 'sms_otp', organizationId: null, memberId: null, expiresAt: '2030-01-01T00:00:00Z' });
      expect(result).toEqual({ ok: false, permanent: false, reply: 'no answer within 100 ms' });
    } finally {
      await receiver.close();
    }
  });

  it('counts a refused connection as a temporary failure', async () => {
    const receiver = await startHttpStandIn(() => ({ status: 204 }));
    await receiver.close();
    const transport = new WebhookTransport({ url: receiver.url, secret: SECRET }, { clock: systemClock, timeoutMs: 1000 });
    const result = await transport.send({ messageId: 'sms-message-test-2', to: '+33612345685', body: 'x', locale: 'en', template: 'sms_otp', organizationId: null, memberId: null, expiresAt: '2030-01-01T00:00:00Z' });
    expect(result).toMatchObject({ ok: false, permanent: false, reply: expect.stringMatching(/^ECONNREFUSED/) });
  });
});
