import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { forbiddenAddressReason, hostOf } from '../domain/webhooks/webhook-address.js';
import { DNS_BUDGET_MS, pinnedLookup, resolveOutbound, type DnsSettings, type OutboundTarget } from '../webhooks/webhook-dns.js';

/** The most an identity provider's answer (metadata, discovery, tokens, keys) may take. */
export const IDP_TIMEOUT_MS = 5_000;
/** The most of an answer read; a longer one is refused, not truncated. */
export const IDP_MAX_BYTES = 1024 * 1024;

/** Why a request to an identity provider was not made or not answered usably. */
export class IdpRequestError extends Error {
  constructor(
    message: string,
    /** `refused`: the URL or its addresses are not allowed; `failed`: no usable answer. */
    readonly reason: 'refused' | 'failed',
  ) {
    super(message);
  }
}

/** A `fetch` that only an identity provider's URL may be given to (openid-client's customFetch shape). */
export type IdpFetch = (url: string, init?: { method?: string; headers?: ConstructorParameters<typeof Headers>[0]; body?: ConstructorParameters<typeof Response>[0]; signal?: AbortSignal | null }) => Promise<Response>;

/**
 * The URLs Understudy itself fetches from an identity provider (SAML metadata, OIDC discovery, token,
 * userinfo and JWKS endpoints) are chosen by an organization's admin, so they get the webhooks' rules:
 * https:// (http:// only to localhost, and only with UNDERSTUDY_SSO_ALLOW_PRIVATE_ADDRESSES), no
 * user:password@, every address the host resolves to checked, the connection made to the address
 * checked (DNS rebinding cannot redirect it), no redirects followed, at most IDP_TIMEOUT_MS for the
 * whole exchange and IDP_MAX_BYTES of answer.
 */
export function idpFetch(options: { allowPrivateAddresses: boolean; timeoutMs?: number; maxBytes?: number; dns?: DnsSettings }): IdpFetch {
  const timeoutMs = options.timeoutMs ?? IDP_TIMEOUT_MS;
  const maxBytes = options.maxBytes ?? IDP_MAX_BYTES;
  return async (text, init = {}) => {
    const url = checkIdpUrl(text, options.allowPrivateAddresses);
    const deadline = performance.now() + timeoutMs;
    const target = await resolveAllowed(url, Math.min(DNS_BUDGET_MS, timeoutMs), options);
    const headers = new Headers(init.headers);
    if (!headers.has('user-agent')) headers.set('user-agent', 'Understudy-SSO');
    let body: Buffer | undefined;
    if (init.body !== undefined && init.body !== null) {
      body = Buffer.from(await new Response(init.body).arrayBuffer());
      headers.set('content-length', String(body.length));
    }
    return exchange(url, target, { method: init.method ?? 'GET', headers, body, signal: init.signal ?? undefined }, Math.max(1, deadline - performance.now()), maxBytes);
  };
}

/** The URL, parsed, if an identity provider's endpoint may be it; throws IdpRequestError('refused') otherwise. */
export function checkIdpUrl(text: string, allowPrivateAddresses: boolean): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new IdpRequestError('is not a URL', 'refused');
  }
  if (url.username !== '' || url.password !== '') throw new IdpRequestError('must not contain user:password@', 'refused');
  const host = hostOf(url);
  const local = host === 'localhost' || host.endsWith('.localhost') || host === '127.0.0.1' || host === '::1';
  if (url.protocol === 'http:') {
    if (!local || !allowPrivateAddresses) throw new IdpRequestError('must use https:// (http:// only for localhost, with UNDERSTUDY_SSO_ALLOW_PRIVATE_ADDRESSES=true)', 'refused');
  } else if (url.protocol !== 'https:') {
    throw new IdpRequestError('must use https://', 'refused');
  }
  if (!allowPrivateAddresses) {
    if (host === 'localhost' || host.endsWith('.localhost')) throw new IdpRequestError(`names ${host}, a loopback host`, 'refused');
    if (isIP(host) !== 0) {
      const reason = forbiddenAddressReason(host);
      if (reason !== undefined) throw new IdpRequestError(`names ${reason}`, 'refused');
    }
  }
  return url;
}

/** The checked address to connect to (resolveOutbound), or an IdpRequestError. */
async function resolveAllowed(url: URL, budgetMs: number, options: { allowPrivateAddresses: boolean; dns?: DnsSettings | undefined }): Promise<OutboundTarget> {
  const target = await resolveOutbound(url, budgetMs, options);
  if (!('refused' in target)) return target;
  const { refused } = target;
  if (refused.kind === 'unresolved') throw new IdpRequestError(`${refused.host} could not be resolved (${refused.why})`, 'failed');
  if (refused.kind === 'no_address') throw new IdpRequestError(`${refused.host} resolves to no address`, 'failed');
  // The address itself is not named: the message reaches tenants, who must not map the network with it.
  throw new IdpRequestError(`${refused.host} resolves to an internal (loopback, private or link-local) address`, 'refused');
}

function exchange(
  url: URL,
  target: OutboundTarget,
  request: { method: string; headers: Headers; body: Buffer | undefined; signal: AbortSignal | undefined },
  timeoutMs: number,
  maxBytes: number,
): Promise<Response> {
  const pinned = pinnedLookup(target);
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    let settled = false;
    const fail = (message: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      outgoing.destroy();
      reject(new IdpRequestError(message, 'failed'));
    };
    const headers: Record<string, string> = {};
    request.headers.forEach((value, name) => {
      headers[name] = value;
    });
    const outgoing = send(url, { method: request.method, headers, lookup: pinned, agent: false }, (response: IncomingMessage) => {
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxBytes) return fail(`the answer is larger than ${maxBytes} bytes`);
        chunks.push(chunk);
      });
      response.on('end', () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        const headers = new Headers();
        for (const [name, value] of Object.entries(response.headers)) {
          if (Array.isArray(value)) for (const each of value) headers.append(name, each);
          else if (value !== undefined) headers.set(name, value);
        }
        const status = response.statusCode ?? 502;
        // Redirects are answered as they are (never followed): a 3xx is no usable answer to the caller.
        const noBody = status === 204 || status === 304;
        resolve(new Response(noBody ? null : Buffer.concat(chunks), { status, headers }));
      });
      response.on('error', (error) => fail(error.message));
    });
    const timer = setTimeout(() => fail(`no answer within ${timeoutMs} ms`), timeoutMs);
    request.signal?.addEventListener('abort', () => fail('aborted'), { once: true });
    outgoing.on('error', (error: Error & { code?: string }) => fail(error.code === undefined ? error.message : `${error.code}: ${error.message}`));
    outgoing.end(request.body);
  });
}
