import { pbkdf2, pbkdf2Sync } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpWebhookTransport } from '../../src/webhooks/http-webhook-transport.js';
import { startDnsServer } from '../support/dns-server.js';

const request = (url: string) => ({ url, secret: `whsec_${Buffer.alloc(32, 1).toString('base64')}`, messageId: 'audit-event-test-1', timestamp: new Date(), body: '{}' });

describe('webhook host resolution', () => {
  let dns: Awaited<ReturnType<typeof startDnsServer>>;
  let silent: Awaited<ReturnType<typeof startDnsServer>>;
  let receiver: Server;
  let receiverPort: number;

  beforeAll(async () => {
    dns = await startDnsServer({
      'hooks.test': ['93.184.216.34', '2606:2800:220:1::1'],
      'v6only.test': ['2606:2800:220:1::1'],
      'internal.test': ['10.0.0.5'],
      'mixed.test': ['93.184.216.34', '::1'],
      'nat64.test': ['64:ff9b:1::a00:5'],
    });
    silent = await startDnsServer({}, true);
    receiver = createServer((_request, response) => response.end('ok'));
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    receiverPort = (receiver.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await dns?.close();
    await silent?.close();
    await new Promise((resolve) => receiver?.close(resolve));
  });

  it('asks the name servers for A and AAAA and checks every address they answer', async () => {
    const strict = new HttpWebhookTransport({ allowPrivateAddresses: false, dns: { servers: [dns.server] } });
    expect(await strict.checkHost(new URL('https://hooks.test/in'))).toBeUndefined();
    expect(dns.queries).toEqual(expect.arrayContaining(['hooks.test/A', 'hooks.test/AAAA']));
    expect(await strict.checkHost(new URL('https://v6only.test/in'))).toBeUndefined();
    expect(await strict.checkHost(new URL('https://internal.test/in'))).toBe('internal.test resolves to 10.0.0.5, an internal (loopback, private or link-local) address');
    expect(await strict.checkHost(new URL('https://mixed.test/in'))).toBe('mixed.test resolves to ::1, an internal (loopback, private or link-local) address');
    expect(await strict.checkHost(new URL('https://nat64.test/in'))).toContain('nat64.test resolves to 64:ff9b:1::a00:5');
    expect(await strict.checkHost(new URL('https://unknown.test/in'))).toBe('unknown.test could not be resolved (ENOTFOUND)');
  });

  it('answers localhost itself (c-ares does not read /etc/hosts), without asking DNS', async () => {
    const before = silent.queries.length;
    const strict = new HttpWebhookTransport({ allowPrivateAddresses: false, dns: { servers: [silent.server] } });
    expect(await strict.checkHost(new URL('https://localhost/in'))).toBe('localhost resolves to 127.0.0.1, an internal (loopback, private or link-local) address');
    const permissive = new HttpWebhookTransport({ allowPrivateAddresses: true, dns: { servers: [silent.server] } });
    expect(await permissive.send(request(`http://localhost:${receiverPort}/in`))).toEqual({ status: 200, text: 'ok' });
    expect(silent.queries.length).toBe(before);
  });

  it('gives up on a name server that never answers, within the attempt’s time limit', async () => {
    const transport = new HttpWebhookTransport({ allowPrivateAddresses: true, timeoutMs: 400, dns: { servers: [silent.server] } });
    const started = performance.now();
    const answer = await transport.send(request('https://hooks.test/in'));
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(answer).toEqual({ failure: 'not sent: the host hooks.test could not be resolved (no DNS answer within 400 ms)' });
    // The tries are the resolver's own when they end sooner than the attempt.
    const quick = new HttpWebhookTransport({ allowPrivateAddresses: true, dns: { servers: [silent.server], tryTimeoutMs: 100, tries: 2 } });
    const refused = await quick.checkHost(new URL('https://hooks.test/in'));
    expect(refused).toBe('hooks.test could not be resolved (ETIMEOUT)');
  });

  it('resolves while the thread pool is busy (argon2 and file I/O share it with dns.lookup)', async () => {
    // Calibrate a key derivation of about 0.3 s, then queue one on every pool thread.
    const started = performance.now();
    pbkdf2Sync('password', 'salt', 20_000, 64, 'sha512');
    const iterations = Math.max(20_000, Math.round((20_000 * 300) / Math.max(1, performance.now() - started)));
    const threads = Number(process.env.UV_THREADPOOL_SIZE ?? 4);
    const busy = Array.from({ length: threads }, () => new Promise((resolve) => pbkdf2('password', 'salt', iterations, 64, 'sha512', resolve)));
    let poolFree = false;
    const freed = Promise.all(busy).then(() => {
      poolFree = true;
    });
    try {
      const transport = new HttpWebhookTransport({ allowPrivateAddresses: false, dns: { servers: [dns.server] } });
      expect(await transport.checkHost(new URL('https://hooks.test/in'))).toBeUndefined();
      // Answered before any pool thread was free.
      expect(poolFree).toBe(false);
    } finally {
      await freed;
      await Promise.all(busy);
    }
  });
});
