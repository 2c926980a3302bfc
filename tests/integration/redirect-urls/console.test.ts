import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORES } from '../../support/stores.js';
import type { ConsoleClient } from '../console/console-client.js';
import { type ConsoleHarness, startConsoleHarness } from '../console/console-harness.js';

const PAGE = '/console/redirect-urls';
const APP = 'https://app.example.com/authenticate';
const CONFIGURED = 'https://configured.example.com/authenticate';

async function postForm(browser: ConsoleClient, action: string, fields: Record<string, string>) {
  return browser.post(action, { _csrf: await browser.csrfFrom(PAGE), ...fields });
}

/** The form's fields for a URL allowed for `allowed`, the default of `defaults`. */
function typeFields(allowed: string[], defaults: string[] = []): Record<string, string> {
  return Object.fromEntries(['login', 'signup', 'invite', 'discovery', 'reset_password'].map((type) => [`type_${type}`, defaults.includes(type) ? 'default' : allowed.includes(type) ? 'allowed' : 'no']));
}

for (const factory of STORES) {
  describe(`console: redirect URLs (${factory.name})`, () => {
    describe('with nothing configured', () => {
      let harness: ConsoleHarness;
      beforeAll(async () => {
        harness = await startConsoleHarness({ store: factory.name });
      });
      afterAll(() => harness.stop());
      const resolver = () => harness.server.server.app.services.redirectUrls;

      it('shows the built-in URL until an admin adds one, which then is what sends may use', async () => {
        const admin = await harness.signedIn(await harness.createOperator('admin'));
        const before = await admin.get(PAGE);
        expect(before.status).toBe(200);
        expect(before.text).toContain('href="/console/redirect-urls" aria-current="page"');
        expect(before.text).toContain('<code>http://localhost:3000/authenticate</code>');
        expect(before.text).toContain('built in, until one is added');
        expect(await resolver().resolve('login', undefined)).toBe('http://localhost:3000/authenticate');

        const added = await postForm(admin, PAGE, { url: APP, ...typeFields(['signup'], ['login']) });
        expect(added.status).toBe(303);
        expect(added.location).toBe('/console/redirect-urls?done=added');
        const after = await admin.get(added.location ?? '');
        expect(after.text).toContain('Redirect URL added.');
        expect(after.text).toContain(`<code>${APP}</code>`);
        expect(after.text).toContain('login · default');
        expect(after.text).not.toContain('http://localhost:3000/authenticate');
        expect(await resolver().resolve('login', undefined)).toBe(APP);
        await expect(resolver().resolve('invite', APP)).rejects.toMatchObject({ code: 'invalid_invite_redirect_url' });
        const event = (await harness.auditEvents()).find((candidate) => candidate.type === 'redirect_url.added');
        expect(event).toMatchObject({ actor: { type: 'operator' }, details: { url: APP, types: ['login', 'signup'], default_for: ['login'] } });
      });

      it('edits, moves defaults and removes through the forms', async () => {
        const admin = await harness.signedIn(await harness.createOperator('admin'));
        const other = 'https://other.example.com/callback';
        expect((await postForm(admin, PAGE, { url: other, ...typeFields(['login', 'invite']) })).status).toBe(303);
        const edit = await admin.get(`${PAGE}?edit=${encodeURIComponent(other)}`);
        expect(edit.text).toContain('Edit a redirect URL');
        expect(edit.text).toContain(`value="${other}"`);
        const madeDefault = await postForm(admin, `${PAGE}/default`, { url: other, type: 'login' });
        expect(madeDefault.location).toBe('/console/redirect-urls?done=default');
        expect(await resolver().resolve('login', undefined)).toBe(other);
        const saved = await postForm(admin, PAGE, { url: other, ...typeFields(['invite'], ['discovery']) });
        expect(saved.location).toBe('/console/redirect-urls?done=saved');
        await expect(resolver().resolve('login', other)).rejects.toMatchObject({ code: 'invalid_login_redirect_url' });
        await expect(resolver().resolve('login', undefined)).rejects.toMatchObject({ code: 'no_default_login_redirect_url_set' });
        expect(await resolver().resolve('discovery', undefined)).toBe(other);
        const removed = await postForm(admin, `${PAGE}/remove`, { url: other });
        expect(removed.location).toBe('/console/redirect-urls?done=removed');
        await expect(resolver().resolve('invite', other)).rejects.toMatchObject({ code: 'invalid_invite_redirect_url' });
        const missing = await postForm(admin, `${PAGE}/remove`, { url: other });
        expect(missing.status).toBe(404);
        expect(missing.text).toContain('not one of the redirect URLs stored');
      });

      it('refuses bad URLs and empty types with a 400 page, storing nothing', async () => {
        const admin = await harness.signedIn(await harness.createOperator('admin'));
        const before = (await harness.auditEvents()).length;
        const plain = await postForm(admin, PAGE, { url: 'http://app.example.com/authenticate', ...typeFields(['login']) });
        expect(plain.status).toBe(400);
        expect(plain.text).toContain('must be an https:// URL');
        const none = await postForm(admin, PAGE, { url: 'https://none.example.com/', ...typeFields([]) });
        expect(none.status).toBe(400);
        expect(none.text).toContain('needs at least one type');
        expect(await postForm(admin, `${PAGE}/default`, { url: APP, type: 'logout' }).then((response) => response.status)).toBe(400);
        expect((await harness.auditEvents()).length).toBe(before);
      });

      it('escapes URLs in the page', async () => {
        const admin = await harness.signedIn(await harness.createOperator('admin'));
        const tricky = 'https://app.example.com/cb?next="><script>alert(1)</script>';
        expect((await postForm(admin, PAGE, { url: tricky, ...typeFields(['login']) })).status).toBe(303);
        const listed = await admin.get(PAGE);
        expect(listed.text).not.toContain('<script>alert(1)</script>');
        expect(listed.text).toContain('&#34;&#62;&#60;script&#62;alert(1)&#60;/script&#62;');
        expect(await resolver().resolve('login', tricky)).toBe(tricky);
      });

      it('lets viewers and support look but not change anything, and refuses a form without its CSRF token', async () => {
        for (const role of ['viewer', 'support'] as const) {
          const browser = await harness.signedIn(await harness.createOperator(role));
          const listed = await browser.get(PAGE);
          expect(listed.status).toBe(200);
          expect(listed.text).toContain('Only admins can change redirect URLs.');
          expect(listed.text).not.toContain('action="/console/redirect-urls');
          const forged = await postForm(browser, PAGE, { url: 'https://forged.example.com/', ...typeFields(['login'], ['login']) });
          expect(forged.status).toBe(403);
          expect((await postForm(browser, `${PAGE}/remove`, { url: APP })).status).toBe(403);
        }
        const admin = await harness.signedIn(await harness.createOperator('admin'));
        const noCsrf = await admin.post(PAGE, { url: 'https://forged.example.com/', ...typeFields(['login']) });
        expect(noCsrf.status).toBe(403);
        await expect(resolver().resolve('login', 'https://forged.example.com/')).rejects.toMatchObject({ code: 'invalid_login_redirect_url' });
        expect((await harness.browser().get(PAGE)).status).toBe(303);
      });
    });

    describe('with URLs configured', () => {
      let harness: ConsoleHarness;
      beforeAll(async () => {
        harness = await startConsoleHarness({ store: factory.name, config: { redirectUrls: [{ url: CONFIGURED, types: [{ type: 'login', isDefault: true }, { type: 'discovery', isDefault: true }] }] } });
      });
      afterAll(() => harness.stop());

      it('shows configured URLs read-only and refuses to change them', async () => {
        const admin = await harness.signedIn(await harness.createOperator('admin'));
        const listed = await admin.get(PAGE);
        expect(listed.text).toContain(`<code>${CONFIGURED}</code>`);
        expect(listed.text).toContain('from configuration');
        expect(listed.text).toContain('read-only');
        expect(listed.text).not.toContain(`name="url" value="${CONFIGURED}"`);
        expect(listed.text).not.toContain('http://localhost:3000/authenticate');
        const removed = await postForm(admin, `${PAGE}/remove`, { url: CONFIGURED });
        expect(removed.status).toBe(400);
        expect(removed.text).toContain('comes from configuration');
        const overwritten = await postForm(admin, PAGE, { url: CONFIGURED, ...typeFields(['invite']) });
        expect(overwritten.status).toBe(400);
        const services = harness.server.server.app.services;
        expect(await services.redirectUrls.resolve('login', undefined)).toBe(CONFIGURED);
        // A default added here wins over the configured one, for its type only.
        expect((await postForm(admin, PAGE, { url: APP, ...typeFields([], ['login']) })).status).toBe(303);
        expect(await services.redirectUrls.resolve('login', undefined)).toBe(APP);
        expect(await services.redirectUrls.resolve('discovery', undefined)).toBe(CONFIGURED);
      });
    });
  });
}
