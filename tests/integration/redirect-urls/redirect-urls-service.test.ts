import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import type { OperationContext } from '../../../src/domain/common/operation-context.js';
import type { RedirectUrl } from '../../../src/domain/redirect-urls/redirect-url.js';
import type { RedirectUrlsService } from '../../../src/domain/redirect-urls/redirect-urls-service.js';
import { ManualClock } from '../../../src/platform/clock.js';
import { SequentialRandom } from '../../../src/platform/random.js';
import { createServices } from '../../../src/services.js';
import type { Store } from '../../../src/storage/store.js';
import { STORES } from '../../support/stores.js';
import { freshStoreSource } from '../store-contract/contract-support.js';
import { auditTrail, domainErrorCode } from '../services/service-harness.js';

const CONTEXT: OperationContext = { requestId: 'request-id-test-redirect-urls', actor: { type: 'cli' } };
const APP = 'https://app.example.com/authenticate';
const OTHER = 'https://other.example.com/callback';
const CONFIGURED: RedirectUrl[] = [
  { url: 'https://configured.example.com/login', types: [{ type: 'login', isDefault: true }, { type: 'signup', isDefault: true }] },
  { url: 'https://configured.example.com/discover', types: [{ type: 'discovery', isDefault: true }] },
];

for (const factory of STORES) {
  describe(`redirect URLs service (${factory.name})`, () => {
    const source = freshStoreSource(factory);
    let store: Store;
    const build = (configured: RedirectUrl[] = []): RedirectUrlsService =>
      createServices({ store, clock: new ManualClock('2026-03-01T12:00:00Z'), random: new SequentialRandom(), projectId: 'project-test-00000000-0000-4000-8000-0000000000bb', masterKey: Buffer.alloc(32, 7), redirectUrls: configured }).redirectUrlsAdmin;
    beforeEach(async () => {
      store = await source.next();
    });
    afterAll(() => source.finish());

    it('allows and defaults to http://localhost:3000/authenticate for every type while nothing is configured or stored', async () => {
      const service = build();
      for (const type of ['login', 'signup', 'invite', 'discovery', 'reset_password'] as const) {
        expect(await service.resolve(type, undefined)).toBe('http://localhost:3000/authenticate');
        expect(await service.resolve(type, 'http://localhost:3000/authenticate')).toBe('http://localhost:3000/authenticate');
      }
      expect(await domainErrorCode(service.resolve('login', 'http://localhost:3000/authenticate/'))).toBe('invalid_login_redirect_url');
      expect((await service.list()).redirectUrls.map((entry) => entry.source)).toEqual(['built_in']);
    });

    it('stores a URL with its types, audits it, and the built-in URL stops applying', async () => {
      const service = build();
      const { created, listing } = await service.save(CONTEXT, { url: APP, types: [{ type: 'signup', isDefault: false }, { type: 'login', isDefault: true }] });
      expect(created).toBe(true);
      expect(listing.redirectUrls).toEqual([{ url: APP, source: 'database', types: [{ type: 'login', isDefault: true }, { type: 'signup', isDefault: false }] }]);
      expect(listing.defaults).toEqual({ login: APP, signup: null, invite: null, discovery: null, reset_password: null });
      expect(await service.resolve('login', undefined)).toBe(APP);
      expect(await service.resolve('signup', APP)).toBe(APP);
      expect(await domainErrorCode(service.resolve('signup', undefined))).toBe('no_default_signup_redirect_url_set');
      expect(await domainErrorCode(service.resolve('invite', APP))).toBe('invalid_invite_redirect_url');
      expect(await domainErrorCode(service.resolve('reset_password', undefined))).toBe('no_password_reset_redirect_url');
      expect(await domainErrorCode(service.resolve('login', 'http://localhost:3000/authenticate'))).toBe('invalid_login_redirect_url');
      const events = await auditTrail(store);
      expect(events.at(-1)).toMatchObject({ type: 'redirect_url.added', actor: { type: 'cli' }, details: { url: APP, types: ['login', 'signup'], default_for: ['login'] } });
    });

    it('moves a default from one stored URL to another, and replaces types when saved again', async () => {
      const service = build();
      await service.save(CONTEXT, { url: APP, types: [{ type: 'login', isDefault: true }] });
      await service.save(CONTEXT, { url: OTHER, types: [{ type: 'login', isDefault: true }, { type: 'invite', isDefault: true }] });
      let listing = await service.list();
      expect(listing.defaults.login).toBe(OTHER);
      expect(listing.redirectUrls.find((entry) => entry.url === APP)?.types).toEqual([{ type: 'login', isDefault: false }]);
      listing = await service.setDefault(CONTEXT, APP, 'login');
      expect(listing.defaults).toMatchObject({ login: APP, invite: OTHER });
      listing = await service.setDefault(CONTEXT, APP, 'discovery');
      expect(listing.redirectUrls.find((entry) => entry.url === APP)?.types).toEqual([{ type: 'login', isDefault: true }, { type: 'discovery', isDefault: true }]);
      const again = await service.save(CONTEXT, { url: OTHER, types: [{ type: 'signup', isDefault: false }] });
      expect(again.created).toBe(false);
      expect(again.listing.defaults).toEqual({ login: APP, signup: null, invite: null, discovery: APP, reset_password: null });
      expect((await auditTrail(store)).at(-1)).toMatchObject({ type: 'redirect_url.updated', details: { url: OTHER, types: ['signup'], previous: { types: ['login', 'invite'] } } });
    });

    it('removes a stored URL: sends may no longer use it', async () => {
      const service = build();
      await service.save(CONTEXT, { url: APP, types: [{ type: 'login', isDefault: true }] });
      await service.save(CONTEXT, { url: OTHER, types: [{ type: 'login', isDefault: false }] });
      await service.remove(CONTEXT, APP);
      expect(await domainErrorCode(service.resolve('login', APP))).toBe('invalid_login_redirect_url');
      expect(await domainErrorCode(service.resolve('login', undefined))).toBe('no_default_login_redirect_url_set');
      expect((await auditTrail(store)).at(-1)).toMatchObject({ type: 'redirect_url.removed', details: { url: APP } });
      expect(await domainErrorCode(service.remove(CONTEXT, APP))).toBe('allowed_redirect_url_not_found');
      expect(await domainErrorCode(service.setDefault(CONTEXT, APP, 'login'))).toBe('allowed_redirect_url_not_found');
    });

    it('keeps configured URLs read-only, and lets a stored default win over a configured one', async () => {
      const service = build(CONFIGURED);
      expect(await service.resolve('login', undefined)).toBe('https://configured.example.com/login');
      expect(await domainErrorCode(service.resolve('invite', undefined))).toBe('no_default_invite_redirect_url_set');
      const before = (await auditTrail(store)).length;
      expect(await domainErrorCode(service.save(CONTEXT, { url: 'https://configured.example.com/login', types: [{ type: 'invite', isDefault: true }] }))).toBe(
        'allowed_redirect_url_from_configuration',
      );
      expect(await domainErrorCode(service.remove(CONTEXT, 'https://configured.example.com/discover'))).toBe('allowed_redirect_url_from_configuration');
      expect((await auditTrail(store)).length).toBe(before);
      await service.save(CONTEXT, { url: APP, types: [{ type: 'login', isDefault: true }] });
      const listing = await service.list();
      expect(listing.defaults).toEqual({ login: APP, signup: 'https://configured.example.com/login', invite: null, discovery: 'https://configured.example.com/discover', reset_password: null });
      expect(listing.redirectUrls.map((entry) => [entry.source, entry.url])).toEqual([
        ['configuration', 'https://configured.example.com/login'],
        ['configuration', 'https://configured.example.com/discover'],
        ['database', APP],
      ]);
      expect(listing.redirectUrls[0]?.types).toEqual([{ type: 'login', isDefault: false }, { type: 'signup', isDefault: true }]);
      expect(await service.resolve('login', 'https://configured.example.com/login')).toBe('https://configured.example.com/login');
    });

    it('refuses bad URLs and types and writes nothing', async () => {
      const service = build();
      for (const url of ['ftp://example.com/x', 'http://app.example.com/authenticate', 'https://user:pw@app.example.com/', '/authenticate', `https://example.com/${'a'.repeat(2048)}`]) {
        expect(await domainErrorCode(service.save(CONTEXT, { url, types: [{ type: 'login', isDefault: false }] })), url).toBe('invalid_allowed_redirect_url');
      }
      expect(await domainErrorCode(service.save(CONTEXT, { url: APP, types: [] }))).toBe('invalid_allowed_redirect_url_types');
      expect(await domainErrorCode(service.save(CONTEXT, { url: APP, types: [{ type: 'login', isDefault: false }, { type: 'login', isDefault: true }] }))).toBe(
        'invalid_allowed_redirect_url_types',
      );
      expect(await domainErrorCode(service.save(CONTEXT, { url: APP, types: [{ type: 'logout' as 'login', isDefault: false }] }))).toBe('invalid_allowed_redirect_url_types');
      expect((await service.list()).redirectUrls.map((entry) => entry.source)).toEqual(['built_in']);
      expect(await auditTrail(store)).toEqual([]);
    });

    it('leaves exactly one default per type when two edits race for it', async () => {
      const service = build();
      const urls = Array.from({ length: 6 }, (_, index) => `https://app${index}.example.com/authenticate`);
      await Promise.all(urls.map((url) => service.save(CONTEXT, { url, types: [{ type: 'login', isDefault: true }, { type: 'signup', isDefault: true }] })));
      const listing = await service.list();
      expect(listing.redirectUrls).toHaveLength(6);
      for (const type of ['login', 'signup'] as const) {
        const defaults = listing.redirectUrls.filter((entry) => entry.types.some((setting) => setting.type === type && setting.isDefault));
        expect(defaults).toHaveLength(1);
        expect(listing.defaults[type]).toBe(defaults[0]?.url);
      }
      const stored = await store.redirectUrls.listRedirectUrls();
      expect(stored.flatMap((entry) => entry.types.filter((setting) => setting.isDefault))).toHaveLength(2);
    });
  });
}
