import { isIPv4, isIPv6 } from 'node:net';

/**
 * The key a client address is limited under. IPv4 addresses (also when IPv4-mapped, `::ffff:a.b.c.d`)
 * stand for themselves; IPv6 addresses count by their /64, since one host is routinely given a whole
 * /64 and could otherwise pick a fresh address for every attempt. Anything else is used verbatim.
 */
export function clientAddressKey(address: string): string {
  if (!address.includes(':')) return address;
  const withoutZone = address.split('%')[0] ?? address;
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(withoutZone);
  if (mapped?.[1] !== undefined && isIPv4(mapped[1])) return mapped[1];
  if (!isIPv6(withoutZone)) return address;
  return `${firstFourGroups(withoutZone).join(':')}::/64`;
}

/** The first four 16-bit groups of a valid IPv6 address, without leading zeros. */
function firstFourGroups(address: string): string[] {
  const [head = '', tail] = address.split('::');
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === undefined || tail === '' ? [] : tail.split(':');
  // An embedded IPv4 tail (`…:1.2.3.4`) takes two groups; it can only be among the last four.
  const tailLength = tailGroups.reduce((count, group) => count + (group.includes('.') ? 2 : 1), 0);
  const zeros = tail === undefined ? [] : Array.from({ length: 8 - headGroups.length - tailLength }, () => '0');
  return [...headGroups, ...zeros, ...tailGroups].slice(0, 4).map((group) => (group.includes('.') ? group : Number.parseInt(group, 16).toString(16)));
}
