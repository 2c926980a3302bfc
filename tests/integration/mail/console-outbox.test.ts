import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { OutgoingEmail } from '../../../src/domain/mail/outgoing-email.js';
import { type ConsoleHarness, startConsoleHarness } from '../console/console-harness.js';
import { settleEmails } from '../../support/outbox.js';
import { failAlways, startSmtpTestServer, type SmtpTestServer } from '../../support/smtp-test-server.js';
import { STORES } from '../../support/stores.js';

const CONTEXT = { requestId: 'request-test-console-outbox', actor: { type: 'system' } } as const;
const NOT_ALLOWED = 'Your role does not allow this.';

function email(overrides: Partial<OutgoingEmail>): OutgoingEmail {
  return {
    template: 'login',
    to: 'ada@example.com',
    locale: 'en',
    expiresAt: '2026-03-02T10:00:00Z',
    organizationName: 'Acme <b>bold</b>',
    organizationId: 'organization-test-1',
    memberId: 'member-test-1',
    ...overrides,
  };
}

for (const store of STORES) {
  describe(`console outbox page (outbox mode) on ${store.name}`, () => {
    let harness: ConsoleHarness;
    beforeAll(async () => {
      harness = await startConsoleHarness({ store: store.name });
      const mail = harness.server.server.app.services.mail;
      mail.deliver(CONTEXT, email({ link: 'http://localhost:3000/authenticate?stytch_token_type=multi_tenant_magic_links&token=tok-abc' }));
      mail.deliver(CONTEXT, email({ template: 'otp_login', to: 'grace@example.com', code: '314159' }));
      mail.deliver(CONTEXT, email({ to: 'mallory@example.com', link: 'javascript:alert(1)' }));
      await settleEmails(harness.server);
    });
    afterAll(() => harness.stop());

    it('shows admins every message, newest first, the link clickable and the code readable, values escaped', async () => {
      const admin = await harness.signedIn(await harness.createOperator('admin'));
      const response = await admin.get('/console/outbox');
      expect(response.status).toBe(200);
      expect(response.text).toContain('href="/console/outbox" aria-current="page">Outbox</a>');
      expect(response.text).toContain('No SMTP server is configured');
      expect(response.text).toContain(
        '<a class="token" href="http://localhost:3000/authenticate?stytch_token_type=multi_tenant_magic_links&#38;token=tok-abc" rel="noreferrer noopener">',
      );
      expect(response.text).toContain('<span class="token">314159</span>');
      expect(response.text).toContain('Your sign-in link for Acme &#60;b&#62;bold&#60;/b&#62; on Understudy');
      expect(response.text).not.toContain('<b>bold</b>');
      expect(response.text).not.toContain('href="javascript:');
      const order = ['mallory@example.com', 'grace@example.com', 'ada@example.com'].map((to) => response.text.indexOf(`<td>${to}</td>`));
      expect(order.every((position) => position > 0)).toBe(true);
      expect([...order].sort((a, b) => a - b)).toEqual(order);
    });

    it('filters by recipient, and shows one message with its text body', async () => {
      const admin = await harness.signedIn(await harness.createOperator('admin'));
      const filtered = await admin.get('/console/outbox?to=GRACE@example.com');
      expect(filtered.text).toContain('314159');
      expect(filtered.text).not.toContain('tok-abc');
      const detailPath = /href="(\/console\/outbox\/mail-message-[^"]+)"/.exec(filtered.text)?.[1];
      expect(detailPath).toBeDefined();
      const detail = await admin.get(detailPath as string);
      expect(detail.status).toBe(200);
      expect(detail.text).toContain('Plain-text body');
      expect(detail.text).toContain('Enter this code to sign in to Acme &#60;b&#62;bold&#60;/b&#62; on Understudy:');
      expect((await admin.get('/console/outbox/mail-message-test-00000000-0000-7000-8000-000000000000')).status).toBe(404);
    });

    it('is for admins only: support and viewers get 403 and no link to it', async () => {
      for (const role of ['support', 'viewer'] as const) {
        const browser = await harness.signedIn(await harness.createOperator(role));
        const organizations = await browser.get('/console/organizations');
        expect(organizations.text).not.toContain('href="/console/outbox"');
        const list = await browser.get('/console/outbox');
        expect(list.status).toBe(403);
        expect(list.text).toContain(NOT_ALLOWED);
        expect(list.text).not.toContain('tok-abc');
        const detail = await browser.get('/console/outbox/anything');
        expect(detail.status).toBe(403);
      }
      const anonymous = await harness.browser().get('/console/outbox');
      expect(anonymous.status).toBe(303);
      expect(anonymous.location).toBe('/console/login?next=%2Fconsole%2Foutbox');
    });
  });

  describe(`console outbox page (SMTP mode) on ${store.name}`, () => {
    let smtp: SmtpTestServer;
    let harness: ConsoleHarness;
    beforeAll(async () => {
      smtp = await startSmtpTestServer({ script: failAlways(550) });
      harness = await startConsoleHarness({ store: store.name, config: { smtpUrl: smtp.url, smtpFrom: 'login@acme.example' } });
    });
    afterAll(async () => {
      await harness.stop();
      await smtp.close();
    });
    afterEach(() => settleEmails(harness.server));

    it('shows a permanent failure with the server reply, and no link', async () => {
      harness.server.server.app.services.mail.deliver(CONTEXT, email({ to: 'gone@example.com', link: 'http://localhost:3000/authenticate?token=tok-smtp' }));
      await settleEmails(harness.server);
      const admin = await harness.signedIn(await harness.createOperator('admin'));
      const response = await admin.get('/console/outbox');
      expect(response.text).toContain('sent through the configured SMTP server');
      expect(response.text).toContain('<span class="badge warn">failed</span>');
      expect(response.text).toContain('550 test server refuses this message');
      expect(response.text).toContain('not kept (sent by SMTP)');
      expect(response.text).not.toContain('tok-smtp');
    });
  });
}
