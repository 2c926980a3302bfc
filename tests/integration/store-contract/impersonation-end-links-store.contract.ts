import { describe, expect, it } from 'vitest';
import { createOpaqueToken } from '../../../src/crypto/opaque-token.js';
import type { ImpersonationEndLink } from '../../../src/domain/impersonation/end-links.js';
import { cryptoRandom } from '../../../src/platform/random.js';
import type { StoreFactory } from '../../support/stores.js';
import { useFreshStore } from './contract-support.js';

const LINK: ImpersonationEndLink = {
  linkId: 'impersonation-end-link-test-1',
  memberSessionId: 'member-session-test-1',
  organizationId: 'organization-test-1',
  memberId: 'member-test-1',
  createdAt: '2026-03-01T12:00:00Z',
  expiresAt: '2026-03-01T13:00:00Z',
  usedAt: null,
};

/** The ImpersonationEndLinksStore port (src/domain/impersonation/end-links.ts) against one adapter. */
export function describeImpersonationEndLinksStoreContract(factory: StoreFactory): void {
  describe('ImpersonationEndLinksStore', () => {
    const store = useFreshStore(factory);

    it('finds a link by its lookup id with its digest, and uses it once, before it expires', async () => {
      const links = store().impersonationEndLinks;
      const secret = createOpaqueToken(cryptoRandom);
      await links.insertEndLink(LINK, secret);
      expect(await links.findEndLinkByLookupId(secret.lookupId)).toEqual({ link: LINK, digest: secret.digest });
      expect(await links.findEndLinkByLookupId('unknown-look')).toBeUndefined();
      expect(await links.useEndLink(LINK.linkId, '2026-03-01T13:00:00Z')).toBe(false);
      const uses = await Promise.all([links.useEndLink(LINK.linkId, '2026-03-01T12:30:00Z'), links.useEndLink(LINK.linkId, '2026-03-01T12:30:00Z')]);
      expect(uses.sort()).toEqual([false, true]);
      expect((await links.findEndLinkByLookupId(secret.lookupId))?.link.usedAt).toBe('2026-03-01T12:30:00Z');
    });
  });
}
