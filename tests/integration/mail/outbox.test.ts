import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OutgoingEmail } from '../../../src/domain/mail/outgoing-email.js';
import { linkToken, listEmails, settleEmails, waitForEmail } from '../../support/outbox.js';
import { startSmtpTestServer } from '../../support/smtp-test-server.js';
import { STORES } from '../../support/stores.js';
import { startTestServer, type TestServer } from '../../support/test-server.js';

const CONTEXT = { requestId: 'request-test-outbox', actor: { type: 'system' } } as const;

function loginEmail(to: string, overrides: Partial<OutgoingEmail> = {}): OutgoingEmail {
  return {
    template: 'login',
    to,
    locale: 'en',
    link: 'http://localhost:3000/authenticate?stytch_token_type=multi_tenant_magic_links&token=tok-123',
    expiresAt: new Date(Date.now() + 60 * 60_000).toISOString(),
    organizationName: 'Acme',
    organizationId: 'organization-test-1',
    memberId: 'member-test-1',
    ...overrides,
  };
}

for (const store of STORES) {
  describe(`mail outbox (no SMTP configured) on ${store.name}`, () => {
    let server: TestServer;
    beforeAll(async () => {
      server = await startTestServer({ store: store.name, config: { projectName: 'Acme Cloud' } });
    });
    afterAll(async () => {
      await server?.stop();
    });

    it('keeps a delivered magic link, rendered, where the helpers and a second reader find it', async () => {
      const deliver = server.server.app.services.mail.deliver(CONTEXT, loginEmail('Ada@Example.com'));
      expect(deliver).toBeUndefined();
      const email = await waitForEmail(server, 'ada@example.com', { template: 'login' });
      expect(email).toMatchObject({ to: 'Ada@Example.com', template: 'login', locale: 'en', organizationId: 'organization-test-1', memberId: 'member-test-1' });
      expect(email.subject).toBe('Your sign-in link for Acme on Acme Cloud');
      expect(email.text).toContain(email.link);
      expect(email.html).toContain('href="http://localhost:3000/authenticate?stytch_token_type=multi_tenant_magic_links&#38;token=tok-123"');
      expect(email.code).toBeUndefined();
      expect(linkToken(email.link as string)).toBe('tok-123');
      expect(server.server.app.services.outbox.mode).toBe('outbox');
      const [stored] = await server.server.app.services.outbox.list({ to: 'ada@example.com' });
      expect(stored).toMatchObject({ mode: 'outbox', status: 'stored', attempts: 0, requestId: 'request-test-outbox', lastReply: null });
    });

    it('keeps a one-time code, and returns the newest message first; `after` waits for a newer one', async () => {
      const to = 'grace@example.com';
      const mail = server.server.app.services.mail;
      mail.deliver(CONTEXT, { ...loginEmail(to), template: 'otp_login', link: undefined, code: '123456' });
      const first = await waitForEmail(server, to);
      expect(first).toMatchObject({ template: 'otp_login', code: '123456' });
      expect(first.link).toBeUndefined();
      expect(first.text).toContain('123456');
      mail.deliver(CONTEXT, { ...loginEmail(to), template: 'otp_login', link: undefined, code: '654321' });
      const second = await waitForEmail(server, to, { after: first });
      expect(second.code).toBe('654321');
      await settleEmails(server);
      expect((await listEmails(server, to)).map((email) => email.code)).toEqual(['654321', '123456']);
      await expect(waitForEmail(server, to, { after: second, timeoutMs: 100 })).rejects.toThrow(/no email to grace@example.com arrived in time/);
    });

    it('erases the links, codes and bodies kept in the outbox when the server next starts with SMTP', async () => {
      server.server.app.services.mail.deliver(CONTEXT, loginEmail('kept@example.com'));
      server.server.app.services.mail.deliver(CONTEXT, loginEmail('kept@example.com', { template: 'otp_login', link: undefined, code: '246810' }));
      await settleEmails(server);
      const smtp = await startSmtpTestServer();
      const restarted = await startTestServer({ store: store.name, sharing: server, config: { smtpUrl: smtp.url, smtpFrom: 'login@acme.example' } });
      try {
        const kept = await restarted.server.app.services.outbox.list({ to: 'kept@example.com' });
        expect(kept).toHaveLength(2);
        for (const message of kept) expect(message).toMatchObject({ mode: 'outbox', link: null, code: null, text: null, html: null });
      } finally {
        await restarted.stop();
        await smtp.close();
      }
    });

    it('keeps only the newest messages when pruned', async () => {
      const to = 'prune@example.com';
      for (let index = 0; index < 5; index++) server.server.app.services.mail.deliver(CONTEXT, { ...loginEmail(to), link: `http://localhost:3000/a?token=t${index}` });
      await settleEmails(server);
      await server.server.store.mailOutbox.pruneMessages(3);
      const all = await listEmails(server);
      expect(all.map((email) => email.link)).toEqual(['http://localhost:3000/a?token=t4', 'http://localhost:3000/a?token=t3', 'http://localhost:3000/a?token=t2']);
    });
  });
}
