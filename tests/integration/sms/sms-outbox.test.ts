import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OutgoingSms, SmsLocale } from '../../../src/domain/sms/outgoing-sms.js';
import { listSms, settleSms, waitForSms } from '../../support/sms.js';
import { STORES } from '../../support/stores.js';
import { startTestServer, type TestServer } from '../../support/test-server.js';

const CONTEXT = { requestId: 'request-test-sms-outbox', actor: { type: 'system' } } as const;

function codeSms(to: string, code: string, locale: SmsLocale = 'en'): OutgoingSms {
  return {
    template: 'sms_otp',
    to,
    locale,
    code,
    expiresAt: new Date(Date.now() + 2 * 60_000).toISOString(),
    organizationName: 'Acme Corp',
    organizationId: 'organization-test-1',
    memberId: 'member-test-1',
  };
}

for (const store of STORES) {
  describe(`the SMS outbox on ${store.name}`, () => {
    let server: TestServer;

    beforeAll(async () => {
      server = await startTestServer({ store: store.name });
    });

    afterAll(async () => {
      await server.stop();
    });

    it('keeps the text and the code of each message when no provider is configured', async () => {
      const services = server.server.app.services;
      expect(services.smsOutbox.mode).toBe('outbox');
      services.sms.deliver(CONTEXT, codeSms('+14155550100', '123456'));
      const sms = await waitForSms(server, '+14155550100');
      expect(sms).toMatchObject({
        mode: 'outbox',
        status: 'stored',
        template: 'sms_otp',
        locale: 'en',
        to: '+14155550100',
        code: '123456',
        text: 'Your Acme Corp verification code is 123456. It expires in 2 minutes.',
        organizationId: 'organization-test-1',
        memberId: 'member-test-1',
        requestId: 'request-test-sms-outbox',
        attempts: 0,
        lastReply: null,
      });
      expect(await services.smsOutbox.find(sms.messageId)).toEqual(sms);
    });

    it('words the message in the requested locale', async () => {
      const services = server.server.app.services;
      const expected: Record<SmsLocale, string> = {
        en: 'Your Acme Corp verification code is 000001. It expires in 2 minutes.',
        es: 'Tu código de verificación de Acme Corp es 000002. Caduca en 2 minutos.',
        'pt-br': 'Seu código de verificação de Acme Corp é 000003. Ele expira em 2 minutos.',
        fr: 'Votre code de vérification Acme Corp est 000004. Il expire dans 2 minutes.',
        it: 'Il tuo codice di verifica Acme Corp è 000005. Scade tra 2 minuti.',
        'de-DE': 'Ihr Bestätigungscode für Acme Corp lautet 000006. Er läuft in 2 Minuten ab.',
        'zh-Hans': '您的 Acme Corp 验证码是 000007，2 分钟后过期。',
        'ca-ES': "El teu codi de verificació de Acme Corp és 000008. Caduca d'aquí a 2 minuts.",
      };
      const locales = Object.keys(expected) as SmsLocale[];
      for (const [index, locale] of locales.entries()) services.sms.deliver(CONTEXT, codeSms(`+3361234560${index}`, `00000${index + 1}`, locale));
      await settleSms(server);
      for (const [index, locale] of locales.entries()) {
        const [sms] = await listSms(server, `+3361234560${index}`);
        expect(sms?.text).toBe(expected[locale]);
      }
    });

    it('lists newest first, filtered by number and limited', async () => {
      const services = server.server.app.services;
      services.sms.deliver(CONTEXT, codeSms('+447700900001', '111111'));
      await settleSms(server);
      services.sms.deliver(CONTEXT, codeSms('+447700900001', '222222'));
      services.sms.deliver(CONTEXT, codeSms('+447700900002', '333333'));
      await settleSms(server);
      expect((await services.smsOutbox.list({ to: '+447700900001' })).map((sms) => sms.code)).toEqual(['222222', '111111']);
      expect(await services.smsOutbox.list({ to: '+447700900001', limit: 1 })).toHaveLength(1);
      expect((await services.smsOutbox.list({ limit: 2 })).map((sms) => sms.to)).toEqual(['+447700900002', '+447700900001']);
      expect(await services.smsOutbox.find('sms-message-test-00000000-0000-4000-8000-000000000000')).toBeUndefined();
    });

    it('keeps only the newest messages when pruned', async () => {
      const services = server.server.app.services;
      for (let index = 0; index < 5; index++) services.sms.deliver(CONTEXT, codeSms('+14155550177', `00000${index}`));
      await settleSms(server);
      await server.server.store.smsOutbox.pruneMessages(3);
      expect((await listSms(server, '+14155550177')).map((sms) => sms.code)).toEqual(['000004', '000003', '000002']);
    });

    it('keeps a control character in the organization name out of the text', async () => {
      const services = server.server.app.services;
      services.sms.deliver(CONTEXT, { ...codeSms('+14155550199', '654321'), organizationName: 'Evil\nCorp\u0007' });
      const sms = await waitForSms(server, '+14155550199');
      expect(sms.text).toBe('Your Evil Corp verification code is 654321. It expires in 2 minutes.');
    });

    it('drops invisible format characters from the organization name: a right-to-left override cannot reorder the text, zero-width ones cannot hide in it', async () => {
      const services = server.server.app.services;
      // U+202E would show what follows backwards ("... code is 123456" read as another code or sender); U+200B, U+2060, U+FEFF, U+00AD are invisible.
      services.sms.deliver(CONTEXT, { ...codeSms('+14155550198', '246810'), organizationName: 'Ev\u200bil\u2060 Co\u00adrp\u202e \ufeffBank\u202c' });
      const sms = await waitForSms(server, '+14155550198');
      expect(sms.text).toBe('Your Evil Corp Bank verification code is 246810. It expires in 2 minutes.');
      expect(sms.text).not.toMatch(/\p{Cf}/u);
    });
  });
}
