import { BlockList, isIP } from 'node:net';
import { webhookError } from './errors.js';
import type { DomainError } from '../common/domain-error.js';

/**
 * Where webhooks may go (docs/webhooks.md, "Endpoint URLs"). An organization's admin chooses the URL
 * and Understudy makes the request, so without these rules a customer could make the server call
 * into its own network (its database, a cloud metadata service). Checked when an endpoint is added
 * and again at every delivery, on the addresses the host resolves to then, and the request goes to
 * the address that was checked (a DNS answer that changes in between cannot redirect it).
 */

/** Loopback, private, shared (CGNAT), link-local, unspecified, benchmarking, documentation, 6to4 relay, multicast and reserved IPv4 ranges. */
const FORBIDDEN_IPV4 = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  FORBIDDEN_IPV4.addSubnet(network, prefix, 'ipv4');
}

const INTERNAL = 'is a loopback, private, link-local or otherwise internal address';

/**
 * Why `address` (an IP literal) may not receive webhooks, or undefined when it may.
 *
 * IPv6 is judged by what may receive rather than by what may not: only global unicast (2000::/3),
 * less its special blocks. Everything else — loopback, unspecified, unique-local (fc00::/7),
 * link-local (fe80::/10), site-local (fec0::/10), multicast, NAT64 (64:ff9b::/96 and the local-use
 * 64:ff9b:1::/48), discard (100::/64) — is refused, so a range forgotten here is refused too.
 * Addresses that carry an IPv4 address (::ffff:a.b.c.d and the other IPv4-in-IPv6 spellings, 6to4's
 * 2002:aabb:ccdd::/48) are judged as that IPv4 address.
 */
export function forbiddenAddressReason(address: string): string | undefined {
  const family = isIP(address);
  if (family === 0) return `${address} is not an IP address`;
  if (family === 4) return FORBIDDEN_IPV4.check(address, 'ipv4') ? `${address} ${INTERNAL}` : undefined;
  const groups = ipv6Groups(address);
  if (groups === undefined) return `${address} is not an IP address`;
  const judgedAs = (ipv4: string) => (FORBIDDEN_IPV4.check(ipv4, 'ipv4') ? `${address} (${ipv4}) ${INTERNAL}` : undefined);
  const [g0 = 0, g1 = 0, g2 = 0, g3 = 0, g4 = 0, g5 = 0, g6 = 0, g7 = 0] = groups;
  // ::a.b.c.d (IPv4-compatible; :: and ::1 become 0.0.0.0 and 0.0.0.1, both refused),
  // ::ffff:a.b.c.d (IPv4-mapped) and ::ffff:0:a.b.c.d (IPv4-translated).
  if (g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && ((g4 === 0 && (g5 === 0 || g5 === 0xffff)) || (g4 === 0xffff && g5 === 0))) return judgedAs(ipv4Of(g6, g7));
  if ((g0 & 0xe000) !== 0x2000) return `${address} ${INTERNAL}`;
  // 6to4: the IPv4 address of the site is the next 32 bits.
  if (g0 === 0x2002) return judgedAs(ipv4Of(g1, g2));
  // 2001::/23, the IETF's special-purpose block: Teredo (2001::/32, which tunnels to an address it
  // hides), benchmarking (2001:2::/48), ORCHID; and the documentation prefixes 2001:db8::/32, 3fff::/20.
  if (g0 === 0x2001 && (g1 < 0x0200 || g1 === 0x0db8)) return `${address} ${INTERNAL}`;
  if (g0 === 0x3fff && g1 < 0x1000) return `${address} ${INTERNAL}`;
  return undefined;
}

function ipv4Of(high: number, low: number): string {
  return `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`;
}

/** The eight 16-bit groups of an IPv6 address (any spelling: `::`, a trailing dotted IPv4 part, a `%zone`). */
function ipv6Groups(address: string): number[] | undefined {
  let text = address.toLowerCase().replace(/%.*$/, '');
  const dotted = /^(.*:)(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted !== null) {
    const [a, b, c, d] = dotted.slice(2).map(Number) as [number, number, number, number];
    text = `${dotted[1]}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const parse = (part: string | undefined) => (part === undefined || part === '' ? [] : part.split(':').map((group) => Number.parseInt(group, 16)));
  const head = parse(halves[0]);
  const tail = parse(halves[1]);
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 && missing < 1) return undefined;
  const groups = halves.length === 2 ? [...head, ...new Array<number>(missing).fill(0), ...tail] : head;
  return groups.length === 8 && groups.every((group) => Number.isInteger(group) && group >= 0 && group <= 0xffff) ? groups : undefined;
}

const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);
export const MAX_URL_LENGTH = 2048;

/** The URL's host without IPv6 brackets, lower case. */
export function hostOf(url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
}

/**
 * The checks that need no DNS: https:// (http:// only to localhost, and only where internal
 * addresses are allowed), no user:password@, an IP literal host not internal unless allowed.
 * Returns the parsed URL, or the refusal.
 */
export function checkWebhookUrl(text: string, allowPrivateAddresses: boolean): URL | DomainError {
  const refuse = (why: string) => webhookError('invalid_webhook_endpoint', `The webhook URL ${why}.`);
  if (text.length > MAX_URL_LENGTH) return refuse(`is longer than ${MAX_URL_LENGTH} characters`);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return refuse('is not a URL');
  }
  if (url.username !== '' || url.password !== '') return refuse('must not contain user:password@');
  if (url.protocol === 'http:') {
    if (!LOCAL_HOSTS.has(url.hostname.toLowerCase())) return refuse('must use https:// (http:// only for localhost)');
    if (!allowPrivateAddresses) return refuse('must use https:// (http://localhost only with UNDERSTUDY_WEBHOOK_ALLOW_PRIVATE_ADDRESSES=true)');
  } else if (url.protocol !== 'https:') {
    return refuse('must use https://');
  }
  if (url.hash !== '') return refuse('must not contain a #fragment');
  const host = hostOf(url);
  if (!allowPrivateAddresses && (host === 'localhost' || host.endsWith('.localhost'))) return refuse(`names ${host}, a loopback host`);
  if (!allowPrivateAddresses && isIP(host) !== 0) {
    const reason = forbiddenAddressReason(host);
    if (reason !== undefined) return refuse(`names ${reason}`);
  }
  return url;
}
