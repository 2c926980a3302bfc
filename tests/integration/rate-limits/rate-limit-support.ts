import { expect } from 'vitest';
import { loadConfig } from '../../../src/config/load.js';
import type { Config } from '../../../src/config/schema.js';
import type { ManualClock } from '../../../src/platform/clock.js';
import type { TestServer } from '../../support/test-server.js';
import { csrfIn } from '../console/console-client.js';

const defaults = loadConfig({ env: {} });

/** The rate-limit settings of a server started with no configuration (startTestServer turns them off). */
export const DEFAULT_RATE_LIMITS: Partial<Config> = {
  rateLimitsEnabled: defaults.rateLimitsEnabled,
  rateLimitMintsPerMinute: defaults.rateLimitMintsPerMinute,
  rateLimitSearchesPerMinute: defaults.rateLimitSearchesPerMinute,
  rateLimitConsoleSignInsPerMinute: defaults.rateLimitConsoleSignInsPerMinute,
};

/** An answer to a call made through Fastify's inject, which lets a test choose the client address. */
export interface Answer {
  readonly status: number;
  readonly body: Record<string, unknown>;
  readonly headers: Record<string, string | string[] | number | undefined>;
}

export type Caller = (url: string, json: unknown, headers?: Record<string, string>) => Promise<Answer>;

/** POSTs with the project's credentials as if from `remoteAddress` (the TCP peer the server sees). */
export function callerAt(server: TestServer, remoteAddress: string): Caller {
  const authorization = `Basic ${Buffer.from(`${server.projectId}:${server.secret}`).toString('base64')}`;
  return async (url, json, headers = {}) => {
    const response = await server.server.app.http.inject({
      method: 'POST',
      url,
      remoteAddress,
      headers: { authorization, 'content-type': 'application/json', ...headers },
      payload: JSON.stringify(json),
    });
    return { status: response.statusCode, body: response.json() as Record<string, unknown>, headers: response.headers };
  };
}

/** An answer of a console page: its status, headers and HTML. */
export interface PageAnswer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | number | undefined>;
  readonly text: string;
}

/**
 * One console sign-in attempt as a browser at `remoteAddress` (the TCP peer the server sees) makes
 * it: GET /console/login for the pre-session cookie and its CSRF token, then POST the email and
 * password form with both. `headers` go with both requests (e.g. an X-Forwarded-For).
 */
export async function consoleSignInAt(server: TestServer, remoteAddress: string, email: string, password: string, headers: Record<string, string> = {}): Promise<PageAnswer> {
  const http = server.server.app.http;
  const page = await http.inject({ method: 'GET', url: '/console/login', remoteAddress, headers });
  const csrf = csrfIn(page.body);
  if (page.statusCode !== 200 || csrf === undefined) throw new Error(`GET /console/login answered ${page.statusCode} without a _csrf field`);
  const cookie = page.cookies.map(({ name, value }) => `${name}=${value}`).join('; ');
  const response = await http.inject({
    method: 'POST',
    url: '/console/login',
    remoteAddress,
    headers: { ...headers, cookie, 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({ _csrf: csrf, email, password }).toString(),
  });
  return { status: response.statusCode, headers: response.headers, text: response.body };
}

/**
 * `count` console sign-in attempts one after another, each from `address(index)` (with
 * `headers(index)`) and with a password for an email address no operator has.
 */
export async function wrongSignIns(
  server: TestServer,
  count: number,
  address: (index: number) => string,
  headers: (index: number) => Record<string, string> = () => ({}),
): Promise<PageAnswer[]> {
  const answers: PageAnswer[] = [];
  for (let index = 0; index < count; index += 1) answers.push(await consoleSignInAt(server, address(index), `nobody-${index}@operators.example`, 'not the password', headers(index)));
  return answers;
}

let operators = 0;

/** A new viewer operator (no TOTP, so the right password alone signs in with 303), made as the CLI makes one. */
export async function createOperatorOn(server: TestServer): Promise<{ emailAddress: string; password: string }> {
  operators += 1;
  const emailAddress = `viewer-${operators}@operators.example`;
  const context = { requestId: 'request-id-test-00000000-0000-4000-8000-0000000000d1', actor: { type: 'cli' as const } };
  const created = await server.server.app.services.operators.create(context, { emailAddress, name: `Viewer ${operators}`, role: 'viewer' });
  return { emailAddress, password: created.password };
}

/** A sign-in attempt that was judged (wrong email or password: the 401 page), not refused by the limit. */
export function expectSignInJudged(answer: PageAnswer): void {
  expect(answer.status, answer.text.slice(0, 300)).toBe(401);
  expect(answer.headers['retry-after']).toBeUndefined();
  expect(answer.text).toContain('The email address, password or code is wrong.');
}

/** The console's 429 for the per-client sign-in limit, with its Retry-After header in whole seconds. */
export function expectSignInRefused(answer: PageAnswer, expected: { retryAfter: number; limit?: number }): void {
  expect(answer.status, answer.text.slice(0, 300)).toBe(429);
  expect(answer.headers['retry-after']).toBe(String(expected.retryAfter));
  const limit = expected.limit ?? DEFAULT_RATE_LIMITS.rateLimitConsoleSignInsPerMinute;
  expect(answer.text).toContain(`Too many requests have been made: at most ${limit} console sign-in attempts per client address per minute.`);
}

export const AUTHENTICATE_SESSION = '/v1/b2b/sessions/authenticate';
export const REDEEM_IMPERSONATION = '/v1/b2b/impersonation/authenticate';
export const SEARCH_ORGANIZATIONS = '/v1/b2b/organizations/search';
export const SEARCH_MEMBERS = '/v1/b2b/organizations/members/search';

let unknownTokens = 0;

/** A well-formed opaque token (44 URL-safe characters) that this server never issued. */
export function unknownToken(): string {
  unknownTokens += 1;
  return `guess${String(unknownTokens).padStart(6, '0')}`.padEnd(44, 'Q');
}

/**
 * Moves the clock to 15 s into the next minute, so each test starts with fresh windows
 * and a refusal's Retry-After is 45 seconds.
 */
export function startNextWindow(clock: ManualClock): void {
  const minute = 60_000;
  clock.set(new Date((Math.floor(clock.now().getTime() / minute) + 1) * minute + 15_000));
}

/** The Stytch envelope of a 429 too_many_requests, with its Retry-After header in whole seconds. */
export function expectTooManyRequests(answer: Answer, expected: { retryAfter: number }): void {
  expect({ status: answer.status, error_type: answer.body.error_type }, JSON.stringify(answer.body)).toEqual({ status: 429, error_type: 'too_many_requests' });
  expect(answer.body).toMatchObject({
    status_code: 429,
    error_url: 'https://stytch.com/docs/api-reference/b2b/api/errors/429#too_many_requests',
  });
  expect(answer.body.request_id).toMatch(/^request-id-test-[0-9a-f-]{36}$/);
  expect(answer.body.error_message).toMatch(/^Too many requests have been made/);
  expect(answer.headers['retry-after']).toBe(String(expected.retryAfter));
}

/** Checks an answer is this Stytch error (and not a rate-limit refusal). */
export function expectError(answer: Answer, status: number, errorType: string): void {
  expect({ status: answer.status, error_type: answer.body.error_type }, JSON.stringify(answer.body)).toEqual({ status, error_type: errorType });
  expect(answer.headers['retry-after']).toBeUndefined();
}

/** `count` calls one after another (order matters: each is counted before the next). */
export async function repeat(count: number, call: (index: number) => Promise<Answer>): Promise<Answer[]> {
  const answers: Answer[] = [];
  for (let index = 0; index < count; index += 1) answers.push(await call(index));
  return answers;
}
