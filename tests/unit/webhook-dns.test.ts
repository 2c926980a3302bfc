import { pbkdf2, pbkdf2Sync } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isIPv4 } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpWebhookTransport } from '../../src/webhooks/http-webhook-transport.js';

/** A DNS server on 127.0.0.1 (UDP) that answers A and AAAA queries from `records`, NXDOMAIN for other names, or nothing at all when `silent`. */
async function startDnsServer(records: Record<string, readonly string[]>, silent = false): Promise<{ server: string; queries: string[]; close(): Promise<void> }> {
  const socket: Socket = createSocket('udp4');
  const queries: string[] = [];
  socket.on('message', (query, from) => {
    const labels: string[] = [];
    let offset = 12;
    while (query[offset] !== 0 && offset < query.length) {
      const length = query[offset] ?? 0;
      labels.push(query.subarray(offset + 1, offset + 1 + length).toString('ascii'));
      offset += length + 1;
    }
    const questionEnd = offset + 5;
    const type = query.readUInt16BE(offset + 1);
    const name = labels.join('.').toLowerCase();
    queries.push(`${name}/${type === 1 ? 'A' : type === 28 ? 'AAAA' : type}`);
    if (silent) return;
    const known = records[name];
    const answers = (known ?? []).filter((address) => (type === 1 ? isIPv4(address) : type === 28 ? !isIPv4(address) : false));
    const header = Buffer.alloc(12);
    query.copy(header, 0, 0, 2);
    header.writeUInt16BE(known === undefined ? 0x8183 : 0x8180, 2);
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(answers.length, 6);
    const answerRecords = answers.map((address) => {
      const data = isIPv4(address) ? Buffer.from(address.split('.').map(Number)) : ipv6Bytes(address);
      const answer = Buffer.alloc(12);
      answer.writeUInt16BE(0xc00c, 0);
      answer.writeUInt16BE(type, 2);
      answer.writeUInt16BE(1, 4);
      answer.writeUInt32BE(60, 6);
      answer.writeUInt16BE(data.length, 10);
      return Buffer.concat([answer, data]);
    });
    socket.send(Buffer.concat([header, query.subarray(12, questionEnd), ...answerRecords]), from.port, from.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return {
    server: `127.0.0.1:${(socket.address() as AddressInfo).port}`,
    queries,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}

function ipv6Bytes(address: string): Buffer {
  const [head = '', tail = ''] = address.split('::');
  const parts = (text: string) => (text === '' ? [] : text.split(':'));
  const groups = [...parts(head), ...new Array<string>(8 - parts(head).length - parts(tail).length).fill('0'), ...parts(tail)];
  const bytes = Buffer.alloc(16);
  for (const [index, group] of groups.entries()) bytes.writeUInt16BE(Number.parseInt(group, 16), index * 2);
  return bytes;
}

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
