import { Resolver } from 'node:dns/promises';
import { isIP, type LookupFunction } from 'node:net';
import { forbiddenAddressReason, hostOf } from '../domain/webhooks/webhook-address.js';

/** Per query try; c-ares waits this long for an answer before it asks again. */
export const DNS_TRY_TIMEOUT_MS = 2_000;
export const DNS_TRIES = 2;
/** The most a whole resolution may take, whatever the resolver's servers and tries add up to. */
export const DNS_BUDGET_MS = 5_000;

export interface DnsSettings {
  /** `host:port` of the name servers to ask; the system's (/etc/resolv.conf) when omitted. */
  readonly servers?: readonly string[] | undefined;
  readonly tryTimeoutMs?: number | undefined;
  readonly tries?: number | undefined;
}

export type Resolved = { readonly addresses: { readonly address: string; readonly family: 4 | 6 }[] } | { readonly failure: string };

/**
 * Resolves a webhook host's A and AAAA records with c-ares (`dns.promises.Resolver`), not with
 * `dns.lookup`: lookup runs getaddrinfo on libuv's thread pool (4 threads, shared with password
 * hashing and file I/O) with no time limit, so a few slow names could stall the server. Each
 * resolution gets its own resolver, so one that runs out of time is cancelled without touching
 * the others. c-ares does not read /etc/hosts: `localhost` (and `*.localhost`) is answered here,
 * as 127.0.0.1 and ::1; other names must be in DNS.
 */
export async function resolveHost(host: string, budgetMs: number, settings: DnsSettings = {}): Promise<Resolved> {
  if (host === 'localhost' || host.endsWith('.localhost')) {
    return {
      addresses: [
        { address: '127.0.0.1', family: 4 },
        { address: '::1', family: 6 },
      ],
    };
  }
  if (budgetMs <= 0) return { failure: 'no time left to resolve it' };
  const resolver = new Resolver({ timeout: settings.tryTimeoutMs ?? DNS_TRY_TIMEOUT_MS, tries: settings.tries ?? DNS_TRIES });
  if (settings.servers !== undefined) resolver.setServers([...settings.servers]);
  let timer: NodeJS.Timeout | undefined;
  const outOfTime = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), budgetMs);
  });
  try {
    const both = Promise.allSettled([resolver.resolve4(host), resolver.resolve6(host)]);
    const settled = await Promise.race([both, outOfTime]);
    if (settled === 'timeout') {
      // Ends both queries at once: nothing of this resolution stays behind.
      resolver.cancel();
      await both;
      return { failure: `no DNS answer within ${budgetMs} ms` };
    }
    const [v4, v6] = settled;
    // IPv4 first: a host with both is reached over IPv4, which every network this runs in has.
    const addresses = [
      ...(v4.status === 'fulfilled' ? v4.value.map((address) => ({ address, family: 4 as const })) : []),
      ...(v6.status === 'fulfilled' ? v6.value.map((address) => ({ address, family: 6 as const })) : []),
    ];
    if (addresses.length > 0) return { addresses };
    const codes = [v4, v6].map((result) => (result.status === 'rejected' ? ((result.reason as { code?: string }).code ?? 'lookup failed') : 'ENODATA'));
    // ENODATA for one family and a real error for the other: the error says more.
    return { failure: codes.find((code) => code !== 'ENODATA') ?? 'ENODATA' };
  } finally {
    clearTimeout(timer);
  }
}

/** Where an outbound request may go: one checked address of the URL's host. */
export interface OutboundTarget {
  readonly address: string;
  readonly family: 4 | 6;
}

/** Why it may not: the host could not be resolved, has no address, or one of its addresses is internal. */
export type OutboundRefusal =
  | { readonly kind: 'unresolved'; readonly host: string; readonly why: string }
  | { readonly kind: 'no_address'; readonly host: string }
  | { readonly kind: 'internal'; readonly host: string; readonly address: string; readonly reason: string };

/**
 * The address a request to `url` goes to: the host's first address (an IP literal is its own),
 * when every address it resolves to is allowed (internal ones only with `allowPrivateAddresses`).
 * Webhooks and the SSO fetch of identity providers' URLs share it; each words its own refusal.
 */
export async function resolveOutbound(
  url: URL,
  budgetMs: number,
  options: { readonly allowPrivateAddresses: boolean; readonly dns?: DnsSettings | undefined },
): Promise<OutboundTarget | { readonly refused: OutboundRefusal }> {
  const host = hostOf(url);
  let addresses: readonly { address: string; family: number }[];
  if (isIP(host) !== 0) {
    addresses = [{ address: host, family: isIP(host) }];
  } else {
    const resolved = await resolveHost(host, budgetMs, options.dns);
    if ('failure' in resolved) return { refused: { kind: 'unresolved', host, why: resolved.failure } };
    addresses = resolved.addresses;
  }
  const first = addresses[0];
  if (first === undefined) return { refused: { kind: 'no_address', host } };
  if (!options.allowPrivateAddresses) {
    for (const { address } of addresses) {
      const reason = forbiddenAddressReason(address);
      if (reason !== undefined) return { refused: { kind: 'internal', host, address, reason } };
    }
  }
  return { address: first.address, family: first.family === 6 ? 6 : 4 };
}

/** A lookup that answers only `target`: the connection goes to the address that was checked, whatever DNS says by then. */
export function pinnedLookup(target: OutboundTarget): LookupFunction {
  return (_hostname, options, callback) => {
    if ((options as { all?: boolean }).all === true) (callback as (error: null, addresses: { address: string; family: number }[]) => void)(null, [target]);
    else callback(null, target.address, target.family);
  };
}
