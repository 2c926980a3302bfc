import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { OutgoingEmail } from '../../../src/domain/mail/outgoing-email.js';
import { SmtpTransport } from '../../../src/mail/smtp-transport.js';
import { createLogger } from '../../../src/platform/logger.js';
import { failAlways, failFirst, startSmtpTestServer, type SmtpTestServer, type SmtpTestServerOptions } from '../../support/smtp-test-server.js';
import { STORES } from '../../support/stores.js';
import { startTestServer, type TestServer } from '../../support/test-server.js';
import { makeSelfSignedCertificate, type SelfSignedCertificate } from '../../support/tls.js';

const CONTEXT = { requestId: 'request-test-smtp', actor: { type: 'system' } } as const;
const TOKEN = 'secret-token-value-123';

function inviteEmail(to: string): OutgoingEmail {
  return {
    template: 'invite',
    to,
    locale: 'fr',
    link: `http://localhost:3000/authenticate?stytch_token_type=multi_tenant_magic_links&token=${TOKEN}`,
    expiresAt: new Date(Date.now() + 7 * 24 * 60 * 60_000).toISOString(),
    organizationName: 'Acmé',
    inviterName: 'Ada',
    organizationId: 'organization-test-1',
    memberId: 'member-test-1',
  };
}

for (const store of STORES) {
  describe(`SMTP delivery on ${store.name}`, () => {
    let smtp: SmtpTestServer | undefined;
    let server: TestServer | undefined;
    let logLines: string[] = [];

    async function start(smtpOptions: SmtpTestServerOptions, config: { smtpUrl?: string } = {}, retryDelaysMs?: readonly number[]): Promise<{ smtp: SmtpTestServer; server: TestServer }> {
      smtp = await startSmtpTestServer(smtpOptions);
      logLines = [];
      server = await startTestServer({
        store: store.name,
        config: { smtpUrl: config.smtpUrl ?? smtp.url, smtpFrom: 'Acme <login@acme.example>', smtpReplyTo: 'help@acme.example', projectName: 'Acme Cloud' },
        logger: createLogger('info', { write: (line: string) => logLines.push(line) }),
        ...(retryDelaysMs && { mailRetryDelaysMs: retryDelaysMs }),
      });
      return { smtp, server };
    }

    afterEach(async () => {
      await server?.stop();
      await smtp?.close();
      server = undefined;
      smtp = undefined;
    });

    it('sends the rendered message and records only its status', async () => {
      const { smtp, server } = await start({});
      const services = server.server.app.services;
      expect(services.outbox.mode).toBe('smtp');
      services.mail.deliver(CONTEXT, inviteEmail('ada@example.com'));
      const [message] = await smtp.waitForMessages(1);
      expect(message?.to).toEqual(['ada@example.com']);
      expect(message?.from).toBe('login@acme.example');
      expect(message?.headers.get('from')).toBe('Acme <login@acme.example>');
      expect(message?.headers.get('reply-to')).toBe('help@acme.example');
      expect(message?.subject).toBe('Ada vous invite à rejoindre Acmé sur Acme Cloud');
      expect(message?.text).toContain(`token=${TOKEN}`);
      expect(message?.text).toContain('expire dans 7 jours');
      expect(message?.html).toContain(`&#38;token=${TOKEN}"`);
      expect(message?.secure).toBe(false);

      await services.mail.idle();
      const [recorded] = await services.outbox.list({ to: 'ada@example.com' });
      expect(recorded).toMatchObject({ mode: 'smtp', status: 'sent', attempts: 1, template: 'invite', subject: message?.subject, organizationId: 'organization-test-1', memberId: 'member-test-1' });
      expect(recorded?.lastReply).toMatch(/^250/);
      // Neither the link nor the bodies are kept when a real server delivers.
      expect(recorded).toMatchObject({ link: null, code: null, text: null, html: null });
    });

    it('retries a temporary failure (421) and delivers exactly once', async () => {
      const { smtp, server } = await start({ script: failFirst(2, 421) });
      const services = server.server.app.services;
      services.mail.deliver(CONTEXT, inviteEmail('grace@example.com'));
      await services.mail.idle();
      expect(smtp.attempts).toBe(3);
      expect(smtp.messages).toHaveLength(1);
      const [recorded] = await services.outbox.list({ to: 'grace@example.com' });
      expect(recorded).toMatchObject({ status: 'sent', attempts: 3 });
      expect(logLines.join('')).not.toContain('failed permanently');
    });

    it('does not retry a permanent failure (550): failed, readable, logged without the link', async () => {
      const { smtp, server } = await start({ script: failAlways(550) });
      const services = server.server.app.services;
      services.mail.deliver(CONTEXT, inviteEmail('nobody@example.com'));
      await services.mail.idle();
      expect(smtp.attempts).toBe(1);
      expect(smtp.messages).toHaveLength(0);
      const [recorded] = await services.outbox.list({ to: 'nobody@example.com' });
      expect(recorded).toMatchObject({ status: 'failed', attempts: 1 });
      expect(recorded?.lastReply).toMatch(/^550 /);
      const failure = logLines.map((line) => JSON.parse(line) as Record<string, unknown>).find((line) => line.msg === 'email delivery failed permanently');
      expect(failure).toMatchObject({ level: 50, template: 'invite', to: 'nobody@example.com', attempts: 1, organization_id: 'organization-test-1', request_id: 'request-test-smtp' });
      expect(String(failure?.smtp_reply)).toMatch(/^550 /);
      expect(logLines.join('')).not.toContain(TOKEN);
    });

    it('gives up after five attempts of temporary failures', async () => {
      const { smtp, server } = await start({ script: failAlways(451) });
      const services = server.server.app.services;
      services.mail.deliver(CONTEXT, inviteEmail('busy@example.com'));
      await services.mail.idle();
      expect(smtp.attempts).toBe(5);
      const [recorded] = await services.outbox.list({ to: 'busy@example.com' });
      expect(recorded).toMatchObject({ status: 'failed', attempts: 5 });
      expect(recorded?.lastReply).toMatch(/^451 /);
    });

    it('retries when the server cannot be reached, then records the connection error', async () => {
      const closed = await startSmtpTestServer();
      const url = closed.url;
      await closed.close();
      const { server } = await start({}, { smtpUrl: url });
      const services = server.server.app.services;
      services.mail.deliver(CONTEXT, inviteEmail('offline@example.com'));
      await services.mail.idle();
      const [recorded] = await services.outbox.list({ to: 'offline@example.com' });
      expect(recorded).toMatchObject({ status: 'failed', attempts: 5 });
      expect(recorded?.lastReply).toMatch(/ECONNREFUSED|ECONNECTION/);
    });

    it('authenticates with the credentials in the URL; refused credentials fail at once', async () => {
      const first = await start({ auth: { user: 'mailer', pass: 'p@ss word' } });
      first.server.server.app.services.mail.deliver(CONTEXT, inviteEmail('auth@example.com'));
      const [message] = await first.smtp.waitForMessages(1);
      expect(message?.user).toBe('mailer');
      await first.server.stop();

      const wrong = await startTestServer({
        store: store.name,
        config: { smtpUrl: first.smtp.url.replace(encodeURIComponent('p@ss word'), 'wrong'), smtpFrom: 'login@acme.example' },
      });
      server = wrong;
      wrong.server.app.services.mail.deliver(CONTEXT, inviteEmail('auth@example.com'));
      await wrong.server.app.services.mail.idle();
      expect(first.smtp.messages).toHaveLength(1);
      const [recorded] = await wrong.server.app.services.outbox.list({ to: 'auth@example.com' });
      expect(recorded).toMatchObject({ status: 'failed', attempts: 1 });
      expect(recorded?.lastReply).toMatch(/535/);
    });

    it('stops without waiting for pending retries, recording them as failed', async () => {
      const { smtp, server } = await start({ script: failAlways(421) }, {}, [60_000]);
      const services = server.server.app.services;
      services.mail.deliver(CONTEXT, inviteEmail('later@example.com'));
      const deadline = Date.now() + 5000;
      while (smtp.attempts < 1 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
      // The SMTP server has seen the attempt; its 421 is recorded a moment later.
      const [queued] = await waitForStatus(server, 'later@example.com', 'queued', 1);
      expect(queued).toMatchObject({ attempts: 1 });
      const started = performance.now();
      await services.mail.close();
      expect(performance.now() - started).toBeLessThan(2000);
      const [recorded] = await services.outbox.list({ to: 'later@example.com' });
      expect(recorded).toMatchObject({ status: 'failed', attempts: 1 });
      expect(recorded?.lastReply).toContain('not retried: the server stopped');
    });
  });
}

/** Polls until the newest message to `to` has `status` (and, when given, at least `attempts` attempts recorded). */
async function waitForStatus(server: TestServer, to: string, status: string, attempts = 0) {
  const deadline = Date.now() + 5000;
  for (;;) {
    const messages = await server.server.app.services.outbox.list({ to });
    if ((messages[0]?.status === status && messages[0].attempts >= attempts) || Date.now() > deadline) return messages;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('SMTP over TLS (the transport, trusting a test certificate)', () => {
  let certificate: SelfSignedCertificate;
  beforeAll(() => {
    certificate = makeSelfSignedCertificate();
  });
  afterAll(() => certificate?.cleanup());

  it.each([
    ['STARTTLS on smtp://', false],
    ['TLS from the start on smtps://', true],
  ] as const)('%s', async (_name, secure) => {
    const smtp = await startSmtpTestServer({ tls: certificate, secure, auth: { user: 'mailer', pass: 'secret' } });
    const transport = new SmtpTransport({ url: smtp.url, from: 'login@acme.example', tls: { ca: certificate.pem } });
    try {
      const result = await transport.send({ to: 'tls@example.com', subject: 'Hello', text: 'plain', html: '<p>html</p>' });
      expect(result).toMatchObject({ ok: true });
      const [message] = await smtp.waitForMessages(1);
      expect(message).toMatchObject({ secure: true, user: 'mailer', subject: 'Hello', text: 'plain', html: '<p>html</p>' });
    } finally {
      transport.close();
      await smtp.close();
    }
  });

  it('with STARTTLS required (as for any smtp:// host but this machine), a server that does not offer it gets nothing', async () => {
    const smtp = await startSmtpTestServer();
    // A local server is exempt unless the URL asks; a remote one is never (requiresStartTls, tested in tests/unit/mail-config.test.ts).
    const transport = new SmtpTransport({ url: `${smtp.url}?requireTLS=true`, from: 'login@acme.example' });
    try {
      const result = await transport.send({ to: 'plain@example.com', subject: 'Hello', text: 'plain', html: '<p>html</p>' });
      expect(result).toMatchObject({ ok: false });
      expect(smtp.messages).toHaveLength(0);
    } finally {
      transport.close();
      await smtp.close();
    }
  });

  it('refuses a certificate it does not trust, as a failure to retry', async () => {
    const smtp = await startSmtpTestServer({ tls: certificate });
    const transport = new SmtpTransport({ url: smtp.url, from: 'login@acme.example' });
    try {
      const result = await transport.send({ to: 'tls@example.com', subject: 'Hello', text: 'plain', html: '<p>html</p>' });
      expect(result).toMatchObject({ ok: false, permanent: false });
      expect(smtp.messages).toHaveLength(0);
    } finally {
      transport.close();
      await smtp.close();
    }
  });
});
