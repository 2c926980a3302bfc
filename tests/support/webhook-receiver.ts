import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

/**
 * A real webhook endpoint inside the test process (node:http on 127.0.0.1), for delivery tests:
 *
 *   const receiver = await startWebhookReceiver({ script: (attempt) => (attempt < 2 ? 500 : 200) });
 *   ... add an endpoint with receiver.url, keep the secret it answers ...
 *   const [event] = await receiver.waitFor((request) => request.body.type === 'impersonation.token_minted');
 *   expect(receiver.verify(event, secret)).toMatchObject({ type: 'impersonation.token_minted' });
 *
 * `verify` checks the Standard Webhooks signature with the `standardwebhooks` package, as a
 * customer's receiver would.
 */
export interface ReceivedWebhook {
  readonly headers: IncomingHttpHeaders;
  readonly raw: string;
  readonly body: { type: string; timestamp: string; data: Record<string, unknown> };
  /** What the receiver answered. */
  readonly status: number;
}

export interface WebhookReceiver {
  readonly url: string;
  readonly requests: readonly ReceivedWebhook[];
  /** Resolves with the requests matching `match` once there are at least `count`; rejects after `timeoutMs` (10000). */
  waitFor(match: (request: ReceivedWebhook) => boolean, count?: number, timeoutMs?: number): Promise<ReceivedWebhook[]>;
  /** The verified payload; throws when the signature does not check out with `secret`. */
  verify(request: ReceivedWebhook, secret: string): unknown;
  close(): Promise<void>;
}

/** Decides the status of the `attempt`-th request (from 0); 200 when omitted. */
export type ReceiverScript = (attempt: number, request: Omit<ReceivedWebhook, 'status'>) => number;

export async function startWebhookReceiver(options: { readonly script?: ReceiverScript; readonly path?: string } = {}): Promise<WebhookReceiver> {
  const requests: ReceivedWebhook[] = [];
  let attempt = 0;
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      let body: ReceivedWebhook['body'];
      try {
        body = JSON.parse(raw) as ReceivedWebhook['body'];
      } catch {
        body = { type: 'unparsable', timestamp: '', data: {} };
      }
      const received = { headers: request.headers, raw, body };
      const status = options.script?.(attempt, received) ?? 200;
      attempt += 1;
      requests.push({ ...received, status });
      response.writeHead(status, { 'content-type': 'text/plain' }).end(status >= 300 ? `receiver says ${status}` : 'ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${options.path ?? '/hooks'}`,
    requests,
    async waitFor(match, count = 1, timeoutMs = 10_000) {
      const deadline = performance.now() + timeoutMs;
      for (;;) {
        const matching = requests.filter(match);
        if (matching.length >= count) return matching;
        if (performance.now() >= deadline) {
          throw new Error(`only ${matching.length} of ${count} matching webhooks arrived in time (received: ${requests.map((r) => r.body.type).join(', ') || 'nothing'})`);
        }
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    },
    verify(request, secret) {
      return new Webhook(secret).verify(request.raw, {
        'webhook-id': String(request.headers['webhook-id']),
        'webhook-timestamp': String(request.headers['webhook-timestamp']),
        'webhook-signature': String(request.headers['webhook-signature']),
      });
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
