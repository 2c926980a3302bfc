import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseWebhooksArguments } from '../../../src/cli/webhooks-command.js';
import { loadConfig } from '../../../src/config/load.js';
import { openServices } from '../../../src/main.js';
import { createThrowawayPostgresDatabase, POSTGRES_URL } from '../../support/stores.js';
import { startWebhookReceiver, type WebhookReceiver } from '../../support/webhook-receiver.js';
import { killLeftoverProcesses, runCliToExit, temporaryDirectory } from '../cli/cli-process.js';

/** `understudy webhooks …` as an operator runs it, on SQLite and (when configured) PostgreSQL. */
const scratch = temporaryDirectory('webhooks-cli');
afterAll(() => {
  killLeftoverProcesses();
  scratch.remove();
});

const PROJECT = {
  UNDERSTUDY_PROJECT_ID: 'project-test-11111111-2222-4333-8444-666666666666',
  UNDERSTUDY_PROJECT_SECRET: 'secret-test-webhooks-cli-0123456789',
  UNDERSTUDY_MASTER_KEY: Buffer.alloc(32, 7).toString('base64'),
};

const databases: { name: string; database: () => Promise<{ url: string | undefined; drop: () => Promise<void> }> }[] = [
  { name: 'sqlite', database: async () => ({ url: undefined, drop: async () => {} }) },
  ...(POSTGRES_URL ? [{ name: 'postgres', database: createThrowawayPostgresDatabase }] : []),
];

describe('understudy webhooks arguments', () => {
  it('refuses mistakes before opening anything', () => {
    expect(() => parseWebhooksArguments(['webhooks'])).toThrow('Missing webhooks subcommand.');
    expect(() => parseWebhooksArguments(['webhooks', 'add'])).toThrow('Missing --url.');
    expect(() => parseWebhooksArguments(['webhooks', 'disable'])).toThrow('Missing the endpoint id');
    expect(() => parseWebhooksArguments(['webhooks', 'list', '--url', 'x'])).toThrow('--url does not apply');
    expect(() => parseWebhooksArguments(['webhooks', 'deliveries', '--status', 'lost'])).toThrow('--status must be');
    expect(parseWebhooksArguments(['webhooks', 'deliveries', '--endpoint', 'e', '--limit', '5'])).toMatchObject({ subcommand: 'deliveries', endpointId: 'e', limit: 5 });
  });
});

for (const { name, database } of databases) {
  describe(`understudy webhooks (${name})`, () => {
    let env: Record<string, string>;
    let drop: () => Promise<void>;
    let receiver: WebhookReceiver;
    beforeAll(async () => {
      const opened = await database();
      drop = opened.drop;
      receiver = await startWebhookReceiver();
      env = { UNDERSTUDY_DATA_DIR: join(scratch.path, name), ...PROJECT, ...(opened.url !== undefined && { UNDERSTUDY_DATABASE_URL: opened.url }) };
    });
    afterAll(async () => {
      await receiver?.close();
      await drop?.();
    });
    const cli = (args: string[], extra: Record<string, string> = {}) => runCliToExit(['webhooks', ...args], { ...env, ...extra });
    const permissive = { UNDERSTUDY_WEBHOOK_ALLOW_PRIVATE_ADDRESSES: 'true' };

    it('adds an endpoint and prints its secret once, lists it, shows its deliveries and disables it', async () => {
      const added = await cli(['add', '--url', receiver.url, '--description', 'vendor SIEM'], permissive);
      expect(added.code, added.stderr).toBe(0);
      const endpointId = /Added (webhook-endpoint-test-[0-9a-f-]{36}) \(the project's\)/.exec(added.stdout)?.[1];
      const secret = /secret: (whsec_\S+)/.exec(added.stdout)?.[1];
      expect(endpointId).toBeDefined();
      expect(secret).toBeDefined();

      const listed = await cli(['list']);
      expect(listed.code, listed.stderr).toBe(0);
      expect(listed.stdout).toContain(endpointId);
      expect(listed.stdout).toContain('(project)');
      expect(listed.stdout).toContain('vendor SIEM');
      expect(listed.stdout).not.toContain(secret);

      // A CLI mint is a published event; the serving process's worker delivers it (run here once).
      const opened = await openServices(loadConfig({ env: { ...env, ...permissive } }));
      try {
        const organization = await opened.services.organizations.create({ requestId: 'test', actor: { type: 'cli' } }, { organizationName: 'Webhook CLI', organizationSlug: `webhook-cli-${name}` });
        const { member } = await opened.services.members.create({ requestId: 'test', actor: { type: 'cli' } }, organization.organizationId, { emailAddress: `ann-${name}@example.org` });
        const minted = await runCliToExit(
          ['impersonate', '--organization', organization.organizationId, '--member', member.memberId, '--impersonator-email', 'sam@support.example', '--reason', 'Ticket 4711'],
          env,
        );
        expect(minted.code, minted.stderr).toBe(0);
        await opened.services.webhookDeliveries.runOnce();
      } finally {
        await opened.close();
      }
      const [request] = await receiver.waitFor((received) => received.body.type === 'impersonation.token_minted');
      expect(request && receiver.verify(request, secret ?? '')).toMatchObject({ type: 'impersonation.token_minted', data: { actor: { type: 'cli' } } });

      const deliveries = await cli(['deliveries', '--endpoint', endpointId ?? '', '--status', 'delivered', '--json']);
      expect(deliveries.code, deliveries.stderr).toBe(0);
      expect((JSON.parse(deliveries.stdout) as { deliveries: { event_type: string; attempts: number }[] }).deliveries).toEqual([
        expect.objectContaining({ event_type: 'impersonation.token_minted', attempts: 1, last_status_code: 200 }),
      ]);

      const disabled = await cli(['disable', endpointId ?? '']);
      expect(disabled.code, disabled.stderr).toBe(0);
      expect(disabled.stdout).toMatch(/^Disabled webhook-endpoint-test-/);
    });

    it.runIf(name === 'sqlite')('refuses internal addresses unless configured to allow them', async () => {
      const refused = await cli(['add', '--url', receiver.url]);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain('understudy: invalid_webhook_endpoint:');
    });
  });
}
