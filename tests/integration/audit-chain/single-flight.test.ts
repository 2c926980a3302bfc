import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUDIT_CHAIN_VERIFY_RETRY_AFTER_SECONDS } from '../../../src/domain/audit/audit-chain-verifier.js';
import { expectErrorResponse } from '../../support/impersonation.js';
import { STORES } from '../../support/stores.js';
import { startTestServer, type TestServer } from '../../support/test-server.js';
import { ConsoleClient } from '../console/console-client.js';
import { organizationWithMints } from './chain-support.js';

const VERIFY = '/v1/b2b/impersonation/audit/chain/verify';
const PASSWORD = 'a long chain viewer password 4711';

describe.each(STORES.map((factory) => factory.name))('one audit chain verification at a time per process (%s)', (store) => {
  let server: TestServer;
  let operator: ConsoleClient;
  /** Opens the gate the chain reads wait at while it is closed; see `slowDatabase`. */
  let open: () => void = () => undefined;
  /** Settles when a verification first reads a chain behind the gate. */
  let reached: Promise<void> = Promise.resolve();

  beforeAll(async () => {
    server = await startTestServer({ store });
    await organizationWithMints(server, 2);
    const created = await server.server.app.services.operators.create(
      { requestId: 'request-id-test-00000000-0000-4000-8000-0000000000c1', actor: { type: 'cli' } },
      { emailAddress: `chain-viewer-${store}@operators.example`, name: 'Chain viewer', role: 'viewer', password: PASSWORD },
    );
    operator = new ConsoleClient(server.baseUrl);
    await operator.signIn({ emailAddress: created.operator.emailAddress, password: PASSWORD, totpSecret: null }, new Date());
  });
  afterAll(async () => {
    open();
    await server?.stop();
  });

  /** Makes every read of a chain wait until `open()`, as a walk of a long chain on a busy database would. */
  function slowDatabase(): void {
    const chains = server.server.store.auditChains;
    const readChain = chains.readChain.bind(chains);
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    let arrive: () => void = () => undefined;
    reached = new Promise<void>((resolve) => {
      arrive = resolve;
    });
    chains.readChain = async (chainId, page) => {
      arrive();
      await gate;
      return readChain(chainId, page);
    };
  }

  it('refuses a second verification over the API or from the console while one runs, with 429 and Retry-After; the next one after it runs', async () => {
    const csrf = await operator.csrfFrom('/console/audit-chain');
    slowDatabase();
    const first = server.fetch(VERIFY, { method: 'POST' });
    await reached;

    const refused = await server.fetch(VERIFY, { method: 'POST', json: {} });
    expectErrorResponse(refused, 429, 'too_many_requests');
    expect(refused.headers.get('retry-after')).toBe(String(AUDIT_CHAIN_VERIFY_RETRY_AFTER_SECONDS));
    expect(refused.body.error_message).toMatch(/an audit chain verification is running already/);
    const page = await operator.post('/console/audit-chain/verify', { _csrf: csrf });
    expect(page.status).toBe(429);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('retry-after')).toBe(String(AUDIT_CHAIN_VERIFY_RETRY_AFTER_SECONDS));
    expect(page.text).toContain('an audit chain verification is running already');

    open();
    const answered = await first;
    expect(answered.status, JSON.stringify(answered.body)).toBe(200);
    expect(answered.body).toMatchObject({ valid: true, broken: null });
    const again = await server.fetch(VERIFY, { method: 'POST' });
    expect(again.status).toBe(200);
    const verifiedPage = await operator.post('/console/audit-chain/verify', { _csrf: csrf });
    expect(verifiedPage.status).toBe(200);
    expect(verifiedPage.text).toContain('Valid:');
  });
});
