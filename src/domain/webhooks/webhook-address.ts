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

/** Loopback, private, link-local, unique-local, unspecified, shared (CGNAT), multicast and reserved ranges. */
const FORBIDDEN = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  FORBIDDEN.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
  // NAT64 and the discard prefix: both can reach IPv4 addresses behind them.
  ['64:ff9b::', 96],
  ['100::', 64],
] as const) {
  FORBIDDEN.addSubnet(network, prefix, 'ipv6');
}

/** Why `address` (an IP literal) may not receive webhooks, or undefined when it may. */
export function forbiddenAddressReason(address: string): string | undefined {
  const family = isIP(address);
  if (family === 0) return `${address} is not an IP address`;
  if (family === 6) {
    // An IPv4 address written as IPv6 (::ffff:127.0.0.1, ::127.0.0.1) is judged as that IPv4 address.
    const embedded = embeddedIpv4(address);
    if (embedded !== undefined) return forbiddenAddressReason(embedded);
  }
  return FORBIDDEN.check(address, family === 4 ? 'ipv4' : 'ipv6') ? `${address} is a loopback, private, link-local or otherwise internal address` : undefined;
}

function embeddedIpv4(address: string): string | undefined {
  const lower = address.toLowerCase();
  const dotted = /^(?:::ffff:(?:0:)?|::)(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  if (dotted !== null) return dotted[1];
  const hex = /^(?:::ffff:(?:0:)?|::)([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(lower);
  if (hex === null) return undefined;
  const high = Number.parseInt(hex[1] as string, 16);
  const low = Number.parseInt(hex[2] as string, 16);
  return `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`;
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
