import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/load.js';
import { AuditRecorder } from '../../src/domain/audit/audit-recorder.js';
import type { AuditStore } from '../../src/domain/audit/audit-store.js';
import { DomainError } from '../../src/domain/common/domain-error.js';
import { REDIRECT_URL_ERRORS } from '../../src/domain/redirect-urls/errors.js';
import type { RedirectUrl, RedirectUrlTypeSetting } from '../../src/domain/redirect-urls/redirect-url.js';
import type { RedirectUrlsStore, StoredRedirectUrl } from '../../src/domain/redirect-urls/redirect-urls-store.js';
import { RedirectUrlsService } from '../../src/domain/redirect-urls/redirect-urls-service.js';
import { ManualClock } from '../../src/platform/clock.js';
import { IdGenerator } from '../../src/platform/ids.js';
import { SequentialRandom } from '../../src/platform/random.js';

/** The port's behaviour in memory: enough to drive the service's matching and defaults. */
class MemoryRedirectUrls implements RedirectUrlsStore {
  readonly rows: StoredRedirectUrl[] = [];
  async lockForEdit(): Promise<void> {}
  async listRedirectUrls(): Promise<StoredRedirectUrl[]> {
    return this.rows.map((row) => ({ ...row, types: [...row.types] }));
  }
  async findRedirectUrl(url: string): Promise<StoredRedirectUrl | undefined> {
    return this.rows.find((row) => row.url === url);
  }
  async saveRedirectUrl(url: string, types: readonly RedirectUrlTypeSetting[], at: string): Promise<void> {
    const defaults = new Set(types.filter((setting) => setting.isDefault).map((setting) => setting.type));
    for (const [index, row] of this.rows.entries()) {
      this.rows[index] = { ...row, types: row.types.map((setting) => (defaults.has(setting.type) ? { ...setting, isDefault: false } : setting)) };
    }
    const index = this.rows.findIndex((row) => row.url === url);
    const entry = { url, types, createdAt: this.rows[index]?.createdAt ?? at, updatedAt: at };
    if (index === -1) this.rows.push(entry);
    else this.rows[index] = entry;
  }
  async deleteRedirectUrl(url: string): Promise<boolean> {
    const index = this.rows.findIndex((row) => row.url === url);
    if (index !== -1) this.rows.splice(index, 1);
    return index !== -1;
  }
}

function serviceWith(configured: RedirectUrl[], stored: RedirectUrl[] = []): RedirectUrlsService {
  const redirectUrls = new MemoryRedirectUrls();
  for (const entry of stored) redirectUrls.rows.push({ ...entry, createdAt: '2026-01-01T00:00:00Z', updatedAt: '2026-01-01T00:00:00Z' });
  const audit = { appendEvent: async () => {} } as unknown as AuditStore;
  const ports = { redirectUrls, audit };
  const clock = new ManualClock();
  return new RedirectUrlsService({
    store: { ...ports, transaction: (work) => work(ports) },
    clock,
    audit: new AuditRecorder({ ids: new IdGenerator(new SequentialRandom(), 'test'), clock }),
    configured,
  });
}

async function codeOf(call: Promise<unknown>): Promise<string> {
  const error = await call.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(DomainError);
  return (error as DomainError).code;
}

const every = (url: string, isDefault: boolean): RedirectUrl => ({
  url,
  types: (['login', 'signup', 'invite', 'discovery', 'reset_password'] as const).map((type) => ({ type, isDefault })),
});

describe('resolving a redirect URL', () => {
  const service = serviceWith([every('https://app.example.com/authenticate?next=%2Fhome', true), every('https://www.example.com/auth', false)]);

  it.each([
    ['the bare host for a www. URL', 'https://example.com/auth'],
    ['a trailing slash', 'https://www.example.com/auth/'],
    ['a subdirectory', 'https://www.example.com/auth/more'],
    ['another query string', 'https://app.example.com/authenticate?next=%2Fother'],
    ['no query string', 'https://app.example.com/authenticate'],
    ['another scheme', 'http://www.example.com/auth'],
    ['another case', 'https://WWW.example.com/auth'],
    ['an explicit default port', 'https://www.example.com:443/auth'],
  ])('refuses %s: matching is exact', async (_label, given) => {
    expect(await codeOf(service.resolve('login', given))).toBe('invalid_login_redirect_url');
  });

  it('answers an allowed URL exactly as given, query string included', async () => {
    expect(await service.resolve('signup', 'https://app.example.com/authenticate?next=%2Fhome')).toBe('https://app.example.com/authenticate?next=%2Fhome');
    expect(await service.resolve('invite', 'https://www.example.com/auth')).toBe('https://www.example.com/auth');
  });

  it('uses the default when none, or an empty string, is given', async () => {
    expect(await service.resolve('discovery', undefined)).toBe('https://app.example.com/authenticate?next=%2Fhome');
    expect(await service.resolve('reset_password', '')).toBe('https://app.example.com/authenticate?next=%2Fhome');
  });

  it("answers each type's own Stytch error, all 400s", async () => {
    const none = serviceWith([{ url: 'https://app.example.com/a', types: [{ type: 'login', isDefault: false }] }]);
    const expected = {
      login: ['invalid_login_redirect_url', 'no_default_login_redirect_url_set'],
      signup: ['invalid_signup_redirect_url', 'no_default_signup_redirect_url_set'],
      invite: ['invalid_invite_redirect_url', 'no_default_invite_redirect_url_set'],
      discovery: ['invalid_discovery_redirect_url', 'no_default_discovery_redirect_url_set'],
      reset_password: ['invalid_password_reset_redirect_url', 'no_password_reset_redirect_url'],
    } as const;
    for (const [type, [invalid, noDefault]] of Object.entries(expected) as [keyof typeof expected, readonly [string, string]][]) {
      expect(await codeOf(none.resolve(type, 'https://elsewhere.example.com/'))).toBe(invalid);
      expect(await codeOf(none.resolve(type, undefined))).toBe(noDefault);
      expect(REDIRECT_URL_ERRORS[invalid as keyof typeof REDIRECT_URL_ERRORS].kind).toBe('invalid_argument');
      expect(REDIRECT_URL_ERRORS[noDefault as keyof typeof REDIRECT_URL_ERRORS].kind).toBe('invalid_argument');
    }
  });

  it('prefers a stored default over a configured one, type by type', async () => {
    const mixed = serviceWith([every('https://configured.example.com/', true)], [{ url: 'https://stored.example.com/', types: [{ type: 'invite', isDefault: true }] }]);
    expect(await mixed.resolve('invite', undefined)).toBe('https://stored.example.com/');
    expect(await mixed.resolve('login', undefined)).toBe('https://configured.example.com/');
    expect(await codeOf(mixed.resolve('login', 'https://stored.example.com/'))).toBe('invalid_login_redirect_url');
  });

  it('offers http://localhost:3000/authenticate only while nothing is configured or stored', async () => {
    expect(await serviceWith([]).resolve('invite', undefined)).toBe('http://localhost:3000/authenticate');
    const stored = serviceWith([], [{ url: 'https://stored.example.com/', types: [{ type: 'login', isDefault: false }] }]);
    expect(await codeOf(stored.resolve('invite', 'http://localhost:3000/authenticate'))).toBe('invalid_invite_redirect_url');
    expect(await codeOf(stored.resolve('login', undefined))).toBe('no_default_login_redirect_url_set');
  });
});

describe('configuring redirect URLs', () => {
  const directory = mkdtempSync(join(tmpdir(), 'understudy-redirect-config-'));
  afterAll(() => rmSync(directory, { recursive: true, force: true }));
  const file = (contents: unknown): string => {
    const path = join(directory, `config-${Math.random().toString(36).slice(2)}.json`);
    writeFileSync(path, JSON.stringify(contents));
    return path;
  };
  const problemsOf = (options: Parameters<typeof loadConfig>[0]): readonly string[] => {
    try {
      loadConfig(options);
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      return (error as ConfigError).problems;
    }
    throw new Error('expected a ConfigError');
  };

  it('configures none by default', () => {
    expect(loadConfig({ env: {} }).redirectUrls).toEqual([]);
  });

  it('reads UNDERSTUDY_REDIRECT_URLS: every type, the first URL the default', () => {
    const config = loadConfig({ env: { UNDERSTUDY_REDIRECT_URLS: ' https://app.example.com/authenticate , http://localhost:3000/authenticate,' } });
    expect(config.redirectUrls).toEqual([every('https://app.example.com/authenticate', true), every('http://localhost:3000/authenticate', false)]);
  });

  it('reads per-type lists from the config file, merging a URL listed under several types', () => {
    const path = file({
      redirect_urls: {
        login: ['https://app.example.com/authenticate', 'https://app.example.com/other'],
        signup: ['https://app.example.com/authenticate'],
        discovery: ['https://app.example.com/discover'],
        reset_password: [],
      },
    });
    expect(loadConfig({ env: {}, configFile: path }).redirectUrls).toEqual([
      { url: 'https://app.example.com/authenticate', types: [{ type: 'login', isDefault: true }, { type: 'signup', isDefault: true }] },
      { url: 'https://app.example.com/other', types: [{ type: 'login', isDefault: false }] },
      { url: 'https://app.example.com/discover', types: [{ type: 'discovery', isDefault: true }] },
    ]);
  });

  it('reads a plain list or string in the file like the environment variable, and lets the environment win', () => {
    expect(loadConfig({ env: {}, configFile: file({ redirect_urls: ['https://a.example.com/', 'https://b.example.com/'] }) }).redirectUrls).toEqual([
      every('https://a.example.com/', true),
      every('https://b.example.com/', false),
    ]);
    const path = file({ redirect_urls: 'https://a.example.com/' });
    expect(loadConfig({ env: {}, configFile: path }).redirectUrls).toEqual([every('https://a.example.com/', true)]);
    expect(loadConfig({ env: { UNDERSTUDY_REDIRECT_URLS: 'https://env.example.com/' }, configFile: path }).redirectUrls).toEqual([every('https://env.example.com/', true)]);
  });

  it('names each bad URL, type and shape', () => {
    expect(problemsOf({ env: { UNDERSTUDY_REDIRECT_URLS: 'http://app.example.com/a,https://u:p@app.example.com/,not a url' } })).toEqual([
      expect.stringMatching(/^UNDERSTUDY_REDIRECT_URLS: "http:\/\/app\.example\.com\/a" must be an https:\/\/ URL/),
      expect.stringMatching(/^UNDERSTUDY_REDIRECT_URLS: "https:\/\/u:p@app\.example\.com\/" must not contain user:password@/),
      expect.stringMatching(/^UNDERSTUDY_REDIRECT_URLS: "not a url" contains whitespace/),
    ]);
    expect(problemsOf({ env: { UNDERSTUDY_REDIRECT_URLS: 'https://a.example.com/,https://a.example.com/' } })).toEqual(['UNDERSTUDY_REDIRECT_URLS lists "https://a.example.com/" twice']);
    expect(problemsOf({ env: {}, configFile: file({ redirect_urls: { logon: ['https://a.example.com/'], login: 'https://a.example.com/', signup: ['ftp://x'] } }) })).toEqual([
      expect.stringContaining('config file key redirect_urls has an unknown type "logon"'),
      expect.stringContaining('config file key redirect_urls.login must be a list of URLs'),
      expect.stringContaining('config file key redirect_urls.signup: "ftp://x" must be an https:// URL'),
    ]);
    expect(problemsOf({ env: {}, configFile: file({ redirect_urls: 42 }) })).toEqual([expect.stringContaining('config file key redirect_urls must be a comma-separated string')]);
    expect(problemsOf({ env: {}, configFile: file({ redirect_urls: ['https://a.example.com/', 7] }) })).toEqual(['config file key redirect_urls must list URLs as strings']);
  });
});
