import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConsoleResponse } from './console-client.js';
import { type ConsoleHarness, startConsoleHarness } from './console-harness.js';

/** An HTML page, not Stytch's JSON error envelope. */
function expectHtml(response: ConsoleResponse, where: string): void {
  expect(response.headers.get('content-type'), where).toBe('text/html; charset=utf-8');
  expect(response.text, where).toMatch(/^<!doctype html>/);
  expect(response.text, where).not.toContain('error_type');
  expect(response.text, where).not.toContain('"status_code"');
}

describe('the console and the Stytch API stay apart', () => {
  let harness: ConsoleHarness;
  beforeAll(async () => {
    harness = await startConsoleHarness();
  });
  afterAll(() => harness.stop());

  it('the console answers errors with HTML pages, never a JSON envelope', async () => {
    const browser = await harness.signedIn(await harness.createOperator('admin'));
    const csrf = await browser.csrfFrom('/console/organizations');
    const send = async (path: string, init: RequestInit): Promise<ConsoleResponse> => {
      const headers = new Headers(init.headers);
      headers.set('cookie', [...browser.cookies].map(([name, value]) => `${name}=${value}`).join('; '));
      const response = await fetch(`${harness.server.baseUrl}${path}`, { ...init, headers, redirect: 'manual' });
      return { status: response.status, headers: response.headers, text: await response.text(), location: response.headers.get('location'), setCookies: [] };
    };
    const cases: [string, number, ConsoleResponse][] = [
      ['unknown page', 404, await browser.get('/console/no/such/page')],
      ['unknown organization', 404, await browser.get('/console/organizations/organization-test-00000000-0000-4000-8000-000000000000')],
      ['JSON body', 403, await send('/console/logout', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ _csrf: 'x' }) })],
      ['malformed JSON body', 400, await send('/console/logout', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{' })],
      ['unsupported content type', 415, await send('/console/logout', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: `_csrf=${csrf}` })],
      ['body over 64 KiB', 413, await send('/console/logout', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `_csrf=${csrf}&pad=${'x'.repeat(70_000)}` })],
      ['Accept: application/json', 404, await browser.get('/console/nope', { accept: 'application/json' })],
    ];
    for (const [where, status, response] of cases) {
      expect(response.status, where).toBe(status);
      expectHtml(response, where);
    }
    // None of these changed anything: the session still works.
    expect((await browser.get('/console/organizations')).status).toBe(200);
  });

  it('the Stytch API answers JSON, even to a browser asking for HTML, and sets no console cookie', async () => {
    const browserHeaders = { accept: 'text/html,application/xhtml+xml', cookie: 'understudy_console=whatever' };
    const responses = [
      await harness.server.fetch('/v1/b2b/no-such-route', { headers: browserHeaders }),
      await harness.server.fetch('/v1/b2b/organizations/organization-test-00000000-0000-4000-8000-000000000000', { headers: browserHeaders }),
      await harness.server.fetch('/v1/b2b/organizations', { method: 'POST', headers: { ...browserHeaders, 'content-type': 'application/x-www-form-urlencoded' }, body: 'organization_name=Acme' }),
      await harness.server.fetch('/consolex', { headers: browserHeaders }),
      await harness.server.fetch('/v1/b2b/organizations/organization-test-00000000-0000-4000-8000-000000000000', { headers: { ...browserHeaders, authorization: 'Basic bm9ib2R5Om5vdGhpbmc=' } }),
    ];
    expect(responses.map((response) => response.status)).toEqual([404, 404, 415, 404, 401]);
    for (const response of responses) {
      expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
      expect(response.body.error_type).toEqual(expect.any(String));
      expect(response.body.status_code).toBe(response.status);
      expect(response.headers.get('set-cookie')).toBeNull();
    }
  });
});
