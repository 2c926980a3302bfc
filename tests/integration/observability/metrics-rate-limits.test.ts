import type { Member } from 'stytch';
import { afterAll, describe, expect, it } from 'vitest';
import type { Config } from '../../../src/config/schema.js';
import { ManualClock } from '../../../src/platform/clock.js';
import { createEmailOrganization, createMember, type EmailOrganization } from '../../conformance/stytch-sdk/email-sign-in-fixtures.js';
import { listEmails, waitForEmail } from '../../support/outbox.js';
import { parseExposition, samplesOf, sampleValue, type Exposition } from '../../support/prometheus-text.js';
import { waitForSms } from '../../support/sms.js';
import { STORES } from '../../support/stores.js';
import { startTestServer, type TestServer } from '../../support/test-server.js';
import { ConsoleClient } from '../console/console-client.js';

/**
 * `understudy_rate_limited_total` counts the calls a rate limit had answered with 429 (docs/monitoring.md,
 * "Metrics"), where the 429 is answered: not a refusal a sign-in absorbs (its SMS code not sent, the
 * sign-in going on), and the console's sign-in page, which answers its refusal itself, counted like
 * an API refusal.
 */
const TOKEN = 'metrics-token-0123456789abcdef0123456789abcdef';
/** Ten minutes into an hour, on a clock only the test moves: every call falls in one window. */
const START = '2026-03-01T12:10:00Z';

let phones = 0;
function aPhoneNumber(): string {
  phones += 1;
  return `+1628${String(Math.floor(Math.random() * 1000)).padStart(3, '0')}${String(phones).padStart(4, '0')}`;
}

async function scrape(server: TestServer): Promise<Exposition> {
  const response = await fetch(server.server.metricsUrl as string, { headers: { authorization: `Bearer ${TOKEN}` } });
  expect(response.status).toBe(200);
  return parseExposition(await response.text());
}

/**
 * A scrape once `operation` has `count` requests answered `status`. A request is counted once its
 * answer has gone out, which can be a moment after the client has read it.
 */
async function scrapeOnceAnswered(server: TestServer, operation: string, status: number, count: number): Promise<Exposition> {
  const deadline = performance.now() + 5000;
  for (;;) {
    const exposition = await scrape(server);
    const answered = sampleValue(exposition, 'understudy_http_requests_total', { operation, status: String(status) });
    if (answered >= count || performance.now() > deadline) {
      expect(answered, `${operation} answered ${status}`).toBe(count);
      return exposition;
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Every rate-limit refusal counted, by limit. */
function rateLimited(exposition: Exposition): Record<string, number> {
  return Object.fromEntries(samplesOf(exposition, 'understudy_rate_limited_total').map((sample) => [sample.labels.limit, sample.value]));
}

describe.each(STORES.map((factory) => factory.name))('rate-limit refusals in the metrics (%s)', (store) => {
  const started: TestServer[] = [];
  afterAll(async () => Promise.all(started.map((server) => server.stop())));

  async function serverWith(limits: Partial<Config>): Promise<TestServer> {
    const server = await startTestServer({ store, clock: new ManualClock(START), config: { metricsToken: TOKEN, rateLimitsEnabled: true, ...limits } });
    started.push(server);
    return server;
  }

  /** A primary sign-in by email code, which ends needing MFA. */
  async function primarySignIn(server: TestServer, organization: EmailOrganization, email: string) {
    const [before] = await listEmails(server, email);
    await server.client.otps.email.loginOrSignup({ organization_id: organization.organization.organization_id, email_address: email });
    const message = await waitForEmail(server, email, before === undefined ? {} : { after: before });
    return server.client.otps.email.authenticate({ organization_id: organization.organization.organization_id, email_address: email, code: message.code as string });
  }

  function sendSms(server: TestServer, member: Member, extra: Record<string, string> = {}) {
    return server.fetch('/v1/b2b/otps/sms/send', { method: 'POST', json: { organization_id: member.organization_id, member_id: member.member_id, ...extra } });
  }

  it('counts no refusal a sign-in absorbed (its SMS code not sent), and counts the 429 a send is answered', async () => {
    const server = await serverWith({ rateLimitSmsSendsPerNumberPerHour: 2 });
    const organization = await createEmailOrganization(server.client, { mfa_policy: 'REQUIRED_FOR_ALL' });
    const email = organization.address();
    const member = await createMember(server.client, organization.organization, email);
    const phone = aPhoneNumber();
    const first = await primarySignIn(server, organization, email);
    expect((await sendSms(server, member, { mfa_phone_number: phone, intermediate_session_token: first.intermediate_session_token })).status).toBe(200);
    let last = await waitForSms(server, phone);
    await server.client.otps.sms.authenticate({ organization_id: member.organization_id, member_id: member.member_id, code: last.code as string, intermediate_session_token: first.intermediate_session_token });
    // The verified number's own budget of two, used by the sign-ins' own SMS.
    for (let prompt = 1; prompt <= 2; prompt += 1) {
      expect((await primarySignIn(server, organization, email)).mfa_required?.secondary_auth_initiated).toBe('sms_otp');
      last = await waitForSms(server, phone, { after: last });
    }

    // Past the limit, the sign-in goes on without its SMS: the client saw no refusal.
    const skipped = await primarySignIn(server, organization, email);
    expect(skipped.status_code).toBe(200);
    expect(skipped.mfa_required?.secondary_auth_initiated).toBeNull();
    const afterSkipped = await scrapeOnceAnswered(server, 'otps.email.authenticate', 200, 4);
    expect(rateLimited(afterSkipped)).toEqual({});

    // A send asked for is answered 429: that one is a call refused.
    const refused = await sendSms(server, member);
    expect(refused.status).toBe(429);
    const afterRefused = await scrapeOnceAnswered(server, 'otps.sms.send', 429, 1);
    expect(rateLimited(afterRefused)).toEqual({ sms_sends_per_number: 1 });
  });

  it("counts the console's sign-in refusals, which its page answers with 429 itself", async () => {
    const server = await serverWith({ rateLimitConsoleSignInsPerMinute: 2 });
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 4; attempt += 1) statuses.push((await new ConsoleClient(server.baseUrl).submitPassword(`nobody-${attempt}@operators.example`, 'a guessed password')).status);
    expect(statuses).toEqual([401, 401, 429, 429]);
    const exposition = await scrapeOnceAnswered(server, 'console', 429, 2);
    expect(rateLimited(exposition)).toEqual({ console_sign_ins: 2 });
  });
});
