import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRedirectUrlsArguments } from '../../../src/cli/redirect-urls-command.js';
import { loadConfig } from '../../../src/config/load.js';
import { openServices } from '../../../src/main.js';
import { createThrowawayPostgresDatabase, POSTGRES_URL } from '../../support/stores.js';
import { killLeftoverProcesses, runCliToExit, temporaryDirectory } from '../cli/cli-process.js';

/**
 * `understudy redirect-urls …` as an operator runs it, on SQLite and (when configured) PostgreSQL;
 * what it stored is then resolved by the services `serve` builds over the same database.
 */
const scratch = temporaryDirectory('redirect-urls');
afterAll(() => {
  killLeftoverProcesses();
  scratch.remove();
});

const PROJECT = {
  UNDERSTUDY_PROJECT_ID: 'project-test-11111111-2222-4333-8444-555555555555',
  UNDERSTUDY_PROJECT_SECRET: 'secret-test-redirect-urls-cli-0123456789',
  UNDERSTUDY_MASTER_KEY: Buffer.alloc(32, 9).toString('base64'),
};
const APP = 'https://app.example.com/authenticate';

interface ListedJson {
  redirect_urls: { url: string; source: string; valid_types: { type: string; is_default: boolean }[] }[];
  defaults: Record<string, string | null>;
}

const databases: { name: string; database: () => Promise<{ url: string | undefined; drop: () => Promise<void> }> }[] = [
  { name: 'sqlite', database: async () => ({ url: undefined, drop: async () => {} }) },
  ...(POSTGRES_URL ? [{ name: 'postgres', database: createThrowawayPostgresDatabase }] : []),
];

for (const { name, database } of databases) {
  describe(`understudy redirect-urls (${name})`, () => {
    let env: Record<string, string>;
    let drop: () => Promise<void>;
    beforeAll(async () => {
      const opened = await database();
      drop = opened.drop;
      env = { UNDERSTUDY_DATA_DIR: join(scratch.path, name), ...PROJECT, ...(opened.url !== undefined && { UNDERSTUDY_DATABASE_URL: opened.url }) };
    });
    afterAll(() => drop());
    const cli = (args: string[], extra: Record<string, string> = {}) => runCliToExit(['redirect-urls', ...args], { ...env, ...extra });
    const listed = async (extra: Record<string, string> = {}): Promise<ListedJson> => {
      const result = await cli(['list', '--json'], extra);
      expect(result.code, result.stderr).toBe(0);
      return JSON.parse(result.stdout) as ListedJson;
    };
    /** What a send would get, from the services `serve` builds over the same database and configuration. */
    const resolve = async (type: 'login' | 'signup' | 'invite', given: string | undefined, extra: Record<string, string> = {}): Promise<string> => {
      const opened = await openServices(loadConfig({ env: { ...env, ...extra } }));
      try {
        return await opened.services.redirectUrls.resolve(type, given).catch((error: { code: string }) => `error: ${error.code}`);
      } finally {
        await opened.close();
      }
    };

    it('lists the built-in URL on a new project, as a table and as JSON', async () => {
      const table = await cli(['list']);
      expect(table.code, table.stderr).toBe(0);
      expect(table.stdout).toMatch(/^URL +TYPES +SOURCE\nhttp:\/\/localhost:3000\/authenticate +login\*,signup\*,invite\*,discovery\*,reset_password\* +built-in\n/);
      expect(table.stdout).toMatch(/^login +http:\/\/localhost:3000\/authenticate$/m);
      expect(await listed()).toEqual({
        redirect_urls: [
          {
            url: 'http://localhost:3000/authenticate',
            source: 'built_in',
            valid_types: ['login', 'signup', 'invite', 'discovery', 'reset_password'].map((type) => ({ type, is_default: true })),
          },
        ],
        defaults: { login: 'http://localhost:3000/authenticate', signup: 'http://localhost:3000/authenticate', invite: 'http://localhost:3000/authenticate', discovery: 'http://localhost:3000/authenticate', reset_password: 'http://localhost:3000/authenticate' },
      });
    });

    it('adds a URL for some types as their default; the server then allows exactly that', async () => {
      const added = await cli(['add', APP, '--type', 'login,signup', '--default']);
      expect(added.code, added.stderr).toBe(0);
      expect(added.stdout).toContain(`Added ${APP} for login, signup (default).`);
      const after = await listed();
      expect(after.redirect_urls).toEqual([{ url: APP, source: 'database', valid_types: [{ type: 'login', is_default: true }, { type: 'signup', is_default: true }] }]);
      expect(after.defaults).toEqual({ login: APP, signup: APP, invite: null, discovery: null, reset_password: null });
      expect(await resolve('login', undefined)).toBe(APP);
      expect(await resolve('signup', APP)).toBe(APP);
      expect(await resolve('invite', APP)).toBe('error: invalid_invite_redirect_url');
      expect(await resolve('invite', undefined)).toBe('error: no_default_invite_redirect_url_set');
      expect(await resolve('login', 'http://localhost:3000/authenticate')).toBe('error: invalid_login_redirect_url');
    });

    it('adds for every type without --type, replaces types when added again, and removes', async () => {
      const other = 'http://localhost:4000/callback?from=cli';
      expect((await cli(['add', other])).code).toBe(0);
      expect((await listed()).redirect_urls.find((entry) => entry.url === other)?.valid_types.map((setting) => setting.type)).toEqual(['login', 'signup', 'invite', 'discovery', 'reset_password']);
      const again = await cli(['add', other, '--type', 'invite', '--default']);
      expect(again.stdout).toContain(`Updated ${other} for invite (default).`);
      expect((await listed()).defaults).toEqual({ login: APP, signup: APP, invite: other, discovery: null, reset_password: null });
      const removed = await cli(['remove', other]);
      expect(removed.code, removed.stderr).toBe(0);
      expect(removed.stdout).toContain(`Removed ${other}.`);
      expect(await resolve('invite', other)).toBe('error: invalid_invite_redirect_url');
      const missing = await cli(['remove', other]);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toContain('understudy: allowed_redirect_url_not_found:');
    });

    it('refuses bad URLs (exit 1) and bad arguments (exit 2) without changing anything', async () => {
      const before = await listed();
      const insecure = await cli(['add', 'http://app.example.com/authenticate']);
      expect(insecure.code).toBe(1);
      expect(insecure.stderr).toMatch(/^understudy: invalid_allowed_redirect_url: The redirect URL must be an https:\/\/ URL/);
      for (const args of [['add'], ['add', APP, '--type', 'login,logon']]) {
        const result = await cli(args);
        expect(result.code, args.join(' ')).toBe(2);
        expect(result.stderr).toContain('Usage: understudy redirect-urls');
      }
      expect(await listed()).toEqual(before);
    });

    it('shows configured URLs as read-only, with stored defaults winning over them', async () => {
      const configured = { UNDERSTUDY_REDIRECT_URLS: 'https://configured.example.com/a,https://configured.example.com/b' };
      const list = await listed(configured);
      expect(list.redirect_urls.map((entry) => [entry.url, entry.source])).toEqual([
        ['https://configured.example.com/a', 'configuration'],
        ['https://configured.example.com/b', 'configuration'],
        [APP, 'database'],
      ]);
      expect(list.defaults).toEqual({ login: APP, signup: APP, invite: 'https://configured.example.com/a', discovery: 'https://configured.example.com/a', reset_password: 'https://configured.example.com/a' });
      expect(await resolve('invite', 'https://configured.example.com/b', configured)).toBe('https://configured.example.com/b');
      const remove = await cli(['remove', 'https://configured.example.com/b'], configured);
      expect(remove.code).toBe(1);
      expect(remove.stderr).toContain('understudy: allowed_redirect_url_from_configuration:');
      const bad = await cli(['list'], { UNDERSTUDY_REDIRECT_URLS: 'https://ok.example.com/,ftp://bad.example.com/' });
      expect(bad.code).toBe(78);
      expect(bad.stderr).toContain('UNDERSTUDY_REDIRECT_URLS: "ftp://bad.example.com/" must be an https:// URL');
    });
  });
}

describe('redirect-urls arguments', () => {
  it('reads --type as a comma-separated list and defaults to every type', () => {
    expect(parseRedirectUrlsArguments(['redirect-urls', 'add', APP, '--type', ' login, discovery ,login'])).toMatchObject({ subcommand: 'add', url: APP, types: ['login', 'discovery'], isDefault: false });
    expect(parseRedirectUrlsArguments(['redirect-urls', 'add', APP, '--default'])).toMatchObject({ types: ['login', 'signup', 'invite', 'discovery', 'reset_password'], isDefault: true });
  });

  it.each([
    [['add', APP, '--json'], '--json does not apply to `redirect-urls add`.'],
    [['list', '--default'], '--default does not apply to `redirect-urls list`.'],
    [['rename', APP], 'Unknown redirect-urls subcommand "rename".'],
    [['remove', APP, 'extra'], 'Unexpected argument "extra".'],
    [['add', APP, '--type', ','], '--type needs at least one of login, signup, invite, discovery, reset_password.'],
    [[], 'Missing redirect-urls subcommand.'],
  ])('refuses %j: %s', (args, message) => {
    expect(() => parseRedirectUrlsArguments(['redirect-urls', ...args])).toThrow(message);
  });
});
