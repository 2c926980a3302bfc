import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { OutgoingSms } from '../../../src/domain/sms/outgoing-sms.js';
import { ManualClock, systemClock } from '../../../src/platform/clock.js';
import { WebhookTransport } from '../../../src/sms/webhook-transport.js';
import { listSms, settleSms } from '../../support/sms.js';
import { STORES } from '../../support/stores.js';
import { startTestServer, type TestServer } from '../../support/test-server.js';
import { startHttpStandIn, type HttpStandIn } from './http-stand-in.js';

/**
 * What bounds SMS delivery besides its retries: a code is never sent once it expired (a retry after
 * a failure that outlived it, or a first attempt that came too late), and a provider's answer is
 * read only so far, whatever it sends.
 */
const CONTEXT = { requestId: 'request-test-sms-bounds', actor: { type: 'system' } } as const;
const SECRET = `whsec_${randomBytes(32).toString('base64')}`;

function codeSms(to: string, expiresAt: Date): OutgoingSms {
  return {
    template: 'sms_otp',
    to,
    locale: 'en',
    code: '424242',
    expiresAt: expiresAt.toISOString(),
    organizationName: 'Acme Corp',
    organizationId: 'organization-test-1',
    memberId: 'member-test-1',
  };
}

for (const store of STORES) {
  describe(`SMS past its code's expiry on ${store.name}`, () => {
    let provider: HttpStandIn | undefined;
    let server: TestServer | undefined;

    afterEach(async () => {
      await server?.stop();
      await provider?.close();
      server = undefined;
      provider = undefined;
    });

    /** `onAttempt` runs as the provider receives each attempt, before it answers 500. */
    async function start(clock: ManualClock, onAttempt: () => void = () => {}): Promise<{ provider: HttpStandIn; server: TestServer }> {
      provider = await startHttpStandIn(() => {
        onAttempt();
        return { status: 500, text: 'busy' };
      });
      server = await startTestServer({ store: store.name, clock, config: { sms: { provider: 'webhook', webhook: { url: provider.url, secret: SECRET } } }, smsRetryDelaysMs: [50, 50] });
      return { provider, server };
    }

    it('is not retried once the code expired: failed, with the reply saying so', async () => {
      const clock = new ManualClock(new Date());
      // The provider takes the code's whole lifetime to answer its first attempt (with a 500).
      const { provider, server } = await start(clock, () => clock.advance(2 * 60_000));
      const to = '+14155550401';
      server.server.app.services.sms.deliver(CONTEXT, codeSms(to, new Date(clock.now().getTime() + 2 * 60_000)));
      await settleSms(server);
      expect(provider.requests).toHaveLength(1);
      expect((await listSms(server, to))[0]).toMatchObject({ status: 'failed', attempts: 1, lastReply: 'expired before it could be sent' });
    });

    it('is not sent at all when the code expired before the first attempt', async () => {
      const clock = new ManualClock(new Date());
      const { provider, server } = await start(clock);
      const to = '+14155550402';
      server.server.app.services.sms.deliver(CONTEXT, codeSms(to, new Date(clock.now().getTime() - 1_000)));
      await settleSms(server);
      expect(provider.requests).toEqual([]);
      expect((await listSms(server, to))[0]).toMatchObject({ status: 'failed', attempts: 0, lastReply: 'expired before it could be sent' });
    });
  });
}

describe("a provider's answer", () => {
  it('is read only so far: a body that never ends is cut off, and its status still decides', async () => {
    const provider = await startHttpStandIn(() => ({ status: 503, endless: 'x'.repeat(16_384) }));
    try {
      const transport = new WebhookTransport({ url: provider.url, secret: SECRET }, { clock: systemClock, timeoutMs: 5_000 });
      const started = Date.now();
      const result = await transport.send({ messageId: 'sms-message-test-1', to: '+14155550403', body: 'x', locale: 'en', template: 'sms_otp', organizationId: null, memberId: null, expiresAt: '2030-01-01T00:00:00Z' });
      // Read in full (or until the timeout) it would be "no answer within 5000 ms".
      expect(result).toEqual({ ok: false, permanent: false, reply: `HTTP 503: ${'x'.repeat(490)}…` });
      expect(Date.now() - started).toBeLessThan(2_000);
    } finally {
      await provider.close();
    }
  });
});
