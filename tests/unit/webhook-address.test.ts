import { describe, expect, it } from 'vitest';
import { isDomainError } from '../../src/domain/common/domain-error.js';
import { checkWebhookUrl, forbiddenAddressReason } from '../../src/domain/webhooks/webhook-address.js';

describe('webhook endpoint addresses', () => {
  it.each([
    '127.0.0.1',
    '127.255.0.9',
    '10.0.0.1',
    '172.16.5.4',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '224.0.0.1',
    '::1',
    '::',
    'fd00::1',
    'fe80::1',
    '::ffff:127.0.0.1',
    '::ffff:7f00:1',
    '::ffff:a9fe:a9fe',
    '64:ff9b::7f00:1',
    // Local-use NAT64 reaches IPv4 addresses of the operator's choosing.
    '64:ff9b:1::a00:1',
    '64:ff9b:1:ffff::808:808',
    // Teredo (2001::/32) and the rest of the IETF's special-purpose 2001::/23.
    '2001::1',
    '2001:0:4136:e378:8000:63bf:3fff:fdd2',
    '2001:2::1',
    '2001:1ff:ffff::1',
    // Documentation.
    '2001:db8::1',
    '3fff::1',
    // Site-local (deprecated, still routed inside some networks).
    'fec0::1',
    'feff::1',
    // 6to4 of an internal IPv4 address: 2002:7f00:0001:: is 127.0.0.1, 2002:a9fe:a9fe:: is 169.254.169.254.
    '2002:7f00:1::1',
    '2002:a9fe:a9fe::',
    '2002:c0a8:101:1::1',
    // Anything outside global unicast 2000::/3.
    '100::1',
    '4000::1',
    'e000::1',
    // The same addresses however they are spelled.
    '0:0:0:0:0:ffff:7f00:1',
    '0:0:0:0:0:0:0:1',
    '::ffff:0:127.0.0.1',
    'FE80::1',
    '::127.0.0.1',
    // IPv4 documentation and 6to4 relay ranges.
    '192.0.2.1',
    '198.51.100.7',
    '203.0.113.9',
    '192.88.99.1',
  ])('refuses %s', (address) => {
    expect(forbiddenAddressReason(address)).toBeDefined();
  });

  it.each(['93.184.216.34', '8.8.8.8', '172.32.0.1', '2606:4700::1111', '::ffff:8.8.8.8', '2001:4860:4860::8888', '2a00:1450:4001::1', '2002:808:808::1', '2001:200::1', '3fff:1000::1'])('allows %s', (address) => {
    expect(forbiddenAddressReason(address)).toBeUndefined();
  });

  it('allows https URLs, and http only to localhost where internal addresses are allowed', () => {
    expect(isDomainError(checkWebhookUrl('https://hooks.example.com/x', false))).toBe(false);
    expect(isDomainError(checkWebhookUrl('http://localhost:8080/x', true))).toBe(false);
    for (const [url, allow] of [
      ['http://localhost:8080/x', false],
      ['http://hooks.example.com/x', true],
      ['https://user:pass@hooks.example.com/x', true],
      ['https://hooks.example.com/x#frag', true],
      ['ftp://hooks.example.com/x', true],
      ['https://127.0.0.1/x', false],
      ['https://[::ffff:10.0.0.1]/x', false],
      ['https://api.localhost/x', false],
    ] as const) {
      const checked = checkWebhookUrl(url, allow);
      expect(isDomainError(checked) ? checked.code : 'accepted', url).toBe('invalid_webhook_endpoint');
    }
  });
});
