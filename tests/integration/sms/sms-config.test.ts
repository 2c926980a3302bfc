import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../src/config/load.js';

const SECRET = `whsec_${Buffer.alloc(32, 9).toString('base64')}`;
const SID = 'AC0123456789abcdef0123456789abcdef';

function problemsOf(env: NodeJS.ProcessEnv): readonly string[] {
  try {
    loadConfig({ env });
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('SMS provider configuration', () => {
  it('keeps SMS in the outbox when nothing is set', () => {
    expect(loadConfig({ env: {} }).sms).toEqual({ provider: 'outbox' });
  });

  it('reads the webhook provider, from the environment or the file', () => {
    const env = { UNDERSTUDY_SMS_PROVIDER: 'webhook', UNDERSTUDY_SMS_WEBHOOK_URL: 'https://app.example.com/sms', UNDERSTUDY_SMS_WEBHOOK_SECRET: SECRET };
    expect(loadConfig({ env }).sms).toEqual({ provider: 'webhook', webhook: { url: 'https://app.example.com/sms', secret: SECRET } });
    expect(loadConfig({ env: { UNDERSTUDY_SMS_PROVIDER: 'webhook', UNDERSTUDY_SMS_WEBHOOK_URL: 'http://127.0.0.1:9000/sms', UNDERSTUDY_SMS_WEBHOOK_SECRET: SECRET } }).sms).toMatchObject({
      webhook: { url: 'http://127.0.0.1:9000/sms' },
    });
  });

  it('reads the Twilio provider with a number or a messaging service, and its default base URL', () => {
    const base = { UNDERSTUDY_SMS_PROVIDER: 'twilio', UNDERSTUDY_TWILIO_ACCOUNT_SID: SID, UNDERSTUDY_TWILIO_AUTH_TOKEN: 'token' };
    expect(loadConfig({ env: { ...base, UNDERSTUDY_TWILIO_FROM: '+14155550100' } }).sms).toEqual({
      provider: 'twilio',
      twilio: { accountSid: SID, authToken: 'token', from: '+14155550100', messagingServiceSid: undefined, baseUrl: 'https://api.twilio.com' },
    });
    const service = 'MG0123456789abcdef0123456789abcdef';
    expect(loadConfig({ env: { ...base, UNDERSTUDY_TWILIO_MESSAGING_SERVICE_SID: service, UNDERSTUDY_TWILIO_BASE_URL: 'http://localhost:4010' } }).sms).toMatchObject({
      twilio: { from: undefined, messagingServiceSid: service, baseUrl: 'http://localhost:4010' },
    });
  });

  it('refuses an unknown provider', () => {
    expect(problemsOf({ UNDERSTUDY_SMS_PROVIDER: 'sns' })).toEqual(['UNDERSTUDY_SMS_PROVIDER must be one of outbox, webhook, twilio (got "sns")']);
  });

  it('lists every missing webhook key at once', () => {
    expect(problemsOf({ UNDERSTUDY_SMS_PROVIDER: 'webhook' })).toEqual([
      'UNDERSTUDY_SMS_WEBHOOK_URL is required with UNDERSTUDY_SMS_PROVIDER=webhook',
      'UNDERSTUDY_SMS_WEBHOOK_SECRET is required with UNDERSTUDY_SMS_PROVIDER=webhook: the signing secret your endpoint checks',
    ]);
  });

  it('refuses a webhook secret that is not whsec_ and a 24 to 64 byte key, without echoing it', () => {
    for (const secret of ['plain-secret-value', `whsec_${Buffer.alloc(16, 1).toString('base64')}`, 'whsec_not base64!', `whsec_${Buffer.alloc(65, 1).toString('base64')}`]) {
      const problems = problemsOf({ UNDERSTUDY_SMS_PROVIDER: 'webhook', UNDERSTUDY_SMS_WEBHOOK_URL: 'https://app.example.com/sms', UNDERSTUDY_SMS_WEBHOOK_SECRET: secret });
      expect(problems).toEqual(['UNDERSTUDY_SMS_WEBHOOK_SECRET must be whsec_ followed by the base64 of a 24 to 64 byte key (e.g. `echo whsec_$(openssl rand -base64 32)`)']);
      expect(problems.join('\n')).not.toContain(secret);
    }
  });

  it('refuses a plain-http webhook to another machine, and text that is no URL', () => {
    const problems = (url: string) => problemsOf({ UNDERSTUDY_SMS_PROVIDER: 'webhook', UNDERSTUDY_SMS_WEBHOOK_URL: url, UNDERSTUDY_SMS_WEBHOOK_SECRET: SECRET });
    expect(problems('http://sms.example.com/hook')).toEqual([
      'UNDERSTUDY_SMS_WEBHOOK_URL must be an https:// URL (http:// only to this machine: localhost, 127.0.0.1 or [::1]) (got "http://sms.example.com/hook")',
    ]);
    expect(problems('sms.example.com')).toEqual(['UNDERSTUDY_SMS_WEBHOOK_URL must be an https:// URL (got "sms.example.com")']);
    expect(problems('ftp://localhost/x')).toHaveLength(1);
  });

  it('lists every Twilio problem at once: missing token, a bad SID, no sender', () => {
    expect(problemsOf({ UNDERSTUDY_SMS_PROVIDER: 'twilio', UNDERSTUDY_TWILIO_ACCOUNT_SID: 'AC123' })).toEqual([
      'UNDERSTUDY_TWILIO_ACCOUNT_SID must be AC followed by 32 hex digits (got "AC123")',
      "UNDERSTUDY_TWILIO_AUTH_TOKEN is required with UNDERSTUDY_SMS_PROVIDER=twilio: the account's auth token",
      'set exactly one of UNDERSTUDY_TWILIO_FROM and UNDERSTUDY_TWILIO_MESSAGING_SERVICE_SID with UNDERSTUDY_SMS_PROVIDER=twilio: the sender',
    ]);
  });

  it('refuses both senders, a From that is not E.164, a bad messaging service and a plain-http base URL', () => {
    expect(
      problemsOf({
        UNDERSTUDY_SMS_PROVIDER: 'twilio',
        UNDERSTUDY_TWILIO_ACCOUNT_SID: SID,
        UNDERSTUDY_TWILIO_AUTH_TOKEN: 'token',
        UNDERSTUDY_TWILIO_FROM: '4155550100',
        UNDERSTUDY_TWILIO_MESSAGING_SERVICE_SID: 'MG1',
        UNDERSTUDY_TWILIO_BASE_URL: 'http://api.twilio.com',
      }),
    ).toEqual([
      'set exactly one of UNDERSTUDY_TWILIO_FROM and UNDERSTUDY_TWILIO_MESSAGING_SERVICE_SID with UNDERSTUDY_SMS_PROVIDER=twilio: the sender',
      'UNDERSTUDY_TWILIO_FROM must be a number in E.164 such as +14155550100 (got "4155550100")',
      'UNDERSTUDY_TWILIO_MESSAGING_SERVICE_SID must be MG followed by 32 hex digits (got "MG1")',
      'UNDERSTUDY_TWILIO_BASE_URL must be an https:// URL (http:// only to this machine: localhost, 127.0.0.1 or [::1]) (got "http://api.twilio.com")',
    ]);
  });

  it("refuses a provider's keys while another provider, or the outbox, is chosen: nothing falls back to keeping codes", () => {
    expect(problemsOf({ UNDERSTUDY_SMS_WEBHOOK_URL: 'https://app.example.com/sms', UNDERSTUDY_TWILIO_AUTH_TOKEN: 'token' })).toEqual([
      'UNDERSTUDY_SMS_WEBHOOK_URL is set, but UNDERSTUDY_SMS_PROVIDER is outbox: choose its provider there, or unset it',
      'UNDERSTUDY_TWILIO_AUTH_TOKEN is set, but UNDERSTUDY_SMS_PROVIDER is outbox: choose its provider there, or unset it',
    ]);
    expect(
      problemsOf({ UNDERSTUDY_SMS_PROVIDER: 'webhook', UNDERSTUDY_SMS_WEBHOOK_URL: 'https://app.example.com/sms', UNDERSTUDY_SMS_WEBHOOK_SECRET: SECRET, UNDERSTUDY_TWILIO_FROM: '+14155550100' }),
    ).toEqual(['UNDERSTUDY_TWILIO_FROM is set, but UNDERSTUDY_SMS_PROVIDER is webhook: choose its provider there, or unset it']);
  });

  it('reports SMS problems together with the other keys', () => {
    expect(problemsOf({ UNDERSTUDY_PORT: 'x', UNDERSTUDY_SMS_PROVIDER: 'webhook', UNDERSTUDY_SMS_WEBHOOK_URL: 'https://a.example/sms' })).toEqual([
      'UNDERSTUDY_PORT must be an integer from 0 to 65535 (got "x")',
      'UNDERSTUDY_SMS_WEBHOOK_SECRET is required with UNDERSTUDY_SMS_PROVIDER=webhook: the signing secret your endpoint checks',
    ]);
  });
});
