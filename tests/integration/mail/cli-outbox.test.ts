import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OutgoingEmail } from '../../../src/domain/mail/outgoing-email.js';
import { killLeftoverProcesses, runCliToExit } from '../cli/cli-process.js';
import { settleEmails } from '../../support/outbox.js';
import { STORES } from '../../support/stores.js';
import { startTestServer, TEST_MASTER_KEY, type TestServer } from '../../support/test-server.js';

const CONTEXT = { requestId: 'request-test-cli-outbox', actor: { type: 'system' } } as const;
const LINK = 'http://localhost:3000/authenticate?stytch_token_type=multi_tenant_magic_links&token=tok-cli';

afterAll(() => killLeftoverProcesses());

for (const store of STORES) {
  describe(`understudy outbox on ${store.name}: what a running server kept, read by another process`, () => {
    let server: TestServer;
    let env: Record<string, string>;
    beforeAll(async () => {
      server = await startTestServer({ store: store.name });
      env = {
        UNDERSTUDY_DATA_DIR: server.dataDir,
        UNDERSTUDY_MASTER_KEY: TEST_MASTER_KEY,
        UNDERSTUDY_PROJECT_ID: server.projectId,
        UNDERSTUDY_PROJECT_SECRET: server.secret,
        ...(server.databaseUrl !== undefined && { UNDERSTUDY_DATABASE_URL: server.databaseUrl }),
      };
      const base: OutgoingEmail = { template: 'login', to: 'ada@example.com', locale: 'en', expiresAt: '2030-01-01T00:00:00Z', organizationName: 'Acme', organizationId: 'organization-test-1', memberId: 'member-test-1' };
      server.server.app.services.mail.deliver(CONTEXT, { ...base, link: LINK });
      await settleEmails(server);
      server.server.app.services.mail.deliver(CONTEXT, { ...base, template: 'otp_login', to: 'Grace@Example.com', code: '271828', organizationName: 'Evil\u001b[2J Corp' });
      await settleEmails(server);
    });
    afterAll(() => server?.stop());

    it('prints one block per message, newest first, with the link or the code', async () => {
      const result = await runCliToExit(['outbox'], env);
      expect(result.code, result.stderr).toBe(0);
      const blocks = result.stdout.trimEnd().split('\n\n');
      expect(blocks).toHaveLength(2);
      expect(blocks[0]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ {2}otp_login \(en\) {2}to Grace@Example\.com\n/);
      expect(blocks[0]).toContain('\n  Code     271828\n');
      // The control characters were dropped from the organization name before the subject was made.
      expect(blocks[0]).toContain('  Subject  Your sign-in code for Evil [2J Corp on Understudy');
      expect(blocks[0]).toContain('  Status   kept in the outbox (no SMTP configured)');
      expect(blocks[1]).toContain(`\n  Link     ${LINK}\n`);
      expect(blocks[1]).toContain('  Expires  2030-01-01T00:00:00Z');
    });

    it('filters by recipient whatever the case, and says when there is nothing', async () => {
      const grace = await runCliToExit(['outbox', '--to', 'grace@EXAMPLE.com'], env);
      expect(grace.code, grace.stderr).toBe(0);
      expect(grace.stdout).toContain('271828');
      expect(grace.stdout).not.toContain('tok-cli');
      const nobody = await runCliToExit(['outbox', '--to', 'nobody@example.com'], env);
      expect(nobody.stdout).toBe('No messages to nobody@example.com.\n');
    });

    it('--json prints an array of the messages with their bodies', async () => {
      const result = await runCliToExit(['outbox', '--json', '--limit', '1'], env);
      expect(result.code, result.stderr).toBe(0);
      const messages = JSON.parse(result.stdout) as Record<string, unknown>[];
      expect(messages).toHaveLength(1);
      expect(messages[0]).toMatchObject({ to: 'Grace@Example.com', template: 'otp_login', code: '271828', link: null, status: 'stored', mode: 'outbox', organization_id: 'organization-test-1' });
      expect(String(messages[0]?.text)).toContain('271828');
      expect(String(messages[0]?.html)).toContain('271828');
    });

    it('refuses bad arguments with its usage before opening anything', async () => {
      const result = await runCliToExit(['outbox', '--limit', '0'], env);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain('--limit must be a whole number from 1 to 1000 (got "0").');
      expect(result.stderr).toContain('Usage: understudy outbox');
    });
  });
}
