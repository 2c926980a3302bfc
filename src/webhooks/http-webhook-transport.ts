import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Webhook } from 'standardwebhooks';
import { WEBHOOK_ATTEMPT_BUDGET_MS, type WebhookAnswer, type WebhookRequest, type WebhookTransport } from '../domain/webhooks/webhook-transport.js';
import { DNS_BUDGET_MS, pinnedLookup, resolveOutbound, type DnsSettings, type OutboundTarget } from './webhook-dns.js';

/** The most of an answer read and kept (the delivery log shows its start). */
const MAX_ANSWER_BYTES = 1024;

/**
 * Webhooks over HTTP(S), signed with the `standardwebhooks` package (the spec's reference
 * implementation, which receivers verify with). The host is resolved here, every address it
 * resolves to is checked (unless UNDERSTUDY_WEBHOOK_ALLOW_PRIVATE_ADDRESSES), and the connection is
 * made to the address that was checked, by a lookup that answers only it: a DNS answer that changes
 * between the check and the connection (DNS rebinding) cannot send the request anywhere else. TLS
 * still verifies the certificate against the URL's host name. Redirects are not followed.
 * Resolution is by c-ares with a time limit (webhook-dns.ts), and an attempt's time limit covers it.
 */
export class HttpWebhookTransport implements WebhookTransport {
  readonly #allowPrivateAddresses: boolean;
  readonly #timeoutMs: number;
  readonly #dns: DnsSettings;

  constructor(options: { readonly allowPrivateAddresses: boolean; readonly timeoutMs?: number | undefined; readonly dns?: DnsSettings | undefined }) {
    this.#allowPrivateAddresses = options.allowPrivateAddresses;
    this.#timeoutMs = options.timeoutMs ?? WEBHOOK_ATTEMPT_BUDGET_MS;
    this.#dns = options.dns ?? {};
  }

  async checkHost(url: URL): Promise<string | undefined> {
    const resolved = await this.#resolve(url, Math.min(DNS_BUDGET_MS, this.#timeoutMs));
    return 'refused' in resolved ? resolved.refused : undefined;
  }

  async send(request: WebhookRequest): Promise<WebhookAnswer> {
    let url: URL;
    try {
      url = new URL(request.url);
    } catch {
      return { failure: 'not sent: the URL is not valid' };
    }
    const deadline = performance.now() + this.#timeoutMs;
    const resolved = await this.#resolve(url, Math.min(DNS_BUDGET_MS, this.#timeoutMs));
    if ('refused' in resolved) return { failure: `not sent: the host ${resolved.refused}` };
    const timestampSeconds = Math.floor(request.timestamp.getTime() / 1000);
    const signature = new Webhook(request.secret).sign(request.messageId, new Date(timestampSeconds * 1000), request.body);
    return post(url, resolved, {
      'content-type': 'application/json',
      'user-agent': 'Understudy-Webhooks',
      'webhook-id': request.messageId,
      'webhook-timestamp': String(timestampSeconds),
      'webhook-signature': signature,
      'content-length': String(Buffer.byteLength(request.body)),
    }, request.body, Math.max(1, deadline - performance.now()), this.#timeoutMs);
  }

  /** The address to connect to (resolveOutbound), or why there is none, worded for the delivery log. */
  async #resolve(url: URL, budgetMs: number): Promise<OutboundTarget | { refused: string }> {
    const target = await resolveOutbound(url, budgetMs, { allowPrivateAddresses: this.#allowPrivateAddresses, dns: this.#dns });
    if (!('refused' in target)) return target;
    const { refused } = target;
    if (refused.kind === 'unresolved') return { refused: `${refused.host} could not be resolved (${refused.why})` };
    if (refused.kind === 'no_address') return { refused: `${refused.host} resolves to no address` };
    return { refused: refused.host === refused.address ? refused.reason : `${refused.host} resolves to ${refused.address}, an internal (loopback, private or link-local) address` };
  }
}

/** One POST to `target`'s address, whatever the URL's host resolves to by then. */
function post(url: URL, target: { address: string; family: 4 | 6 }, headers: Record<string, string>, body: string, timeoutMs: number, budgetMs: number): Promise<WebhookAnswer> {
  const pinned = pinnedLookup(target);
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve) => {
    let settled = false;
    const finish = (answer: WebhookAnswer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(answer);
    };
    const outgoing = send(url, { method: 'POST', headers, lookup: pinned, agent: false }, (response: IncomingMessage) => {
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        if (size >= MAX_ANSWER_BYTES) return;
        chunks.push(chunk);
        size += chunk.length;
        // Enough of the answer is read: the rest is not wanted, whatever its length.
        if (size >= MAX_ANSWER_BYTES) response.destroy();
      });
      const done = () => finish({ status: response.statusCode ?? 0, text: new TextDecoder().decode(Buffer.concat(chunks).subarray(0, MAX_ANSWER_BYTES)) });
      response.on('end', done);
      response.on('close', done);
      response.on('error', done);
    });
    const timer = setTimeout(() => {
      outgoing.destroy();
      finish({ failure: `no answer within ${budgetMs} ms` });
    }, timeoutMs);
    outgoing.on('error', (error: Error & { code?: string }) => finish({ failure: error.code === undefined ? error.message : `${error.code}: ${error.message}` }));
    outgoing.end(body);
  });
}
