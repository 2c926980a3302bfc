import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OutgoingSms } from '../../../src/domain/sms/outgoing-sms.js';
import { killLeftoverProcesses, runCliToExit } from '../cli/cli-process.js';
import { type ConsoleHarness, startConsoleHarness } from '../console/console-harness.js';
import { settleEmails } from '../../support/outbox.js';
import { settleSms } from '../../support/sms.js';
import { STORES } from '../../support/stores.js';
import { TEST_MASTER_KEY } from '../../support/test-server.js';
import { startHttpStandIn, type HttpStandIn } from './http-stand-in.js';

const CONTEXT = { requestId: 'request-test-sms-console', actor: { type: 'system' } } as const;

function codeSms(overrides: Partial<OutgoingSms>): OutgoingSms {
  return {
    template: 'sms_otp',
    to: '+14155550100',
    locale: 'en',
    code: '424242',
    expiresAt: '2030-01-01T00:00:00Z',
    organizationName: 'Acme <b>bold</b>',
    organizationId: 'organization-test-1',
    memberId: 'member-test-1',
    ...overrides,
  };
}

afterAll(() => killLeftoverProcesses());

for (const store of STORES) {
  describe(`SMS in the console outbox page and understudy outbox (outbox mode) on ${store.name}`, () => {
    let harness: ConsoleHarness;
    let env: Record<string, string>;
    beforeAll(async () => {
      harness = await startConsoleHarness({ store: store.name });
      const services = harness.server.server.app.services;
      services.mail.deliver(CONTEXT, { template: 'otp_login', to: 'ada@example.com', locale: 'en', code: '271828', expiresAt: '2030-01-01T00:00:00Z', organizationName: 'Acme', organizationId: 'organization-test-1', memberId: 'member-test-1' });
      await settleEmails(harness.server);
      // A second later, so the listing's order across email and SMS is known.
      harness.clock.advance(1000);
      services.sms.deliver(CONTEXT, codeSms({}));
      await settleSms(harness.server);
      const server = harness.server;
      env = {
        UNDERSTUDY_DATA_DIR: server.dataDir,
        UNDERSTUDY_MASTER_KEY: TEST_MASTER_KEY,
        UNDERSTUDY_PROJECT_ID: server.projectId,
        UNDERSTUDY_PROJECT_SECRET: server.secret,
        ...(server.databaseUrl !== undefined && { UNDERSTUDY_DATABASE_URL: server.databaseUrl }),
      };
    });
    afterAll(() => harness.stop());

    it('shows admins the SMS section with the code, the text escaped, and a detail page', async () => {
      const admin = await harness.signedIn(await harness.createOperator('admin'));
      const response = await admin.get('/console/outbox');
      expect(response.status).toBe(200);
      expect(response.text).toContain('<h2 id="sms">SMS</h2>');
      expect(response.text).toContain('No SMS provider is configured');
      expect(response.text).toContain('<td>+14155550100</td>');
      expect(response.text).toContain('<span class="token">424242</span>');
      expect(response.text).toContain('Your Acme &#60;b&#62;bold&#60;/b&#62; verification code is 424242. It expires in');
      expect(response.text).not.toContain('<b>bold</b>');
      // The email is still listed above.
      expect(response.text).toContain('<span class="token">271828</span>');

      const filtered = await admin.get('/console/outbox?to=%2B14155550100');
      expect(filtered.text).toContain('424242');
      expect(filtered.text).not.toContain('271828');
      const detailPath = /href="(\/console\/outbox\/sms\/sms-message-[^"]+)"/.exec(filtered.text)?.[1];
      expect(detailPath).toBeDefined();
      const detail = await admin.get(detailPath as string);
      expect(detail.status).toBe(200);
      expect(detail.text).toContain('<dt>Channel</dt><dd>SMS</dd>');
      expect(detail.text).toContain('<dt>Code</dt><dd><span class="token">424242</span></dd>');
      expect((await admin.get('/console/outbox/sms/sms-message-test-00000000-0000-7000-8000-000000000000')).status).toBe(404);
    });

    it('is for admins only', async () => {
      const viewer = await harness.signedIn(await harness.createOperator('viewer'));
      const list = await viewer.get('/console/outbox');
      expect(list.status).toBe(403);
      expect(list.text).not.toContain('424242');
      expect((await viewer.get('/console/outbox/sms/anything')).status).toBe(403);
    });

    it('understudy outbox prints the SMS marked as such, newest first beside the email', async () => {
      const result = await runCliToExit(['outbox'], env);
      expect(result.code, result.stderr).toBe(0);
      const blocks = result.stdout.trimEnd().split('\n\n');
      expect(blocks).toHaveLength(2);
      expect(blocks[0]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ {2}SMS sms_otp \(en\) {2}to \+14155550100\n/);
      expect(blocks[0]).toContain('\n  Text     Your Acme <b>bold</b> verification code is 424242.');
      expect(blocks[0]).toContain('\n  Code     424242\n');
      expect(blocks[0]).toContain('  Status   kept in the outbox (no SMS provider configured)');
      expect(blocks[1]).toContain('otp_login (en)  to ada@example.com');
    });

    it('understudy outbox --sms and --email list one channel; --json says which', async () => {
      const sms = await runCliToExit(['outbox', '--sms'], env);
      expect(sms.stdout).toContain('424242');
      expect(sms.stdout).not.toContain('271828');
      const email = await runCliToExit(['outbox', '--email', '--to', '+14155550100'], env);
      expect(email.stdout).toBe('No messages to +14155550100.\n');
      const json = JSON.parse((await runCliToExit(['outbox', '--json', '--to', '+14155550100'], env)).stdout) as Record<string, unknown>[];
      expect(json).toEqual([expect.objectContaining({ channel: 'sms', to: '+14155550100', code: '424242', status: 'stored', mode: 'outbox', template: 'sms_otp' })]);
      const both = await runCliToExit(['outbox', '--sms', '--email'], env);
      expect(both.code).toBe(2);
      expect(both.stderr).toContain('Give --email or --sms, not both');
    });
  });

  describe(`SMS delivery status in the console and the CLI (webhook) on ${store.name}`, () => {
    let receiver: HttpStandIn;
    let harness: ConsoleHarness;
    beforeAll(async () => {
      receiver = await startHttpStandIn(() => ({ status: 422, json: { error: 'number not allowed' } }));
      harness = await startConsoleHarness({
        store: store.name,
        config: { sms: { provider: 'webhook', webhook: { url: receiver.url, secret: `whsec_${Buffer.alloc(32, 5).toString('base64')}` } } },
      });
      harness.server.server.app.services.sms.deliver(CONTEXT, codeSms({ to: '+14155550111', code: '808080' }));
      await settleSms(harness.server);
    });
    afterAll(async () => {
      await harness.stop();
      await receiver.close();
    });

    it('shows the failure with the reply, and neither the code nor the text', async () => {
      const admin = await harness.signedIn(await harness.createOperator('admin'));
      const response = await admin.get('/console/outbox');
      expect(response.text).toContain('SMS are sent through the configured provider (webhook)');
      expect(response.text).toContain('<span class="badge warn">failed</span> <span class="muted">1 attempt</span>');
      expect(response.text).toContain('HTTP 422: {&#34;error&#34;:&#34;number not allowed&#34;}');
      expect(response.text).toContain('not kept (sent by webhook)');
      expect(response.text).not.toContain('808080');
      const server = harness.server;
      const result = await runCliToExit(['outbox', '--sms'], {
        UNDERSTUDY_DATA_DIR: server.dataDir,
        UNDERSTUDY_MASTER_KEY: TEST_MASTER_KEY,
        UNDERSTUDY_PROJECT_ID: server.projectId,
        UNDERSTUDY_PROJECT_SECRET: server.secret,
        ...(server.databaseUrl !== undefined && { UNDERSTUDY_DATABASE_URL: server.databaseUrl }),
      });
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toContain('  Status   failed via webhook (1 attempt; HTTP 422: {"error":"number not allowed"})');
      expect(result.stdout).not.toContain('808080');
    });
  });
}
