import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { idpFetch, IdpRequestError } from '../../src/sso/idp-http.js';
import { startDnsServer } from '../support/dns-server.js';

/**
 * The SSO fetch of identity providers' URLs resolves the host itself and checks every address it
 * resolves to (the same resolution as webhooks), so a public-looking name that points into the
 * network is refused before any connection, and the refusal never names the internal address.
 */
describe('idpFetch host resolution', () => {
  let dns: Awaited<ReturnType<typeof startDnsServer>>;

  beforeAll(async () => {
    dns = await startDnsServer({ 'internal.test': ['10.0.0.5'], 'mixed.test': ['93.184.216.34', '::1'] });
  });
  afterAll(async () => dns?.close());

  async function refusal(url: string): Promise<IdpRequestError> {
    const fetch = idpFetch({ allowPrivateAddresses: false, dns: { servers: [dns.server] }, timeoutMs: 2_000 });
    const error = await fetch(url).then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(IdpRequestError);
    return error as IdpRequestError;
  }

  it('refuses a host that resolves to an internal address, or to any internal address among public ones, without naming it', async () => {
    for (const url of ['https://internal.test/.well-known/openid-configuration', 'https://mixed.test/metadata']) {
      const error = await refusal(url);
      expect(error.reason).toBe('refused');
      expect(error.message).toContain('resolves to an internal (loopback, private or link-local) address');
      expect(error.message).not.toMatch(/10\.0\.0\.5|::1/);
    }
    expect(dns.queries).toEqual(expect.arrayContaining(['internal.test/A', 'mixed.test/AAAA']));
  });

  it('says a name that does not resolve is unreachable rather than refused', async () => {
    const error = await refusal('https://unknown.test/metadata');
    expect(error.reason).toBe('failed');
    expect(error.message).toBe('unknown.test could not be resolved (ENOTFOUND)');
  });
});
