import { afterEach, describe, expect, it } from 'vitest';
import type { OutgoingSms } from '../../../src/domain/sms/outgoing-sms.js';
import type { TwilioSettings } from '../../../src/sms/sms-settings.js';
import { createLogger } from '../../../src/platform/logger.js';
import { expectStytchRejection } from '../../support/openapi.js';
import { listSms, settleSms } from '../../support/sms.js';
import { STORES } from '../../support/stores.js';
import { startTestServer, type TestServer } from '../../support/test-server.js';
import { createMfaOrganization, newMemberSignedIn } from '../../conformance/stytch-sdk/mfa-fixtures.js';
import { startHttpStandIn, type Answer, type HttpStandIn, type ReceivedRequest } from './http-stand-in.js';

const CONTEXT = { requestId: 'request-test-sms-twilio', actor: { type: 'system' } } as const;
const ACCOUNT_SID = 'AC0123456789abcdef0123456789abcdef';
const AUTH_TOKEN = 'twilio-auth-token-for-tests';
const FROM = '+15005550006';
const SERVICE_SID = 'MG0123456789abcdef0123456789abcdef';

function codeSms(to: string, code: string): OutgoingSms {
  return {
    template: 'sms_otp',
    to,
    locale: 'de-DE',
    code,
    expiresAt: new Date(Date.now() + 2 * 60_000).toISOString(),
    organizationName: 'Acme & Co',
    organizationId: 'organization-test-1',
    memberId: 'member-test-1',
  };
}

/**
 * Twilio's Messages API as documented: POST /2010-04-01/Accounts/{AccountSid}/Messages.json, Basic
 * AccountSid:AuthToken, a form body with To, From (or MessagingServiceSid) and Body. Anything else
 * gets Twilio-shaped errors (401 20003, 404 20404, 400 21604) before the scripted answer.
 */
function twilioStandIn(script: (form: URLSearchParams, index: number) => Answer): (request: ReceivedRequest, index: number) => Answer {
  return (request, index) => {
    const expected = `Basic ${Buffer.from(`${ACCOUNT_SID}:${AUTH_TOKEN}`).toString('base64')}`;
    if (request.headers.authorization !== expected) return { status: 401, json: { code: 20003, message: 'Authenticate', more_info: 'https://www.twilio.com/docs/errors/20003', status: 401 } };
    if (request.method !== 'POST' || request.path !== `/2010-04-01/Accounts/${ACCOUNT_SID}/Messages.json`) return { status: 404, json: { code: 20404, message: 'Not found', status: 404 } };
    if (request.headers['content-type'] !== 'application/x-www-form-urlencoded') return { status: 400, json: { code: 21604, message: 'not a form', status: 400 } };
    const form = new URLSearchParams(request.body);
    if (!form.get('To') || !form.get('Body') || !(form.get('From') || form.get('MessagingServiceSid'))) return { status: 400, json: { code: 21604, message: 'A To, From and Body are required', status: 400 } };
    return script(form, index);
  };
}

const CREATED = (sid: string): Answer => ({ status: 201, json: { sid, status: 'queued', account_sid: ACCOUNT_SID, to: '+4915112345678', body: 'kept by Twilio' } });

for (const store of STORES) {
  describe(`SMS through a Twilio-shaped API on ${store.name}`, () => {
    let twilio: HttpStandIn | undefined;
    let server: TestServer | undefined;
    let logLines: string[] = [];

    async function start(script: (form: URLSearchParams, index: number) => Answer, sender: Pick<TwilioSettings, 'from' | 'messagingServiceSid'> = { from: FROM }) {
      twilio = await startHttpStandIn(twilioStandIn(script));
      logLines = [];
      server = await startTestServer({
        store: store.name,
        config: { sms: { provider: 'twilio', twilio: { accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN, baseUrl: `${twilio.url}/`, ...sender } } },
        logger: createLogger('info', { write: (line: string) => logLines.push(line) }),
      });
      return { twilio, server };
    }

    afterEach(async () => {
      await server?.stop();
      await twilio?.close();
      server = undefined;
      twilio = undefined;
    });

    it('sends To, From and Body as a form with Basic credentials, and records the message sid', async () => {
      const { twilio, server } = await start(() => CREATED('SM0123456789abcdef0123456789abcdef'));
      const services = server.server.app.services;
      expect(services.smsOutbox.mode).toBe('twilio');
      services.sms.deliver(CONTEXT, codeSms('+4915112345678', '246810'));
      await settleSms(server);
      expect(twilio.requests).toHaveLength(1);
      const form = new URLSearchParams(twilio.requests[0]?.body);
      expect([...form.keys()].sort()).toEqual(['Body', 'From', 'To']);
      expect(form.get('To')).toBe('+4915112345678');
      expect(form.get('From')).toBe(FROM);
      expect(form.get('Body')).toBe('Ihr Bestätigungscode für Acme & Co lautet 246810. Er läuft in 2 Minuten ab.');
      const [recorded] = await listSms(server, '+4915112345678');
      expect(recorded).toMatchObject({ mode: 'twilio', status: 'sent', attempts: 1, lastReply: '201 SM0123456789abcdef0123456789abcdef (queued)', code: null, text: null });
    });

    it('a code otps.sms.send sends reaches Twilio in the Body, and that code completes the MFA sign-in', async () => {
      const { twilio, server } = await start(() => CREATED('SMdddd'));
      const client = server.client;
      const ada = await newMemberSignedIn(client, await createMfaOrganization(client));
      const target = { organization_id: ada.member.organization_id, member_id: ada.member.member_id };
      const phone = '+4915112345690';
      await client.otps.sms.send({ ...target, mfa_phone_number: phone, locale: 'de-DE', intermediate_session_token: ada.intermediateSessionToken });
      await settleSms(server);

      // Only well-formed, authenticated requests get past the stand-in to the scripted 201.
      expect(twilio.requests).toHaveLength(1);
      const form = new URLSearchParams(twilio.requests[0]?.body);
      expect(form.get('To')).toBe(phone);
      const code = /Bestätigungscode für .* lautet (\d{6})\./.exec(form.get('Body') ?? '')?.[1] as string;
      expect(code).toMatch(/^\d{6}$/);
      const wrong = code === '000000' ? '111111' : '000000';
      await expectStytchRejection(client.otps.sms.authenticate({ ...target, code: wrong, intermediate_session_token: ada.intermediateSessionToken }), { status: 401, errorType: 'unable_to_auth_otp_code' });
      const done = await client.otps.sms.authenticate({ ...target, code, intermediate_session_token: ada.intermediateSessionToken });
      expect(done.session_token).not.toBe('');
      expect(done.member_session?.authentication_factors.map((factor) => factor.type)).toEqual(['password', 'otp']);
      expect(done.member).toMatchObject({ mfa_phone_number: phone, mfa_phone_number_verified: true });

      const rows = await listSms(server, phone);
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ mode: 'twilio', status: 'sent', attempts: 1, lastReply: '201 SMdddd (queued)', code: null, text: null, locale: 'de-DE' });
    });

    it('names the messaging service instead of a number when configured so', async () => {
      const { twilio, server } = await start(() => CREATED('SMaaaa'), { messagingServiceSid: SERVICE_SID });
      server.server.app.services.sms.deliver(CONTEXT, codeSms('+4915112345679', '135790'));
      await settleSms(server);
      const form = new URLSearchParams(twilio.requests[0]?.body);
      expect(form.get('MessagingServiceSid')).toBe(SERVICE_SID);
      expect(form.has('From')).toBe(false);
      expect((await listSms(server, '+4915112345679'))[0]).toMatchObject({ status: 'sent', lastReply: '201 SMaaaa (queued)' });
    });

    it('retries a 429 and a 500, then records the sid of the one accepted message', async () => {
      const { twilio, server } = await start((_form, index) =>
        index === 0
          ? { status: 429, json: { code: 20429, message: 'Too Many Requests', status: 429 } }
          : index === 1
            ? { status: 500, json: { code: 20500, message: 'Internal Server Error', status: 500 } }
            : CREATED('SMbbbb'),
      );
      server.server.app.services.sms.deliver(CONTEXT, codeSms('+4915112345680', '864200'));
      await settleSms(server);
      expect(twilio.requests).toHaveLength(3);
      expect((await listSms(server, '+4915112345680'))[0]).toMatchObject({ status: 'sent', attempts: 3, lastReply: '201 SMbbbb (queued)' });
    });

    it('fails for good on 400 21211, the reply visible in the outbox rows and the log', async () => {
      const { twilio, server } = await start(() => ({
        status: 400,
        json: { code: 21211, message: "Invalid 'To' Phone Number: +4915112345681", more_info: 'https://www.twilio.com/docs/errors/21211', status: 400 },
      }));
      server.server.app.services.sms.deliver(CONTEXT, codeSms('+4915112345681', '975310'));
      await settleSms(server);
      expect(twilio.requests).toHaveLength(1);
      const [recorded] = await listSms(server, '+4915112345681');
      expect(recorded).toMatchObject({
        status: 'failed',
        attempts: 1,
        lastReply: "400 21211: Invalid 'To' Phone Number: +4915112345681 (https://www.twilio.com/docs/errors/21211)",
        code: null,
        text: null,
      });
      const failure = logLines.map((line) => JSON.parse(line) as Record<string, unknown>).find((line) => line.msg === 'SMS delivery failed permanently');
      expect(failure).toMatchObject({ message_id: recorded?.messageId, attempts: 1, provider_reply: recorded?.lastReply });
      expect(logLines.join('\n')).not.toContain('975310');
      expect(logLines.join('\n')).not.toContain(AUTH_TOKEN);
    });

    it('fails for good when the credentials are refused (401)', async () => {
      twilio = await startHttpStandIn(twilioStandIn(() => CREATED('SMcccc')));
      server = await startTestServer({ store: store.name, config: { sms: { provider: 'twilio', twilio: { accountSid: ACCOUNT_SID, authToken: 'wrong', from: FROM, baseUrl: twilio.url } } } });
      server.server.app.services.sms.deliver(CONTEXT, codeSms('+4915112345682', '123123'));
      await settleSms(server);
      expect(twilio.requests).toHaveLength(1);
      expect((await listSms(server, '+4915112345682'))[0]).toMatchObject({ status: 'failed', attempts: 1, lastReply: '401 20003: Authenticate (https://www.twilio.com/docs/errors/20003)' });
    });
  });
}
