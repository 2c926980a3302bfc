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
  ])('refuses %s', (address) => {
    expect(forbiddenAddressReason(address)).toBeDefined();
  });

  it.each(['93.184.216.34', '8.8.8.8', '172.32.0.1', '2606:4700::1111', '::ffff:8.8.8.8'])('allows %s', (address) => {
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
