import { afterEach, describe, expect, it } from 'vitest';
import { settleEmails } from '../../support/outbox.js';
import { failAlways, startSmtpTestServer, type SmtpTestServer } from '../../support/smtp-test-server.js';
import { STORES } from '../../support/stores.js';
import { startTestServer, type TestServer } from '../../support/test-server.js';
import { createEmailOrganization, membersOf, sessionsOf } from '../../conformance/stytch-sdk/email-sign-in-fixtures.js';

/**
 * Signing in end to end through a real SMTP server: the link and the code are read from the message
 * the SMTP server received, as a person would read them in their inbox. A delivery the SMTP server
 * refuses for good undoes nothing: the send answered, the member exists once.
 */
for (const store of STORES) {
  describe(`email sign-in over SMTP (${store.name})`, () => {
    let smtp: SmtpTestServer | undefined;
    let server: TestServer | undefined;

    afterEach(async () => {
      await server?.stop();
      await smtp?.close();
      server = undefined;
      smtp = undefined;
    });

    async function start(script?: ReturnType<typeof failAlways>): Promise<{ smtp: SmtpTestServer; server: TestServer }> {
      smtp = await startSmtpTestServer(script === undefined ? {} : { script });
      server = await startTestServer({ store: store.name, config: { smtpUrl: smtp.url, smtpFrom: 'Acme <login@acme.example>' } });
      return { smtp, server };
    }

    it('a magic link and a code, mailed over SMTP and read from the received message, sign the member in', async () => {
      const { smtp, server } = await start();
      const acme = await createEmailOrganization(server.client);
      const email = acme.address('inbox');
      const sent = await server.client.magicLinks.email.loginOrSignup({ organization_id: acme.organization.organization_id, email_address: email });
      const [message] = await smtp.waitForMessages(1);
      expect(message?.to).toEqual([email]);
      const link = /http:\/\/localhost:3000\/authenticate\?stytch_token_type=multi_tenant_magic_links&token=[A-Za-z0-9_-]+/.exec(message?.text ?? '')?.[0];
      expect(link, message?.text).toBeDefined();
      const signedIn = await server.client.magicLinks.authenticate({ magic_links_token: new URL(link as string).searchParams.get('token') as string });
      expect(signedIn).toMatchObject({ member_id: sent.member_id, member_authenticated: true });
      expect((await server.client.sessions.authenticate({ session_token: signedIn.session_token })).member.member_id).toBe(sent.member_id);

      await server.client.otps.email.loginOrSignup({ organization_id: acme.organization.organization_id, email_address: email });
      const [, codeMessage] = await smtp.waitForMessages(2);
      const code = /\b(\d{6})\b/.exec(codeMessage?.text ?? '')?.[1];
      expect(code, codeMessage?.text).toBeDefined();
      const byCode = await server.client.otps.email.authenticate({ organization_id: acme.organization.organization_id, email_address: email, code: code as string });
      expect(byCode.member_id).toBe(sent.member_id);
      expect(await sessionsOf(server.client, byCode.member)).toHaveLength(2);
    });

    it('an SMTP server refusing every message: the send still answers 200 and the member exists once; sending again does not duplicate them', async () => {
      const { smtp, server } = await start(failAlways(550));
      const acme = await createEmailOrganization(server.client);
      const email = acme.address('bounced');
      const first = await server.client.magicLinks.email.loginOrSignup({ organization_id: acme.organization.organization_id, email_address: email });
      await settleEmails(server);
      expect(smtp.attempts).toBeGreaterThanOrEqual(1);
      expect(smtp.messages).toEqual([]);
      const again = await server.client.magicLinks.email.loginOrSignup({ organization_id: acme.organization.organization_id, email_address: email });
      expect(again).toMatchObject({ member_id: first.member_id, member_created: false });
      expect((await membersOf(server.client, acme.organization)).filter((member) => member.email_address === email)).toHaveLength(1);
      await settleEmails(server);
      expect((await server.server.app.services.outbox.list({ to: email })).map((message) => message.status)).toEqual(['failed', 'failed']);
    });
  });
}
