import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_PASSWORD_SETTINGS } from '../../../src/domain/passwords/password-settings.js';
import type { RedirectUrl } from '../../../src/domain/redirect-urls/redirect-url.js';
import { startSmtpTestServer, type ReceivedMessage, type SmtpTestServer } from '../../support/smtp-test-server.js';
import { STORES } from '../../support/stores.js';
import { startTestServer, type TestServer } from '../../support/test-server.js';
import { createEmailOrganization, createMember } from '../../conformance/stytch-sdk/email-sign-in-fixtures.js';
import { NEW_PASSWORD, PASSWORD } from '../../conformance/stytch-sdk/passwords-sign-in-fixtures.js';

const RESET_URL = 'https://app.example.com/reset-password';
const LOGIN_URL = 'https://app.example.com/login';
const DISCOVERY_URL = 'https://app.example.com/discover';
const REDIRECTS: readonly RedirectUrl[] = [
  { url: RESET_URL, types: [{ type: 'reset_password', isDefault: true }] },
  { url: LOGIN_URL, types: [{ type: 'login', isDefault: true }] },
  { url: DISCOVERY_URL, types: [{ type: 'discovery', isDefault: true }] },
];

/** The first link in the message's plain text that starts with `url` and carries `stytch_token_type=type`. */
function linkIn(message: ReceivedMessage | undefined, url: string, type: string): string {
  const escaped = url.replace(/[.?/]/g, '\\$&');
  const link = new RegExp(`${escaped}\\?stytch_token_type=${type}&token=[A-Za-z0-9_-]+`).exec(message?.text ?? '')?.[0];
  expect(link, message?.text).toBeDefined();
  return link as string;
}

const tokenOf = (link: string): string => new URL(link).searchParams.get('token') as string;

/**
 * Password resets end to end through a real SMTP server: the links are read from the message the
 * SMTP server received, as a person would read them in their inbox, and the new password then
 * signs in. Passwords are shared across organizations here, so the discovery reset runs too.
 */
for (const store of STORES) {
  describe(`password resets over SMTP (${store.name})`, () => {
    let smtp: SmtpTestServer;
    let server: TestServer;

    beforeAll(async () => {
      smtp = await startSmtpTestServer();
      server = await startTestServer({
        store: store.name,
        config: {
          smtpUrl: smtp.url,
          smtpFrom: 'Acme <login@acme.example>',
          redirectUrls: REDIRECTS,
          passwords: { ...DEFAULT_PASSWORD_SETTINGS, crossOrgPasswordsEnabled: true },
        },
      });
    });
    afterAll(async () => {
      await server?.stop();
      await smtp?.close();
    });

    it("an organization's member resets their password from the mailed link and signs in with it; the mailed login link signs in too", async () => {
      const { client } = server;
      const acme = await createEmailOrganization(client);
      const email = acme.address('inbox');
      const member = await createMember(client, acme.organization, email);
      const already = smtp.messages.length;
      await client.passwords.email.resetStart({ organization_id: acme.organization.organization_id, email_address: email });
      const message = (await smtp.waitForMessages(already + 1))[already];
      expect(message?.to).toEqual([email]);
      expect(message?.subject).toBe(`Reset your password for ${acme.organization.organization_name} on Understudy`);
      const resetLink = linkIn(message, RESET_URL, 'multi_tenant_passwords');
      const loginLink = linkIn(message, LOGIN_URL, 'multi_tenant_magic_links');
      expect(message?.html).toContain('>Reset password</a>');
      expect(message?.html).toContain('>Sign in without a password</a>');
      expect(message?.html).toContain(`href="${resetLink.replace(/&/g, '&#38;')}"`);

      const reset = await client.passwords.email.reset({ password_reset_token: tokenOf(resetLink), password: NEW_PASSWORD });
      expect(reset).toMatchObject({ member_id: member.member_id, member_authenticated: true });
      const signedIn = await client.passwords.authenticate({ organization_id: acme.organization.organization_id, email_address: email, password: NEW_PASSWORD });
      expect((await client.sessions.authenticate({ session_token: signedIn.session_token })).member.member_id).toBe(member.member_id);
      const byLink = await client.magicLinks.authenticate({ magic_links_token: tokenOf(loginLink) });
      expect(byLink.member_id).toBe(member.member_id);
    });

    it('an address resets its password across organizations from the mailed link and signs in with it in discovery', async () => {
      const { client } = server;
      const one = await createEmailOrganization(client);
      const two = await createEmailOrganization(client);
      const email = `ada-${one.domain}@example.org`;
      await createMember(client, one.organization, email);
      await createMember(client, two.organization, email);
      const already = smtp.messages.length;
      await client.passwords.discovery.email.resetStart({ email_address: email, locale: 'pt-br' });
      const message = (await smtp.waitForMessages(already + 1))[already];
      expect(message?.to).toEqual([email]);
      expect(message?.subject).toBe('Escolha uma nova senha para Understudy');
      expect(message?.html).toContain('>Continuar sem senha</a>');
      const resetLink = linkIn(message, RESET_URL, 'discovery');
      linkIn(message, DISCOVERY_URL, 'discovery');

      const reset = await client.passwords.discovery.email.reset({ password_reset_token: tokenOf(resetLink), password: PASSWORD });
      expect(reset.discovered_organizations.map((entry) => entry.organization?.organization_id).sort()).toEqual([one.organization.organization_id, two.organization.organization_id].sort());
      const again = await client.passwords.discovery.authenticate({ email_address: email, password: PASSWORD });
      expect(again.discovered_organizations.every((entry) => entry.member_authenticated)).toBe(true);
      const inTwo = await client.passwords.authenticate({ organization_id: two.organization.organization_id, email_address: email, password: PASSWORD });
      expect(inTwo.member_authenticated).toBe(true);
    });
  });
}
